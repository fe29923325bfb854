//! End-to-end tests: real binaries, real HTTP, real SQLite files and a real MariaDB.
//! Each test starts its own platform (and database) so tests run in parallel.

mod common;
mod fixtures;

mod adapters;
mod auth;
mod config_concurrency;
mod config_merge;
mod config_refs;
mod configs;
mod dictionaries;
mod errors;
mod expansion;
mod http_limits;
mod internal_auth;
mod kafka;
mod limits;
mod nodes;
mod outages;
mod packages;
mod paging;
mod recorded;
mod servers;
mod task_faults;
mod tasks;
mod templates;
mod throttle;
