-- Where tarsregistry records itself; the resource module points the nodes it installs at
-- its tars.tarsregistry.QueryObj rows (locator_id `host:port`), as TarsWeb does. TARS's
-- own table when it exists (never altered), else created with TARS's columns and keys.
CREATE TABLE IF NOT EXISTS `t_registry_info` (
  `id` int(11) NOT NULL AUTO_INCREMENT,
  `locator_id` varchar(128) NOT NULL DEFAULT '',
  `servant` varchar(128) NOT NULL DEFAULT '',
  `endpoint` varchar(128) NOT NULL DEFAULT '',
  `last_heartbeat` datetime DEFAULT NULL,
  `present_state` enum('active','inactive') DEFAULT 'inactive',
  `tars_version` varchar(128) NOT NULL DEFAULT '',
  `modify_time` timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP,
  `enable_group` char(1) DEFAULT 'N',
  PRIMARY KEY (`id`),
  UNIQUE KEY `locator_id` (`locator_id`,`servant`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8;
