//! One handler per endpoint, named as the API document names it, grouped by area.
//! A handler reads parameters, calls one backend method and shapes `data`.

pub mod adapter;
pub mod config;
pub mod dict;
pub mod expand;
pub mod health;
pub mod other;
pub mod package;
pub mod server;
pub mod task;
pub mod template;
