//! The HTTP server: an accept loop over hyper's HTTP/1 connections with the limits a
//! public-facing server needs, which `axum::serve` has no knobs for.
//!
//! - At most `TARS_HTTP_MAX_CONNECTIONS` connections are served at once: the loop takes a
//!   slot before accepting, so further clients wait in the listen backlog until one
//!   closes.
//! - A connection waiting for a request (just opened, or kept alive after an answer) is
//!   closed when no byte arrives within `TARS_HTTP_IDLE_TIMEOUT_MS`; once the first byte
//!   came, the headers must be complete within `TARS_HTTP_HEADER_TIMEOUT_MS`. Both are
//!   hyper's header-read timer (which starts when hyper begins waiting for a request),
//!   moved to the header deadline at the first byte by this module's per-connection
//!   timer.
//! - HTTP/1.1 only (as the load balancers and clients of this API speak): h2c, which
//!   `axum::serve` also accepted, would need idle and header limits of its own.
//! - A connection closed after a request body was left unread ([`ConnectionHandle`])
//!   lingers: it stops writing, then reads and discards what the client still sends for
//!   up to [`LINGER`], so the client reads the answer instead of a reset.
//! - On shutdown the loop stops accepting, idle connections close, and requests in
//!   progress finish (hyper-util's graceful-shutdown tracker).
//!
//! Every request carries the peer's address (`ConnectInfo<SocketAddr>`) and a
//! [`ConnectionHandle`].

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper::rt::{Sleep, Timer};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

use crate::config::HttpLimits;

/// How long a closing connection reads and discards an unread request body.
pub const LINGER: Duration = Duration::from_secs(2);

/// How often reaching the connection cap is logged at most.
const CAP_WARNING_INTERVAL: Duration = Duration::from_secs(60);

/// What a connection's socket and its requests share.
#[derive(Debug, Default)]
struct ConnState {
    /// Bytes read from the client so far.
    bytes_read: AtomicU64,
    /// Whether closing must first drain what the client still sends.
    linger: AtomicBool,
}

/// The connection a request came on (a request extension).
#[derive(Debug, Clone)]
pub struct ConnectionHandle(Arc<ConnState>);

impl ConnectionHandle {
    /// The request's body is left unread and the answer says `Connection: close`: when
    /// the connection closes, read and discard what the client still sends (up to
    /// [`LINGER`]) so that closing does not reset the connection under the answer.
    pub fn linger_on_close(&self) {
        self.0.linger.store(true, Ordering::Relaxed);
    }
}

/// Serves `app` on `listener` until `shutdown`, then waits for the connections to finish.
pub async fn serve(
    mut listener: TcpListener,
    app: Router,
    limits: HttpLimits,
    shutdown: CancellationToken,
) {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = GracefulShutdown::new();
    let mut last_cap_warning: Option<Instant> = None;
    loop {
        let permit = match slots.clone().try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => {
                if last_cap_warning.is_none_or(|at| at.elapsed() >= CAP_WARNING_INTERVAL) {
                    last_cap_warning = Some(Instant::now());
                    tracing::warn!(
                        max_connections = limits.max_connections,
                        "every HTTP connection slot is taken (TARS_HTTP_MAX_CONNECTIONS); \
                         new connections wait until one closes"
                    );
                }
                tokio::select! {
                    permit = slots.clone().acquire_owned() => permit.expect("the semaphore is never closed"),
                    () = shutdown.cancelled() => break,
                }
            }
        };
        // axum's accept retries by itself: at once after a connection error, after a
        // second (logged) when out of file descriptors.
        let (stream, peer) = tokio::select! {
            accepted = axum::serve::Listener::accept(&mut listener) => accepted,
            () = shutdown.cancelled() => break,
        };
        if let Err(err) = stream.set_nodelay(true) {
            tracing::debug!(%peer, error = %err, "cannot set TCP_NODELAY");
        }
        let state = Arc::new(ConnState::default());
        let handle = ConnectionHandle(state.clone());
        let service = app
            .clone()
            .map_request(move |request: http::Request<Incoming>| {
                let mut request = request.map(Body::new);
                request.extensions_mut().insert(ConnectInfo(peer));
                request.extensions_mut().insert(handle.clone());
                request
            });
        let mut builder = hyper::server::conn::http1::Builder::new();
        builder
            .timer(RequestWaitTimer {
                state: state.clone(),
                header_timeout: limits.header_timeout,
            })
            // hyper arms this timer whenever it starts waiting for a request; the timer
            // turns it into the header deadline at the request's first byte.
            .header_read_timeout(limits.idle_timeout)
            .keep_alive(true);
        let connection = graceful.watch(builder.serve_connection(
            TokioIo::new(ConnIo::new(stream, state)),
            TowerToHyperService::new(service),
        ));
        tokio::spawn(async move {
            if let Err(err) = connection.await {
                tracing::debug!(%peer, error = %err, "HTTP connection closed");
            }
            drop(permit);
        });
    }
    drop(listener);
    graceful.shutdown().await;
}

/// hyper's header-read timer, per connection. hyper asks for a sleep until
/// "now + idle timeout" each time it starts waiting for a request; the sleep moves its
/// deadline to "now + header timeout" as soon as a byte of the request has been read.
#[derive(Clone)]
struct RequestWaitTimer {
    state: Arc<ConnState>,
    header_timeout: Duration,
}

impl RequestWaitTimer {
    fn wait(&self, deadline: Instant) -> RequestWait {
        RequestWait {
            sleep: Box::pin(tokio::time::sleep_until(deadline.into())),
            state: self.state.clone(),
            bytes_at_start: self.state.bytes_read.load(Ordering::Relaxed),
            header_timeout: Some(self.header_timeout),
        }
    }
}

impl Timer for RequestWaitTimer {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Sleep>> {
        TokioTimer::new().sleep(duration)
    }

    fn sleep_until(&self, deadline: Instant) -> Pin<Box<dyn Sleep>> {
        Box::pin(self.wait(deadline))
    }

    fn reset(&self, sleep: &mut Pin<Box<dyn Sleep>>, new_deadline: Instant) {
        match sleep.as_mut().downcast_mut_pin::<RequestWait>() {
            Some(mut wait) => *wait = self.wait(new_deadline),
            None => *sleep = self.sleep_until(new_deadline),
        }
    }
}

/// Waiting for a request: the idle deadline until its first byte, then the header
/// deadline.
struct RequestWait {
    sleep: Pin<Box<tokio::time::Sleep>>,
    state: Arc<ConnState>,
    bytes_at_start: u64,
    /// The header timeout, until it has been applied.
    header_timeout: Option<Duration>,
}

impl Future for RequestWait {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        if let Some(header_timeout) = this.header_timeout {
            if this.state.bytes_read.load(Ordering::Relaxed) > this.bytes_at_start {
                this.header_timeout = None;
                this.sleep
                    .as_mut()
                    .reset(tokio::time::Instant::now() + header_timeout);
            }
        }
        this.sleep.as_mut().poll(cx)
    }
}

impl Sleep for RequestWait {}

/// How far a connection has got in closing.
enum Closing {
    Open,
    Lingering(Pin<Box<tokio::time::Sleep>>),
    Closed,
}

/// The socket of one connection: counts what is read, lingers on close when asked.
struct ConnIo {
    stream: TcpStream,
    state: Arc<ConnState>,
    closing: Closing,
}

impl ConnIo {
    fn new(stream: TcpStream, state: Arc<ConnState>) -> ConnIo {
        ConnIo {
            stream,
            state,
            closing: Closing::Open,
        }
    }

    /// Reads and discards until the client closes, fails, or `until` passes.
    fn poll_discard(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let mut scratch = [0u8; 8192];
        // Bounded work per poll: a client that keeps sending must not monopolise a worker.
        for _ in 0..32 {
            let mut buf = ReadBuf::new(&mut scratch);
            match Pin::new(&mut self.stream).poll_read(cx, &mut buf) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Ok(())) if buf.filled().is_empty() => return Poll::Ready(()),
                Poll::Ready(Ok(())) => {}
                Poll::Ready(Err(_)) => return Poll::Ready(()),
            }
        }
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

impl AsyncRead for ConnIo {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        ready!(Pin::new(&mut this.stream).poll_read(cx, buf))?;
        let read = (buf.filled().len() - before) as u64;
        this.state.bytes_read.fetch_add(read, Ordering::Relaxed);
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for ConnIo {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        loop {
            match &mut this.closing {
                Closing::Open => {
                    // Sends FIN once everything written is on its way.
                    ready!(Pin::new(&mut this.stream).poll_shutdown(cx))?;
                    this.closing = if this.state.linger.load(Ordering::Relaxed) {
                        Closing::Lingering(Box::pin(tokio::time::sleep(LINGER)))
                    } else {
                        Closing::Closed
                    };
                }
                Closing::Lingering(until) => {
                    if until.as_mut().poll(cx).is_ready() {
                        this.closing = Closing::Closed;
                        continue;
                    }
                    ready!(this.poll_discard(cx));
                    this.closing = Closing::Closed;
                }
                Closing::Closed => return Poll::Ready(Ok(())),
            }
        }
    }
}
