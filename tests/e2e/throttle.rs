//! Failed ticket checks are throttled per client address (429 with `Retry-After` past
//! `TARS_AUTH_FAILURES_PER_MINUTE`), the address being the peer's or, behind a proxy
//! listed in `TARS_TRUSTED_PROXIES`, the last untrusted hop of `X-Forwarded-For`; valid
//! tickets always pass. A guessable `TARS_ADMIN_TICKET` refuses to start.

use std::net::IpAddr;

use crate::common::http::Answer;
use crate::common::raw::run_to_exit;
use crate::common::{binary, Api, Backend, Platform, PlatformOptions};
use crate::on_every_backend;

fn options(env: &[(&str, &str)]) -> PlatformOptions {
    PlatformOptions::with_env(env)
}

/// A client whose connections come from `source` (any 127.0.0.0/8 address is local).
fn client_from(source: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(source.parse::<IpAddr>().expect("address"))
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .expect("client")
}

/// `GET /api/tree` with `ticket`, from `client`, with `X-Forwarded-For` when given.
async fn tree(
    api: &Api,
    client: &reqwest::Client,
    ticket: &str,
    forwarded: Option<&str>,
) -> Answer {
    let url = api.with_ticket(Some(ticket)).url_for("/api/tree", &[]);
    let mut request = client.get(url);
    if let Some(forwarded) = forwarded {
        request = request.header("X-Forwarded-For", forwarded);
    }
    api.send(request).await
}

/// Asserts a 429 envelope with a `Retry-After` of whole seconds.
async fn assert_throttled(
    api: &Api,
    client: &reqwest::Client,
    ticket: &str,
    forwarded: Option<&str>,
) {
    let url = api.with_ticket(Some(ticket)).url_for("/api/tree", &[]);
    let mut request = client.get(url);
    if let Some(forwarded) = forwarded {
        request = request.header("X-Forwarded-For", forwarded);
    }
    let response = request.send().await.expect("send");
    let retry_after: u64 = response
        .headers()
        .get("retry-after")
        .expect("Retry-After")
        .to_str()
        .unwrap()
        .parse()
        .expect("whole seconds");
    // 5 failures a minute: one more every 12 s.
    assert!((1..=12).contains(&retry_after), "Retry-After {retry_after}");
    let status = response.status().as_u16();
    let body: serde_json::Value = response.json().await.expect("envelope");
    Answer { status, body }.err(429, "too many failed ticket checks");
}

async fn failed_tickets_are_throttled_per_address_and_valid_ones_never_are(backend: Backend) {
    let p = Platform::start_with(backend, options(&[("TARS_AUTH_FAILURES_PER_MINUTE", "5")])).await;
    let ticket = p.api.ticket().expect("ticket").to_string();
    let local = client_from("127.0.0.1");
    for _ in 0..5 {
        tree(&p.api, &local, "tars_wrong_guess", None)
            .await
            .err(401, "unknown, expired or revoked");
    }
    assert_throttled(&p.api, &local, "tars_wrong_guess", None).await;
    // Another guess (never seen, so it would need a lookup) is refused the same way.
    assert_throttled(&p.api, &local, "tars_another_guess", None).await;
    // The header is the client's word: it does not make another client of it.
    assert_throttled(&p.api, &local, "tars_wrong_guess", Some("203.0.113.5")).await;
    // The valid ticket still works from the throttled address, repeatedly, and so does
    // a token created just now.
    for _ in 0..10 {
        tree(&p.api, &local, &ticket, None).await.ok();
    }
    let fresh = p.create_token("dora", None);
    tree(&p.api, &local, &fresh, None).await.ok();
    // Other addresses have their own budget.
    let other = client_from("127.0.0.2");
    tree(&p.api, &other, "tars_wrong_guess", None)
        .await
        .err(401, "unknown, expired or revoked");
    tree(&p.api, &other, &ticket, None).await.ok();
}

async fn behind_a_trusted_proxy_the_forwarded_client_is_counted(backend: Backend) {
    let p = Platform::start_with(
        backend,
        options(&[
            ("TARS_AUTH_FAILURES_PER_MINUTE", "5"),
            ("TARS_TRUSTED_PROXIES", "127.0.0.1/32, 10.0.0.0/8"),
        ]),
    )
    .await;
    let ticket = p.api.ticket().expect("ticket").to_string();
    let proxy = client_from("127.0.0.1");
    for _ in 0..5 {
        tree(&p.api, &proxy, "tars_wrong_guess", Some("198.51.100.7"))
            .await
            .err(401, "ticket");
    }
    assert_throttled(&p.api, &proxy, "tars_wrong_guess", Some("198.51.100.7")).await;
    // A client-supplied entry left of the real one changes nothing; trusted hops right
    // of it are skipped.
    assert_throttled(
        &p.api,
        &proxy,
        "tars_wrong_guess",
        Some("203.0.113.9, 198.51.100.7, 10.1.2.3"),
    )
    .await;
    // Another client behind the same proxy is not affected.
    tree(&p.api, &proxy, "tars_wrong_guess", Some("198.51.100.8"))
        .await
        .err(401, "ticket");
    // Nor is the throttled client's valid ticket.
    tree(&p.api, &proxy, &ticket, Some("198.51.100.7"))
        .await
        .ok();

    // From an address that is not a trusted proxy the header is ignored: the peer counts.
    let direct = client_from("127.0.0.3");
    for i in 0..5 {
        let forwarded = format!("198.51.100.{}", 20 + i);
        tree(&p.api, &direct, "tars_wrong_guess", Some(&forwarded))
            .await
            .err(401, "ticket");
    }
    assert_throttled(&p.api, &direct, "tars_wrong_guess", Some("198.51.100.99")).await;
    tree(&p.api, &direct, &ticket, Some("198.51.100.99"))
        .await
        .ok();
}

on_every_backend!(
    failed_tickets_are_throttled_per_address_and_valid_ones_never_are,
    behind_a_trusted_proxy_the_forwarded_client_is_counted,
);

/// Both binaries refuse an admin ticket shorter than 16 characters, naming the variable
/// and never echoing the secret; 16 characters start.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_guessable_admin_ticket_refuses_to_start() {
    let dir = tempfile::tempdir().expect("temp dir");
    let env = |ticket: &str| {
        vec![
            (
                "TARS_DATA_DIR".to_string(),
                dir.path().join("data").display().to_string(),
            ),
            ("TARS_HTTP_ADDR".to_string(), "127.0.0.1:0".to_string()),
            ("TARS_ADMIN_TICKET".to_string(), ticket.to_string()),
        ]
    };
    for program in ["tars-platform", "tars-gateway"] {
        let output = run_to_exit(&binary(program), &env("hunter2-secret")).await;
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{program} started: {stderr}");
        assert!(stderr.contains("TARS_ADMIN_TICKET"), "{program}: {stderr}");
        assert!(
            stderr.contains("at least 16 characters"),
            "{program}: {stderr}"
        );
        assert!(
            !stderr.contains("hunter2-secret"),
            "{program} echoed the secret: {stderr}"
        );
    }
    let p = Platform::start_with(
        Backend::Sqlite,
        options(&[("TARS_ADMIN_TICKET", "0123456789abcdef")]),
    )
    .await;
    p.api
        .with_ticket(Some("0123456789abcdef"))
        .get("/api/tree", &[])
        .await
        .ok();
}
