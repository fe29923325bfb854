//! Task-runner configuration, from environment variables.

use std::net::SocketAddr;
use std::time::Duration;

use tars_common::env::{var, var_or, var_parsed, EnvError};
use tars_nodes::NodeConfig;
use tars_store::StoreConfig;

/// Where tasks are queued.
#[derive(Debug, Clone)]
pub enum QueueConfig {
    /// In-process: the runner takes tasks straight from the database (standalone mode).
    Embedded,
    /// Kafka: accepted tasks are published to `topic`; runners form consumer group `group`.
    Kafka {
        /// `TARS_KAFKA_BROKERS`: the bootstrap brokers, `host:port[,host:port…]`.
        brokers: String,
        /// `TARS_KAFKA_TOPIC`, default `tars-tasks`: where accepted task numbers are
        /// published (keyed by task number).
        topic: String,
        /// `TARS_KAFKA_DLQ_TOPIC`, default `tars-tasks-dlq`: where a message that is not a
        /// task message is parked, with the reason in its `reason` header.
        dead_letter_topic: String,
        /// `TARS_KAFKA_GROUP`, default `tars-task-runner`: the consumer group every runner
        /// joins, so each task message goes to one of them.
        group: String,
        /// `TARS_KAFKA_MAX_POLL_INTERVAL_MS`, default 300000: how long the consumer may go
        /// without polling before the group evicts it. The consumer keeps polling while
        /// its runner is busy (it pauses its partitions instead), so this only bounds a
        /// wedged runner.
        max_poll_interval: Duration,
        /// `TARS_KAFKA_SESSION_TIMEOUT_MS`, default 6000: a runner silent this long (no
        /// heartbeat) leaves the group and its partitions move to another.
        session_timeout: Duration,
    },
}

/// Everything the task-runner needs.
#[derive(Debug, Clone)]
pub struct Config {
    /// `TARS_TASK_RUNNER_GRPC_ADDR`, default `127.0.0.1:7002`.
    pub grpc_addr: SocketAddr,
    /// Database settings.
    pub store: StoreConfig,
    /// How nodes are reached.
    pub nodes: NodeConfig,
    /// `TARS_KAFKA_BROKERS` switches Kafka on; `TARS_KAFKA_TOPIC` (default `tars-tasks`),
    /// `TARS_KAFKA_DLQ_TOPIC` (default `tars-tasks-dlq`), `TARS_KAFKA_GROUP` (default
    /// `tars-task-runner`).
    pub queue: QueueConfig,
    /// `TARS_RUNNER_ID`: this runner's name in claims and locks (default host-pid-random).
    pub runner_id: String,
    /// `TARS_TASK_LEASE_MS`, default 10000: how long a claim lasts without renewal; a
    /// crashed runner's tasks are taken over after this.
    pub lease: Duration,
    /// `TARS_TASK_ITEM_CONCURRENCY`, default 64: items of a parallel task run at once.
    pub item_concurrency: usize,
    /// `TARS_TASK_MAX_RUNNING`, default 64: tasks one runner executes at once.
    pub max_running_tasks: usize,
    /// `TARS_TASK_UNCLAIMED_GRACE_MS`, default 30000 (Kafka mode): a task published this
    /// long ago that no consumer claimed (its message was lost, e.g. with a broker that
    /// kept nothing across a restart) is taken from the database instead.
    pub unclaimed_grace: Duration,
    /// `TARS_PATCH_TIMEOUT_MS`, default 300000: how long a node may take to patch.
    pub patch_timeout: Duration,
    /// `TARS_PATCH_OBJ`, default `tars.tarspatch.PatchObj`: where nodes fetch packages. A
    /// bare name is looked up among registered adapters (as tarsregistry would); a full
    /// proxy (`Obj@tcp -h H -p P`) is used as is. Standalone defaults to its own servant.
    pub patch_obj: String,
    /// `TARS_TASK_LOCK_WAIT_MS`, default 600000: how long an item waits for a server
    /// instance another task is acting on before it fails saying which task holds it.
    pub lock_wait: Duration,
    /// `TARS_TASK_MAX_RETRIES`, default 5: a task attempt that fails on the database is
    /// retried after 1 s, 2 s, 4 s …; after this many retries the task ends failed.
    pub max_retries: u32,
}

impl Config {
    /// Reads the configuration; errors name the variable at fault.
    pub fn from_env() -> Result<Config, EnvError> {
        let queue = match var("TARS_KAFKA_BROKERS") {
            None => QueueConfig::Embedded,
            Some(brokers) => QueueConfig::Kafka {
                brokers,
                topic: var_or("TARS_KAFKA_TOPIC", "tars-tasks"),
                dead_letter_topic: var_or("TARS_KAFKA_DLQ_TOPIC", "tars-tasks-dlq"),
                group: var_or("TARS_KAFKA_GROUP", "tars-task-runner"),
                max_poll_interval: Duration::from_millis(var_parsed(
                    "TARS_KAFKA_MAX_POLL_INTERVAL_MS",
                    300_000,
                )?),
                session_timeout: Duration::from_millis(var_parsed(
                    "TARS_KAFKA_SESSION_TIMEOUT_MS",
                    6_000,
                )?),
            },
        };
        let runner_id = var("TARS_RUNNER_ID").unwrap_or_else(default_runner_id);
        // The id goes into claim and lock rows (varchar(128) with the task number).
        if runner_id.len() > 80 || runner_id.contains(['/', '#']) {
            return Err(EnvError {
                name: "TARS_RUNNER_ID",
                value: runner_id,
                reason: "must be at most 80 characters without `/` or `#`".into(),
            });
        }
        Ok(Config {
            grpc_addr: var_parsed(
                "TARS_TASK_RUNNER_GRPC_ADDR",
                "127.0.0.1:7002".parse().expect("valid"),
            )?,
            store: StoreConfig::from_env()?,
            nodes: NodeConfig::from_env()?,
            queue,
            runner_id,
            lease: Duration::from_millis(var_parsed("TARS_TASK_LEASE_MS", 10_000)?),
            item_concurrency: var_parsed("TARS_TASK_ITEM_CONCURRENCY", 64)?,
            max_running_tasks: var_parsed("TARS_TASK_MAX_RUNNING", 64)?,
            unclaimed_grace: Duration::from_millis(var_parsed(
                "TARS_TASK_UNCLAIMED_GRACE_MS",
                30_000,
            )?),
            patch_timeout: Duration::from_millis(var_parsed("TARS_PATCH_TIMEOUT_MS", 300_000)?),
            patch_obj: var_or("TARS_PATCH_OBJ", "tars.tarspatch.PatchObj"),
            lock_wait: Duration::from_millis(var_parsed("TARS_TASK_LOCK_WAIT_MS", 600_000)?),
            max_retries: var_parsed("TARS_TASK_MAX_RETRIES", 5)?,
        })
    }
}

fn default_runner_id() -> String {
    let host = std::fs::read_to_string("/etc/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_default();
    format!(
        "{}-{}-{:06x}",
        if host.is_empty() { "runner" } else { &host },
        std::process::id(),
        rand::random::<u32>() & 0xffffff
    )
}
