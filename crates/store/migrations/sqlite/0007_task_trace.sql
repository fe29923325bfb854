-- The trace context of the request that accepted a task: see the MySQL migration of the
-- same number.
ALTER TABLE t_platform_task_queue ADD COLUMN trace_parent TEXT NOT NULL DEFAULT '';
