//! Serving a servant over TCP: frames in, [`Servant::dispatch`] per request (calls on one
//! connection run concurrently), answers out in the request's layout.
//!
//! Every resource a peer can make the server hold is bounded by [`ServerConfig`]:
//!
//! - connections: at most `max_connections` at once; one more is accepted and closed at
//!   once (the peer sees the connection closed before any answer), the others carry on;
//! - calls in flight on one connection: at most `max_calls_per_connection`, counted from
//!   the moment a request is read until its answer is queued for sending. Past it the
//!   server stops reading that connection (TCP pushes back on the client) instead of
//!   buffering more requests;
//! - answers queued for sending on one connection: at most `max_queued_answers`, so a
//!   client that sends requests without reading the answers pins at most
//!   `(max_calls_per_connection + max_queued_answers + 1)` answers;
//! - idle connections: closed after `idle_timeout` without a byte read or written and no
//!   call running in the servant — which also ends a client that stopped reading its
//!   answers;
//! - frames: a request longer than `max_frame` closes the connection before it is
//!   buffered; decoding a request costs no memory beyond the frame itself (the header's
//!   context and status maps are skipped, TUP parameters are read in place).

use std::collections::BTreeMap;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;

use crate::codec::Reader;
use crate::packet::{
    ret, Params, RequestPacket, ResponsePacket, PACKET_ONEWAY, STATUS_RESULT_CODE,
    STATUS_RESULT_DESC, VERSION_TUP,
};
use crate::{frame, DecodeError};

/// One incoming call.
#[derive(Debug, Clone)]
pub struct Call {
    /// The function called.
    pub func: String,
    /// iVersion: 1 TARS, 3 TUP.
    pub version: i16,
    /// The parameters.
    pub params: Params,
    /// The caller's timeout in ms (iTimeout).
    pub timeout_ms: i32,
    /// The address the call came from (the TCP peer of its connection).
    pub peer: SocketAddr,
}

/// Why a call failed at the framework level.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DispatchError {
    /// The function does not exist (iRet -3).
    NoFunction,
    /// The parameters could not be decoded (iRet -1).
    Decode(DecodeError),
    /// The servant failed (iRet -99) with a description.
    Failed(String),
    /// The servant refuses the call: answered with framework code `ret` (one of
    /// [`crate::packet::ret`]) and `desc` as sResultDesc.
    Refused {
        /// The iRet answered.
        ret: i32,
        /// Why, for the caller.
        desc: String,
    },
}

impl From<DecodeError> for DispatchError {
    fn from(err: DecodeError) -> Self {
        DispatchError::Decode(err)
    }
}

/// A servant: answers calls with the encoded return value and out-params.
pub trait Servant: Send + Sync + 'static {
    /// Handles one call; the answer buffer must be in the call's layout.
    fn dispatch(&self, call: Call) -> impl Future<Output = Result<Bytes, DispatchError>> + Send;
}

/// Server settings. [`ServerConfig::new`] gives the defaults below.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// The servant name clients must address (others get iRet -4).
    pub servant_name: String,
    /// Largest request accepted; a larger prefix closes the connection.
    /// Default [`frame::MAX_FRAME_LEN`] (10 MiB).
    pub max_frame: usize,
    /// Connections served at once; one more is closed as soon as it is accepted.
    /// Default [`ServerConfig::DEFAULT_MAX_CONNECTIONS`].
    pub max_connections: usize,
    /// Calls one connection may have in flight (read, not yet answered); past it the
    /// connection is not read until one is answered.
    /// Default [`ServerConfig::DEFAULT_MAX_CALLS_PER_CONNECTION`].
    pub max_calls_per_connection: usize,
    /// Answers one connection may have waiting to be sent.
    /// Default [`ServerConfig::DEFAULT_MAX_QUEUED_ANSWERS`].
    pub max_queued_answers: usize,
    /// A connection with nothing read or written for this long, and no call running in
    /// the servant, is closed. Default [`ServerConfig::DEFAULT_IDLE_TIMEOUT`].
    pub idle_timeout: Duration,
}

impl ServerConfig {
    /// Default of `max_connections`.
    pub const DEFAULT_MAX_CONNECTIONS: usize = 1024;
    /// Default of `max_calls_per_connection`.
    pub const DEFAULT_MAX_CALLS_PER_CONNECTION: usize = 64;
    /// Default of `max_queued_answers`.
    pub const DEFAULT_MAX_QUEUED_ANSWERS: usize = 16;
    /// Default of `idle_timeout`: 60 s, the `-t 60000` of a TARS endpoint.
    pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(60);

    /// The settings for serving `servant_name`, every limit at its default.
    pub fn new(servant_name: impl Into<String>) -> ServerConfig {
        ServerConfig {
            servant_name: servant_name.into(),
            max_frame: frame::MAX_FRAME_LEN,
            max_connections: Self::DEFAULT_MAX_CONNECTIONS,
            max_calls_per_connection: Self::DEFAULT_MAX_CALLS_PER_CONNECTION,
            max_queued_answers: Self::DEFAULT_MAX_QUEUED_ANSWERS,
            idle_timeout: Self::DEFAULT_IDLE_TIMEOUT,
        }
    }
}

/// A connection's read buffer, to begin with.
const READ_BUFFER: usize = 8 * 1024;
/// A read buffer larger than this is given back once empty.
const READ_BUFFER_KEPT: usize = 64 * 1024;

/// How often, at most, refused connections are reported in the log.
const REFUSAL_REPORT_INTERVAL: Duration = Duration::from_secs(10);

/// Serves `servant` on `listener` until `shutdown`.
///
/// # Errors
/// Never at present: failures to accept are logged and retried.
pub async fn serve<S: Servant>(
    listener: TcpListener,
    config: ServerConfig,
    servant: Arc<S>,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    let config = Arc::new(config);
    let connections = Arc::new(Semaphore::new(config.max_connections.max(1)));
    let mut refused: u64 = 0;
    let mut last_report: Option<Instant> = None;
    loop {
        let (stream, peer) = tokio::select! {
            _ = shutdown.cancelled() => return Ok(()),
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    // Out of file descriptors and the like: pause rather than spin or stop.
                    tracing::warn!(error = %err, servant = %config.servant_name, "cannot accept a tars connection");
                    tokio::select! {
                        _ = shutdown.cancelled() => return Ok(()),
                        _ = tokio::time::sleep(Duration::from_millis(100)) => continue,
                    }
                }
            },
        };
        let Ok(permit) = connections.clone().try_acquire_owned() else {
            drop(stream);
            refused += 1;
            if last_report.is_none_or(|at| at.elapsed() >= REFUSAL_REPORT_INTERVAL) {
                tracing::warn!(
                    %peer,
                    servant = %config.servant_name,
                    max_connections = config.max_connections,
                    refused,
                    "closed tars connections over the connection limit"
                );
                refused = 0;
                last_report = Some(Instant::now());
            }
            continue;
        };
        let _ = stream.set_nodelay(true);
        let servant = servant.clone();
        let config = config.clone();
        let shutdown = shutdown.clone();
        tokio::spawn(async move {
            if let Err(reason) = serve_connection(stream, peer, config, servant, shutdown).await {
                tracing::debug!(%peer, %reason, "tars connection closed");
            }
            drop(permit);
        });
    }
}

/// When a connection last read or wrote a byte or finished a call, and how many calls
/// are running in the servant.
struct Activity {
    start: Instant,
    /// Microseconds since `start`.
    last_us: AtomicU64,
    running: AtomicUsize,
}

impl Activity {
    fn new() -> Activity {
        Activity {
            start: Instant::now(),
            last_us: AtomicU64::new(0),
            running: AtomicUsize::new(0),
        }
    }

    fn touch(&self) {
        let now = self.start.elapsed().as_micros() as u64;
        self.last_us.fetch_max(now, Ordering::Relaxed);
    }

    /// Completes once the connection has been idle for `timeout`: nothing read, written
    /// or finished, and no call running in the servant.
    async fn idle_for(&self, timeout: Duration) {
        loop {
            let now = self.start.elapsed();
            let last = Duration::from_micros(self.last_us.load(Ordering::Relaxed));
            let quiet = now.saturating_sub(last);
            let wait = if self.running.load(Ordering::Relaxed) > 0 {
                // A call is being worked on: the connection is not idle; look again later.
                timeout
            } else if quiet >= timeout {
                return;
            } else {
                timeout - quiet
            };
            tokio::time::sleep(wait).await;
        }
    }
}

/// Why the reader stopped waiting.
enum Wake<T> {
    Ready(T),
    Stop(Result<(), String>),
}

async fn serve_connection<S: Servant>(
    stream: TcpStream,
    peer: SocketAddr,
    config: Arc<ServerConfig>,
    servant: Arc<S>,
    shutdown: CancellationToken,
) -> Result<(), String> {
    let (mut read_half, mut write_half) = stream.into_split();
    let (outbox, mut inbox) = mpsc::channel::<Bytes>(config.max_queued_answers.max(1));
    let activity = Arc::new(Activity::new());
    // Cancelled when the writer cannot write any more.
    let broken = CancellationToken::new();
    let mut writer = {
        let activity = activity.clone();
        let broken = broken.clone();
        tokio::spawn(async move {
            while let Some(frame) = inbox.recv().await {
                // Write by pieces so a slow reader still counts as activity.
                let mut sent = 0;
                while sent < frame.len() {
                    match write_half.write(&frame[sent..]).await {
                        Ok(0) | Err(_) => {
                            broken.cancel();
                            return;
                        }
                        Ok(n) => {
                            sent += n;
                            activity.touch();
                        }
                    }
                }
            }
        })
    };
    let permits = Arc::new(Semaphore::new(config.max_calls_per_connection.max(1)));
    let mut buf = BytesMut::with_capacity(READ_BUFFER);
    // Calls in flight on this connection; aborted when it ends, so a servant that never
    // answers cannot keep the socket open after shutdown or a client's hang-up.
    let mut calls = tokio::task::JoinSet::new();
    let result = loop {
        match frame::split_frame(&mut buf, config.max_frame) {
            Ok(Some(payload)) => {
                // Without a decodable header there is no request id to answer to.
                let request = match RequestHead::decode(&payload) {
                    Ok(r) => r,
                    Err(err) => break Err(format!("undecodable request: {err}")),
                };
                drop(payload);
                // A slot for the call; while none is free, nothing more is read.
                let permit: OwnedSemaphorePermit = match tokio::select! {
                    p = permits.clone().acquire_owned() => Wake::Ready(p.expect("never closed")),
                    _ = shutdown.cancelled() => Wake::Stop(Ok(())),
                    _ = broken.cancelled() => Wake::Stop(Err("cannot write answers".to_string())),
                    _ = activity.idle_for(config.idle_timeout) => Wake::Stop(Err("idle (answers not read)".to_string())),
                } {
                    Wake::Ready(p) => p,
                    Wake::Stop(end) => break end,
                };
                let servant = servant.clone();
                let outbox = outbox.clone();
                let config = config.clone();
                let activity = activity.clone();
                activity.running.fetch_add(1, Ordering::Relaxed);
                calls.spawn(async move {
                    let oneway = request.packet_type == PACKET_ONEWAY;
                    let answer = answer(&config, servant.as_ref(), request, peer).await;
                    activity.running.fetch_sub(1, Ordering::Relaxed);
                    activity.touch();
                    if !oneway {
                        let _ = outbox.send(answer).await;
                    }
                    drop(permit);
                });
                continue;
            }
            Ok(None) => {}
            Err(err) => break Err(format!("bad frame: {err}")),
        }
        // A large request read earlier does not pin its buffer for the connection's life.
        if buf.is_empty() && buf.capacity() > READ_BUFFER_KEPT {
            buf = BytesMut::with_capacity(READ_BUFFER);
        }
        // Reap finished calls so the set does not grow with the connection's lifetime.
        while calls.try_join_next().is_some() {}
        match tokio::select! {
            _ = shutdown.cancelled() => Wake::Stop(Ok(())),
            _ = broken.cancelled() => Wake::Stop(Err("cannot write answers".to_string())),
            _ = activity.idle_for(config.idle_timeout) => Wake::Stop(Err("idle".to_string())),
            read = read_half.read_buf(&mut buf) => Wake::Ready(read),
        } {
            Wake::Ready(Ok(0)) => break Ok(()),
            Wake::Ready(Ok(_)) => activity.touch(),
            Wake::Ready(Err(err)) => break Err(err.to_string()),
            Wake::Stop(end) => break end,
        }
    };
    calls.shutdown().await;
    drop(outbox);
    if result.is_ok() && !shutdown.is_cancelled() {
        // The client hung up its side: send what is queued, within the idle timeout.
        tokio::select! {
            _ = &mut writer => {}
            _ = broken.cancelled() => {}
            _ = shutdown.cancelled() => {}
            _ = tokio::time::sleep(config.idle_timeout) => {}
        }
    }
    writer.abort();
    let _ = writer.await;
    result
}

/// What the server needs of a request's header. The context and status maps are not
/// decoded (nothing here uses them), so they cost nothing whatever their size, and the
/// parameter buffer is a slice of the frame, not a copy.
#[derive(Debug, Clone)]
struct RequestHead {
    version: i16,
    packet_type: i8,
    message_type: i32,
    request_id: i32,
    servant_name: String,
    func_name: String,
    buffer: Bytes,
    timeout: i32,
}

impl RequestHead {
    fn decode(payload: &Bytes) -> Result<RequestHead, DecodeError> {
        let mut r = Reader::new(payload);
        let version = r.required(1)?;
        let packet_type = r.optional(2, 0)?;
        let message_type = r.optional(3, 0)?;
        let request_id = r.required(4)?;
        let servant_name = r.optional(5, String::new())?;
        let func_name = r.optional(6, String::new())?;
        let buffer = match r.skip_to_tag(7)? {
            None => Bytes::new(),
            Some(head) => match r.read_bytes_ref(head)? {
                std::borrow::Cow::Borrowed(slice) => payload.slice_ref(slice),
                std::borrow::Cow::Owned(vec) => Bytes::from(vec),
            },
        };
        let timeout = r.optional(8, 0)?;
        Ok(RequestHead {
            version,
            packet_type,
            message_type,
            request_id,
            servant_name,
            func_name,
            buffer,
            timeout,
        })
    }

    fn packet(self) -> RequestPacket {
        RequestPacket {
            version: self.version,
            packet_type: self.packet_type,
            message_type: self.message_type,
            request_id: self.request_id,
            servant_name: self.servant_name,
            func_name: self.func_name,
            buffer: Bytes::new(),
            timeout: self.timeout,
            context: BTreeMap::new(),
            status: BTreeMap::new(),
        }
    }
}

async fn answer<S: Servant>(
    config: &ServerConfig,
    servant: &S,
    request: RequestHead,
    peer: SocketAddr,
) -> Bytes {
    let outcome = if request.servant_name != config.servant_name {
        Err((
            ret::SERVER_NO_SERVANT_ERR,
            format!("no servant {}", request.servant_name),
        ))
    } else {
        match Params::of_request(request.version, &request.buffer) {
            Err(err) => Err((ret::SERVER_DECODE_ERR, err.to_string())),
            Ok(params) => {
                let call = Call {
                    func: request.func_name.clone(),
                    version: request.version,
                    params,
                    timeout_ms: request.timeout,
                    peer,
                };
                match servant.dispatch(call).await {
                    Ok(buffer) => Ok(buffer),
                    Err(DispatchError::NoFunction) => Err((
                        ret::SERVER_NO_FUNC_ERR,
                        format!("no function {}", request.func_name),
                    )),
                    Err(DispatchError::Decode(err)) => {
                        Err((ret::SERVER_DECODE_ERR, err.to_string()))
                    }
                    Err(DispatchError::Failed(desc)) => Err((ret::SERVER_UNKNOWN_ERR, desc)),
                    Err(DispatchError::Refused { ret, desc }) => Err((ret, desc)),
                }
            }
        }
    };
    encode_answer_frame(&request.packet(), outcome)
}

/// Encodes the answer to `request` in its layout.
pub fn encode_answer(request: &RequestPacket, outcome: Result<Bytes, (i32, String)>) -> Bytes {
    let mut frame = encode_answer_frame(request, outcome);
    frame.split_off(frame::PREFIX_LEN)
}

/// The answer to `request` in its layout, as a frame (length prefix included).
fn encode_answer_frame(request: &RequestPacket, outcome: Result<Bytes, (i32, String)>) -> Bytes {
    let (code, desc, buffer) = match outcome {
        Ok(buffer) => (ret::SUCCESS, String::new(), buffer),
        Err((code, desc)) => (code, desc, Bytes::new()),
    };
    if request.version == VERSION_TUP {
        let mut status = BTreeMap::new();
        if code != 0 {
            status.insert(STATUS_RESULT_CODE.to_string(), code.to_string());
            status.insert(STATUS_RESULT_DESC.to_string(), desc);
        }
        frame::encode_struct(&RequestPacket {
            version: request.version,
            packet_type: request.packet_type,
            message_type: request.message_type,
            request_id: request.request_id,
            servant_name: request.servant_name.clone(),
            func_name: request.func_name.clone(),
            buffer,
            timeout: request.timeout,
            context: BTreeMap::new(),
            status,
        })
    } else {
        frame::encode_struct(&ResponsePacket {
            version: request.version,
            packet_type: request.packet_type,
            request_id: request.request_id,
            message_type: request.message_type,
            ret: code,
            buffer,
            status: BTreeMap::new(),
            result_desc: desc,
            context: BTreeMap::new(),
        })
    }
}
