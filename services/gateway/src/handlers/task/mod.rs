//! 任务管理: tasks (start, stop, restart, patch, undeploy).

mod add_task;
// The endpoint is named `task`, like its area; the file follows the endpoint name.
#[allow(clippy::module_inception)]
mod task;
mod task_list;
mod view;

pub use add_task::add_task;
pub use task::task;
pub use task_list::task_list;
