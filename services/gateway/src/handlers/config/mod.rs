//! Configuration files (服务配置): files by level, their history and references, the
//! merged text a node gets, and pushing files to the servers that use them.

mod add_config_file;
mod add_config_ref;
mod config_file;
mod config_file_history;
mod config_file_history_list;
mod config_file_list;
mod config_ref_list;
mod delete_config_file;
mod delete_config_ref;
mod merged_node_config;
mod node_config_file_list;
mod push_config_file;
mod update_config_file;

pub use add_config_file::add_config_file;
pub use add_config_ref::add_config_ref;
pub use config_file::config_file;
pub use config_file_history::config_file_history;
pub use config_file_history_list::config_file_history_list;
pub use config_file_list::config_file_list;
pub use config_ref_list::config_ref_list;
pub use delete_config_file::delete_config_file;
pub use delete_config_ref::delete_config_ref;
pub use merged_node_config::merged_node_config;
pub use node_config_file_list::node_config_file_list;
pub use push_config_file::push_config_file;
pub use update_config_file::update_config_file;
