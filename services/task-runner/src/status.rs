//! Task and item statuses: the contract's enums ([`TaskStatus`], [`TaskItemStatus`],
//! numbered as TARS's AdminReg.tars numbers them), the names TARS shows, and how a
//! finished task's status follows from its items. `t_task_item.status` stores the numbers.

pub use tars_proto::task_runner::{TaskItemStatus, TaskStatus};

/// An item's stored status; a number TARS does not define is `None`.
pub fn item_status(stored: i64) -> Option<TaskItemStatus> {
    i32::try_from(stored)
        .ok()
        .and_then(|n| TaskItemStatus::try_from(n).ok())
}

/// The enum name TARS shows as `status_info`.
pub fn item_name(stored: i64) -> &'static str {
    match item_status(stored) {
        Some(TaskItemStatus::NotStart) => "EM_I_NOT_START",
        Some(TaskItemStatus::Prepare) => "EM_I_PREPARE",
        Some(TaskItemStatus::Running) => "EM_I_RUNNING",
        Some(TaskItemStatus::Success) => "EM_I_SUCCESS",
        Some(TaskItemStatus::Failed) => "EM_I_FAILED",
        Some(TaskItemStatus::Cancel) => "EM_I_CANCEL",
        Some(TaskItemStatus::PauseFlow) => "EM_I_PAUSE_FLOW",
        None => "EM_I_UNKNOWN",
    }
}

/// Whether an item in this stored status will not run (again).
pub fn is_terminal(stored: i64) -> bool {
    matches!(
        item_status(stored),
        Some(TaskItemStatus::Success | TaskItemStatus::Failed | TaskItemStatus::Cancel)
    )
}

/// Whether a task in this status has ended.
pub fn is_finished(status: TaskStatus) -> bool {
    matches!(
        status,
        TaskStatus::Success | TaskStatus::Failed | TaskStatus::Cancel | TaskStatus::Partial
    )
}

/// A finished task's status from its items' stored statuses, as AdminRegistry computes
/// it: all items alike give that status, a mix gives partial.
pub fn finished_task_status(items: &[i64]) -> TaskStatus {
    let all = |s: TaskItemStatus| !items.is_empty() && items.iter().all(|i| *i == s as i64);
    if all(TaskItemStatus::Success) {
        TaskStatus::Success
    } else if all(TaskItemStatus::Failed) {
        TaskStatus::Failed
    } else if all(TaskItemStatus::Cancel) {
        TaskStatus::Cancel
    } else if all(TaskItemStatus::NotStart) {
        TaskStatus::NotStart
    } else {
        TaskStatus::Partial
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn task_status_follows_its_items() {
        assert_eq!(finished_task_status(&[3, 3]), TaskStatus::Success);
        assert_eq!(finished_task_status(&[4, 4]), TaskStatus::Failed);
        assert_eq!(finished_task_status(&[5]), TaskStatus::Cancel);
        assert_eq!(finished_task_status(&[3, 4, 5]), TaskStatus::Partial);
        assert_eq!(finished_task_status(&[4, 5]), TaskStatus::Partial);
        assert_eq!(item_name(3), "EM_I_SUCCESS");
        assert_eq!(item_name(42), "EM_I_UNKNOWN");
        // The numbers are TARS's, on the wire and in t_task_item.
        assert_eq!(TaskStatus::Partial as i32, 6);
        assert_eq!(TaskItemStatus::PauseFlow as i32, 6);
    }
}
