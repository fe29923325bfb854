-- The same tables as the MySQL schema (TARS db_tars names and columns), in SQLite types.
-- Times are TEXT 'YYYY-MM-DD HH:MM:SS'; enums are TEXT checked by the services.

CREATE TABLE IF NOT EXISTS t_server_conf (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  application TEXT DEFAULT '',
  server_name TEXT DEFAULT '',
  node_group TEXT NOT NULL DEFAULT '',
  node_name TEXT NOT NULL DEFAULT '',
  registry_timestamp TEXT DEFAULT CURRENT_TIMESTAMP,
  base_path TEXT DEFAULT '',
  exe_path TEXT NOT NULL DEFAULT '',
  template_name TEXT NOT NULL DEFAULT '',
  bak_flag INTEGER NOT NULL DEFAULT 0,
  setting_state TEXT NOT NULL DEFAULT 'inactive',
  present_state TEXT NOT NULL DEFAULT 'inactive',
  process_id INTEGER NOT NULL DEFAULT 0,
  patch_version TEXT NOT NULL DEFAULT '',
  patch_time TEXT DEFAULT NULL,
  patch_user TEXT NOT NULL DEFAULT '',
  tars_version TEXT NOT NULL DEFAULT '',
  posttime TEXT DEFAULT NULL,
  lastuser TEXT DEFAULT NULL,
  server_type TEXT NOT NULL DEFAULT 'tars_cpp',
  start_script_path TEXT DEFAULT NULL,
  stop_script_path TEXT DEFAULT NULL,
  monitor_script_path TEXT DEFAULT NULL,
  enable_group TEXT DEFAULT 'N',
  enable_set TEXT NOT NULL DEFAULT 'N',
  set_name TEXT DEFAULT NULL,
  set_area TEXT DEFAULT NULL,
  set_group TEXT DEFAULT NULL,
  ip_group_name TEXT DEFAULT NULL,
  profile TEXT,
  source TEXT,
  config_center_port INTEGER NOT NULL DEFAULT 0,
  async_thread_num INTEGER DEFAULT 3,
  server_important_type TEXT DEFAULT '0',
  grid_flag TEXT NOT NULL DEFAULT 'NORMAL',
  flow_state TEXT NOT NULL DEFAULT 'active',
  run_type TEXT NOT NULL DEFAULT '',
  base_image_id INTEGER DEFAULT 0,
  UNIQUE (application, server_name, node_name)
);
CREATE INDEX IF NOT EXISTS t_server_conf_node_name ON t_server_conf (node_name);

CREATE TABLE IF NOT EXISTS t_adapter_conf (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  application TEXT DEFAULT '',
  server_name TEXT DEFAULT '',
  node_name TEXT DEFAULT '',
  adapter_name TEXT DEFAULT '',
  registry_timestamp TEXT DEFAULT CURRENT_TIMESTAMP,
  thread_num INTEGER DEFAULT 1,
  endpoint TEXT DEFAULT '',
  max_connections INTEGER DEFAULT 1000,
  allow_ip TEXT NOT NULL DEFAULT '',
  servant TEXT DEFAULT '',
  queuecap INTEGER DEFAULT NULL,
  queuetimeout INTEGER DEFAULT NULL,
  posttime TEXT DEFAULT NULL,
  lastuser TEXT DEFAULT NULL,
  protocol TEXT DEFAULT 'tars',
  handlegroup TEXT DEFAULT '',
  UNIQUE (application, server_name, node_name, adapter_name)
);
CREATE INDEX IF NOT EXISTS t_adapter_conf_node_name ON t_adapter_conf (node_name);

CREATE TABLE IF NOT EXISTS t_profile_template (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  template_name TEXT DEFAULT '' UNIQUE,
  parents_name TEXT DEFAULT '',
  profile TEXT NOT NULL,
  posttime TEXT DEFAULT NULL,
  lastuser TEXT DEFAULT NULL
);

CREATE TABLE IF NOT EXISTS t_node_info (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  node_name TEXT DEFAULT '' UNIQUE,
  node_obj TEXT DEFAULT '',
  endpoint_ip TEXT DEFAULT '',
  endpoint_port INTEGER DEFAULT 0,
  data_dir TEXT DEFAULT '',
  load_avg1 REAL DEFAULT 0,
  load_avg5 REAL DEFAULT 0,
  load_avg15 REAL DEFAULT 0,
  last_reg_time TEXT DEFAULT NULL,
  last_heartbeat TEXT DEFAULT NULL,
  setting_state TEXT DEFAULT 'inactive',
  present_state TEXT DEFAULT 'inactive',
  tars_version TEXT NOT NULL DEFAULT '',
  template_name TEXT NOT NULL DEFAULT '',
  modify_time TEXT DEFAULT CURRENT_TIMESTAMP,
  group_id INTEGER DEFAULT -1,
  label TEXT
);

CREATE TABLE IF NOT EXISTS t_server_notifys (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  application TEXT DEFAULT '',
  server_name TEXT DEFAULT NULL,
  container_name TEXT DEFAULT '',
  node_name TEXT NOT NULL DEFAULT '',
  set_name TEXT DEFAULT NULL,
  set_area TEXT DEFAULT NULL,
  set_group TEXT DEFAULT NULL,
  server_id TEXT DEFAULT NULL,
  thread_id TEXT DEFAULT NULL,
  command TEXT DEFAULT NULL,
  result TEXT,
  notifytime TEXT DEFAULT NULL
);
CREATE INDEX IF NOT EXISTS t_server_notifys_server_id ON t_server_notifys (server_id);
CREATE INDEX IF NOT EXISTS t_server_notifys_notifytime ON t_server_notifys (notifytime);

CREATE TABLE IF NOT EXISTS t_platform_api_token (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  user_name TEXT NOT NULL,
  token_hash TEXT NOT NULL UNIQUE,
  created_at TEXT NOT NULL,
  expires_at TEXT DEFAULT NULL,
  revoked_at TEXT DEFAULT NULL
);
