//! 业务树 and 服务管理: the tree and server instances.

mod deploy_server;
mod get_realtime_state;
mod inactive_server_list;
mod load_server;
// The endpoint is named `server`, like its area; the file follows the endpoint name.
#[allow(clippy::module_inception)]
mod server;
mod server_list;
mod server_notify_list;
mod tree;
mod update_server;

pub use deploy_server::deploy_server;
pub use get_realtime_state::get_realtime_state;
pub use inactive_server_list::inactive_server_list;
pub use load_server::load_server;
pub use server::server;
pub use server_list::server_list;
pub use server_notify_list::server_notify_list;
pub use tree::tree;
pub use update_server::update_server;
