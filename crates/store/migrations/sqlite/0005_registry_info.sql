-- Where tarsregistry records itself: see the MySQL migration of the same number.
CREATE TABLE IF NOT EXISTS t_registry_info (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  locator_id TEXT NOT NULL DEFAULT '',
  servant TEXT NOT NULL DEFAULT '',
  endpoint TEXT NOT NULL DEFAULT '',
  last_heartbeat TEXT DEFAULT NULL,
  present_state TEXT DEFAULT 'inactive',
  tars_version TEXT NOT NULL DEFAULT '',
  modify_time TEXT DEFAULT CURRENT_TIMESTAMP,
  enable_group TEXT DEFAULT 'N',
  UNIQUE (locator_id, servant)
);
