//! The monitor's operations: checking a request, asking the query servers for both days,
//! and merging the answers into the rows the API shows.

pub mod comparison;
pub mod numbers;
pub mod query_servers;
pub mod request;
pub mod tarsproperty_monitor_data;
pub mod tarsstat_monitor_data;
