//! Raw TCP clients for what an HTTP library will not do: send headers one byte at a
//! time, hold a connection without a request, watch the server close it.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The most any test waits for the server to close a connection.
pub const CLOSE_LIMIT: Duration = Duration::from_secs(30);

/// Reads until the server closes the connection (end of stream or reset), at most
/// [`CLOSE_LIMIT`]; returns what arrived meanwhile. Panics when the connection is still
/// open after the limit.
pub async fn read_until_closed(stream: &mut (impl AsyncRead + Unpin)) -> Vec<u8> {
    let mut received = Vec::new();
    let mut buf = [0u8; 4096];
    let closed = tokio::time::timeout(CLOSE_LIMIT, async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => received.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    assert!(
        closed.is_ok(),
        "the server kept the connection open for {CLOSE_LIMIT:?}"
    );
    received
}

/// One HTTP/1.1 answer read off a raw connection.
#[derive(Debug)]
pub struct RawAnswer {
    /// The status code.
    pub status: u16,
    /// The header block, lower-cased.
    pub headers: String,
    /// The body.
    pub body: String,
}

/// Reads one answer (headers, then `Content-Length` bytes of body).
pub async fn read_answer(stream: &mut TcpStream) -> RawAnswer {
    let mut data = Vec::new();
    let mut buf = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = tokio::time::timeout(CLOSE_LIMIT, stream.read(&mut buf))
            .await
            .expect("an answer within the limit")
            .expect("read");
        assert!(n > 0, "connection closed before an answer: {data:?}");
        data.extend_from_slice(&buf[..n]);
    };
    let head = String::from_utf8_lossy(&data[..head_end]).to_ascii_lowercase();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP answer: {head}"));
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .map(|v| v.trim().parse().expect("content-length"))
        .unwrap_or(0);
    while data.len() < head_end + length {
        let n = tokio::time::timeout(CLOSE_LIMIT, stream.read(&mut buf))
            .await
            .expect("the body within the limit")
            .expect("read");
        assert!(n > 0, "connection closed inside the body");
        data.extend_from_slice(&buf[..n]);
    }
    RawAnswer {
        status,
        headers: head,
        body: String::from_utf8_lossy(&data[head_end..head_end + length]).into_owned(),
    }
}

/// Sends a GET of `path` and reads its answer, keeping the connection open.
pub async fn get(stream: &mut TcpStream, path: &str) -> RawAnswer {
    let request = format!("GET {path} HTTP/1.1\r\nHost: tars\r\n\r\n");
    stream.write_all(request.as_bytes()).await.expect("send");
    read_answer(stream).await
}

/// Runs `program` with exactly `env` until it exits (at most a minute) and returns its
/// output; for programs expected to refuse to start.
pub async fn run_to_exit(program: &Path, env: &[(String, String)]) -> std::process::Output {
    let mut command = tokio::process::Command::new(program);
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(env.iter().cloned())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let child = command.spawn().expect("start the program");
    tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
        .await
        .unwrap_or_else(|_| panic!("{} did not exit within 60 s", program.display()))
        .expect("wait for the program")
}
