//! The deployer's operations, one module per resource. Each function takes the store
//! and validated domain input and returns proto messages or a [`DeployerError`].
//!
//! [`DeployerError`]: crate::error::DeployerError

pub mod access;
pub mod adapters;
pub mod auth;
pub mod config_files;
pub mod config_merge;
pub mod config_push;
pub mod config_refs;
pub mod convert;
pub mod deploy;
pub mod dictionaries;
pub mod expansion;
pub mod limits;
pub mod node_calls;
pub mod notify;
pub mod packages;
pub mod paging;
pub mod ports;
pub mod resource;
pub mod servers;
pub mod templates;
pub mod tokens;
pub mod tree;
pub mod validate;
