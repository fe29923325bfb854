-- Fencing and retries of task attempts: see the MySQL migration of the same number.
ALTER TABLE t_platform_task_queue ADD COLUMN failures INTEGER NOT NULL DEFAULT 0;
ALTER TABLE t_platform_task_queue ADD COLUMN last_error TEXT;
