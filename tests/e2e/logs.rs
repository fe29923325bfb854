//! What a person reading the logs sees: a log written to a file (as the harness, systemd
//! or a collector captures it) is plain text, without terminal colour codes.

use crate::common::{Backend, Platform};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_written_to_a_file_carry_no_colour_codes() {
    let p = Platform::start(Backend::Sqlite).await;
    p.api.get("/api/tree", &[]).await.ok();
    let log = std::fs::read_to_string(p.dir.path().join("platform.log")).unwrap();
    assert!(
        log.contains("standalone platform started"),
        "the platform logged its start: {log}"
    );
    assert!(
        !log.contains('\u{1b}'),
        "escape codes in a log file: {:?}",
        log.lines().find(|l| l.contains('\u{1b}'))
    );
}
