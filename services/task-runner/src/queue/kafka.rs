//! Kafka: the producer the relay publishes with, topic creation, and the consumer group.
//!
//! Consumer rules: auto-commit is off, and a message's offset is committed only after
//! the task it names is durably claimed (or found to be someone else's), so a crash
//! between the two redelivers the message and the claim turns the repeat into a no-op.
//! A message that names no task is parked on the dead-letter topic and committed, so it
//! cannot stall the partition or crash-loop the runner.

use std::sync::Arc;
use std::time::Duration;

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{CommitMode, Consumer, StreamConsumer};
use rdkafka::message::{BorrowedMessage, Header, Message, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::ClientConfig;
use serde::{Deserialize, Serialize};
use tars_store::Store;
use tokio_util::sync::CancellationToken;

use super::relay::Publisher;
use crate::executor::Executor;

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
    pub producer: FutureProducer,
    pub topic: String,
}

impl Publisher for KafkaPublisher {
    async fn publish(&self, task_no: &str) -> Result<(), String> {
        let payload = serde_json::to_vec(&TaskMessage {
            task_no: task_no.to_string(),
        })
        .map_err(|e| e.to_string())?;
        let record = FutureRecord::to(&self.topic).key(task_no).payload(&payload);
        self.producer
            .send(record, Duration::from_secs(5))
            .await
            .map(|_| ())
            .map_err(|(err, _)| format!("broker did not take task {task_no}: {err}"))
    }
}

fn parse(message: &BorrowedMessage<'_>) -> Result<String, String> {
    let payload = message.payload().ok_or("message has no payload")?;
    let parsed: TaskMessage = serde_json::from_slice(payload)
        .map_err(|e| format!("payload is not a task message: {e}"))?;
    let task_no = parsed.task_no.trim();
    if task_no.is_empty() || task_no.len() > 40 {
        return Err(format!("task number {task_no:?} is not a task number"));
    }
    Ok(task_no.to_string())
}

async fn dead_letter(
    producer: &FutureProducer,
    topic: &str,
    message: &BorrowedMessage<'_>,
    reason: &str,
) {
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
    pub brokers: String,
    pub group: String,
    pub topic: String,
    pub dead_letter_topic: String,
}

/// Consumes task messages until `shutdown`.
pub async fn consume(
    settings: ConsumerSettings,
    store: Store,
    executor: Arc<Executor>,
    dead_letters: FutureProducer,
    shutdown: CancellationToken,
) -> Result<(), String> {
    let consumer: StreamConsumer = base_config(&settings.brokers)
        .set("group.id", &settings.group)
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("auto.offset.reset", "earliest")
        .set("session.timeout.ms", "6000")
        .set("heartbeat.interval.ms", "1000")
        .set("max.poll.interval.ms", "60000")
        // Bound how long a fetch waits for data: this is the floor of pickup latency
        // with brokers that do not answer a long poll as soon as data arrives.
        .set("fetch.wait.max.ms", "50")
        .create()
        .map_err(|e| {
            format!(
                "cannot create a Kafka consumer for {}: {e}",
                settings.brokers
            )
        })?;
    consumer
        .subscribe(&[settings.topic.as_str()])
        .map_err(|e| format!("cannot subscribe to {}: {e}", settings.topic))?;
    loop {
        let message = tokio::select! {
            _ = shutdown.cancelled() => return Ok(()),
            message = consumer.recv() => message,
        };
        let message = match message {
            Ok(m) => m,
            Err(err) => {
                tracing::warn!(error = %err, "kafka receive failed; retrying");
                tokio::time::sleep(Duration::from_millis(500)).await;
                continue;
            }
        };
        match parse(&message) {
            Err(reason) => {
                tracing::warn!(%reason, partition = message.partition(), offset = message.offset(), "bad task message parked on the dead-letter topic");
                dead_letter(
                    &dead_letters,
                    &settings.dead_letter_topic,
                    &message,
                    &reason,
                )
                .await;
            }
            Ok(task_no) => loop {
                // Keep trying until the claim's outcome is durable; committing before
                // would lose the task if this runner died now.
                // A refused claim is the common redelivery case; only then is it worth
                // asking whether the task exists at all.
                let outcome = match executor.take(&task_no).await {
                    Ok(false) => match store.task_queue_state(&task_no).await {
                        Ok(None) => {
                            dead_letter(
                                &dead_letters,
                                &settings.dead_letter_topic,
                                &message,
                                "no such task",
                            )
                            .await;
                            Ok(())
                        }
                        Ok(Some(_)) => Ok(()),
                        Err(err) => Err(err),
                    },
                    Ok(true) => Ok(()),
                    Err(err) => Err(err),
                };
                match outcome {
                    Ok(_) => break,
                    Err(err) => {
                        tracing::warn!(task_no, error = %err, "cannot claim task; retrying before committing");
                        tokio::select! {
                            _ = shutdown.cancelled() => return Ok(()),
                            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                        }
                    }
                }
            },
        }
        if let Err(err) = consumer.commit_message(&message, CommitMode::Async) {
            tracing::warn!(error = %err, "cannot commit offset; the message may be delivered again");
        }
    }
}
