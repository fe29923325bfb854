//! What each endpoint answers in `data`: the backends' messages where their JSON already
//! has the document's shape (they derive `Serialize` and `ToSchema` in `tars-proto`), the
//! few shapes the document gives differently, and [`FromReply`], which takes each answer
//! from its backend's reply.

use serde::Serialize;
use tars_proto::deployer as pb;
use tars_proto::monitor as mon;
use tars_proto::task_runner as tr;
use utoipa::ToSchema;

pub use tars_proto::deployer::{
    AdapterConf, AuditPage, AuthGrantRow, CommandResult, ConfigFile, ConfigHistory,
    ConfigHistoryPage, ConfigRef, ConfigRefDetail, DeployServerReply, ExpandPreviewServer,
    NodePort, Package, PackagePage, ProfileTemplate, RealtimeState, ServerConf, ServerNotifyPage,
    TarsNodeResult, TreeNode,
};
pub use tars_proto::monitor::{PropertyRow, StatRow};

use crate::inputs::TaskParameters;

/// The answer `data` a backend's reply makes.
pub trait FromReply<R> {
    /// Takes the answer out of `reply`.
    fn from_reply(reply: R) -> Self;
}

impl<T> FromReply<T> for T {
    fn from_reply(reply: T) -> T {
        reply
    }
}

/// Replies that wrap the answer in one field.
macro_rules! field_of {
    ($($reply:ty => $answer:ty: $field:ident;)*) => {$(
        impl FromReply<$reply> for $answer {
            fn from_reply(reply: $reply) -> $answer {
                reply.$field
            }
        }
    )*};
}

field_of! {
    pb::TreeReply => Vec<TreeNode>: nodes;
    pb::ServerConfList => Vec<ServerConf>: servers;
    pb::LoadServerReply => String: result;
    pb::ExpandServerPreviewReply => Vec<ExpandPreviewServer>: servers;
    pb::AutoPortReply => Vec<NodePort>: ports;
    pb::AdapterConfs => Vec<AdapterConf>: adapters;
    pb::ProfileTemplateList => Vec<ProfileTemplate>: templates;
    pb::StringList => Vec<String>: items;
    pb::SendCommandReply => Vec<CommandResult>: results;
    pb::ConfigFiles => Vec<ConfigFile>: files;
    pb::ConfigRefs => Vec<ConfigRefDetail>: refs;
    pb::MergedConfig => String: config;
    tr::AddTaskReply => String: task_no;
    mon::StatRows => Vec<StatRow>: rows;
    mon::PropertyRows => Vec<PropertyRow>: rows;
}

/// Deletions answer `[id]`, as TarsWeb does.
macro_rules! deleted {
    ($($reply:ty),*) => {$(
        impl FromReply<$reply> for Vec<i64> {
            fn from_reply(reply: $reply) -> Vec<i64> {
                vec![reply.id]
            }
        }
    )*};
}

deleted!(
    pb::AdapterId,
    pb::TemplateId,
    pb::ConfigFileId,
    pb::ConfigRefId
);

/// The new instances of expand_server, in the document's shape.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExpandServerData {
    /// The new instances, as server_list shows them.
    pub server_conf: Vec<ServerConf>,
    /// With the resource module on: one row per new machine without a node (installed
    /// with `install_node=1`, else reported). Empty without the module, as the document
    /// says.
    pub tars_node_rst: Vec<TarsNodeResult>,
}

impl FromReply<pb::ExpandServerReply> for ExpandServerData {
    fn from_reply(reply: pb::ExpandServerReply) -> ExpandServerData {
        ExpandServerData {
            server_conf: reply.servers,
            tars_node_rst: reply.tars_node_rst,
        }
    }
}

impl FromReply<pb::AuthGrantList> for Vec<AuthGrantRow> {
    fn from_reply(reply: pb::AuthGrantList) -> Vec<AuthGrantRow> {
        reply.grants
    }
}

impl FromReply<pb::TarsNodeResults> for Vec<TarsNodeResult> {
    fn from_reply(reply: pb::TarsNodeResults) -> Vec<TarsNodeResult> {
        reply.results
    }
}

/// A task, or `{"status": 0}` while it waits in the queue.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum TaskAnswer {
    /// Accepted, and no runner has taken it yet.
    Queued(Queued),
    /// Taken by a runner (running or ended): the task with its items.
    Task(Task),
}

/// A task no runner has taken yet.
#[derive(Debug, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Queued {
    /// Always 0 (not started).
    pub status: i32,
}

/// A task and its items; statuses are numbered as TARS's AdminReg.tars numbers them.
#[derive(Debug, Serialize, ToSchema)]
pub struct Task {
    /// The task's number, as add_task answered it.
    pub task_no: String,
    /// Whether the items run one after another (stopping at the first failure) rather than
    /// all at once.
    pub serial: bool,
    /// 0 not started, 1 preparing, 2 running, 3 success, 4 failed, 5 cancelled, 6 partly
    /// failed.
    pub status: i32,
    /// When the task was accepted, `YYYY-MM-DD HH:MM:SS` (server local time).
    pub create_time: String,
    /// Who submitted it (the ticket's user).
    pub user_name: String,
    /// Its items, in the order given.
    pub items: Vec<TaskItem>,
}

/// One item of a task.
#[derive(Debug, Serialize, ToSchema)]
pub struct TaskItem {
    /// The task it belongs to.
    pub task_no: String,
    /// The item's number within the task (`<task_no>-0000`, `-0001` …, in the order given).
    pub item_no: String,
    /// The instance's application.
    pub application: String,
    /// The instance's server name.
    pub server_name: String,
    /// The node the instance runs on.
    pub node_name: String,
    /// What the item does: `start`, `stop`, `restart`, `grace_restart`, `patch_tars`,
    /// `grace_patch_tars` or `undeploy_tars`.
    pub command: String,
    /// The parameters as given.
    pub parameters: TaskParameters,
    /// When the item started running, `YYYY-MM-DD HH:MM:SS` (server local time); empty
    /// before.
    pub start_time: String,
    /// When it ended, same format; empty before.
    pub end_time: String,
    /// 0 not started, 1 preparing, 2 running, 3 success, 4 failed, 5 cancelled, 6 paused.
    pub status: i32,
    /// The status's name in AdminReg.tars: `EM_I_SUCCESS` …
    pub status_info: String,
    /// What the node said.
    pub execute_info: String,
}

impl From<tr::TaskView> for Task {
    fn from(task: tr::TaskView) -> Task {
        Task {
            task_no: task.task_no,
            serial: task.serial,
            status: task.status,
            create_time: task.create_time,
            user_name: task.user_name,
            items: task
                .items
                .into_iter()
                .map(|i| TaskItem {
                    task_no: i.task_no,
                    item_no: i.item_no,
                    application: i.application,
                    server_name: i.server_name,
                    node_name: i.node_name,
                    command: i.command,
                    parameters: i.parameters.unwrap_or_default().into(),
                    start_time: i.start_time,
                    end_time: i.end_time,
                    status: i.status,
                    status_info: i.status_info,
                    execute_info: i.execute_info,
                })
                .collect(),
        }
    }
}

impl FromReply<tr::TaskView> for TaskAnswer {
    fn from_reply(task: tr::TaskView) -> TaskAnswer {
        if task.queued {
            TaskAnswer::Queued(Queued { status: 0 })
        } else {
            TaskAnswer::Task(task.into())
        }
    }
}

impl FromReply<tr::TaskViews> for Vec<Task> {
    fn from_reply(reply: tr::TaskViews) -> Vec<Task> {
        reply.tasks.into_iter().map(Task::from).collect()
    }
}

/// upload_and_publish's answer: a plain-text report (not the envelope) naming the
/// package, its MD5, the task and each instance's outcome.
#[derive(Debug, ToSchema)]
#[schema(value_type = String, example = "package Shop.Cart_1764583200123_9f3a.tgz uploaded for Shop.Cart as id 2 (4096 bytes, md5 21f17657372a3ce6c4bd0bdd66660b31)\ntask 019a1b2c3d4e5f60a1b2: patch_tars to package 2 on 1 instance(s), one at a time:\n  10.0.0.5 (server id 1)\ntask 019a1b2c3d4e5f60a1b2 finished: success\n  10.0.0.5 Cart: EM_I_SUCCESS patched to version 2; stop: ret 0 stopped; start: started, pid 10001\n")]
pub struct PublishReport(pub String);
