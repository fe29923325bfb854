//! End-to-end tests: real binaries, real HTTP, real SQLite files and a real MariaDB.
//! Each test starts its own platform (and database) so tests run in parallel.

mod common;
mod fixtures;

mod adapters;
mod auth;
mod auto_port;
mod config_concurrency;
mod config_files;
mod config_history;
mod config_merge;
mod config_node_files;
mod config_refs;
mod dictionaries;
mod errors;
mod expand_server;
mod expand_server_preview;
mod expansion_refusals;
mod fleet;
mod http_limits;
mod internal_auth;
mod kafka;
mod limits;
mod logs;
mod metrics;
mod monitor;
mod nodes;
mod openapi;
mod outages;
mod package_publish;
mod package_upload;
mod paging;
mod patch_servant;
mod recorded;
mod resource;
mod roles;
mod servers;
mod task_faults;
mod tasks;
mod templates;
mod throttle;
mod tracing;
