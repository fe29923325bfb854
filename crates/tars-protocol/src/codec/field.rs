//! Types that can be a field: numbers, strings, byte lists, lists, maps, structs.

use std::collections::{BTreeMap, HashMap};

use bytes::Bytes;

use super::{Head, Reader, Writer};
use crate::DecodeError;

/// A value that can be written at a tag and read back from a consumed head.
pub trait Field: Sized {
    /// Writes the value with its head.
    fn write(&self, w: &mut Writer, tag: u8);
    /// Reads the payload of a field whose head was consumed.
    fn read_value(r: &mut Reader<'_>, head: Head) -> Result<Self, DecodeError>;
}

/// A struct: its fields are written in ascending tag order.
pub trait TarsStruct: Sized {
    /// Writes every field.
    fn write_fields(&self, w: &mut Writer);
    /// Reads every field (the reader is positioned at the first one).
    fn read_fields(r: &mut Reader<'_>) -> Result<Self, DecodeError>;
}

macro_rules! int_field {
    ($($ty:ty => $name:literal),*) => {$(
        impl Field for $ty {
            fn write(&self, w: &mut Writer, tag: u8) {
                w.write_int(tag, *self as i64);
            }
            fn read_value(r: &mut Reader<'_>, head: Head) -> Result<Self, DecodeError> {
                let v = r.read_int_value(head)?;
                <$ty>::try_from(v).map_err(|_| DecodeError::TypeMismatch { tag: head.tag, expected: $name, found: head.ty as u8 })
            }
        }
    )*};
}
int_field!(i8 => "byte", i16 => "short", i32 => "int", i64 => "long");

impl Field for bool {
    fn write(&self, w: &mut Writer, tag: u8) {
        w.write_int(tag, i64::from(*self));
    }
    fn read_value(r: &mut Reader<'_>, head: Head) -> Result<Self, DecodeError> {
        Ok(r.read_int_value(head)? != 0)
    }
}

impl Field for f32 {
    fn write(&self, w: &mut Writer, tag: u8) {
        w.write_f32(tag, *self);
    }
    fn read_value(r: &mut Reader<'_>, head: Head) -> Result<Self, DecodeError> {
        Ok(r.read_float_value(head)? as f32)
    }
}

impl Field for f64 {
    fn write(&self, w: &mut Writer, tag: u8) {
        w.write_f64(tag, *self);
    }
    fn read_value(r: &mut Reader<'_>, head: Head) -> Result<Self, DecodeError> {
        r.read_float_value(head)
    }
}

impl Field for String {
    fn write(&self, w: &mut Writer, tag: u8) {
        w.write_string(tag, self);
    }
    fn read_value(r: &mut Reader<'_>, head: Head) -> Result<Self, DecodeError> {
        r.read_string_value(head)
    }
}

/// `vector<byte>`: a simple list.
impl Field for Bytes {
    fn write(&self, w: &mut Writer, tag: u8) {
        w.write_bytes(tag, self);
    }
    fn read_value(r: &mut Reader<'_>, head: Head) -> Result<Self, DecodeError> {
        r.read_bytes_value(head).map(Bytes::from)
    }
}

impl<T: Field> Field for Vec<T> {
    fn write(&self, w: &mut Writer, tag: u8) {
        w.write_list(tag, self);
    }
    fn read_value(r: &mut Reader<'_>, head: Head) -> Result<Self, DecodeError> {
        r.read_list_value(head)
    }
}

/// Entries go straight into the map as they decode (a repeated key keeps its last value).
impl<K: Field + Ord, V: Field> Field for BTreeMap<K, V> {
    fn write(&self, w: &mut Writer, tag: u8) {
        w.write_map(tag, self.len(), self.iter());
    }
    fn read_value(r: &mut Reader<'_>, head: Head) -> Result<Self, DecodeError> {
        r.read_map_into(
            head,
            |_| BTreeMap::new(),
            |map, k, v| {
                map.insert(k, v);
            },
        )
    }
}

/// Entries go straight into the map as they decode (a repeated key keeps its last value).
impl<K: Field + Eq + std::hash::Hash, V: Field> Field for HashMap<K, V> {
    fn write(&self, w: &mut Writer, tag: u8) {
        w.write_map(tag, self.len(), self.iter());
    }
    fn read_value(r: &mut Reader<'_>, head: Head) -> Result<Self, DecodeError> {
        r.read_map_into(head, HashMap::with_capacity, |map, k, v| {
            map.insert(k, v);
        })
    }
}

/// Implements [`Field`] for [`TarsStruct`] types (nested between struct markers).
#[macro_export]
macro_rules! struct_field {
    ($($ty:ty),* $(,)?) => {$(
        impl $crate::codec::Field for $ty {
            fn write(&self, w: &mut $crate::codec::Writer, tag: u8) {
                w.write_struct(tag, self);
            }
            fn read_value(
                r: &mut $crate::codec::Reader<'_>,
                head: $crate::codec::Head,
            ) -> Result<Self, $crate::DecodeError> {
                r.read_struct_value(head)
            }
        }
    )*};
}
