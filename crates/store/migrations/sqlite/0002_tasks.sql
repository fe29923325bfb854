-- Tasks (TARS's t_task / t_task_item), packages (t_server_patchs), and our queue tables.

CREATE TABLE IF NOT EXISTS t_task (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  task_no TEXT DEFAULT NULL UNIQUE,
  serial INTEGER DEFAULT NULL,
  user_name TEXT DEFAULT NULL,
  create_time TEXT DEFAULT NULL
);

CREATE TABLE IF NOT EXISTS t_task_item (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  task_no TEXT DEFAULT NULL,
  item_no TEXT DEFAULT NULL,
  application TEXT DEFAULT NULL,
  server_name TEXT DEFAULT NULL,
  node_name TEXT DEFAULT NULL,
  command TEXT DEFAULT NULL,
  parameters TEXT,
  start_time TEXT DEFAULT NULL,
  end_time TEXT DEFAULT NULL,
  status INTEGER DEFAULT NULL,
  set_name TEXT DEFAULT NULL,
  log TEXT,
  UNIQUE (item_no, task_no)
);
CREATE INDEX IF NOT EXISTS t_task_item_task_no ON t_task_item (task_no);
CREATE INDEX IF NOT EXISTS t_task_item_server ON t_task_item (application, server_name, command);

CREATE TABLE IF NOT EXISTS t_server_patchs (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  server TEXT DEFAULT NULL,
  version TEXT DEFAULT '',
  tgz TEXT,
  update_text TEXT DEFAULT NULL,
  reason_select TEXT DEFAULT NULL,
  is_server_group INTEGER NOT NULL DEFAULT 0,
  publish INTEGER DEFAULT NULL,
  publish_time TEXT DEFAULT NULL,
  publish_user TEXT DEFAULT NULL,
  upload_time TEXT DEFAULT NULL,
  upload_user TEXT DEFAULT NULL,
  posttime TEXT DEFAULT NULL,
  lastuser TEXT DEFAULT NULL,
  is_release_version TEXT DEFAULT 'true',
  package_type INTEGER DEFAULT 0,
  group_id TEXT NOT NULL DEFAULT '',
  default_version INTEGER DEFAULT 0,
  md5 TEXT DEFAULT NULL,
  svn_version TEXT DEFAULT NULL
);
CREATE INDEX IF NOT EXISTS t_server_patchs_server ON t_server_patchs (server);

CREATE TABLE IF NOT EXISTS t_platform_task_queue (
  task_no TEXT NOT NULL PRIMARY KEY,
  created_at TEXT NOT NULL,
  published_at TEXT DEFAULT NULL,
  claimed_by TEXT DEFAULT NULL,
  claimed_at TEXT DEFAULT NULL,
  lease_until TEXT DEFAULT NULL,
  finished_at TEXT DEFAULT NULL,
  attempts INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS t_platform_task_queue_unpublished ON t_platform_task_queue (published_at);
CREATE INDEX IF NOT EXISTS t_platform_task_queue_unfinished ON t_platform_task_queue (finished_at, lease_until);

CREATE TABLE IF NOT EXISTS t_platform_instance_lock (
  instance TEXT NOT NULL PRIMARY KEY,
  holder TEXT NOT NULL,
  lease_until TEXT NOT NULL
);
