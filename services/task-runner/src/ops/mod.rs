//! The task-runner's API operations.

pub mod add_task;
pub mod publish;
pub mod views;
