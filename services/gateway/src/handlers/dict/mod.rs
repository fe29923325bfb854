//! 字典: pickers' choices.

mod cascade_select_server;
mod server_type_list;
mod template_name_list;

pub use cascade_select_server::cascade_select_server;
pub use server_type_list::server_type_list;
pub use template_name_list::template_name_list;
