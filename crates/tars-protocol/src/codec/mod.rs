//! The TARS tagged binary encoding.
//!
//! Every field starts with a head: the tag in the high nibble and the type id in the
//! low nibble, or `0xF<type>` followed by a tag byte when the tag is 15 or more. Numbers
//! are big-endian and always written in their most compact form (0 is the bare head of
//! type ZERO), whatever their declared width.

mod field;
mod reader;
mod writer;

pub use field::{Field, TarsStruct};
pub use reader::{Reader, MAX_DEPTH};
pub use writer::Writer;

/// The type ids of the encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum TarsType {
    /// 1-byte integer.
    Int1 = 0,
    /// 2-byte integer.
    Int2 = 1,
    /// 4-byte integer.
    Int4 = 2,
    /// 8-byte integer.
    Int8 = 3,
    /// IEEE 754 single.
    Float = 4,
    /// IEEE 754 double.
    Double = 5,
    /// String with a 1-byte length.
    String1 = 6,
    /// String with a 4-byte length.
    String4 = 7,
    /// Map: count, then key (tag 0) / value (tag 1) pairs.
    Map = 8,
    /// List: count, then elements at tag 0.
    List = 9,
    /// Start of a nested struct.
    StructBegin = 10,
    /// End of a nested struct.
    StructEnd = 11,
    /// The number zero (of any numeric type), with no payload.
    Zero = 12,
    /// A byte list: an Int1 head, a count, the raw bytes.
    SimpleList = 13,
}

impl TarsType {
    /// The type for a type id, if the protocol defines it.
    pub fn from_id(id: u8) -> Option<TarsType> {
        Some(match id {
            0 => TarsType::Int1,
            1 => TarsType::Int2,
            2 => TarsType::Int4,
            3 => TarsType::Int8,
            4 => TarsType::Float,
            5 => TarsType::Double,
            6 => TarsType::String1,
            7 => TarsType::String4,
            8 => TarsType::Map,
            9 => TarsType::List,
            10 => TarsType::StructBegin,
            11 => TarsType::StructEnd,
            12 => TarsType::Zero,
            13 => TarsType::SimpleList,
            _ => return None,
        })
    }
}

/// A decoded field head.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Head {
    /// The field's tag.
    pub tag: u8,
    /// The field's type.
    pub ty: TarsType,
}

/// Encodes a value of a [`TarsStruct`] as a top-level buffer (no struct markers), as
/// packets and TARS parameters are laid out.
pub fn encode_struct<T: TarsStruct>(value: &T) -> bytes::Bytes {
    let mut writer = Writer::new();
    value.write_fields(&mut writer);
    writer.into_bytes()
}

/// Decodes a top-level buffer as a [`TarsStruct`].
pub fn decode_struct<T: TarsStruct>(buf: &[u8]) -> Result<T, crate::DecodeError> {
    T::read_fields(&mut Reader::new(buf))
}
