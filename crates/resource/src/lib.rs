//! The resource module: installing tarsnode on machines and removing it, over SSH, as
//! TarsWeb's 资源 section does, but checked at every step.
//!
//! - [`config`]: the settings (`TARS_NODE_PACKAGE` turns the module on, `TARS_SSH_*`,
//!   `TARS_NODE_INSTALL_DIR`, `TARS_REGISTRY_LOCATOR`).
//! - [`ips`]: a request's machines, IP literals only.
//! - [`known_hosts`]: host keys checked against a `known_hosts` file; first-seen keys
//!   trusted only when allowed, changed keys never.
//! - [`ssh`]: one session with one machine (pure-Rust SSH and SFTP), every connect,
//!   command and upload bounded by a timeout.
//! - [`install`]: the steps of installing and removing a node, and the check that a
//!   started node answers over the TARS protocol.
//!
//! The database (`t_node_info`, `t_registry_info`, which servers a machine holds) is the
//! deployer's business, not this crate's.

pub mod config;
pub mod install;
pub mod ips;
pub mod known_hosts;
mod shell;
pub mod ssh;

pub use config::ResourceConfig;
pub use install::{InstalledNode, Installer, Outcome};
