//! SQL that writes many finished tasks at once, as a long-lived installation has them:
//! `n` one-item tasks `bulk000000`…, item server names `S0`…`S6` by task number modulo 7.
//! Shared by the task_list test and the task_list benchmark.

/// INSERT statements in batches of 1,000 tasks (task rows, items, queue rows).
pub fn finished_task_batches(n: usize) -> Vec<String> {
    let mut out = Vec::new();
    for start in (0..n).step_by(1000) {
        let range = start..(start + 1000).min(n);
        let tasks: Vec<String> = range
            .clone()
            .map(|k| format!("('bulk{k:06}', 1, 'ci', '2026-01-01 00:00:00')"))
            .collect();
        let items: Vec<String> = range
            .clone()
            .map(|k| {
                format!(
                    "('bulk{k:06}', 'bulk{k:06}-0', 'Bulk', 'S{}', '10.0.0.1', 'start', '{{}}', 3, 'start: ok')",
                    k % 7
                )
            })
            .collect();
        let queue: Vec<String> = range
            .map(|k| {
                format!("('bulk{k:06}', '2026-01-01 00:00:00', '2026-01-01 00:00:01', 'r', 1)")
            })
            .collect();
        out.push(format!(
            "INSERT INTO t_task (task_no, serial, user_name, create_time) VALUES {}",
            tasks.join(",")
        ));
        out.push(format!(
            "INSERT INTO t_task_item (task_no, item_no, application, server_name, node_name, \
             command, parameters, status, log) VALUES {}",
            items.join(",")
        ));
        out.push(format!(
            "INSERT INTO t_platform_task_queue (task_no, created_at, finished_at, claimed_by, attempts) \
             VALUES {}",
            queue.join(",")
        ));
    }
    out
}
