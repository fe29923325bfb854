//! Byte sequences worked out by hand from the encoding rules, checked both ways.

use std::collections::BTreeMap;

use bytes::Bytes;
use tars_protocol::codec::{decode_struct, encode_struct, Field, Reader, Writer};
use tars_protocol::node::{ServerState, ServerStateInfo};
use tars_protocol::packet::{RequestPacket, ResponsePacket};

fn enc<T: Field>(tag: u8, v: &T) -> Vec<u8> {
    let mut w = Writer::new();
    v.write(&mut w, tag);
    w.into_bytes().to_vec()
}

fn dec<T: Field>(tag: u8, bytes: &[u8]) -> T {
    Reader::new(bytes).required(tag).unwrap()
}

fn hex(s: &str) -> Vec<u8> {
    s.split_whitespace()
        .map(|b| u8::from_str_radix(b, 16).unwrap())
        .collect()
}

#[test]
fn integers_take_their_most_compact_form() {
    let cases: &[(u8, i64, &str)] = &[
        (0, 0, "0c"),
        (1, 1, "10 01"),
        (0, -1, "00 ff"),
        (2, 300, "21 01 2c"),
        (3, 70_000, "32 00 01 11 70"),
        (4, 5_000_000_000, "43 00 00 00 01 2a 05 f2 00"),
        (20, 5, "f0 14 05"),
    ];
    for (tag, value, bytes) in cases {
        assert_eq!(enc(*tag, value), hex(bytes), "{value} at {tag}");
        assert_eq!(dec::<i64>(*tag, &hex(bytes)), *value);
    }
    // Declared width does not matter: an i32 of 1 is one byte, a short 0 is ZERO.
    assert_eq!(enc(1, &1i32), hex("10 01"));
    assert_eq!(enc(0, &0i16), hex("0c"));
    assert_eq!(enc(0, &true), hex("00 01"));
    assert_eq!(dec::<i32>(2, &hex("21 01 2c")), 300);
}

#[test]
fn floats_and_doubles() {
    assert_eq!(enc(0, &1.5f32), hex("04 3f c0 00 00"));
    assert_eq!(enc(1, &1.5f64), hex("15 3f f8 00 00 00 00 00 00"));
    assert_eq!(enc(0, &0.0f32), hex("0c"));
    assert_eq!(dec::<f32>(0, &hex("04 3f c0 00 00")), 1.5);
    assert_eq!(dec::<f64>(0, &hex("0c")), 0.0);
}

#[test]
fn strings_short_and_long() {
    assert_eq!(enc(5, &"ab".to_string()), hex("56 02 61 62"));
    let long = "x".repeat(256);
    let mut expected = hex("67 00 00 01 00");
    expected.extend(long.as_bytes());
    assert_eq!(enc(6, &long), expected);
    assert_eq!(dec::<String>(6, &expected), long);
    assert_eq!(enc(0, &String::new()), hex("06 00"));
}

#[test]
fn simple_lists_lists_and_maps() {
    assert_eq!(
        enc(7, &Bytes::from_static(&[1, 2, 3])),
        hex("7d 00 00 03 01 02 03")
    );
    assert_eq!(enc(8, &vec![1i32, 0]), hex("89 00 02 00 01 0c"));
    let mut map = BTreeMap::new();
    map.insert("a".to_string(), "b".to_string());
    assert_eq!(enc(9, &map), hex("98 00 01 06 01 61 16 01 62"));
    assert_eq!(
        dec::<BTreeMap<String, String>>(9, &hex("98 00 01 06 01 61 16 01 62")),
        map
    );
    // A byte list may also arrive as a list of 1-byte integers.
    assert_eq!(
        dec::<Bytes>(7, &hex("79 00 02 00 05 0c")),
        Bytes::from_static(&[5, 0])
    );
}

#[test]
fn nested_struct() {
    let info = ServerStateInfo {
        server_state: ServerState::Active,
        process_id: 1234,
        ..ServerStateInfo::default()
    };
    let bytes = hex("3a 00 02 11 04 d2 26 00 36 00 46 00 5c 68 0c 0b");
    assert_eq!(enc(3, &info), bytes);
    assert_eq!(dec::<ServerStateInfo>(3, &bytes), info);
    // Older copies of the interface lack exState: tolerated.
    let without_ex_state = hex("3a 00 02 11 04 d2 26 00 36 00 46 00 5c 0b");
    assert_eq!(dec::<ServerStateInfo>(3, &without_ex_state), info);
    // Unknown tags are skipped inside structs.
    let with_unknown = hex("3a 00 02 11 04 d2 26 00 36 00 46 00 5c 68 0c 76 01 7a 0b");
    assert_eq!(dec::<ServerStateInfo>(3, &with_unknown), info);
}

/// A loadServer("A", "B") request as the Node.js client sends it: in-params only.
const LOAD_SERVER_REQUEST: &str = "10 01 2c 3c 40 01 \
    56 15 74 61 72 73 2e 74 61 72 73 6e 6f 64 65 2e 4e 6f 64 65 4f 62 6a \
    66 0a 6c 6f 61 64 53 65 72 76 65 72 \
    7d 00 00 06 16 01 41 26 01 42 \
    81 0b b8 98 0c a8 0c";

#[test]
fn request_packet_for_load_server() {
    let packet = RequestPacket {
        version: 1,
        request_id: 1,
        servant_name: "tars.tarsnode.NodeObj".into(),
        func_name: "loadServer".into(),
        buffer: Bytes::from(hex("16 01 41 26 01 42")),
        timeout: 3000,
        ..RequestPacket::default()
    };
    let bytes = hex(LOAD_SERVER_REQUEST);
    assert_eq!(encode_struct(&packet).to_vec(), bytes);
    assert_eq!(decode_struct::<RequestPacket>(&bytes).unwrap(), packet);
    let framed = tars_protocol::frame::encode(&bytes);
    assert_eq!(&framed[..4], &[0, 0, 0, 62]);
}

#[test]
fn response_packet_swaps_id_and_message_type_tags() {
    // ret 0, result "ok" at tag 3; request id at tag 3 of the header, message type at 4.
    let bytes = hex("10 01 2c 30 01 4c 5c 6d 00 00 05 0c 36 02 6f 6b 78 0c");
    let packet = ResponsePacket {
        version: 1,
        request_id: 1,
        buffer: Bytes::from(hex("0c 36 02 6f 6b")),
        ..ResponsePacket::default()
    };
    assert_eq!(encode_struct(&packet).to_vec(), bytes);
    assert_eq!(decode_struct::<ResponsePacket>(&bytes).unwrap(), packet);
    // Node's encoder writes the optional fields even when empty: accepted too.
    let with_optionals = hex("10 01 2c 30 01 4c 5c 6d 00 00 05 0c 36 02 6f 6b 78 0c 86 00 98 0c");
    assert_eq!(
        decode_struct::<ResponsePacket>(&with_optionals).unwrap(),
        packet
    );
}
