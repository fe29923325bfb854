//! Feeds arbitrary bytes to every decoding entry point a peer can reach: framing,
//! packets of both kinds, TUP parameter maps and the Node structs. Any panic, hang or
//! runaway allocation is a bug.
#![no_main]

use bytes::{Bytes, BytesMut};
use libfuzzer_sys::fuzz_target;
use tars_protocol::codec::decode_struct;
use tars_protocol::node::{PatchInfo, PatchRequest, ServerStateInfo};
use tars_protocol::packet::{Params, RequestPacket, ResponsePacket};

fuzz_target!(|data: &[u8]| {
    let mut buf = BytesMut::from(data);
    while let Ok(Some(payload)) = tars_protocol::frame::split_frame(&mut buf, 1 << 20) {
        let _ = decode_struct::<RequestPacket>(&payload);
    }
    let _ = decode_struct::<RequestPacket>(data);
    let _ = decode_struct::<ResponsePacket>(data);
    let _ = decode_struct::<ServerStateInfo>(data);
    let _ = decode_struct::<PatchInfo>(data);
    let _ = decode_struct::<PatchRequest>(data);
    let params = Params::of_request(3, &Bytes::copy_from_slice(data));
    if let Ok(params) = params {
        let _ = params.get::<String>(1, "application");
        let _ = params.get::<ServerStateInfo>(3, "info");
    }
    let tars = Params::Tars(Bytes::copy_from_slice(data));
    let _ = tars.get::<PatchRequest>(1, "req");
    let _ = tars.get::<Vec<String>>(2, "list");
});
