//! An async client for one servant at one endpoint.
//!
//! One TCP connection carries every concurrent call, matched to its answer by request
//! id. The connection is opened on first use with a connect timeout, every call has its
//! own deadline, and a broken connection fails the calls in flight and is replaced on
//! the next call.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot};

use crate::codec::decode_struct;
use crate::packet::{
    peek_version, Params, RequestPacket, ResponsePacket, PACKET_NORMAL, STATUS_RESULT_CODE,
    STATUS_RESULT_DESC, VERSION_TUP,
};
use crate::{frame, CallError, DecodeError};

/// Client settings.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// How long connecting may take.
    pub connect_timeout: Duration,
    /// Default deadline of a call.
    pub call_timeout: Duration,
    /// Largest answer accepted.
    pub max_frame: usize,
    /// The local address to connect from (any port); `None` lets the system choose.
    pub local_addr: Option<std::net::IpAddr>,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            connect_timeout: Duration::from_secs(3),
            call_timeout: Duration::from_secs(10),
            max_frame: frame::MAX_FRAME_LEN,
            local_addr: None,
        }
    }
}

/// Connects to `addr` (`host:port`), from `local` when given.
async fn connect(addr: &str, local: Option<std::net::IpAddr>) -> std::io::Result<TcpStream> {
    let Some(local) = local else {
        return TcpStream::connect(addr).await;
    };
    let mut last = None;
    for target in tokio::net::lookup_host(addr).await? {
        if target.is_ipv4() != local.is_ipv4() {
            continue;
        }
        let socket = if local.is_ipv4() {
            tokio::net::TcpSocket::new_v4()?
        } else {
            tokio::net::TcpSocket::new_v6()?
        };
        socket.bind(std::net::SocketAddr::new(local, 0))?;
        match socket.connect(target).await {
            Ok(stream) => return Ok(stream),
            Err(err) => last = Some(err),
        }
    }
    Err(last.unwrap_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::AddrNotAvailable,
            format!("{addr} has no address of the family of {local}"),
        )
    }))
}

/// The answer to a call: its return value and out-params, in the call's layout.
#[derive(Debug, Clone)]
pub struct Reply {
    /// Read the return value with tag 0 / name "", out-params by position and name.
    pub params: Params,
}

/// A decoded answer: a TARS ResponsePacket, or a TUP answer shaped as a RequestPacket.
/// The reader decodes each answer once, to route it by request id, and hands it over.
enum Answer {
    Tars(ResponsePacket),
    Tup(RequestPacket),
}

impl Answer {
    fn decode(payload: &[u8]) -> Result<Answer, DecodeError> {
        if peek_version(payload)? == VERSION_TUP {
            Ok(Answer::Tup(decode_struct(payload)?))
        } else {
            Ok(Answer::Tars(decode_struct(payload)?))
        }
    }

    /// Tag 3 in a TARS response, tag 4 in a TUP one: the decoders already know which.
    fn request_id(&self) -> i32 {
        match self {
            Answer::Tars(p) => p.request_id,
            Answer::Tup(p) => p.request_id,
        }
    }
}

type Pending = Arc<Mutex<HashMap<i32, oneshot::Sender<Result<Answer, CallError>>>>>;

struct Connection {
    outbox: mpsc::Sender<Bytes>,
    pending: Pending,
    closed: tokio_util::sync::CancellationToken,
}

/// A client of one servant at one address.
pub struct ServantClient {
    addr: String,
    servant: String,
    config: ClientConfig,
    connection: tokio::sync::Mutex<Option<Arc<Connection>>>,
    next_id: AtomicI32,
}

impl std::fmt::Debug for ServantClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServantClient")
            .field("addr", &self.addr)
            .field("servant", &self.servant)
            .finish()
    }
}

impl ServantClient {
    /// A client of `servant` at `addr` (`host:port`); nothing is connected yet.
    pub fn new(
        addr: impl Into<String>,
        servant: impl Into<String>,
        config: ClientConfig,
    ) -> ServantClient {
        ServantClient {
            addr: addr.into(),
            servant: servant.into(),
            config,
            connection: tokio::sync::Mutex::new(None),
            next_id: AtomicI32::new(1),
        }
    }

    /// The address this client talks to.
    pub fn addr(&self) -> &str {
        &self.addr
    }

    async fn connection(&self) -> Result<Arc<Connection>, CallError> {
        let mut slot = self.connection.lock().await;
        if let Some(conn) = slot.as_ref() {
            if !conn.closed.is_cancelled() {
                return Ok(conn.clone());
            }
        }
        let stream = match tokio::time::timeout(
            self.config.connect_timeout,
            connect(&self.addr, self.config.local_addr),
        )
        .await
        {
            Err(_) => return Err(CallError::ConnectTimeout(self.addr.clone())),
            Ok(Err(err)) if err.kind() == std::io::ErrorKind::ConnectionRefused => {
                return Err(CallError::ConnectRefused(self.addr.clone()))
            }
            Ok(Err(err)) => {
                return Err(CallError::Connect {
                    addr: self.addr.clone(),
                    reason: err.to_string(),
                })
            }
            Ok(Ok(stream)) => stream,
        };
        let _ = stream.set_nodelay(true);
        let conn = Arc::new(spawn_connection(
            stream,
            self.addr.clone(),
            self.config.max_frame,
        ));
        *slot = Some(conn.clone());
        Ok(conn)
    }

    /// Calls `func` with an encoded parameter buffer in `version` layout, within
    /// `timeout` (default: the configured call timeout).
    pub async fn invoke(
        &self,
        func: &str,
        version: i16,
        params: Bytes,
        timeout: Option<Duration>,
    ) -> Result<Reply, CallError> {
        let timeout = timeout.unwrap_or(self.config.call_timeout);
        let deadline = tokio::time::Instant::now() + timeout;
        let timed_out = || CallError::Timeout {
            addr: self.addr.clone(),
            timeout_ms: timeout.as_millis() as u64,
        };
        let conn = tokio::time::timeout_at(deadline, self.connection())
            .await
            .map_err(|_| timed_out())??;
        let request_id = self.next_id.fetch_add(1, Ordering::Relaxed).max(1);
        let packet = RequestPacket {
            version,
            packet_type: PACKET_NORMAL,
            request_id,
            servant_name: self.servant.clone(),
            func_name: func.to_string(),
            buffer: params,
            timeout: timeout.as_millis().min(i32::MAX as u128) as i32,
            ..RequestPacket::default()
        };
        let (tx, rx) = oneshot::channel();
        conn.pending
            .lock()
            .expect("pending poisoned")
            .insert(request_id, tx);
        let forget = || {
            conn.pending
                .lock()
                .expect("pending poisoned")
                .remove(&request_id);
        };
        if conn
            .outbox
            .send(frame::encode_struct(&packet))
            .await
            .is_err()
        {
            forget();
            return Err(CallError::ConnectionClosed {
                addr: self.addr.clone(),
                reason: "writer stopped".into(),
            });
        }
        let answer = match tokio::time::timeout_at(deadline, rx).await {
            Err(_) => {
                forget();
                return Err(timed_out());
            }
            Ok(Err(_)) => {
                return Err(CallError::ConnectionClosed {
                    addr: self.addr.clone(),
                    reason: "connection dropped".into(),
                })
            }
            Ok(Ok(result)) => result?,
        };
        self.reply(answer)
    }

    fn reply(&self, answer: Answer) -> Result<Reply, CallError> {
        let malformed = |error: DecodeError| CallError::Malformed {
            addr: self.addr.clone(),
            error,
        };
        match answer {
            Answer::Tup(packet) => {
                let code: i32 = packet
                    .status
                    .get(STATUS_RESULT_CODE)
                    .map(|c| c.trim().parse().unwrap_or(-1))
                    .unwrap_or(0);
                if code != 0 {
                    let desc = packet
                        .status
                        .get(STATUS_RESULT_DESC)
                        .cloned()
                        .unwrap_or_default();
                    return Err(CallError::Remote {
                        addr: self.addr.clone(),
                        ret: code,
                        desc,
                    });
                }
                let params = Params::of_request(VERSION_TUP, &packet.buffer).map_err(malformed)?;
                Ok(Reply { params })
            }
            Answer::Tars(packet) => {
                if packet.ret != 0 {
                    return Err(CallError::Remote {
                        addr: self.addr.clone(),
                        ret: packet.ret,
                        desc: packet.result_desc,
                    });
                }
                Ok(Reply {
                    params: Params::Tars(packet.buffer),
                })
            }
        }
    }
}

fn spawn_connection(stream: TcpStream, addr: String, max_frame: usize) -> Connection {
    let (mut read_half, mut write_half) = stream.into_split();
    let (outbox, mut inbox) = mpsc::channel::<Bytes>(1024);
    let pending: Pending = Arc::new(Mutex::new(HashMap::new()));
    let closed = tokio_util::sync::CancellationToken::new();

    let writer_closed = closed.clone();
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = writer_closed.cancelled() => break,
                next = inbox.recv() => match next {
                    Some(frame) => {
                        if write_half.write_all(&frame).await.is_err() {
                            writer_closed.cancel();
                            break;
                        }
                    }
                    None => break,
                },
            }
        }
    });

    let reader_pending = pending.clone();
    let reader_closed = closed.clone();
    tokio::spawn(async move {
        let mut buf = BytesMut::with_capacity(8 * 1024);
        // Why the connection ends: a decode error fails the waiting calls as malformed,
        // anything else as a closed connection.
        let end: Result<String, DecodeError> = loop {
            match frame::split_frame(&mut buf, max_frame) {
                Ok(Some(payload)) => {
                    match Answer::decode(&payload) {
                        Ok(answer) => {
                            let id = answer.request_id();
                            if let Some(tx) =
                                reader_pending.lock().expect("pending poisoned").remove(&id)
                            {
                                let _ = tx.send(Ok(answer));
                            }
                        }
                        Err(err) => break Err(err),
                    }
                    continue;
                }
                Ok(None) => {}
                Err(err) => break Err(err),
            }
            tokio::select! {
                _ = reader_closed.cancelled() => break Ok("closed".to_string()),
                read = read_half.read_buf(&mut buf) => match read {
                    Ok(0) => break Ok("peer closed the connection".to_string()),
                    Ok(_) => {}
                    Err(err) => break Ok(err.to_string()),
                },
            }
        };
        reader_closed.cancel();
        tracing::debug!(%addr, reason = ?end, "tars connection closed");
        let waiting: Vec<_> = reader_pending
            .lock()
            .expect("pending poisoned")
            .drain()
            .collect();
        for (_, tx) in waiting {
            let error = match &end {
                Ok(reason) => CallError::ConnectionClosed {
                    addr: addr.clone(),
                    reason: reason.clone(),
                },
                Err(error) => CallError::Malformed {
                    addr: addr.clone(),
                    error: error.clone(),
                },
            };
            let _ = tx.send(Err(error));
        }
    });

    Connection {
        outbox,
        pending,
        closed,
    }
}
