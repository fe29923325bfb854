//! 预扩容, 扩容 (服务管理) and 自动获取未被占用的端口 (其他): copying a deployed
//! instance onto more nodes, and picking ports no adapter uses on a node.

mod auto_port;
mod expand_server;
mod expand_server_preview;

pub use auto_port::auto_port;
pub use expand_server::expand_server;
pub use expand_server_preview::expand_server_preview;
