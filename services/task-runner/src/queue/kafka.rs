//! Kafka: the producer the relay publishes with, topic creation, and the consumer group.
//!
//! Consumer rules: auto-commit is off, and a message's offset is committed only after
//! the task it names is durably claimed (or found to be someone else's), so a crash
//! between the two redelivers the message and the claim turns the repeat into a no-op.
//! A message that names no task is parked on the dead-letter topic and committed, so it
//! cannot stall the partition or crash-loop the runner. The consumer keeps polling
//! while its runner is busy (see [`consume`]), so long tasks never evict it.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::{ClientContext, DefaultClientContext};
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::consumer::{
    BaseConsumer, CommitMode, Consumer, ConsumerContext, Rebalance, StreamConsumer,
};
use rdkafka::error::KafkaResult;
use rdkafka::message::{Header, Message, OwnedHeaders, OwnedMessage};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use serde::{Deserialize, Serialize};
use tokio::sync::OwnedSemaphorePermit;
use tokio_util::sync::CancellationToken;

use super::relay::Publisher;
use crate::executor::{Executor, Taken};

/// What a task message carries (the key is the task number too).
#[derive(Debug, Serialize, Deserialize)]
struct TaskMessage {
    task_no: String,
}

fn base_config(brokers: &str) -> ClientConfig {
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", brokers)
        .set("socket.timeout.ms", "10000")
        .set("reconnect.backoff.max.ms", "2000")
        // Notice a recreated topic (a restarted broker) within seconds, not minutes.
        .set("topic.metadata.refresh.interval.ms", "2000");
    config
}

/// A producer for tasks and dead letters.
pub fn producer(brokers: &str) -> Result<FutureProducer, String> {
    base_config(brokers)
        .set("message.timeout.ms", "5000")
        .set("linger.ms", "0")
        .create()
        .map_err(|e| format!("cannot create a Kafka producer for {brokers}: {e}"))
}

/// Creates the topics when missing (an existing topic is fine).
pub async fn ensure_topics(brokers: &str, topics: &[&str]) -> Result<(), String> {
    let admin: AdminClient<DefaultClientContext> = base_config(brokers)
        .create()
        .map_err(|e| format!("cannot create a Kafka admin client: {e}"))?;
    let new: Vec<NewTopic<'_>> = topics
        .iter()
        .map(|t| NewTopic::new(t, 3, TopicReplication::Fixed(1)))
        .collect();
    let options = AdminOptions::new().operation_timeout(Some(Duration::from_secs(10)));
    match admin.create_topics(new.iter(), &options).await {
        Ok(results) => {
            for result in results {
                if let Err((topic, code)) = result {
                    if code != rdkafka::types::RDKafkaErrorCode::TopicAlreadyExists {
                        tracing::warn!(%topic, ?code, "cannot create topic");
                    }
                }
            }
            Ok(())
        }
        Err(err) => Err(format!("cannot create topics on {brokers}: {err}")),
    }
}

/// Publishes task numbers to the task topic.
pub struct KafkaPublisher {
    /// The producer, connected to the configured brokers.
    pub producer: FutureProducer,
    /// The task topic ([`crate::QueueConfig::Kafka`]'s `topic`).
    pub topic: String,
}

impl Publisher for KafkaPublisher {
    async fn publish(&self, task_no: &str, trace_parent: &str) -> Result<(), String> {
        let payload = serde_json::to_vec(&TaskMessage {
            task_no: task_no.to_string(),
        })
        .map_err(|e| e.to_string())?;
        let mut record = FutureRecord::to(&self.topic).key(task_no).payload(&payload);
        // The W3C trace context travels with the message (the runner reads the same from
        // the task's queue row, in Kafka and embedded mode alike).
        if !trace_parent.is_empty() {
            record = record.headers(OwnedHeaders::new().insert(Header {
                key: "traceparent",
                value: Some(trace_parent),
            }));
        }
        self.producer
            .send(record, Duration::from_secs(5))
            .await
            .map(|_| ())
            .map_err(|(err, _)| format!("broker did not take task {task_no}: {err}"))
    }
}

fn parse(message: &OwnedMessage) -> Result<String, String> {
    let payload = message.payload().ok_or("message has no payload")?;
    let parsed: TaskMessage = serde_json::from_slice(payload)
        .map_err(|e| format!("payload is not a task message: {e}"))?;
    let task_no = parsed.task_no.trim();
    if task_no.is_empty() || task_no.len() > 40 {
        return Err(format!("task number {task_no:?} is not a task number"));
    }
    Ok(task_no.to_string())
}

async fn dead_letter(producer: &FutureProducer, topic: &str, message: &OwnedMessage, reason: &str) {
    let headers = OwnedHeaders::new().insert(Header {
        key: "reason",
        value: Some(reason),
    });
    let mut record: FutureRecord<'_, [u8], [u8]> = FutureRecord::to(topic).headers(headers);
    if let Some(key) = message.key() {
        record = record.key(key);
    }
    if let Some(payload) = message.payload() {
        record = record.payload(payload);
    }
    if let Err((err, _)) = producer.send(record, Duration::from_secs(5)).await {
        tracing::error!(error = %err, "cannot park a bad message on the dead-letter topic");
    }
}

/// Settings of the consumer loop.
pub struct ConsumerSettings {
    /// The bootstrap brokers, `host:port[,host:port…]`.
    pub brokers: String,
    /// The consumer group runners share.
    pub group: String,
    /// The task topic consumed.
    pub topic: String,
    /// Where a message that is not a task message is parked.
    pub dead_letter_topic: String,
    /// How long the consumer may go without polling before the group evicts it.
    pub max_poll_interval: Duration,
    /// How long the consumer may go without a heartbeat before it leaves the group.
    pub session_timeout: Duration,
}

/// Logs the group's decisions about this runner, so an operator (and a test) can see a
/// rebalance, and librdkafka's own warnings, through our log.
struct GroupLog;

impl ClientContext for GroupLog {
    fn log(&self, level: RDKafkaLogLevel, fac: &str, message: &str) {
        match level {
            RDKafkaLogLevel::Emerg
            | RDKafkaLogLevel::Alert
            | RDKafkaLogLevel::Critical
            | RDKafkaLogLevel::Error
            | RDKafkaLogLevel::Warning => tracing::warn!(facility = fac, "librdkafka: {message}"),
            _ => tracing::debug!(facility = fac, "librdkafka: {message}"),
        }
    }
}

impl ConsumerContext for GroupLog {
    fn post_rebalance(&self, _: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        match rebalance {
            Rebalance::Assign(list) => {
                tracing::info!(partitions = %describe(list), "kafka: partitions assigned")
            }
            Rebalance::Revoke(list) => {
                tracing::warn!(partitions = %describe(list), "kafka: partitions revoked")
            }
            Rebalance::Error(err) => tracing::warn!(error = %err, "kafka: rebalance failed"),
        }
    }
}

fn describe(list: &TopicPartitionList) -> String {
    list.elements()
        .iter()
        .map(|e| format!("{}/{}", e.topic(), e.partition()))
        .collect::<Vec<_>>()
        .join(",")
}

type TaskConsumer = StreamConsumer<GroupLog>;

/// Consumes task messages until `shutdown`.
///
/// The consumer never stops polling: a message that cannot be handled now (every
/// execution slot busy, or the database failing) is kept, the assigned partitions are
/// paused (librdkafka stops fetching; polling goes on, so the group keeps this runner
/// however long its tasks take), and they are resumed once the kept messages are
/// handled. Messages are handled in the order received, so offsets are committed in
/// order.
pub async fn consume(
    settings: ConsumerSettings,
    executor: Arc<Executor>,
    dead_letters: FutureProducer,
    shutdown: CancellationToken,
) -> Result<(), String> {
    let session = settings.session_timeout.as_millis().max(1000);
    let consumer: TaskConsumer = base_config(&settings.brokers)
        .set("group.id", &settings.group)
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("auto.offset.reset", "earliest")
        .set("session.timeout.ms", session.to_string())
        .set("heartbeat.interval.ms", (session / 3).to_string())
        .set(
            "max.poll.interval.ms",
            settings
                .max_poll_interval
                .as_millis()
                .max(session)
                .to_string(),
        )
        // Bound how long a fetch waits for data: this is the floor of pickup latency
        // with brokers that do not answer a long poll as soon as data arrives.
        .set("fetch.wait.max.ms", "50")
        // Task messages are tiny; a small prefetch bounds what a paused runner holds.
        .set("queued.max.messages.kbytes", "1024")
        .create_with_context(GroupLog)
        .map_err(|e| {
            format!(
                "cannot create a Kafka consumer for {}: {e}",
                settings.brokers
            )
        })?;
    consumer
        .subscribe(&[settings.topic.as_str()])
        .map_err(|e| format!("cannot subscribe to {}: {e}", settings.topic))?;
    let mut held: VecDeque<OwnedMessage> = VecDeque::new();
    let mut retry_at: Option<tokio::time::Instant> = None;
    let mut paused = false;
    loop {
        let mut received = false;
        let due = retry_at.is_none_or(|at| at <= tokio::time::Instant::now());
        tokio::select! {
            biased;
            _ = shutdown.cancelled() => return Ok(()),
            permit = executor.reserve(), if !held.is_empty() && due => {
                retry_at = None;
                let message = held.front().expect("not empty");
                match handle(&settings, &executor, &dead_letters, message, permit).await {
                    Ok(()) => {
                        commit(&consumer, message);
                        held.pop_front();
                    }
                    Err(err) => {
                        tracing::warn!(error = %err, "cannot claim a task; retrying before committing its offset");
                        retry_at = Some(tokio::time::Instant::now() + Duration::from_secs(1));
                    }
                }
            }
            _ = sleep_until(retry_at), if retry_at.is_some() && !due => {}
            message = consumer.recv() => match message {
                Ok(message) => {
                    held.push_back(message.detach());
                    received = true;
                }
                Err(err) => {
                    tracing::warn!(error = %err, "kafka receive failed; retrying");
                    tokio::select! {
                        _ = shutdown.cancelled() => return Ok(()),
                        _ = tokio::time::sleep(Duration::from_millis(500)) => {}
                    }
                }
            },
        }
        // Hold back further messages while kept ones wait; fetch again once all are done.
        // Pausing again after a receipt covers partitions a rebalance assigned unpaused.
        let blocked = !held.is_empty() && (retry_at.is_some() || executor.free_slots() == 0);
        if blocked != paused || (blocked && received) {
            match set_paused(&consumer, blocked) {
                Ok(()) => paused = blocked,
                Err(err) => {
                    tracing::warn!(error = %err, "cannot pause or resume the task partitions")
                }
            }
        }
    }
}

async fn sleep_until(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

fn set_paused(consumer: &TaskConsumer, pause: bool) -> KafkaResult<()> {
    let assignment = consumer.assignment()?;
    if pause {
        tracing::debug!(partitions = %describe(&assignment), "every slot busy: pausing the task partitions");
        consumer.pause(&assignment)
    } else {
        tracing::debug!(partitions = %describe(&assignment), "resuming the task partitions");
        consumer.resume(&assignment)
    }
}

fn commit(consumer: &TaskConsumer, message: &OwnedMessage) {
    let mut offsets = TopicPartitionList::new();
    let next = Offset::Offset(message.offset() + 1);
    if let Err(err) = offsets
        .add_partition_offset(message.topic(), message.partition(), next)
        .and_then(|()| consumer.commit(&offsets, CommitMode::Async))
    {
        tracing::warn!(error = %err, "cannot commit offset; the message may be delivered again");
    }
}

/// Claims the task a message names (parking a malformed message or one naming no task
/// on the dead-letter topic). `Err` means the outcome is not durable yet: the message
/// must be handled again before its offset is committed.
async fn handle(
    settings: &ConsumerSettings,
    executor: &Arc<Executor>,
    dead_letters: &FutureProducer,
    message: &OwnedMessage,
    permit: OwnedSemaphorePermit,
) -> Result<(), String> {
    let task_no = match parse(message) {
        Ok(task_no) => task_no,
        Err(reason) => {
            tracing::warn!(%reason, partition = message.partition(), offset = message.offset(),
                "bad task message parked on the dead-letter topic");
            dead_letter(dead_letters, &settings.dead_letter_topic, message, &reason).await;
            return Ok(());
        }
    };
    match executor.take_with(permit, &task_no).await {
        Ok(Taken::Missing) => {
            dead_letter(
                dead_letters,
                &settings.dead_letter_topic,
                message,
                "no such task",
            )
            .await;
            Ok(())
        }
        Ok(_) => Ok(()),
        Err(err) => Err(format!("task {task_no}: {err}")),
    }
}
