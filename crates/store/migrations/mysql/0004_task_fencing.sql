-- Fencing and retries of task attempts (our own queue table only; TARS tables untouched).
-- `attempts` already counts claims and serves as the claim's generation: every write a
-- runner makes for a task names the generation it claimed, so a runner that lost its
-- claim cannot write. `failures` counts attempts that ended on an error (not takeovers),
-- `last_error` keeps the latest for the operator and for the final failure message.
ALTER TABLE `t_platform_task_queue`
  ADD COLUMN `failures` int(11) NOT NULL DEFAULT '0',
  ADD COLUMN `last_error` text;
