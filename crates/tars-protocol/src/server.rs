//! Serving a servant over TCP: frames in, [`Servant::dispatch`] per request (calls on one
//! connection run concurrently), answers out in the request's layout.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::codec::{decode_struct, encode_struct};
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

/// Server settings.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// The servant name clients must address (others get iRet -4).
    pub servant_name: String,
    /// Largest request accepted; a larger prefix closes the connection.
    pub max_frame: usize,
}

/// Serves `servant` on `listener` until `shutdown`.
pub async fn serve<S: Servant>(
    listener: TcpListener,
    config: ServerConfig,
    servant: Arc<S>,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    let config = Arc::new(config);
    loop {
        let (stream, peer) = tokio::select! {
            _ = shutdown.cancelled() => return Ok(()),
            accepted = listener.accept() => accepted?,
        };
        let _ = stream.set_nodelay(true);
        let servant = servant.clone();
        let config = config.clone();
        let shutdown = shutdown.clone();
        tokio::spawn(async move {
            if let Err(reason) = serve_connection(stream, config, servant, shutdown).await {
                tracing::debug!(%peer, %reason, "tars connection closed");
            }
        });
    }
}

async fn serve_connection<S: Servant>(
    stream: TcpStream,
    config: Arc<ServerConfig>,
    servant: Arc<S>,
    shutdown: CancellationToken,
) -> Result<(), String> {
    let (mut read_half, mut write_half) = stream.into_split();
    let (outbox, mut inbox) = mpsc::channel::<Bytes>(1024);
    let writer = tokio::spawn(async move {
        while let Some(frame) = inbox.recv().await {
            if write_half.write_all(&frame).await.is_err() {
                break;
            }
        }
    });
    let mut buf = BytesMut::with_capacity(8 * 1024);
    // Calls in flight on this connection; aborted when it ends, so a servant that never
    // answers cannot keep the socket open after shutdown or a client's hang-up.
    let mut calls = tokio::task::JoinSet::new();
    let result = loop {
        match frame::split_frame(&mut buf, config.max_frame) {
            Ok(Some(payload)) => {
                // Without a decodable header there is no request id to answer to.
                let request: RequestPacket = match decode_struct(&payload) {
                    Ok(r) => r,
                    Err(err) => break Err(format!("undecodable request: {err}")),
                };
                let servant = servant.clone();
                let outbox = outbox.clone();
                let config = config.clone();
                calls.spawn(async move {
                    let oneway = request.packet_type == PACKET_ONEWAY;
                    let answer = answer(&config, servant.as_ref(), request).await;
                    if !oneway {
                        let _ = outbox.send(answer).await;
                    }
                });
                continue;
            }
            Ok(None) => {}
            Err(err) => break Err(format!("bad frame: {err}")),
        }
        // Reap finished calls so the set does not grow with the connection's lifetime.
        while calls.try_join_next().is_some() {}
        tokio::select! {
            _ = shutdown.cancelled() => break Ok(()),
            read = read_half.read_buf(&mut buf) => match read {
                Ok(0) => break Ok(()),
                Ok(_) => {}
                Err(err) => break Err(err.to_string()),
            },
        }
    };
    calls.shutdown().await;
    drop(outbox);
    let _ = writer.await;
    result
}

async fn answer<S: Servant>(config: &ServerConfig, servant: &S, request: RequestPacket) -> Bytes {
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
                }
            }
        }
    };
    frame::encode(&encode_answer(&request, outcome))
}

/// Encodes the answer to `request` in its layout.
pub fn encode_answer(request: &RequestPacket, outcome: Result<Bytes, (i32, String)>) -> Bytes {
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
        encode_struct(&RequestPacket {
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
        encode_struct(&ResponsePacket {
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
