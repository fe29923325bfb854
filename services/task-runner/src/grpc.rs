//! The gRPC face of the task-runner.

use std::sync::Arc;

use tars_proto::common::{Empty, ReadyReply};
use tars_proto::task_runner as pb;
use tars_proto::task_runner::task_runner_server::TaskRunner;
use tars_store::Store;
use tokio::sync::Notify;
use tonic::{Request, Response, Status};

use crate::ops;
use tars_proto::ServiceErrorCode;

/// The task-runner's API.
#[derive(Clone)]
pub struct TaskRunnerService {
    store: Store,
    /// Woken after a task is accepted: the relay (Kafka) or the sweeper (embedded).
    wake: Arc<Notify>,
}

impl TaskRunnerService {
    /// The API over `store`; `wake` is notified after each accepted task so it is queued
    /// without waiting for the next sweep.
    pub fn new(store: Store, wake: Arc<Notify>) -> TaskRunnerService {
        TaskRunnerService { store, wake }
    }
}

/// Every RPC runs through the shared span-and-status wrapper; an audited call (a write
/// through the API) gets its audit row once it ends, unless its transaction wrote it.
async fn traced<T, Req, F, Fut>(
    store: &Store,
    name: &'static str,
    request: Request<Req>,
    op: F,
) -> Result<Response<T>, Status>
where
    F: FnOnce(Req) -> Fut,
    Fut: std::future::Future<Output = Result<T, Status>>,
{
    tars_common::propagation::traced_rpc("task-runner", name, request, |r| async move {
        let answer = op(r).await;
        let (status, message) = match &answer {
            Ok(_) => (200, String::new()),
            Err(status) => (
                ServiceErrorCode::from_grpc_code(status.code()).http_status(),
                status.message().to_string(),
            ),
        };
        store.finish_audited_call(status, &message).await;
        answer
    })
    .await
}

#[tonic::async_trait]
impl TaskRunner for TaskRunnerService {
    async fn ready(&self, request: Request<Empty>) -> Result<Response<ReadyReply>, Status> {
        traced(&self.store, "Ready", request, |_| async {
            Ok(ReadyReply::from_check(self.store.ping().await))
        })
        .await
    }

    async fn add_task(
        &self,
        request: Request<pb::AddTaskRequest>,
    ) -> Result<Response<pb::AddTaskReply>, Status> {
        traced(&self.store, "AddTask", request, |r| async move {
            let task_no = ops::add_task::add_task(&self.store, r)
                .await
                .map_err(Status::from)?;
            self.wake.notify_one();
            Ok(pb::AddTaskReply { task_no })
        })
        .await
    }

    async fn task(&self, request: Request<pb::TaskNo>) -> Result<Response<pb::TaskView>, Status> {
        traced(&self.store, "Task", request, |r| async move {
            Ok(ops::views::task(&self.store, &r.task_no).await?)
        })
        .await
    }

    async fn task_list(
        &self,
        request: Request<pb::TaskListRequest>,
    ) -> Result<Response<pb::TaskViews>, Status> {
        traced(&self.store, "TaskList", request, |r| async move {
            Ok(pb::TaskViews {
                tasks: ops::views::task_list(&self.store, r).await?,
            })
        })
        .await
    }

    async fn publish(
        &self,
        request: Request<pb::PublishRequest>,
    ) -> Result<Response<pb::PublishReply>, Status> {
        traced(&self.store, "Publish", request, |r| {
            ops::publish::publish(&self.store, &self.wake, r)
        })
        .await
    }
}
