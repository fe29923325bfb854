//! Request and response packets (`tup/RequestF.tars`), and the two parameter layouts.
//!
//! - TARS (iVersion 1): `sBuffer` holds the parameters at their 1-based position tags
//!   (in- and out-params counted together); a response holds the return value at tag 0
//!   and each out-param at its position tag.
//! - TUP (iVersion 3): `sBuffer` holds a map at tag 0 from parameter name to that
//!   parameter encoded at tag 0; the return value is under the empty name. A TUP
//!   response is shaped as a RequestPacket, with `STATUS_RESULT_CODE` /
//!   `STATUS_RESULT_DESC` in its status map.
//!
//! The response header has iRequestId at tag 3 and iMessageType at tag 4 — the reverse
//! of the request.

use std::collections::BTreeMap;

use bytes::Bytes;

use crate::codec::{Field, Reader, TarsStruct, Writer};
use crate::DecodeError;

/// The TARS layout.
pub const VERSION_TARS: i16 = 1;
/// The TUP layout (simple UniAttribute).
pub const VERSION_TUP: i16 = 3;
/// A normal call (as opposed to one-way).
pub const PACKET_NORMAL: i8 = 0;
/// A call that expects no answer.
pub const PACKET_ONEWAY: i8 = 1;
/// TUP status key of the framework result code.
pub const STATUS_RESULT_CODE: &str = "STATUS_RESULT_CODE";
/// TUP status key of the framework result description.
pub const STATUS_RESULT_DESC: &str = "STATUS_RESULT_DESC";

/// Framework result codes (iRet), as `servant/BaseF.tars` of TarsProtocol defines them.
/// TARS has no code of its own for "not allowed": a servant refusing a caller answers
/// [`ret::SERVER_UNKNOWN_ERR`] with the reason in sResultDesc.
pub mod ret {
    /// Success (TARSSERVERSUCCESS).
    pub const SUCCESS: i32 = 0;
    /// The server could not decode the request (TARSSERVERDECODEERR).
    pub const SERVER_DECODE_ERR: i32 = -1;
    /// The server could not encode the answer (TARSSERVERENCODEERR).
    pub const SERVER_ENCODE_ERR: i32 = -2;
    /// No such function (TARSSERVERNOFUNCERR).
    pub const SERVER_NO_FUNC_ERR: i32 = -3;
    /// No such servant (TARSSERVERNOSERVANTERR).
    pub const SERVER_NO_SERVANT_ERR: i32 = -4;
    /// The request waited in the server's queue past its timeout (TARSSERVERQUEUETIMEOUT).
    pub const SERVER_QUEUE_TIMEOUT: i32 = -6;
    /// The server is overloaded (TARSSERVEROVERLOAD).
    pub const SERVER_OVERLOAD: i32 = -9;
    /// The servant failed or refused the call (TARSSERVERUNKNOWNERR).
    pub const SERVER_UNKNOWN_ERR: i32 = -99;
}

/// A request.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RequestPacket {
    /// iVersion (tag 1): the parameter layout, [`VERSION_TARS`] or [`VERSION_TUP`]; an
    /// answer is given in the request's layout.
    pub version: i16,
    /// cPacketType (tag 2): [`PACKET_NORMAL`], or [`PACKET_ONEWAY`] for a call that gets no
    /// answer.
    pub packet_type: i8,
    /// iMessageType (tag 3): TARS's message flags (hash, grid, dyeing, tracing); our calls
    /// send 0, and a server copies the request's value into its answer.
    pub message_type: i32,
    /// iRequestId (tag 4): chosen by the caller (unique among its calls in flight on one
    /// connection) and echoed in the answer, which is how answers are matched to calls.
    pub request_id: i32,
    /// sServantName (tag 5): the servant object called, e.g. `tars.tarsnode.NodeObj`.
    pub servant_name: String,
    /// sFuncName (tag 6): the interface method called, e.g. `loadServer`.
    pub func_name: String,
    /// sBuffer (tag 7): the encoded parameters, in the layout `version` names (see
    /// [`Params`]).
    pub buffer: Bytes,
    /// iTimeout (tag 8): how long the caller waits for the answer, in milliseconds.
    pub timeout: i32,
    /// context (tag 9): the caller's context, passed along to the servant; our calls send
    /// none.
    pub context: BTreeMap<String, String>,
    /// status (tag 10): framework status; in a TUP answer it carries [`STATUS_RESULT_CODE`]
    /// and [`STATUS_RESULT_DESC`] when the call failed.
    pub status: BTreeMap<String, String>,
}

impl TarsStruct for RequestPacket {
    fn write_fields(&self, w: &mut Writer) {
        self.version.write(w, 1);
        self.packet_type.write(w, 2);
        self.message_type.write(w, 3);
        self.request_id.write(w, 4);
        self.servant_name.write(w, 5);
        self.func_name.write(w, 6);
        self.buffer.write(w, 7);
        self.timeout.write(w, 8);
        self.context.write(w, 9);
        self.status.write(w, 10);
    }

    fn read_fields(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(RequestPacket {
            version: r.required(1)?,
            packet_type: r.optional(2, 0)?,
            message_type: r.optional(3, 0)?,
            request_id: r.required(4)?,
            servant_name: r.optional(5, String::new())?,
            func_name: r.optional(6, String::new())?,
            buffer: r.optional(7, Bytes::new())?,
            timeout: r.optional(8, 0)?,
            context: r.optional(9, BTreeMap::new())?,
            status: r.optional(10, BTreeMap::new())?,
        })
    }
}

/// A response to a TARS (iVersion 1) request.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ResponsePacket {
    /// iVersion (tag 1): the layout of the request answered, [`VERSION_TARS`] here (a TUP
    /// answer is a [`RequestPacket`]).
    pub version: i16,
    /// cPacketType (tag 2): copied from the request.
    pub packet_type: i8,
    /// iRequestId (tag 3, not 4 as in the request): the id of the request answered.
    pub request_id: i32,
    /// iMessageType (tag 4): copied from the request.
    pub message_type: i32,
    /// iRet (tag 5): the framework result code, one of [`ret`]; 0 is success, and anything
    /// else means `buffer` holds no answer.
    pub ret: i32,
    /// sBuffer (tag 6): the return value (tag 0) and out-params (at their position tags);
    /// empty when `ret` is not 0.
    pub buffer: Bytes,
    /// status (tag 7): framework status; empty in our answers.
    pub status: BTreeMap<String, String>,
    /// sResultDesc (tag 8): why the call failed, when `ret` is not 0 (omitted from the
    /// encoding when empty).
    pub result_desc: String,
    /// context (tag 9): the servant's context for the caller (omitted from the encoding
    /// when empty).
    pub context: BTreeMap<String, String>,
}

impl TarsStruct for ResponsePacket {
    fn write_fields(&self, w: &mut Writer) {
        self.version.write(w, 1);
        self.packet_type.write(w, 2);
        self.request_id.write(w, 3);
        self.message_type.write(w, 4);
        self.ret.write(w, 5);
        self.buffer.write(w, 6);
        self.status.write(w, 7);
        if !self.result_desc.is_empty() {
            self.result_desc.write(w, 8);
        }
        if !self.context.is_empty() {
            self.context.write(w, 9);
        }
    }

    fn read_fields(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(ResponsePacket {
            version: r.optional(1, 0)?,
            packet_type: r.optional(2, 0)?,
            request_id: r.required(3)?,
            message_type: r.optional(4, 0)?,
            ret: r.optional(5, 0)?,
            buffer: r.optional(6, Bytes::new())?,
            status: r.optional(7, BTreeMap::new())?,
            result_desc: r.optional(8, String::new())?,
            context: r.optional(9, BTreeMap::new())?,
        })
    }
}

/// Peeks at the version and request id of an encoded packet of either kind; both have
/// the version at tag 1, and the id at tag 4 (request / TUP answer) or tag 3 (TARS
/// answer).
pub fn peek_version(payload: &[u8]) -> Result<i16, DecodeError> {
    Reader::new(payload).required(1)
}

/// The parameters of one call, encoded in either layout.
#[derive(Debug, Clone)]
pub enum Params {
    /// TARS: the buffer of positional fields.
    Tars(Bytes),
    /// TUP: the buffer holding, at tag 0, the map of name → parameter encoded at tag 0.
    /// Its shape is checked when parsed; parameters are found by name when read, so a
    /// map of many entries costs no memory beyond its own bytes.
    Tup(Bytes),
}

impl Params {
    /// Parses the parameters of a request of `version`.
    pub fn of_request(version: i16, buffer: &Bytes) -> Result<Params, DecodeError> {
        match version {
            VERSION_TUP => {
                tup_entries(buffer, |_, _| {})?;
                Ok(Params::Tup(buffer.clone()))
            }
            _ => Ok(Params::Tars(buffer.clone())),
        }
    }

    /// Reads parameter `name` at position `tag`; `None` when absent.
    ///
    /// A present parameter of the wrong type is an error, as the official servers check
    /// out-param tags sent by C++ clients.
    pub fn get<T: Field>(&self, tag: u8, name: &str) -> Result<Option<T>, DecodeError> {
        match self {
            Params::Tars(buffer) => {
                let mut r = Reader::new(buffer);
                match r.skip_to_tag(tag)? {
                    Some(head) => T::read_value(&mut r, head).map(Some),
                    None => Ok(None),
                }
            }
            Params::Tup(buffer) => {
                // A repeated name keeps its last value, as a decoded map would.
                let mut found = None;
                tup_entries(buffer, |key, value| {
                    if key == name {
                        found = Some(value);
                    }
                })?;
                match found {
                    Some(encoded) => {
                        let mut r = Reader::new(&encoded);
                        match r.skip_to_tag(0)? {
                            Some(head) => T::read_value(&mut r, head).map(Some),
                            None => Ok(None),
                        }
                    }
                    None => Ok(None),
                }
            }
        }
    }

    /// Reads a required parameter.
    pub fn required<T: Field>(&self, tag: u8, name: &str) -> Result<T, DecodeError> {
        self.get(tag, name)?.ok_or(DecodeError::MissingField(tag))
    }
}

/// Walks the TUP parameter map at tag 0 of `buffer` (name: string, parameter: bytes),
/// handing each entry to `entry` without copying it; errors as decoding the map would.
fn tup_entries<'a>(
    buffer: &'a [u8],
    mut entry: impl FnMut(&'a str, std::borrow::Cow<'a, [u8]>),
) -> Result<(), DecodeError> {
    let mut r = Reader::new(buffer);
    let head = r.skip_to_tag(0)?.ok_or(DecodeError::MissingField(0))?;
    if head.ty != crate::codec::TarsType::Map {
        return Err(DecodeError::TypeMismatch {
            tag: head.tag,
            expected: "map",
            found: head.ty as u8,
        });
    }
    // The map's count, checked against what is left, then key (tag 0) / value (tag 1).
    let count_head = r.skip_to_tag(0)?.ok_or(DecodeError::MissingField(0))?;
    let count = r.read_int_value(count_head)?;
    let count = usize::try_from(count)
        .ok()
        .filter(|c| c.saturating_mul(2) <= r.remaining())
        .ok_or(DecodeError::InvalidLength(count))?;
    for _ in 0..count {
        let kh = r.skip_to_tag(0)?.ok_or(DecodeError::MissingField(0))?;
        let key = r.read_str_value(kh)?;
        let vh = r.skip_to_tag(1)?.ok_or(DecodeError::MissingField(1))?;
        let value = r.read_bytes_ref(vh)?;
        entry(key, value);
    }
    Ok(())
}

/// Builds the parameters of a call or of its answer in either layout.
#[derive(Debug)]
pub enum ParamsWriter {
    /// TARS: positional fields.
    Tars(Writer),
    /// TUP: named fields.
    Tup(BTreeMap<String, Bytes>),
}

impl ParamsWriter {
    /// An empty writer for `version`.
    pub fn new(version: i16) -> ParamsWriter {
        if version == VERSION_TUP {
            ParamsWriter::Tup(BTreeMap::new())
        } else {
            ParamsWriter::Tars(Writer::new())
        }
    }

    /// Adds a parameter; in TARS layout calls must come in ascending `tag` order.
    pub fn put<T: Field>(&mut self, tag: u8, name: &str, value: &T) -> &mut Self {
        match self {
            ParamsWriter::Tars(w) => value.write(w, tag),
            ParamsWriter::Tup(map) => {
                let mut w = Writer::new();
                value.write(&mut w, 0);
                map.insert(name.to_string(), w.into_bytes());
            }
        }
        self
    }

    /// The encoded `sBuffer`.
    pub fn finish(self) -> Bytes {
        match self {
            ParamsWriter::Tars(w) => w.into_bytes(),
            ParamsWriter::Tup(map) => {
                let mut w = Writer::new();
                map.write(&mut w, 0);
                w.into_bytes()
            }
        }
    }
}
