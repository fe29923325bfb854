//! Hostile input: each case is an error, never a panic, a hang or a large allocation.

use tars_protocol::codec::{decode_struct, Reader, MAX_DEPTH};
use tars_protocol::frame::{self, MAX_FRAME_LEN};
use tars_protocol::packet::RequestPacket;
use tars_protocol::DecodeError;

#[test]
fn a_two_gigabyte_prefix_is_refused_before_buffering() {
    let prefix = 0x8000_0000u32.to_be_bytes();
    assert!(matches!(
        frame::check(&prefix, MAX_FRAME_LEN),
        Err(DecodeError::FrameLength {
            length: 0x8000_0000,
            ..
        })
    ));
    let mut buf = bytes::BytesMut::from(&prefix[..]);
    assert!(frame::split_frame(&mut buf, MAX_FRAME_LEN).is_err());
    assert!(
        buf.capacity() < 1 << 20,
        "nothing was reserved for the announced size"
    );
}

#[test]
fn prefixes_too_small_to_hold_a_packet_are_refused() {
    for len in [0u32, 1, 4] {
        assert!(matches!(
            frame::check(&len.to_be_bytes(), MAX_FRAME_LEN),
            Err(DecodeError::FrameLength { .. })
        ));
    }
}

#[test]
fn lying_lengths_inside_the_payload() {
    // A string claiming 4 GB.
    assert_eq!(
        Reader::new(&[0x07, 0xff, 0xff, 0xff, 0xff, 0x41]).required::<String>(0),
        Err(DecodeError::InvalidLength(0xffff_ffff))
    );
    // A list claiming a billion elements in 3 bytes.
    assert!(matches!(
        Reader::new(&[0x09, 0x02, 0x3b, 0x9a, 0xca, 0x00]).required::<Vec<i32>>(0),
        Err(DecodeError::InvalidLength(_))
    ));
    // A map with a negative count.
    assert!(matches!(
        Reader::new(&[0x08, 0x00, 0xff]).required::<std::collections::BTreeMap<String, String>>(0),
        Err(DecodeError::InvalidLength(-1))
    ));
    // A simple list claiming more bytes than follow.
    assert!(matches!(
        Reader::new(&[0x0d, 0x00, 0x00, 0x10, 0x01]).required::<bytes::Bytes>(0),
        Err(DecodeError::InvalidLength(16))
    ));
}

#[test]
fn truncated_fields_are_incomplete() {
    assert_eq!(
        Reader::new(&[0x02, 0x00, 0x01]).required::<i32>(0),
        Err(DecodeError::Incomplete)
    );
    assert_eq!(
        Reader::new(&[0x06, 0x05, 0x41]).required::<String>(0),
        Err(DecodeError::Incomplete)
    );
    assert_eq!(
        Reader::new(&[0xf0]).required::<i32>(20),
        Err(DecodeError::Incomplete)
    );
}

#[test]
fn unknown_type_ids_and_type_mismatches() {
    assert_eq!(
        Reader::new(&[0x0e]).required::<i32>(0),
        Err(DecodeError::UnknownType(14))
    );
    assert_eq!(
        Reader::new(&[0x0f]).required::<i32>(0),
        Err(DecodeError::UnknownType(15))
    );
    assert!(matches!(
        Reader::new(&[0x06, 0x00]).required::<i32>(0),
        Err(DecodeError::TypeMismatch { .. })
    ));
    // A long read as an int does not fit.
    assert!(matches!(
        Reader::new(&[0x03, 1, 0, 0, 0, 0, 0, 0, 0]).required::<i32>(0),
        Err(DecodeError::TypeMismatch { .. })
    ));
    assert_eq!(
        Reader::new(&[0x16, 0x00]).required::<String>(0),
        Err(DecodeError::MissingField(0))
    );
}

#[test]
fn deep_nesting_is_refused() {
    // Structs nested far deeper than allowed, inside a skipped field.
    let mut bytes = vec![0x1a; 10_000];
    bytes.extend(vec![0x0b; 10_000]);
    let mut r = Reader::new(&bytes);
    assert_eq!(
        r.optional::<i32>(2, 0),
        Err(DecodeError::TooDeep(MAX_DEPTH))
    );
    // Lists of lists.
    let mut nested: Vec<u8> = Vec::new();
    for _ in 0..(MAX_DEPTH + 5) {
        nested.extend([0x09, 0x00, 0x01]);
    }
    nested.push(0x0c);
    assert_eq!(
        Reader::new(&nested).optional::<i32>(1, 0),
        Err(DecodeError::TooDeep(MAX_DEPTH))
    );
}

#[test]
fn packets_missing_required_fields() {
    assert_eq!(
        decode_struct::<RequestPacket>(&[]),
        Err(DecodeError::MissingField(1))
    );
    assert_eq!(
        decode_struct::<RequestPacket>(&[0x10, 0x01]),
        Err(DecodeError::MissingField(4))
    );
}
