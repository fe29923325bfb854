//! `query-sim`: stands in for TARS's query servers in tests and the development stack.
//! It serves `MonitorQuery` as `tars.tarsquerystat.QueryObj` and
//! `tars.tarsqueryproperty.QueryObj` over rows loaded from a JSON fixture, answering as
//! the real servers do (see [`tables`]), and can be told to fail or to be slow.

mod tables;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use tars_protocol::monitor_query::{
    MonitorQueryDispatcher, MonitorQueryReq, MonitorQueryRsp, MonitorQueryServant,
};
use tars_protocol::server::{serve, ServerConfig};

#[derive(Parser, Debug)]
#[command(
    name = "query-sim",
    about = "Simulated tarsquerystat / tarsqueryproperty"
)]
struct Args {
    /// The fixture: `{"tars_stat": {"YYYYMMDD": [rows]}, "tars_property": {…}}`.
    #[arg(long)]
    fixture: PathBuf,
    /// Where tars.tarsquerystat.QueryObj listens (port 0: any).
    #[arg(long, default_value = "127.0.0.1:0")]
    stat: SocketAddr,
    /// Where tars.tarsqueryproperty.QueryObj listens (port 0: any).
    #[arg(long, default_value = "127.0.0.1:0")]
    property: SocketAddr,
    /// Answer every query with ret -1 and this message.
    #[arg(long)]
    fail: Option<String>,
    /// Wait this long before answering each query.
    #[arg(long, default_value_t = 0)]
    delay_ms: u64,
    /// Append each query received to this file as a JSON line.
    #[arg(long)]
    log: Option<PathBuf>,
}

struct QuerySim {
    fixture: tables::Fixture,
    fail: Option<String>,
    delay: Duration,
    log: Option<std::sync::Mutex<std::fs::File>>,
}

impl MonitorQueryServant for QuerySim {
    async fn query(&self, req: MonitorQueryReq) -> (i32, MonitorQueryRsp) {
        if let Some(log) = &self.log {
            use std::io::Write as _;
            let line = serde_json::json!({
                "dataid": req.dataid, "date": req.date, "tflag1": req.tflag1,
                "tflag2": req.tflag2, "indexs": req.indexs, "groupby": req.groupby,
                "conditions": req.conditions.iter().map(|c| serde_json::json!({
                    "field": c.field, "op": c.op.map(|o| o as i32), "val": c.val,
                })).collect::<Vec<_>>(),
            });
            let _ = writeln!(log.lock().expect("not poisoned"), "{line}");
        }
        tokio::time::sleep(self.delay).await;
        if let Some(msg) = &self.fail {
            return (
                0,
                MonitorQueryRsp {
                    ret: -1,
                    msg: msg.clone(),
                    ..MonitorQueryRsp::default()
                },
            );
        }
        (0, tables::query(&self.fixture, &req))
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let _telemetry = tars_common::telemetry::init("query-sim");
    let args = Args::parse();
    let text = std::fs::read_to_string(&args.fixture)
        .with_context(|| format!("cannot read the fixture {}", args.fixture.display()))?;
    let fixture: tables::Fixture = serde_json::from_str(&text)
        .with_context(|| format!("the fixture {} is not valid", args.fixture.display()))?;
    let log = match &args.log {
        Some(path) => Some(std::sync::Mutex::new(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .with_context(|| format!("cannot open {}", path.display()))?,
        )),
        None => None,
    };
    let sim = Arc::new(QuerySim {
        fixture,
        fail: args.fail,
        delay: Duration::from_millis(args.delay_ms),
        log,
    });
    let shutdown = tars_common::shutdown::on_signals();
    let mut tasks = tokio::task::JoinSet::new();
    let mut bound = Vec::new();
    for (addr, servant) in [
        (args.stat, "tars.tarsquerystat.QueryObj"),
        (args.property, "tars.tarsqueryproperty.QueryObj"),
    ] {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("cannot listen on {addr}"))?;
        bound.push(format!(
            "{servant}@tcp -h 127.0.0.1 -p {}",
            listener.local_addr()?.port()
        ));
        tasks.spawn(serve(
            listener,
            ServerConfig::new(servant),
            Arc::new(MonitorQueryDispatcher(sim.clone())),
            shutdown.clone(),
        ));
    }
    // Tests read this line: the two proxy strings, separated by a semicolon.
    println!("query-sim listening on {}", bound.join(";"));
    while let Some(result) = tasks.join_next().await {
        if let Ok(Err(err)) = result {
            tracing::error!(error = %err, "a query server stopped serving");
        }
    }
    Ok(())
}
