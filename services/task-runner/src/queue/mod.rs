//! Getting accepted tasks to runners.
//!
//! - [`relay`]: publishes tasks written to the database to Kafka, then marks them
//!   published. A task is durable before it is published, so a broker outage delays
//!   tasks but loses none.
//! - [`kafka`]: the producer, and the consumer group whose members claim each task once.
//! - [`sweeper`]: takes over tasks whose runner stopped renewing its lease, and, without
//!   Kafka, is how the runner consumes tasks straight from the database.

#[cfg(feature = "kafka")]
pub mod kafka;
pub mod relay;
pub mod sweeper;
