//! The platform's metrics, in one catalogue: every metric's name ([`names`]), help text
//! and unit ([`describe`]), and the functions the services record them with. Recording
//! goes through the [`metrics`] facade, so it costs next to nothing in a process that
//! installed no recorder; `tars_common::metrics` installs the Prometheus recorder and
//! serves it.
//!
//! Every label value comes from a fixed set (an endpoint name of the table, a gRPC code,
//! a tarsnode method, a status): never a path, a user, an application or a server name,
//! so the number of series stays bounded whatever the traffic.

use std::time::Duration;

/// The metric names, as Prometheus shows them.
pub mod names {
    /// Counter, labels `route` (the endpoint's name, a probe's, `metrics`, `openapi`,
    /// `docs` or `other`) and `status` (the HTTP status): requests the gateway answered.
    pub const HTTP_REQUESTS: &str = "tars_http_requests_total";
    /// Histogram (seconds), label `route`: time from a request's arrival until its
    /// answer's headers.
    pub const HTTP_DURATION: &str = "tars_http_request_duration_seconds";
    /// Counter, labels `endpoint` (`upload_patch_package`, `upload_and_publish`) and
    /// `result` (`received`, `failed`): package uploads read by the gateway.
    pub const UPLOADS: &str = "tars_uploads_total";
    /// Counter, label `endpoint`: bytes of packages received whole into the staging area.
    pub const UPLOAD_BYTES: &str = "tars_upload_bytes_total";
    /// Histogram (seconds), label `endpoint`: time to receive an upload's form.
    pub const UPLOAD_DURATION: &str = "tars_upload_duration_seconds";
    /// Counter, labels `service` (`deployer`, `task-runner`, `monitor`), `method` (the
    /// RPC) and `code` (the gRPC status code, `OK` …): RPCs a backend served.
    pub const GRPC_REQUESTS: &str = "tars_grpc_requests_total";
    /// Histogram (seconds), labels `service` and `method`: time to serve an RPC.
    pub const GRPC_DURATION: &str = "tars_grpc_request_duration_seconds";
    /// Gauge: connections the database pool holds open (sampled).
    pub const DB_POOL_CONNECTIONS: &str = "tars_db_pool_connections";
    /// Gauge: pooled connections in use (sampled).
    pub const DB_POOL_IN_USE: &str = "tars_db_pool_connections_in_use";
    /// Gauge: the pool's size limit (`TARS_DB_MAX_CONNECTIONS`).
    pub const DB_POOL_MAX: &str = "tars_db_pool_max_connections";
    /// Histogram (seconds): how long a probe waited for a pooled connection (one probe
    /// per sample).
    pub const DB_POOL_ACQUIRE_WAIT: &str = "tars_db_pool_acquire_wait_seconds";
    /// Counter: tasks accepted (`add_task`, and the task of each `upload_and_publish`).
    pub const TASKS_ACCEPTED: &str = "tars_tasks_accepted_total";
    /// Counter, label `status` (`success`, `failed`, `cancel`, `partial`): tasks that
    /// ended, by their final status.
    pub const TASKS_FINISHED: &str = "tars_tasks_finished_total";
    /// Counter, label `status` (`success`, `failed`, `cancel`): items of the tasks that
    /// ended, by their final status.
    pub const TASK_ITEMS_FINISHED: &str = "tars_task_items_finished_total";
    /// Gauge: tasks accepted but not yet published to Kafka (Kafka mode; sampled).
    pub const TASK_OUTBOX_BACKLOG: &str = "tars_task_outbox_backlog";
    /// Gauge: unfinished tasks no runner holds: published and not claimed (Kafka mode),
    /// or waiting for the sweeper (embedded mode); sampled.
    pub const TASKS_UNCLAIMED: &str = "tars_tasks_unclaimed";
    /// Gauge: messages of the task topic not yet committed by the consumer group, over
    /// its partitions (Kafka mode; sampled).
    pub const KAFKA_CONSUMER_LAG: &str = "tars_kafka_consumer_lag";
    /// Counter, labels `method` (the tarsnode method) and `result` (`ok`: answered with
    /// return code 0; `failed`: answered with another code; `timeout`; `error`: not
    /// reached, closed, or a framework error): calls to tarsnode.
    pub const NODE_CALLS: &str = "tars_node_calls_total";
    /// Histogram (seconds), label `method`: time of a call to tarsnode.
    pub const NODE_CALL_DURATION: &str = "tars_node_call_duration_seconds";
    /// Counter: package bytes the Patch servant sent in `download` answers.
    pub const PATCH_DOWNLOAD_BYTES: &str = "tars_patch_download_bytes_total";
    /// Counter: package downloads started (a `download` of the first chunk).
    pub const PATCH_DOWNLOADS: &str = "tars_patch_downloads_total";
}

use names::*;

/// Upper bounds (seconds) of the latency histograms' buckets: a millisecond to five
/// minutes (patches and uploads take long).
pub const LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
    120.0, 300.0,
];

/// Registers every metric's help text and unit with the installed recorder.
pub fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram, Unit};
    describe_counter!(
        HTTP_REQUESTS,
        "HTTP requests answered by the gateway, by route and status"
    );
    describe_histogram!(
        HTTP_DURATION,
        Unit::Seconds,
        "time until an HTTP answer's headers, by route"
    );
    describe_counter!(UPLOADS, "package uploads read, by endpoint and result");
    describe_counter!(
        UPLOAD_BYTES,
        Unit::Bytes,
        "bytes of packages received whole"
    );
    describe_histogram!(
        UPLOAD_DURATION,
        Unit::Seconds,
        "time to receive an upload's form"
    );
    describe_counter!(
        GRPC_REQUESTS,
        "RPCs served, by service, method and gRPC code"
    );
    describe_histogram!(
        GRPC_DURATION,
        Unit::Seconds,
        "time to serve an RPC, by service and method"
    );
    describe_gauge!(DB_POOL_CONNECTIONS, "database connections open in the pool");
    describe_gauge!(DB_POOL_IN_USE, "pooled database connections in use");
    describe_gauge!(DB_POOL_MAX, "the database pool's size limit");
    describe_histogram!(
        DB_POOL_ACQUIRE_WAIT,
        Unit::Seconds,
        "wait of a sampling probe for a pooled connection"
    );
    describe_counter!(TASKS_ACCEPTED, "tasks accepted");
    describe_counter!(TASKS_FINISHED, "tasks ended, by final status");
    describe_counter!(TASK_ITEMS_FINISHED, "items of ended tasks, by final status");
    describe_gauge!(
        TASK_OUTBOX_BACKLOG,
        "tasks accepted but not yet published to Kafka"
    );
    describe_gauge!(TASKS_UNCLAIMED, "unfinished tasks no runner holds");
    describe_gauge!(
        KAFKA_CONSUMER_LAG,
        "task messages not yet committed by the consumer group"
    );
    describe_counter!(NODE_CALLS, "calls to tarsnode, by method and result");
    describe_histogram!(
        NODE_CALL_DURATION,
        Unit::Seconds,
        "time of a call to tarsnode, by method"
    );
    describe_counter!(
        PATCH_DOWNLOAD_BYTES,
        Unit::Bytes,
        "package bytes sent by the Patch servant"
    );
    describe_counter!(
        PATCH_DOWNLOADS,
        "package downloads started at the Patch servant"
    );
}

/// One HTTP request answered: `route` is a fixed label (see [`names::HTTP_REQUESTS`]).
pub fn http_request(route: &'static str, status: u16, elapsed: Duration) {
    metrics::counter!(HTTP_REQUESTS, "route" => route, "status" => status_label(status))
        .increment(1);
    metrics::histogram!(HTTP_DURATION, "route" => route).record(elapsed.as_secs_f64());
}

/// The HTTP status as a label; statuses outside 100-599 (none are sent) read `other`.
fn status_label(status: u16) -> metrics::SharedString {
    if (100..600).contains(&status) {
        metrics::SharedString::from(status.to_string())
    } else {
        metrics::SharedString::const_str("other")
    }
}

/// One package upload read: `bytes` is the package's size when it was received whole
/// (`None` when the form could not be read).
pub fn upload(endpoint: &str, bytes: Option<u64>, elapsed: Duration) {
    let endpoint = match endpoint {
        "upload_patch_package" => "upload_patch_package",
        "upload_and_publish" => "upload_and_publish",
        _ => "other",
    };
    let result = if bytes.is_some() {
        "received"
    } else {
        "failed"
    };
    metrics::counter!(UPLOADS, "endpoint" => endpoint, "result" => result).increment(1);
    if let Some(bytes) = bytes {
        metrics::counter!(UPLOAD_BYTES, "endpoint" => endpoint).increment(bytes);
        metrics::histogram!(UPLOAD_DURATION, "endpoint" => endpoint).record(elapsed.as_secs_f64());
    }
}

/// One RPC served: `code` is the gRPC status code's number (0 for success).
pub fn grpc_call(service: &'static str, method: &'static str, code: i32, elapsed: Duration) {
    metrics::counter!(GRPC_REQUESTS, "service" => service, "method" => method,
        "code" => grpc_code_name(code))
    .increment(1);
    metrics::histogram!(GRPC_DURATION, "service" => service, "method" => method)
        .record(elapsed.as_secs_f64());
}

/// The name of a gRPC status code, as gRPC's own documentation spells it.
pub fn grpc_code_name(code: i32) -> &'static str {
    match code {
        0 => "OK",
        1 => "Canceled",
        2 => "Unknown",
        3 => "InvalidArgument",
        4 => "DeadlineExceeded",
        5 => "NotFound",
        6 => "AlreadyExists",
        7 => "PermissionDenied",
        8 => "ResourceExhausted",
        9 => "FailedPrecondition",
        10 => "Aborted",
        11 => "OutOfRange",
        12 => "Unimplemented",
        13 => "Internal",
        14 => "Unavailable",
        15 => "DataLoss",
        16 => "Unauthenticated",
        _ => "other",
    }
}

/// A sample of the database pool.
pub fn db_pool(open: u32, in_use: u32, max: u32) {
    metrics::gauge!(DB_POOL_CONNECTIONS).set(f64::from(open));
    metrics::gauge!(DB_POOL_IN_USE).set(f64::from(in_use));
    metrics::gauge!(DB_POOL_MAX).set(f64::from(max));
}

/// How long a sampling probe waited for a pooled connection.
pub fn db_acquire_wait(waited: Duration) {
    metrics::histogram!(DB_POOL_ACQUIRE_WAIT).record(waited.as_secs_f64());
}

/// A task was accepted.
pub fn task_accepted() {
    metrics::counter!(TASKS_ACCEPTED).increment(1);
}

/// A task ended with `status` (TARS's task status number), its items with the item
/// statuses counted in `items` (item status number, how many).
pub fn task_finished(status: i32, items: &[(i64, u64)]) {
    metrics::counter!(TASKS_FINISHED, "status" => task_status_name(status)).increment(1);
    for &(item_status, count) in items {
        metrics::counter!(TASK_ITEMS_FINISHED, "status" => item_status_name(item_status))
            .increment(count);
    }
}

/// The label of a task status (AdminReg.tars's `EMTaskStatus`).
pub fn task_status_name(status: i32) -> &'static str {
    match status {
        0 => "not_start",
        1 => "prepare",
        2 => "running",
        3 => "success",
        4 => "failed",
        5 => "cancel",
        6 => "partial",
        _ => "other",
    }
}

/// The label of an item status (AdminReg.tars's `EMTaskItemStatus`).
pub fn item_status_name(status: i64) -> &'static str {
    match status {
        0 => "not_start",
        1 => "prepare",
        2 => "running",
        3 => "success",
        4 => "failed",
        5 => "cancel",
        6 => "pause_flow",
        _ => "other",
    }
}

/// A sample of the task queue: the Kafka outbox's backlog (`None` in embedded mode, which
/// publishes nothing) and the unfinished tasks no runner holds.
pub fn task_queue(outbox_backlog: Option<i64>, unclaimed: i64) {
    if let Some(backlog) = outbox_backlog {
        metrics::gauge!(TASK_OUTBOX_BACKLOG).set(backlog as f64);
    }
    metrics::gauge!(TASKS_UNCLAIMED).set(unclaimed as f64);
}

/// A sample of the consumer group's lag on the task topic.
pub fn kafka_lag(messages: i64) {
    metrics::gauge!(KAFKA_CONSUMER_LAG).set(messages as f64);
}

/// How a call to tarsnode ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeResult {
    /// Answered with return code 0.
    Ok,
    /// Answered with another return code.
    Failed,
    /// No answer within the call's deadline.
    Timeout,
    /// Not reached, connection closed, a framework error or an unreadable answer.
    Error,
}

/// One call to tarsnode: `method` is the Node interface's (any other reads `other`).
pub fn node_call(method: &str, result: NodeResult, elapsed: Duration) {
    let method = node_method_label(method);
    let result = match result {
        NodeResult::Ok => "ok",
        NodeResult::Failed => "failed",
        NodeResult::Timeout => "timeout",
        NodeResult::Error => "error",
    };
    metrics::counter!(NODE_CALLS, "method" => method, "result" => result).increment(1);
    metrics::histogram!(NODE_CALL_DURATION, "method" => method).record(elapsed.as_secs_f64());
}

/// The methods of tarsnode's `Node` interface (`framework/Node.tars`).
const NODE_METHODS: &[&str] = &[
    "destroyServer",
    "patchPro",
    "addFile",
    "getName",
    "getLoad",
    "shutdown",
    "stopAllServers",
    "loadServer",
    "startServer",
    "stopServer",
    "notifyServer",
    "getServerPid",
    "getSettingState",
    "getState",
    "getStateInfo",
    "synState",
    "getPatchPercent",
    "delCache",
    "getLogFileList",
    "getLogData",
    "getNodeLoad",
    "forceDockerLogin",
    "checkDockerRegistry",
];

fn node_method_label(method: &str) -> &'static str {
    NODE_METHODS
        .iter()
        .find(|m| **m == method)
        .copied()
        .unwrap_or("other")
}

/// A `download` answer of the Patch servant: `bytes` sent, `first` when it was the
/// file's first chunk.
pub fn patch_download(bytes: usize, first: bool) {
    if first {
        metrics::counter!(PATCH_DOWNLOADS).increment(1);
    }
    metrics::counter!(PATCH_DOWNLOAD_BYTES).increment(bytes as u64);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_bounded() {
        assert_eq!(node_method_label("startServer"), "startServer");
        assert_eq!(node_method_label("/etc/passwd"), "other");
        assert_eq!(grpc_code_name(0), "OK");
        assert_eq!(grpc_code_name(16), "Unauthenticated");
        assert_eq!(grpc_code_name(99), "other");
        assert_eq!(task_status_name(6), "partial");
        assert_eq!(item_status_name(5), "cancel");
        assert_eq!(status_label(404).as_ref(), "404");
        assert_eq!(status_label(42).as_ref(), "other");
    }

    #[test]
    fn every_name_is_a_prometheus_name_with_the_platform_prefix() {
        for name in [
            HTTP_REQUESTS,
            HTTP_DURATION,
            UPLOADS,
            UPLOAD_BYTES,
            UPLOAD_DURATION,
            GRPC_REQUESTS,
            GRPC_DURATION,
            DB_POOL_CONNECTIONS,
            DB_POOL_IN_USE,
            DB_POOL_MAX,
            DB_POOL_ACQUIRE_WAIT,
            TASKS_ACCEPTED,
            TASKS_FINISHED,
            TASK_ITEMS_FINISHED,
            TASK_OUTBOX_BACKLOG,
            TASKS_UNCLAIMED,
            KAFKA_CONSUMER_LAG,
            NODE_CALLS,
            NODE_CALL_DURATION,
            PATCH_DOWNLOAD_BYTES,
            PATCH_DOWNLOADS,
        ] {
            assert!(name.starts_with("tars_"), "{name}");
            assert!(
                name.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                "{name}"
            );
        }
    }
}
