//! The task-runner's metrics beyond its RPCs: tasks ended by status (with their items),
//! and the sampled gauges of the queue (outbox backlog, unclaimed tasks) and of the Kafka
//! consumer group's lag. Nothing here runs unless the process records metrics.

use tars_store::Store;
use tokio_util::sync::CancellationToken;

use crate::status::{finished_task_status, TaskStatus};

/// Counts a task that has just ended (its end was written under this runner's claim, so
/// each task is counted once), by its status and its items' statuses.
pub(crate) async fn task_ended(store: &Store, task_no: &str) {
    if !tars_common::metrics::installed() {
        return;
    }
    match store.item_status_counts(task_no).await {
        // A task without items (its rows gone) ended with nothing to count.
        Ok(counts) if counts.is_empty() => {}
        Ok(counts) => {
            // One entry per distinct status decides the task's status as all items do.
            let distinct: Vec<i64> = counts.iter().map(|(status, _)| *status).collect();
            let status: TaskStatus = finished_task_status(&distinct);
            let items: Vec<(i64, u64)> = counts
                .iter()
                .map(|(status, n)| (*status, u64::try_from(*n).unwrap_or(0)))
                .collect();
            tars_metrics::task_finished(status as i32, &items);
        }
        Err(err) => {
            tracing::warn!(task_no, error = %err, "cannot count the ended task's items for the metrics")
        }
    }
}

/// Samples the queue's gauges every few seconds: the outbox backlog (Kafka mode only; the
/// embedded queue publishes nothing) and the unfinished tasks no runner holds (published
/// ones in Kafka mode).
pub(crate) fn spawn_queue_sampler(store: Store, kafka: bool, shutdown: CancellationToken) {
    tars_common::metrics::spawn_sampler(shutdown, move || {
        let store = store.clone();
        async move {
            match store.queue_counts().await {
                Ok(counts) if kafka => {
                    tars_metrics::task_queue(Some(counts.unpublished), counts.published_unclaimed)
                }
                Ok(counts) => tars_metrics::task_queue(None, counts.unclaimed),
                Err(err) => tracing::debug!(error = %err, "cannot sample the task queue"),
            }
        }
    });
}

/// Samples the consumer group's lag on the task topic every few seconds: over its
/// partitions, the high watermark less the group's committed offset (the low watermark
/// where the group committed none). A consumer of its own, never subscribed, asks.
#[cfg(feature = "kafka")]
pub(crate) fn spawn_kafka_lag_sampler(
    brokers: &str,
    group: &str,
    topic: &str,
    shutdown: CancellationToken,
) {
    use std::sync::Arc;

    use rdkafka::consumer::BaseConsumer;

    if !tars_common::metrics::installed() {
        return;
    }
    let consumer: BaseConsumer = match rdkafka::ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", group)
        .set("enable.auto.commit", "false")
        .set("socket.timeout.ms", "10000")
        .set("reconnect.backoff.max.ms", "2000")
        .create()
    {
        Ok(consumer) => consumer,
        Err(err) => {
            tracing::warn!(error = %err, "no Kafka lag metric: cannot create its client");
            return;
        }
    };
    let consumer = Arc::new(consumer);
    let topic = topic.to_string();
    tars_common::metrics::spawn_sampler(shutdown, move || {
        let (consumer, topic) = (consumer.clone(), topic.clone());
        async move {
            match tokio::task::spawn_blocking(move || group_lag(&consumer, &topic)).await {
                Ok(Ok(lag)) => tars_metrics::kafka_lag(lag),
                Ok(Err(err)) => tracing::debug!(error = %err, "cannot sample the Kafka lag"),
                Err(err) => tracing::debug!(error = %err, "Kafka lag sampler failed"),
            }
        }
    });
}

#[cfg(feature = "kafka")]
fn group_lag(
    consumer: &rdkafka::consumer::BaseConsumer,
    topic: &str,
) -> rdkafka::error::KafkaResult<i64> {
    use std::time::Duration;

    use rdkafka::consumer::Consumer;
    use rdkafka::{Offset, TopicPartitionList};

    const TIMEOUT: Duration = Duration::from_secs(3);
    // Serve what librdkafka queued for this client (errors, logs); it receives no messages.
    for _ in 0..64 {
        if consumer.poll(Duration::ZERO).is_none() {
            break;
        }
    }
    let metadata = consumer.fetch_metadata(Some(topic), TIMEOUT)?;
    let partitions: Vec<i32> = metadata
        .topics()
        .iter()
        .flat_map(|t| t.partitions().iter().map(|p| p.id()))
        .collect();
    let mut list = TopicPartitionList::new();
    for partition in &partitions {
        list.add_partition(topic, *partition);
    }
    let committed = consumer.committed_offsets(list, TIMEOUT)?;
    let mut lag = 0;
    for partition in partitions {
        let (low, high) = consumer.fetch_watermarks(topic, partition, TIMEOUT)?;
        let from = match committed
            .find_partition(topic, partition)
            .map(|e| e.offset())
        {
            Some(Offset::Offset(offset)) => offset,
            _ => low,
        };
        lag += (high - from).max(0);
    }
    Ok(lag)
}
