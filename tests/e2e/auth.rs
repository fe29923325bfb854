//! Tickets: every request is checked; no address-based bypass; expiry and revocation.

use std::time::Duration;

use crate::common::{Backend, Platform, PlatformOptions};
use crate::on_every_backend;

async fn missing_or_unknown_tickets_are_401_on_both_prefixes(backend: Backend) {
    let p = Platform::start(backend).await;
    for prefix in ["/api", "/server/api"] {
        let path = format!("{prefix}/server_list");
        p.api
            .with_ticket(None)
            .get(&path, &[("tree_node_id", "1App")])
            .await
            .err(401, "missing ticket");
        p.api
            .with_ticket(Some("tars_not_a_real_ticket"))
            .get(&path, &[("tree_node_id", "1App")])
            .await
            .err(401, "unknown, expired or revoked");
        let ok = p.api.get(&path, &[("tree_node_id", "1App")]).await;
        assert_eq!(ok.ok(), &serde_json::json!([]));
    }
}

async fn bearer_header_is_accepted_and_loopback_is_not_trusted(backend: Backend) {
    let p = Platform::start(backend).await;
    let ticket = p.api.ticket.clone().unwrap();
    let anonymous = p.api.with_ticket(None);
    let url = anonymous.url_for("/api/server_type_list", &[]);
    let answer = anonymous
        .send(
            anonymous
                .client()
                .get(&url)
                .header("Authorization", format!("Bearer {ticket}")),
        )
        .await;
    assert!(answer.ok().as_array().unwrap().contains(&"tars_cpp".into()));
    // TarsWeb skipped the ticket for loopback callers and for a forged X-Forwarded-For.
    let answer = anonymous
        .send(
            anonymous
                .client()
                .get(&url)
                .header("X-Forwarded-For", "127.0.0.1"),
        )
        .await;
    answer.err(401, "missing ticket");
}

async fn revoked_and_expired_tickets_stop_working(backend: Backend) {
    let p = Platform::start(backend).await;
    let second = p.create_token("bob", None);
    let bob = p.api.with_ticket(Some(&second));
    bob.get("/api/template_name_list", &[]).await.ok();
    let listing = String::from_utf8(p.token_command(&["list"]).stdout).unwrap();
    let bob_line = listing
        .lines()
        .find(|l| l.contains("bob"))
        .expect("bob is listed");
    assert!(bob_line.contains("active"), "{listing}");
    assert!(
        !listing.contains(&second),
        "token list must never show tokens"
    );
    let id = bob_line.split_whitespace().next().unwrap();
    let revoke = p.token_command(&["revoke", id]);
    assert!(
        revoke.status.success(),
        "{}",
        String::from_utf8_lossy(&revoke.stderr)
    );
    // The gateway reloads tokens every TARS_TOKEN_REFRESH_SECS (1 s in tests).
    let mut status = 200;
    for _ in 0..50 {
        status = bob.get("/api/template_name_list", &[]).await.status;
        if status == 401 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        status, 401,
        "a revoked ticket must be refused within the refresh period"
    );
    let again = p.token_command(&["revoke", id]);
    assert!(!again.status.success(), "revoking twice is an error");

    let expired = p.create_token("carol", Some(0));
    p.api
        .with_ticket(Some(&expired))
        .get("/api/template_name_list", &[])
        .await
        .err(401, "expired");
    // The original ticket still works.
    p.api.get("/api/template_name_list", &[]).await.ok();
}

async fn admin_ticket_from_the_environment_is_accepted(backend: Backend) {
    let options = PlatformOptions {
        env: vec![("TARS_ADMIN_TICKET".into(), "first-start-secret".into())],
        ..PlatformOptions::default()
    };
    let p = Platform::start_with(backend, options).await;
    p.api
        .with_ticket(Some("first-start-secret"))
        .get("/api/tree", &[])
        .await
        .ok();
    p.api
        .with_ticket(Some("first-start-secre"))
        .get("/api/tree", &[])
        .await
        .err(401, "ticket");
}

async fn probes_answer_without_a_ticket(backend: Backend) {
    let p = Platform::start(backend).await;
    let anonymous = p.api.with_ticket(None);
    assert_eq!(anonymous.get("/healthz", &[]).await.ok()["status"], "ok");
    assert_eq!(anonymous.get("/readyz", &[]).await.ok()["status"], "ready");
}

on_every_backend!(
    missing_or_unknown_tickets_are_401_on_both_prefixes,
    bearer_header_is_accepted_and_loopback_is_not_trusted,
    revoked_and_expired_tickets_stop_working,
    admin_ticket_from_the_environment_is_accepted,
    probes_answer_without_a_ticket,
);
