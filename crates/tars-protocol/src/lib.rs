//! The TARS RPC protocol, as the official implementation puts it on the wire.
//!
//! - [`codec`]: the tagged binary encoding (numbers in their most compact form, strings,
//!   maps, lists, simple lists, structs), with a reader that never trusts a length.
//! - [`frame`]: the 4-byte big-endian length prefix, checked before anything is buffered.
//! - [`packet`]: `RequestPacket` / `ResponsePacket` of `tup/RequestF.tars`, and the
//!   parameter layouts of TARS (iVersion 1, positional tags) and TUP (iVersion 3, a map of
//!   named parameters).
//! - [`endpoint`]: `tcp -h 10.0.0.5 -p 19385 -t 60000` and `Obj@endpoint` strings.
//! - [`conf`]: TARS configuration files (`<section>` / `key=value`), read by path.
//! - [`client`]: one multiplexed connection per endpoint, deadlines, reconnects.
//! - [`server`]: accepting connections and dispatching calls to a [`server::Servant`],
//!   within limits on connections, calls in flight, queued answers and idle time.
//! - [`node`]: the tarsnode `Node` interface (`framework/Node.tars`) and its structs.
//! - [`patch`]: the tarspatch `Patch` interface (`framework/Patch.tars`) and its structs.
//! - [`monitor_query`]: the `MonitorQuery` interface of tarsquerystat / tarsqueryproperty
//!   (`framework/MonitorQuery.tars`).
//!
//! This crate knows nothing of the platform's database or HTTP API.

pub mod client;
pub mod codec;
pub mod conf;
pub mod endpoint;
pub mod error;
pub mod frame;
pub mod monitor_query;
pub mod node;
pub mod packet;
pub mod patch;
pub mod server;

pub use error::{CallError, DecodeError};
