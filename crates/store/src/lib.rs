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
pub mod audit;
mod audited;
pub mod config_files;
pub mod config_refs;
mod default_templates;
pub mod error;
pub mod expansion;
pub mod gauges;
pub mod grants;
pub mod instance_lock;
pub mod node_info;
pub mod notify;
pub mod packages;
pub mod pool;
pub mod profile_template;
mod server_cache;
pub mod server_conf;
pub mod task_effects;
pub mod task_queue;
pub mod tasks;
pub mod tokens;

pub use error::StoreError;
pub use pool::{Backend, Store, StoreConfig};

/// Result of every store operation.
pub type StoreResult<T> = Result<T, StoreError>;

/// Rows a paged list answers when the caller asks for no page: TarsWeb's web pages ask
/// for 20 at a time.
pub const DEFAULT_PAGE_SIZE: i64 = 20;

/// The largest page a caller may ask for; larger is refused, so one call's answer (and
/// the memory it takes on every hop) stays bounded.
pub const MAX_PAGE_SIZE: i64 = 1000;

/// The applications and single servers a caller may read: lists keep only their rows.
/// `None` where a list takes one means every row.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Within {
    /// Applications readable entirely.
    pub apps: Vec<String>,
    /// Single servers, as (application, server name).
    pub servers: Vec<(String, String)>,
}

impl Within {
    /// Whether a row of `application` (and `server_name`) is readable.
    pub fn covers(&self, application: &str, server_name: &str) -> bool {
        self.apps.iter().any(|a| a == application)
            || self
                .servers
                .iter()
                .any(|(a, s)| a == application && s == server_name)
    }
}

/// A page request the API cannot serve.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("parameter `{param}` {reason}")]
pub struct PageError {
    /// `curr_page` or `page_size`.
    pub param: &'static str,
    /// What is wrong with the value and what to do instead, completing the message
    /// ``parameter `page_size` must be between 1 and 1000, got …``.
    pub reason: String,
}

/// An offset/limit pair computed from the API's 1-based page number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageWindow {
    /// Rows to skip.
    pub offset: i64,
    /// Rows to return.
    pub limit: i64,
}

impl PageWindow {
    /// The page a caller asked for: `curr_page` (1-based; 0 or absent is the first) of
    /// `page_size` rows (0 or absent is `default_size`), at most [`MAX_PAGE_SIZE`].
    ///
    /// # Errors
    /// A negative number, or a page size over the maximum.
    pub fn requested(
        curr_page: i64,
        page_size: i64,
        default_size: i64,
    ) -> Result<PageWindow, PageError> {
        if curr_page < 0 {
            return Err(PageError {
                param: "curr_page",
                reason: format!("must be 1 or more, got {curr_page}"),
            });
        }
        if !(0..=MAX_PAGE_SIZE).contains(&page_size) {
            return Err(PageError {
                param: "page_size",
                reason: format!(
                    "must be between 1 and {MAX_PAGE_SIZE}, got {page_size}; walk longer lists page by page with curr_page"
                ),
            });
        }
        let limit = if page_size == 0 {
            default_size
        } else {
            page_size
        };
        let page = curr_page.max(1);
        Ok(PageWindow {
            offset: (page - 1).saturating_mul(limit),
            limit,
        })
    }

    /// `None` when either number is zero or negative, which the API treats as "all rows".
    pub fn from_page(curr_page: i64, page_size: i64) -> Option<PageWindow> {
        (curr_page > 0 && page_size > 0).then(|| PageWindow {
            offset: (curr_page - 1).saturating_mul(page_size),
            limit: page_size,
        })
    }
}
