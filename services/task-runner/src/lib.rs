//! The task-runner: accepts tasks (start, stop, restart, patch, undeploy) durably in the
//! database, queues them through Kafka — or, standalone, takes them straight from the
//! database — and executes each exactly once against tarsnode, surviving crashes of
//! runners and outages of the broker.

pub mod config;
pub mod error;
pub mod executor;
pub mod grpc;
mod metrics;
pub mod ops;
pub mod paging;
pub mod parameters;
pub mod queue;
pub mod status;

use std::sync::Arc;
use std::time::Duration;

use tars_nodes::Nodes;
use tars_proto::task_runner::task_runner_server::TaskRunnerServer;
use tars_store::Store;
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

pub use config::{Config, QueueConfig};
use executor::{ExecConfig, Executor};
pub use grpc::TaskRunnerService;
use queue::sweeper::{self, SweepMode};

/// Where the task-runner listens: `TARS_TASK_RUNNER_GRPC_ADDR`, default `127.0.0.1:7002`.
pub fn grpc_addr_from_env() -> Result<std::net::SocketAddr, tars_common::env::EnvError> {
    tars_common::env::var_parsed(
        "TARS_TASK_RUNNER_GRPC_ADDR",
        "127.0.0.1:7002".parse().expect("valid"),
    )
}

/// A started runner: its API, and its executor to drain on shutdown.
pub struct Running {
    /// The gRPC service, to serve or to call in-process.
    pub service: TaskRunnerServer<TaskRunnerService>,
    executor: Arc<Executor>,
}

impl Running {
    /// Waits for running tasks to finish, at most `limit`; unfinished ones are resumed by
    /// another runner (or this one after restart) when their lease runs out.
    pub async fn drain(&self, limit: Duration) {
        self.executor.drain(limit).await;
    }
}

/// Starts the background work (relay, consumer, sweeper) and returns the API.
pub fn start(store: Store, config: Config, shutdown: CancellationToken) -> anyhow::Result<Running> {
    let nodes = Arc::new(Nodes::new(config.nodes.clone()));
    let exec_config = ExecConfig {
        runner_id: config.runner_id.clone(),
        lease: config.lease,
        item_concurrency: config.item_concurrency,
        max_running_tasks: config.max_running_tasks,
        patch_timeout: config.patch_timeout,
        patch_obj: config.patch_obj.clone(),
        lock_wait: config.lock_wait,
        max_retries: config.max_retries,
    };
    let executor = Executor::new(store.clone(), nodes, exec_config, shutdown.clone());
    let wake = Arc::new(Notify::new());
    let sweep_period = (config.lease / 2).clamp(Duration::from_millis(200), Duration::from_secs(5));
    let kafka = matches!(config.queue, QueueConfig::Kafka { .. });
    metrics::spawn_queue_sampler(store.clone(), kafka, shutdown.clone());
    match &config.queue {
        QueueConfig::Embedded => {
            tracing::info!(runner = %config.runner_id, "task queue: embedded (no Kafka)");
            tokio::spawn(sweeper::run(
                store.clone(),
                executor.clone(),
                SweepMode::Embedded,
                sweep_period,
                wake.clone(),
                shutdown.clone(),
            ));
        }
        QueueConfig::Kafka { .. } => {
            start_kafka(&store, &executor, &wake, &config.queue, &shutdown)?;
            let grace = config.unclaimed_grace;
            tokio::spawn(sweeper::run(
                store.clone(),
                executor.clone(),
                SweepMode::Kafka {
                    unclaimed_grace: grace,
                },
                sweep_period,
                Arc::new(Notify::new()),
                shutdown.clone(),
            ));
        }
    }
    Ok(Running {
        service: TaskRunnerServer::new(TaskRunnerService::new(store, wake))
            .max_decoding_message_size(tars_proto::MAX_MESSAGE_BYTES)
            .max_encoding_message_size(tars_proto::MAX_MESSAGE_BYTES),
        executor,
    })
}

#[cfg(feature = "kafka")]
fn start_kafka(
    store: &Store,
    executor: &Arc<Executor>,
    wake: &Arc<Notify>,
    queue: &QueueConfig,
    shutdown: &CancellationToken,
) -> anyhow::Result<()> {
    use queue::kafka;
    let QueueConfig::Kafka {
        brokers,
        topic,
        dead_letter_topic,
        group,
        max_poll_interval,
        session_timeout,
    } = queue
    else {
        anyhow::bail!("not a Kafka queue configuration");
    };
    tracing::info!(%brokers, %topic, %group, "task queue: kafka");
    metrics::spawn_kafka_lag_sampler(brokers, group, topic, shutdown.clone());
    let producer = kafka::producer(brokers).map_err(anyhow::Error::msg)?;
    let publisher = Arc::new(kafka::KafkaPublisher {
        producer: producer.clone(),
        topic: topic.to_string(),
    });
    let settings = kafka::ConsumerSettings {
        brokers: brokers.to_string(),
        group: group.to_string(),
        topic: topic.to_string(),
        dead_letter_topic: dead_letter_topic.to_string(),
        max_poll_interval: *max_poll_interval,
        session_timeout: *session_timeout,
    };
    let (executor_c, shutdown_c) = (executor.clone(), shutdown.clone());
    let topics = [topic.to_string(), dead_letter_topic.to_string()];
    let brokers_c = brokers.to_string();
    tokio::spawn(async move {
        // Topics first (retrying while the broker is away), then consume.
        loop {
            let refs: Vec<&str> = topics.iter().map(String::as_str).collect();
            match kafka::ensure_topics(&brokers_c, &refs).await {
                Ok(()) => break,
                Err(err) => tracing::warn!(error = %err, "waiting for the Kafka broker"),
            }
            tokio::select! {
                _ = shutdown_c.cancelled() => return,
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            }
        }
        if let Err(err) = kafka::consume(settings, executor_c, producer, shutdown_c).await {
            tracing::error!(error = %err, "kafka consumer stopped");
        }
    });
    tokio::spawn(queue::relay::run(
        store.clone(),
        publisher,
        wake.clone(),
        shutdown.clone(),
    ));
    Ok(())
}

#[cfg(not(feature = "kafka"))]
fn start_kafka(
    _: &Store,
    _: &Arc<Executor>,
    _: &Arc<Notify>,
    _: &QueueConfig,
    _: &CancellationToken,
) -> anyhow::Result<()> {
    anyhow::bail!("TARS_KAFKA_BROKERS is set but this build has no Kafka support (feature `kafka`)")
}

/// Serves the task-runner on `listener` until `shutdown`, then drains running tasks.
///
/// # Errors
/// When the gRPC server fails.
pub async fn run(
    listener: TcpListener,
    store: Store,
    config: Config,
    security: &tars_common::grpc_security::GrpcSecurity,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let running = start(store, config, shutdown.clone())?;
    tars_common::grpc_security::serve(listener, running.service.clone(), security, shutdown)
        .await?;
    running.drain(Duration::from_secs(30)).await;
    Ok(())
}
