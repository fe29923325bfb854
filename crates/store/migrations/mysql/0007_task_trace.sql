-- The W3C trace context (`traceparent`) of the request that accepted a task, so the
-- runner that executes it (whichever, whenever) continues the same trace. Our own queue
-- table only.
ALTER TABLE `t_platform_task_queue`
  ADD COLUMN `trace_parent` varchar(64) NOT NULL DEFAULT '';
