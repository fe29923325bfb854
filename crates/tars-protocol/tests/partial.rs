//! A frame split anywhere is incomplete until its last byte arrives.

use bytes::{Bytes, BytesMut};
use tars_protocol::codec::encode_struct;
use tars_protocol::frame::{self, MAX_FRAME_LEN};
use tars_protocol::packet::RequestPacket;
use tars_protocol::DecodeError;

fn sample() -> Bytes {
    frame::encode(&encode_struct(&RequestPacket {
        version: 1,
        request_id: 7,
        servant_name: "tars.tarsnode.NodeObj".into(),
        func_name: "getStateInfo".into(),
        buffer: Bytes::from_static(&[0x16, 0x01, 0x41]),
        ..RequestPacket::default()
    }))
}

#[test]
fn every_prefix_is_incomplete() {
    let frame = sample();
    for cut in 0..frame.len() {
        assert_eq!(
            frame::check(&frame[..cut], MAX_FRAME_LEN),
            Err(DecodeError::Incomplete),
            "cut at {cut}"
        );
    }
    assert_eq!(frame::check(&frame, MAX_FRAME_LEN), Ok(frame.len()));
}

#[test]
fn split_frame_waits_then_yields_exactly_one_payload() {
    let frame = sample();
    let mut two = BytesMut::new();
    two.extend_from_slice(&frame);
    two.extend_from_slice(&frame[..5]);
    let first = frame::split_frame(&mut two, MAX_FRAME_LEN)
        .unwrap()
        .unwrap();
    assert_eq!(&first[..], &frame[4..]);
    assert_eq!(frame::split_frame(&mut two, MAX_FRAME_LEN).unwrap(), None);
    two.extend_from_slice(&frame[5..]);
    assert!(frame::split_frame(&mut two, MAX_FRAME_LEN)
        .unwrap()
        .is_some());
    assert!(two.is_empty());
}
