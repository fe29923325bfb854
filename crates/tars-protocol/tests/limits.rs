//! The server's resource limits over real TCP: calls in flight per connection,
//! connections per server, idle connections, and requests whose element counts lie —
//! each bounded, with the other clients served meanwhile.
//!
//! Memory is measured with a counting allocator, per thread: every test here runs its
//! server and its client on the test's own thread (tokio's current-thread runtime), so
//! what the thread allocated is what serving the request cost.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use tars_protocol::client::{ClientConfig, ServantClient};
use tars_protocol::codec::{decode_struct, Reader, TarsType, Writer};
use tars_protocol::packet::{
    ret, ParamsWriter, RequestPacket, ResponsePacket, STATUS_RESULT_CODE, VERSION_TARS, VERSION_TUP,
};
use tars_protocol::server::{serve, Call, DispatchError, Servant, ServerConfig};
use tars_protocol::{frame, CallError, DecodeError};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Semaphore};
use tokio_util::sync::CancellationToken;

// ---- memory accounting -------------------------------------------------------------

struct Counting;

thread_local! {
    static LIVE: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

fn record(delta: isize) {
    let _ = LIVE.try_with(|live| {
        let now = live.get() + delta;
        live.set(now);
        let _ = PEAK.try_with(|peak| peak.set(peak.get().max(now)));
    });
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let ptr = System.alloc(layout);
        if !ptr.is_null() {
            record(layout.size() as isize);
        }
        ptr
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let ptr = System.alloc_zeroed(layout);
        if !ptr.is_null() {
            record(layout.size() as isize);
        }
        ptr
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout);
        record(-(layout.size() as isize));
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let new = System.realloc(ptr, layout, new_size);
        if !new.is_null() {
            record(new_size as isize - layout.size() as isize);
        }
        new
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Starts measuring this thread's peak allocation from now.
fn measure() -> isize {
    let live = LIVE.with(Cell::get);
    PEAK.with(|peak| peak.set(live));
    live
}

/// The most this thread held at once since `measure()` returned `base`, beyond `base`.
fn peak_since(base: isize) -> usize {
    (PEAK.with(Cell::get) - base).max(0) as usize
}

const MIB: usize = 1 << 20;

// ---- a servant with a gate -----------------------------------------------------------

const SERVANT: &str = "Test.Limits.GateObj";

/// `wait` blocks until the test opens the gate; `ping` answers at once; `list` reads an
/// out-param `vector<string>` at tag 2 (as a C++ client sends out-params).
struct Gate {
    gate: Semaphore,
    entered: watch::Sender<usize>,
    running: AtomicUsize,
    most_running: AtomicUsize,
}

impl Gate {
    fn new() -> Arc<Gate> {
        Arc::new(Gate {
            gate: Semaphore::new(0),
            entered: watch::Sender::new(0),
            running: AtomicUsize::new(0),
            most_running: AtomicUsize::new(0),
        })
    }
}

fn ok_answer(call: &Call) -> Bytes {
    let mut p = ParamsWriter::new(call.version);
    p.put(0, "", &0i32);
    p.finish()
}

impl Servant for Gate {
    async fn dispatch(&self, call: Call) -> Result<Bytes, DispatchError> {
        match call.func.as_str() {
            "ping" => Ok(ok_answer(&call)),
            "list" => {
                let _: Option<Vec<String>> = call.params.get(2, "vs")?;
                Ok(ok_answer(&call))
            }
            "wait" => {
                let now = self.running.fetch_add(1, Ordering::SeqCst) + 1;
                self.most_running.fetch_max(now, Ordering::SeqCst);
                self.entered.send_modify(|n| *n += 1);
                self.gate.acquire().await.expect("gate open").forget();
                self.running.fetch_sub(1, Ordering::SeqCst);
                Ok(ok_answer(&call))
            }
            _ => Err(DispatchError::NoFunction),
        }
    }
}

async fn start(config: ServerConfig) -> (SocketAddr, Arc<Gate>, CancellationToken) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let gate = Gate::new();
    let stop = CancellationToken::new();
    tokio::spawn(serve(listener, config, gate.clone(), stop.clone()));
    (addr, gate, stop)
}

fn client(addr: SocketAddr) -> ServantClient {
    ServantClient::new(
        addr.to_string(),
        SERVANT,
        ClientConfig {
            call_timeout: Duration::from_secs(20),
            ..ClientConfig::default()
        },
    )
}

async fn call(client: &ServantClient, func: &str) -> Result<i32, CallError> {
    let reply = client
        .invoke(func, VERSION_TARS, Bytes::new(), None)
        .await?;
    Ok(reply.params.required(0, "").unwrap())
}

// ---- raw frames ----------------------------------------------------------------------

/// A request frame for `func` with parameter buffer `buffer`.
fn request(id: i32, version: i16, func: &str, buffer: Bytes) -> Bytes {
    frame::encode_struct(&RequestPacket {
        version,
        request_id: id,
        servant_name: SERVANT.into(),
        func_name: func.into(),
        buffer,
        timeout: 20_000,
        ..RequestPacket::default()
    })
}

/// Reads one answer frame's payload; `None` when the server closed the connection.
async fn read_frame(stream: &mut TcpStream) -> Option<Vec<u8>> {
    let mut prefix = [0u8; 4];
    stream.read_exact(&mut prefix).await.ok()?;
    let len = u32::from_be_bytes(prefix) as usize;
    let mut payload = vec![0u8; len - 4];
    stream.read_exact(&mut payload).await.ok()?;
    Some(payload)
}

/// The iRet of a TARS-layout answer.
async fn raw_call(stream: &mut TcpStream, id: i32, func: &str) -> Option<i32> {
    stream
        .write_all(&request(id, VERSION_TARS, func, Bytes::new()))
        .await
        .ok()?;
    let payload = read_frame(stream).await?;
    Some(decode_struct::<ResponsePacket>(&payload).unwrap().ret)
}

/// Waits (at most 20 s, a guard against a hang) until the server closes `stream`.
async fn closed_by_server(stream: &mut TcpStream) -> bool {
    let mut buf = [0u8; 1024];
    let closed = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await;
    closed.is_ok()
}

// ---- calls in flight ------------------------------------------------------------------

#[tokio::test]
async fn calls_beyond_the_per_connection_limit_wait_and_none_is_lost() {
    let (addr, gate, stop) = start(ServerConfig {
        max_calls_per_connection: 4,
        ..ServerConfig::new(SERVANT)
    })
    .await;
    // One client, one connection, 40 calls pipelined on it.
    let client = Arc::new(client(addr));
    let calls: Vec<_> = (0..40)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move { call(&client, "wait").await })
        })
        .collect();
    let mut entered = gate.entered.subscribe();
    entered.wait_for(|n| *n >= 4).await.unwrap();
    assert_eq!(
        gate.running.load(Ordering::SeqCst),
        4,
        "the connection's other calls are not read while 4 are in flight"
    );
    // Another connection is served meanwhile.
    assert_eq!(call(&self::client(addr), "ping").await, Ok(0));
    gate.gate.add_permits(40);
    for c in calls {
        assert_eq!(c.await.unwrap(), Ok(0), "every pipelined call is answered");
    }
    assert_eq!(gate.most_running.load(Ordering::SeqCst), 4);
    assert_eq!(*gate.entered.borrow(), 40);
    stop.cancel();
}

// ---- connections ------------------------------------------------------------------------

#[tokio::test]
async fn connections_beyond_the_limit_are_closed_and_the_others_keep_working() {
    let (addr, _gate, stop) = start(ServerConfig {
        max_connections: 2,
        ..ServerConfig::new(SERVANT)
    })
    .await;
    let mut a = TcpStream::connect(addr).await.unwrap();
    let mut b = TcpStream::connect(addr).await.unwrap();
    assert_eq!(raw_call(&mut a, 1, "ping").await, Some(ret::SUCCESS));
    assert_eq!(raw_call(&mut b, 1, "ping").await, Some(ret::SUCCESS));

    // A third is closed at once, before any answer.
    let mut c = TcpStream::connect(addr).await.unwrap();
    assert_eq!(raw_call(&mut c, 1, "ping").await, None);
    let refused = client(addr);
    assert!(
        matches!(
            call(&refused, "ping").await,
            Err(CallError::ConnectionClosed { .. })
        ),
        "a client over the limit sees its connection closed"
    );

    // The two served connections carry on.
    assert_eq!(raw_call(&mut a, 2, "ping").await, Some(ret::SUCCESS));
    assert_eq!(raw_call(&mut b, 2, "ping").await, Some(ret::SUCCESS));

    // Once one leaves, a newcomer is served (as soon as the server saw it leave).
    drop(b);
    let mut served = false;
    for attempt in 0..1000 {
        let mut d = TcpStream::connect(addr).await.unwrap();
        if raw_call(&mut d, attempt, "ping").await == Some(ret::SUCCESS) {
            served = true;
            break;
        }
    }
    assert!(served, "a freed connection slot is given to a newcomer");
    assert_eq!(raw_call(&mut a, 3, "ping").await, Some(ret::SUCCESS));
    stop.cancel();
}

// ---- idle connections -------------------------------------------------------------------

#[tokio::test]
async fn idle_connections_are_closed_but_not_while_a_call_runs() {
    let idle = Duration::from_millis(300);
    let (addr, gate, stop) = start(ServerConfig {
        idle_timeout: idle,
        ..ServerConfig::new(SERVANT)
    })
    .await;

    // A connection that goes quiet after a call is closed, not before the timeout.
    let mut quiet = TcpStream::connect(addr).await.unwrap();
    let started = Instant::now();
    assert_eq!(raw_call(&mut quiet, 1, "ping").await, Some(ret::SUCCESS));
    assert!(
        closed_by_server(&mut quiet).await,
        "an idle connection is closed"
    );
    assert!(
        started.elapsed() >= idle,
        "closed after {:?}, before the idle timeout",
        started.elapsed()
    );

    // A call the servant works on longer than the timeout keeps its connection.
    let mut busy = TcpStream::connect(addr).await.unwrap();
    busy.write_all(&request(7, VERSION_TARS, "wait", Bytes::new()))
        .await
        .unwrap();
    gate.entered
        .subscribe()
        .wait_for(|n| *n >= 1)
        .await
        .unwrap();
    // Opened after the call started: once it is closed as idle, the busy connection has
    // been as quiet for as long.
    let mut witness = TcpStream::connect(addr).await.unwrap();
    assert!(closed_by_server(&mut witness).await);
    gate.gate.add_permits(1);
    let answer = read_frame(&mut busy)
        .await
        .expect("the busy connection is open");
    let answer: ResponsePacket = decode_struct(&answer).unwrap();
    assert_eq!((answer.request_id, answer.ret), (7, ret::SUCCESS));
    stop.cancel();
}

// ---- lying element counts ------------------------------------------------------------

/// `head` at tag 0 with a 4-byte count, then `junk` bytes: each reads as an integer zero
/// at tag 0, which is not a string, so decoding fails at the first element.
fn lying_collection(ty: TarsType, count: i32, junk: usize) -> Vec<u8> {
    let mut w = Writer::new();
    w.head(0, ty);
    w.write_int(0, count as i64);
    let mut bytes = w.into_bytes().to_vec();
    // A count small enough to be written as Int1/Int2 would not be "huge": force Int4.
    assert!(count > i16::MAX as i32);
    bytes.resize(bytes.len() + junk, 0x0c);
    bytes
}

#[test]
fn lying_counts_cost_no_more_than_the_bytes_that_carry_them() {
    let junk = MIB;
    // A million strings announced: 24 MB of `String`s if the count were trusted.
    let list = lying_collection(TarsType::List, MIB as i32, junk);
    let base = measure();
    let err = Reader::new(&list).required::<Vec<String>>(0).unwrap_err();
    assert!(matches!(err, DecodeError::TypeMismatch { .. }), "{err:?}");
    let peak = peak_since(base);
    assert!(
        peak <= junk,
        "decoding reserved {peak} bytes for a {junk}-byte list"
    );

    // Half a million string pairs: 24 MB of entries if the count were trusted.
    let map = lying_collection(TarsType::Map, (MIB / 2) as i32, junk);
    let base = measure();
    let err = Reader::new(&map)
        .required::<BTreeMap<String, String>>(0)
        .unwrap_err();
    assert!(matches!(err, DecodeError::TypeMismatch { .. }), "{err:?}");
    let err = Reader::new(&map)
        .required::<std::collections::HashMap<String, String>>(0)
        .unwrap_err();
    assert!(matches!(err, DecodeError::TypeMismatch { .. }), "{err:?}");
    let peak = peak_since(base);
    assert!(
        peak <= 2 * junk,
        "decoding reserved {peak} bytes for a {junk}-byte map"
    );
}

#[tokio::test]
async fn a_request_with_lying_counts_is_refused_without_a_large_allocation() {
    let (addr, _gate, stop) = start(ServerConfig::new(SERVANT)).await;
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let junk = 4 * MIB;

    // TUP: the parameter map announces two million entries (112 MB of names and values
    // if trusted) in 4 MiB.
    let tup = request(
        1,
        VERSION_TUP,
        "ping",
        lying_collection(TarsType::Map, 2_000_000, junk).into(),
    );
    let base = measure();
    stream.write_all(&tup).await.unwrap();
    let answer = read_frame(&mut stream).await.expect("an answer");
    let answer: RequestPacket = decode_struct(&answer).unwrap();
    assert_eq!(
        answer.status.get(STATUS_RESULT_CODE).map(String::as_str),
        Some("-1"),
        "refused as undecodable (TARSSERVERDECODEERR)"
    );
    let peak = peak_since(base);
    assert!(
        peak < 2 * tup.len(),
        "serving a {}-byte request took {peak} bytes",
        tup.len()
    );

    // TARS: an out-param `vector<string>` announcing four million strings (96 MB).
    let mut params = Writer::new();
    params.head(2, TarsType::List);
    params.write_int(0, 4_000_000);
    let mut params = params.into_bytes().to_vec();
    params.resize(params.len() + junk, 0x0c);
    let tars = request(2, VERSION_TARS, "list", params.into());
    let base = measure();
    stream.write_all(&tars).await.unwrap();
    let answer: ResponsePacket = decode_struct(&read_frame(&mut stream).await.unwrap()).unwrap();
    assert_eq!(answer.ret, ret::SERVER_DECODE_ERR, "{}", answer.result_desc);
    let peak = peak_since(base);
    assert!(
        peak < 2 * tars.len(),
        "serving a {}-byte request took {peak} bytes",
        tars.len()
    );

    // A header whose context map announces millions of entries: the server has no use
    // for it, decodes none of it, and answers the call.
    let mut header = Writer::new();
    header.write_int(1, VERSION_TARS as i64);
    header.write_int(4, 3);
    header.write_string(5, SERVANT);
    header.write_string(6, "ping");
    header.head(9, TarsType::Map);
    header.write_int(0, 2_000_000);
    let mut payload = header.into_bytes().to_vec();
    payload.resize(payload.len() + junk, 0x0c);
    let crafted = frame::encode(&payload);
    let base = measure();
    stream.write_all(&crafted).await.unwrap();
    let answer: ResponsePacket = decode_struct(&read_frame(&mut stream).await.unwrap()).unwrap();
    assert_eq!((answer.request_id, answer.ret), (3, ret::SUCCESS));
    let peak = peak_since(base);
    assert!(
        peak < 2 * crafted.len(),
        "serving a {}-byte request took {peak} bytes",
        crafted.len()
    );

    // The connection still serves ordinary calls.
    assert_eq!(raw_call(&mut stream, 4, "ping").await, Some(ret::SUCCESS));
    stop.cancel();
}

// ---- the peer --------------------------------------------------------------------------

struct Peer;

impl Servant for Peer {
    async fn dispatch(&self, call: Call) -> Result<Bytes, DispatchError> {
        let mut p = ParamsWriter::new(call.version);
        p.put(0, "", &call.peer.ip().to_string());
        Ok(p.finish())
    }
}

#[tokio::test]
async fn the_servant_learns_the_address_each_call_came_from() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let stop = CancellationToken::new();
    tokio::spawn(serve(
        listener,
        ServerConfig::new(SERVANT),
        Arc::new(Peer),
        stop.clone(),
    ));
    for from in ["127.0.0.1", "127.0.0.3"] {
        let client = ServantClient::new(
            addr.to_string(),
            SERVANT,
            ClientConfig {
                local_addr: Some(from.parse().unwrap()),
                ..ClientConfig::default()
            },
        );
        let reply = client
            .invoke("whoami", VERSION_TARS, Bytes::new(), None)
            .await
            .unwrap();
        assert_eq!(reply.params.required::<String>(0, "").unwrap(), from);
    }
    stop.cancel();
}
