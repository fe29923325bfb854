-- Configuration files (t_config_files), their history and references, as in db_tars.
-- NOCASE on the key columns: MySQL's utf8 collation compares them case-insensitively,
-- and both backends must agree on what a duplicate file is.

CREATE TABLE IF NOT EXISTS t_config_files (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  server_name TEXT COLLATE NOCASE DEFAULT '',
  set_name TEXT COLLATE NOCASE NOT NULL DEFAULT '',
  set_area TEXT COLLATE NOCASE NOT NULL DEFAULT '',
  set_group TEXT COLLATE NOCASE NOT NULL DEFAULT '',
  host TEXT COLLATE NOCASE NOT NULL DEFAULT '',
  filename TEXT COLLATE NOCASE DEFAULT NULL,
  config TEXT,
  posttime TEXT DEFAULT NULL,
  lastuser TEXT DEFAULT NULL,
  level INTEGER DEFAULT 2,
  config_flag INTEGER NOT NULL DEFAULT 0,
  UNIQUE (server_name, filename, host, level, set_name, set_area, set_group)
);

CREATE TABLE IF NOT EXISTS t_config_history_files (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  configid INTEGER DEFAULT NULL,
  reason TEXT DEFAULT '',
  reason_select TEXT NOT NULL DEFAULT '',
  content TEXT,
  posttime TEXT DEFAULT NULL,
  lastuser TEXT DEFAULT NULL
);
CREATE INDEX IF NOT EXISTS t_config_history_files_configid ON t_config_history_files (configid);

CREATE TABLE IF NOT EXISTS t_config_references (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  config_id INTEGER DEFAULT NULL,
  reference_id INTEGER DEFAULT NULL,
  UNIQUE (config_id, reference_id)
);
