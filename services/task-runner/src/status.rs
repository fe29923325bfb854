//! Task and item statuses, numbered as TARS's AdminReg.tars numbers them.

/// `EMTaskItemStatus`.
pub mod item {
    pub const NOT_START: i64 = 0;
    pub const PREPARE: i64 = 1;
    pub const RUNNING: i64 = 2;
    pub const SUCCESS: i64 = 3;
    pub const FAILED: i64 = 4;
    pub const CANCEL: i64 = 5;
    pub const PAUSE_FLOW: i64 = 6;

    /// The enum name TARS shows as `status_info`.
    pub fn name(status: i64) -> &'static str {
        match status {
            NOT_START => "EM_I_NOT_START",
            PREPARE => "EM_I_PREPARE",
            RUNNING => "EM_I_RUNNING",
            SUCCESS => "EM_I_SUCCESS",
            FAILED => "EM_I_FAILED",
            CANCEL => "EM_I_CANCEL",
            PAUSE_FLOW => "EM_I_PAUSE_FLOW",
            _ => "EM_I_UNKNOWN",
        }
    }

    /// Whether an item in this status will not run (again).
    pub fn is_terminal(status: i64) -> bool {
        matches!(status, SUCCESS | FAILED | CANCEL)
    }
}

/// `EMTaskStatus`.
pub mod task {
    pub const NOT_START: i32 = 0;
    pub const PREPARE: i32 = 1;
    pub const RUNNING: i32 = 2;
    pub const SUCCESS: i32 = 3;
    pub const FAILED: i32 = 4;
    pub const CANCEL: i32 = 5;
    pub const PARTIAL: i32 = 6;
}

/// A finished task's status from its items, as AdminRegistry computes it: all items
/// alike give that status, a mix gives partial.
pub fn finished_task_status(items: &[i64]) -> i32 {
    let all = |s: i64| !items.is_empty() && items.iter().all(|i| *i == s);
    if all(item::SUCCESS) {
        task::SUCCESS
    } else if all(item::FAILED) {
        task::FAILED
    } else if all(item::CANCEL) {
        task::CANCEL
    } else if all(item::NOT_START) {
        task::NOT_START
    } else {
        task::PARTIAL
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn task_status_follows_its_items() {
        assert_eq!(finished_task_status(&[3, 3]), task::SUCCESS);
        assert_eq!(finished_task_status(&[4, 4]), task::FAILED);
        assert_eq!(finished_task_status(&[5]), task::CANCEL);
        assert_eq!(finished_task_status(&[3, 4, 5]), task::PARTIAL);
        assert_eq!(finished_task_status(&[4, 5]), task::PARTIAL);
        assert_eq!(item::name(3), "EM_I_SUCCESS");
    }
}
