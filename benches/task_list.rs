//! task_list benchmark (not a test): a standalone platform on a fresh MariaDB database
//! (or SQLite with `BENCH_SQLITE=1`) holding 20,000 finished tasks, written straight into
//! `t_task` / `t_task_item` / the queue as a long-lived installation has them. Prints the
//! latency of sequential `task_list` pages: the default page, 100 and 1,000 rows, the
//! last page of 1,000 and a filtered page.
//!
//! Run: `cargo bench --bench task_list` (MariaDB at `TARS_TEST_MYSQL_URL`, default
//! `mysql://root@127.0.0.1:3306`).

use std::time::{Duration, Instant};

use sqlx::{Connection, Executor, MySqlConnection};

mod support;

#[path = "../tests/e2e/common/bulk.rs"]
mod bulk;

const TASKS: usize = 20_000;

fn main() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let sqlite = std::env::var("BENCH_SQLITE").is_ok();
    let server = std::env::var("TARS_TEST_MYSQL_URL")
        .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306".into());
    let name = format!("tars_bench_tasks_{}", std::process::id());
    let mut env: Vec<(&str, String)> = Vec::new();
    if !sqlite {
        runtime.block_on(async {
            let mut conn = MySqlConnection::connect(&server).await.expect("MariaDB");
            conn.execute(format!("CREATE DATABASE `{name}`").as_str())
                .await
                .unwrap();
        });
        env.push(("TARS_DATABASE_URL", format!("{server}/{name}")));
    }
    let platform = support::Platform::start(&env);
    println!(
        "platform (bench profile, {}) at {}",
        if sqlite { "SQLite" } else { "MariaDB" },
        platform.addr
    );
    let started = Instant::now();
    runtime.block_on(insert_tasks(sqlite, &server, &name, &platform));
    println!(
        "wrote {TASKS} tasks in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let client = reqwest::Client::new();
    let base = format!(
        "http://{}/api/task_list?ticket={}",
        platform.addr, platform.ticket
    );
    for (label, query, runs) in [
        ("default page (20)", "", 200),
        ("page_size=100", "&page_size=100", 100),
        ("page_size=1000", "&page_size=1000", 20),
        ("last page of 1000 (20)", "&page_size=1000&curr_page=20", 20),
        (
            "server_name=S3, page 3 of 100",
            "&server_name=S3&page_size=100&curr_page=3",
            100,
        ),
    ] {
        let url = format!("{base}{query}");
        let mut times = Vec::with_capacity(runs);
        for _ in 0..runs {
            let t = Instant::now();
            let answer = runtime.block_on(async {
                client
                    .get(&url)
                    .send()
                    .await
                    .unwrap()
                    .bytes()
                    .await
                    .unwrap()
            });
            times.push(t.elapsed());
            assert!(
                String::from_utf8_lossy(&answer).contains("\"ret_code\":200"),
                "unexpected answer"
            );
        }
        times.sort();
        let at = |q: f64| times[((times.len() - 1) as f64 * q) as usize];
        println!(
            "{label:32} p50 {:6.1} ms  p99 {:6.1} ms  max {:6.1} ms  ({runs} sequential calls)",
            ms(at(0.5)),
            ms(at(0.99)),
            ms(*times.last().unwrap())
        );
    }
    drop(platform);
    if !sqlite {
        runtime.block_on(async {
            let mut conn = MySqlConnection::connect(&server).await.unwrap();
            let _ = conn
                .execute(format!("DROP DATABASE IF EXISTS `{name}`").as_str())
                .await;
        });
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

async fn insert_tasks(sqlite: bool, server: &str, name: &str, platform: &support::Platform) {
    let statements = bulk::finished_task_batches(TASKS);
    if sqlite {
        let url = format!("sqlite://{}", platform.data_dir().join("tars.db").display());
        let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
        for s in &statements {
            conn.execute(s.as_str()).await.unwrap();
        }
    } else {
        let mut conn = MySqlConnection::connect(&format!("{server}/{name}"))
            .await
            .unwrap();
        for s in &statements {
            conn.execute(s.as_str()).await.unwrap();
        }
    }
}
