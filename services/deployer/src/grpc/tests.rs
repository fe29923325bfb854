//! The rows' plumbing: what a row answers, the status an op's error becomes, and the span
//! each RPC runs in (traces name RPCs by it).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use tars_store::StoreConfig;
use tonic::Code;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

use super::*;

/// Collects the `rpc` field of every span opened while it is the default subscriber.
#[derive(Default)]
struct RpcSpans {
    names: Arc<Mutex<Vec<String>>>,
    next_id: AtomicU64,
}

struct RpcField<'a>(&'a Mutex<Vec<String>>);

impl Visit for RpcField<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "rpc" {
            let name = format!("{value:?}").trim_matches('"').to_string();
            self.0.lock().unwrap().push(name);
        }
    }
}

impl Subscriber for RpcSpans {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, attributes: &Attributes<'_>) -> Id {
        attributes.record(&mut RpcField(&self.names));
        Id::from_u64(self.next_id.fetch_add(1, Ordering::Relaxed) + 1)
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, _: &Event<'_>) {}
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

async fn service() -> DeployerService {
    let store = Store::open(&StoreConfig {
        database_url: Some("sqlite::memory:".into()),
        data_dir: std::env::temp_dir(),
        // One connection: each in-memory SQLite connection is its own database.
        max_connections: Some(1),
        acquire_timeout: Duration::from_secs(5),
        server_cache_ttl: None,
    })
    .await
    .unwrap();
    let settings = Settings {
        nodes: tars_nodes::NodeConfig::default(),
        config_file_max_bytes: 1 << 20,
        resource: None,
        audit_retention_days: 0,
    };
    let nodes = Arc::new(Nodes::new(settings.nodes.clone()));
    DeployerService::new(store, nodes, settings)
}

#[tokio::test]
async fn rows_answer_their_op_in_a_span_named_for_the_rpc() {
    let spans = RpcSpans::default();
    let rpcs = spans.names.clone();
    let _default = tracing::subscriber::set_default(spans);
    let deployer = service().await;

    // `-> Reply { field }`: the op's value in that field.
    let names = deployer
        .template_name_list(Request::new(Empty {}))
        .await
        .unwrap();
    assert!(!names.get_ref().items.is_empty(), "{names:?}");
    // A plain row answers the op's own message.
    let template = deployer
        .profile_template_by_name(Request::new(pb::TemplateName {
            template_name: names.get_ref().items[0].clone(),
        }))
        .await
        .unwrap();
    assert_eq!(template.get_ref().template_name, names.get_ref().items[0]);
    // The op's error becomes the status of its code, its message kept.
    let missing = deployer
        .config_file_by_id(Request::new(pb::ConfigFileId { id: 42 }))
        .await
        .unwrap_err();
    assert_eq!(missing.code(), Code::NotFound);
    assert!(missing.message().contains("id 42"), "{missing:?}");

    let expected = [
        "TemplateNameList",
        "ProfileTemplateByName",
        "ConfigFileById",
    ];
    assert_eq!(*rpcs.lock().unwrap(), expected);
}
