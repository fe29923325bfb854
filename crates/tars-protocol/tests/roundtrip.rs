//! Property tests: every value survives encode → decode, and arbitrary bytes never make
//! the decoder panic.

use std::collections::BTreeMap;

use bytes::Bytes;
use proptest::prelude::*;
use tars_protocol::codec::{decode_struct, encode_struct, Reader};
use tars_protocol::node::{PatchInfo, PatchRequest, ServerState, ServerStateInfo};
use tars_protocol::packet::{RequestPacket, ResponsePacket};

fn state() -> impl Strategy<Value = ServerState> {
    (0i32..6).prop_map(ServerState::from_i32)
}

proptest! {
    #[test]
    fn integers(v in any::<i64>(), tag in any::<u8>()) {
        let mut w = tars_protocol::codec::Writer::new();
        w.write_int(tag, v);
        let bytes = w.into_bytes();
        prop_assert_eq!(Reader::new(&bytes).required::<i64>(tag).unwrap(), v);
    }

    #[test]
    fn request_packets(
        version in prop_oneof![Just(1i16), Just(3i16)],
        id in any::<i32>(),
        servant in ".{0,40}",
        func in "[a-zA-Z]{0,20}",
        buffer in proptest::collection::vec(any::<u8>(), 0..600),
        timeout in any::<i32>(),
        context in proptest::collection::btree_map(".{0,8}", ".{0,300}", 0..4),
    ) {
        let p = RequestPacket {
            version, packet_type: 0, message_type: 0, request_id: id, servant_name: servant,
            func_name: func, buffer: Bytes::from(buffer), timeout, context, status: BTreeMap::new(),
        };
        prop_assert_eq!(decode_struct::<RequestPacket>(&encode_struct(&p)).unwrap(), p);
    }

    #[test]
    fn response_packets(id in any::<i32>(), ret in any::<i32>(), desc in ".{0,100}", buffer in proptest::collection::vec(any::<u8>(), 0..300)) {
        let p = ResponsePacket { version: 1, request_id: id, ret, result_desc: desc, buffer: Bytes::from(buffer), ..ResponsePacket::default() };
        prop_assert_eq!(decode_struct::<ResponsePacket>(&encode_struct(&p)).unwrap(), p);
    }

    #[test]
    fn node_structs(
        s in state(), set in state(), pid in any::<i32>(), name in ".{0,20}",
        ex in proptest::collection::btree_map("[a-z]{1,5}", ".{0,10}", 0..3),
        percent in any::<i32>(), patching in any::<bool>(), succ in any::<bool>(),
        strings in proptest::collection::vec(".{0,30}", 12),
    ) {
        let info = ServerStateInfo { server_state: s, process_id: pid, node_name: name.clone(), application: name.clone(), server_name: name, setting_state: set, ex_state: ex };
        prop_assert_eq!(decode_struct::<ServerStateInfo>(&encode_struct(&info)).unwrap(), info);
        let patch = PatchInfo { patching, percent, modify_time: pid, version: strings[0].clone(), result: strings[1].clone(), succ };
        prop_assert_eq!(decode_struct::<PatchInfo>(&encode_struct(&patch)).unwrap(), patch);
        let req = PatchRequest {
            appname: strings[0].clone(), servername: strings[1].clone(), nodename: strings[2].clone(),
            groupname: strings[3].clone(), binname: strings[4].clone(), version: strings[5].clone(),
            user: strings[6].clone(), servertype: strings[7].clone(), patchobj: strings[8].clone(),
            md5: strings[9].clone(), ostype: strings[10].clone(), filepath: strings[11].clone(),
        };
        prop_assert_eq!(decode_struct::<PatchRequest>(&encode_struct(&req)).unwrap(), req);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = decode_struct::<RequestPacket>(&bytes);
        let _ = decode_struct::<ResponsePacket>(&bytes);
        let _ = decode_struct::<ServerStateInfo>(&bytes);
        let _ = tars_protocol::frame::check(&bytes, 1 << 20);
        let _ = tars_protocol::packet::Params::of_request(3, &Bytes::from(bytes.clone()));
    }
}
