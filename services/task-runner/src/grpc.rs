//! The gRPC face of the task-runner.

use std::sync::Arc;

use tars_proto::common::{Empty, ReadyReply};
use tars_proto::task_runner as pb;
use tars_proto::task_runner::task_runner_server::TaskRunner;
use tars_store::Store;
use tokio::sync::Notify;
use tonic::{Request, Response, Status};

use crate::error::TaskError;
use crate::ops;

/// The task-runner's API.
#[derive(Clone)]
pub struct TaskRunnerService {
    store: Store,
    /// Woken after a task is accepted: the relay (Kafka) or the sweeper (embedded).
    wake: Arc<Notify>,
}

impl TaskRunnerService {
    pub fn new(store: Store, wake: Arc<Notify>) -> TaskRunnerService {
        TaskRunnerService { store, wake }
    }
}

/// Every RPC runs through the shared span-and-status wrapper.
async fn traced<T, Req, F, Fut>(
    name: &'static str,
    request: Request<Req>,
    op: F,
) -> Result<Response<T>, Status>
where
    F: FnOnce(Req) -> Fut,
    Fut: std::future::Future<Output = Result<T, TaskError>>,
{
    tars_common::propagation::traced_rpc("task-runner", name, request, op).await
}

#[tonic::async_trait]
impl TaskRunner for TaskRunnerService {
    async fn ready(&self, request: Request<Empty>) -> Result<Response<ReadyReply>, Status> {
        traced("Ready", request, |_| async {
            Ok(ReadyReply::from_check(self.store.ping().await))
        })
        .await
    }

    async fn add_task(
        &self,
        request: Request<pb::AddTaskRequest>,
    ) -> Result<Response<pb::AddTaskReply>, Status> {
        traced("AddTask", request, |r| async move {
            let task_no = ops::add_task::add_task(&self.store, r).await?;
            self.wake.notify_one();
            Ok(pb::AddTaskReply { task_no })
        })
        .await
    }

    async fn task(&self, request: Request<pb::TaskNo>) -> Result<Response<pb::TaskView>, Status> {
        traced("Task", request, |r| async move {
            ops::views::task(&self.store, &r.task_no).await
        })
        .await
    }

    async fn task_list(
        &self,
        request: Request<pb::TaskListRequest>,
    ) -> Result<Response<pb::TaskViews>, Status> {
        traced("TaskList", request, |r| async move {
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
        tars_common::propagation::traced_rpc("task-runner", "Publish", request, |r| {
            ops::publish::publish(&self.store, &self.wake, r)
        })
        .await
    }
}
