//! Framing: every packet is preceded by its total length (prefix included) as a 4-byte
//! big-endian integer. The length is checked on the prefix alone, before anything is
//! buffered for the frame, so a lying or huge prefix costs nothing.

use bytes::{BufMut, Bytes, BytesMut};

use crate::DecodeError;

/// Largest frame accepted by default (the official servers' default packet limit).
pub const MAX_FRAME_LEN: usize = 10 * 1024 * 1024;

/// Length of the prefix.
pub const PREFIX_LEN: usize = 4;

/// Checks whether `buf` starts with a whole frame.
///
/// Returns its total length (prefix included); `Err(Incomplete)` while more bytes are
/// needed; `Err(FrameLength)` for a prefix below 5 or above `max`, at which point the
/// connection cannot be resynchronised and must be closed.
pub fn check(buf: &[u8], max: usize) -> Result<usize, DecodeError> {
    if buf.len() < PREFIX_LEN {
        return Err(DecodeError::Incomplete);
    }
    let length = u32::from_be_bytes([buf[0], buf[1], buf[2], buf[3]]) as u64;
    if length <= PREFIX_LEN as u64 || length > max as u64 {
        return Err(DecodeError::FrameLength { length, max });
    }
    let length = length as usize;
    if buf.len() < length {
        return Err(DecodeError::Incomplete);
    }
    Ok(length)
}

/// Encodes `value` as a top-level buffer already prefixed with its length, in one
/// buffer (no copy of the payload, which may be a 1 MiB download answer).
pub fn encode_struct<T: crate::codec::TarsStruct>(value: &T) -> Bytes {
    let mut writer = crate::codec::Writer::with_prefix(PREFIX_LEN);
    value.write_fields(&mut writer);
    let mut out = writer.into_bytes_mut();
    let length = out.len() as u32;
    out[..PREFIX_LEN].copy_from_slice(&length.to_be_bytes());
    out.freeze()
}

/// Prefixes `payload` with its length.
pub fn encode(payload: &[u8]) -> Bytes {
    let mut out = BytesMut::with_capacity(payload.len() + PREFIX_LEN);
    out.put_u32((payload.len() + PREFIX_LEN) as u32);
    out.put_slice(payload);
    out.freeze()
}

/// Splits the first whole frame off `buf` and returns its payload, or `Ok(None)` while
/// the frame is incomplete.
pub fn split_frame(buf: &mut BytesMut, max: usize) -> Result<Option<Bytes>, DecodeError> {
    match check(buf, max) {
        Ok(length) => {
            let mut frame = buf.split_to(length);
            let _ = frame.split_to(PREFIX_LEN);
            Ok(Some(frame.freeze()))
        }
        Err(DecodeError::Incomplete) => {
            // Reserve only what the prefix announced and is within the limit.
            if buf.len() >= PREFIX_LEN {
                let announced = u32::from_be_bytes([buf[0], buf[1], buf[2], buf[3]]) as usize;
                buf.reserve(announced.saturating_sub(buf.len()));
            }
            Ok(None)
        }
        Err(err) => Err(err),
    }
}
