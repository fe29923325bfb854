//! Storage for the platform: the real TARS `db_tars` tables (`t_server_conf`,
//! `t_adapter_conf`, `t_profile_template`, `t_server_notifys`, `t_node_info`,
//! `t_config_files`, …) and our own tables (API tokens), on SQLite (standalone default)
//! or MySQL/MariaDB.
//!
//! One [`Store`] wraps either pool; every query is written once and compiled for both
//! backends by [`with_pool!`]. Times are decoded as `chrono::NaiveDateTime`, which both
//! drivers support natively (sqlx's `Any` driver cannot decode DATETIME).
//!
//! This crate owns SQL and row shapes. Business rules (what may be deployed, what a tree
//! node id means) live in the deployer.

pub mod adapter_conf;
mod args;
pub mod config_files;
pub mod config_refs;
mod default_templates;
pub mod error;
pub mod expansion;
pub mod node_info;
pub mod notify;
pub mod packages;
pub mod pool;
pub mod profile_template;
mod server_cache;
pub mod server_conf;
pub mod tasks;
pub mod tokens;

pub use error::StoreError;
pub use pool::{Backend, Store, StoreConfig};

/// Result of every store operation.
pub type StoreResult<T> = Result<T, StoreError>;

/// An offset/limit pair computed from the API's 1-based page number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageWindow {
    /// Rows to skip.
    pub offset: i64,
    /// Rows to return.
    pub limit: i64,
}

impl PageWindow {
    /// `None` when either number is zero or negative, which the API treats as "all rows".
    pub fn from_page(curr_page: i64, page_size: i64) -> Option<PageWindow> {
        (curr_page > 0 && page_size > 0).then(|| PageWindow {
            offset: (curr_page - 1).saturating_mul(page_size),
            limit: page_size,
        })
    }
}
