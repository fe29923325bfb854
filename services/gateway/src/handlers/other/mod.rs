//! 其他: custom commands.

mod send_command;

pub use send_command::send_command;
