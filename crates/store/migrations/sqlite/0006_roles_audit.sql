-- Per-application roles (grants) and the audit log: see the MySQL migration of the same
-- number. NOCASE on the compared columns: MySQL's collations compare them
-- case-insensitively, and both backends must agree on what a duplicate grant is and what
-- a filter selects. `at` is TEXT 'YYYY-MM-DD HH:MM:SS.mmm' (always three decimals, so text
-- order is time order).

CREATE TABLE IF NOT EXISTS t_platform_grant (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  user_name TEXT COLLATE NOCASE NOT NULL,
  role TEXT COLLATE NOCASE NOT NULL,
  flag TEXT COLLATE NOCASE NOT NULL DEFAULT '',
  created_at TEXT NOT NULL,
  UNIQUE (user_name, role, flag)
);

CREATE TABLE IF NOT EXISTS t_platform_audit (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  at TEXT NOT NULL,
  user_name TEXT COLLATE NOCASE NOT NULL DEFAULT '',
  token_id INTEGER DEFAULT NULL,
  endpoint TEXT COLLATE NOCASE NOT NULL DEFAULT '',
  application TEXT COLLATE NOCASE NOT NULL DEFAULT '',
  server_name TEXT COLLATE NOCASE NOT NULL DEFAULT '',
  target TEXT NOT NULL DEFAULT '',
  status INTEGER NOT NULL,
  message TEXT NOT NULL DEFAULT '',
  trace_id TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS t_platform_audit_at ON t_platform_audit (at);
CREATE INDEX IF NOT EXISTS t_platform_audit_application_at ON t_platform_audit (application, at);
CREATE INDEX IF NOT EXISTS t_platform_audit_user_at ON t_platform_audit (user_name, at);
CREATE INDEX IF NOT EXISTS t_platform_audit_endpoint_at ON t_platform_audit (endpoint, at);
