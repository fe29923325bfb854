-- Ours, not TARS's: per-application roles (grants) and the audit log of every write made
-- through the API. Default (case-insensitive) collations, as t_server_conf's application
-- has; the SQLite schema says NOCASE so both backends agree (no `_bin` collation: sqlx
-- reads such columns as VARBINARY and refuses to decode them as text). The audit table
-- is utf8mb4: it records what requests carried, and recording must never fail because a
-- value held a character utf8 (3 bytes) lacks.

CREATE TABLE IF NOT EXISTS `t_platform_grant` (
  `id` int(11) NOT NULL AUTO_INCREMENT,
  `user_name` varchar(64) NOT NULL,
  `role` varchar(16) NOT NULL,
  `flag` varchar(160) NOT NULL DEFAULT '',
  `created_at` datetime NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `user_role_flag` (`user_name`,`role`,`flag`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8;

CREATE TABLE IF NOT EXISTS `t_platform_audit` (
  `id` bigint(20) NOT NULL AUTO_INCREMENT,
  `at` datetime(3) NOT NULL,
  `user_name` varchar(64) NOT NULL DEFAULT '',
  `token_id` bigint(20) DEFAULT NULL,
  `endpoint` varchar(64) NOT NULL DEFAULT '',
  `application` varchar(128) NOT NULL DEFAULT '',
  `server_name` varchar(128) NOT NULL DEFAULT '',
  `target` varchar(1024) NOT NULL DEFAULT '',
  `status` int(11) NOT NULL,
  `message` varchar(1024) NOT NULL DEFAULT '',
  `trace_id` varchar(64) NOT NULL DEFAULT '',
  PRIMARY KEY (`id`),
  KEY `audit_at` (`at`),
  KEY `audit_application_at` (`application`,`at`),
  KEY `audit_user_at` (`user_name`,`at`),
  KEY `audit_endpoint_at` (`endpoint`,`at`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
