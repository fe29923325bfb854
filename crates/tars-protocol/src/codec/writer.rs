//! Encoding.

use bytes::{BufMut, Bytes, BytesMut};

use super::{Field, TarsStruct, TarsType};

/// Appends encoded fields to a buffer.
#[derive(Debug, Default)]
pub struct Writer {
    buf: BytesMut,
}

impl Writer {
    /// An empty writer.
    pub fn new() -> Writer {
        Writer::default()
    }

    /// A writer whose buffer starts with `len` zero bytes, for a prefix filled in later.
    pub fn with_prefix(len: usize) -> Writer {
        let mut buf = BytesMut::new();
        buf.resize(len, 0);
        Writer { buf }
    }

    /// The bytes written so far.
    pub fn into_bytes(self) -> Bytes {
        self.buf.freeze()
    }

    /// The bytes written so far, still writable.
    pub fn into_bytes_mut(self) -> BytesMut {
        self.buf
    }

    /// Writes a head.
    pub fn head(&mut self, tag: u8, ty: TarsType) {
        if tag < 15 {
            self.buf.put_u8((tag << 4) | ty as u8);
        } else {
            self.buf.put_u8(0xF0 | ty as u8);
            self.buf.put_u8(tag);
        }
    }

    /// Writes an integer of any declared width in its most compact form.
    pub fn write_int(&mut self, tag: u8, value: i64) {
        if value == 0 {
            self.head(tag, TarsType::Zero);
        } else if let Ok(v) = i8::try_from(value) {
            self.head(tag, TarsType::Int1);
            self.buf.put_i8(v);
        } else if let Ok(v) = i16::try_from(value) {
            self.head(tag, TarsType::Int2);
            self.buf.put_i16(v);
        } else if let Ok(v) = i32::try_from(value) {
            self.head(tag, TarsType::Int4);
            self.buf.put_i32(v);
        } else {
            self.head(tag, TarsType::Int8);
            self.buf.put_i64(value);
        }
    }

    /// Writes a float; zero is the bare ZERO head, as the official encoders do.
    pub fn write_f32(&mut self, tag: u8, value: f32) {
        if value == 0.0 {
            self.head(tag, TarsType::Zero);
        } else {
            self.head(tag, TarsType::Float);
            self.buf.put_f32(value);
        }
    }

    /// Writes a double; zero is the bare ZERO head.
    pub fn write_f64(&mut self, tag: u8, value: f64) {
        if value == 0.0 {
            self.head(tag, TarsType::Zero);
        } else {
            self.head(tag, TarsType::Double);
            self.buf.put_f64(value);
        }
    }

    /// Writes a string, with a 1-byte length up to 255 bytes and a 4-byte one above.
    pub fn write_string(&mut self, tag: u8, value: &str) {
        let bytes = value.as_bytes();
        if let Ok(len) = u8::try_from(bytes.len()) {
            self.head(tag, TarsType::String1);
            self.buf.put_u8(len);
        } else {
            self.head(tag, TarsType::String4);
            self.buf.put_u32(bytes.len() as u32);
        }
        self.buf.put_slice(bytes);
    }

    /// Writes a byte list (`vector<byte>`) as a simple list.
    pub fn write_bytes(&mut self, tag: u8, value: &[u8]) {
        self.head(tag, TarsType::SimpleList);
        self.head(0, TarsType::Int1);
        self.write_int(0, value.len() as i64);
        self.buf.put_slice(value);
    }

    /// Writes a list of fields.
    pub fn write_list<T: Field>(&mut self, tag: u8, items: &[T]) {
        self.head(tag, TarsType::List);
        self.write_int(0, items.len() as i64);
        for item in items {
            item.write(self, 0);
        }
    }

    /// Writes a map from its entries, in the iterator's order.
    pub fn write_map<'a, K, V, I>(&mut self, tag: u8, len: usize, entries: I)
    where
        K: Field + 'a,
        V: Field + 'a,
        I: IntoIterator<Item = (&'a K, &'a V)>,
    {
        self.head(tag, TarsType::Map);
        self.write_int(0, len as i64);
        for (k, v) in entries {
            k.write(self, 0);
            v.write(self, 1);
        }
    }

    /// Writes a nested struct between its begin and end markers.
    pub fn write_struct<T: TarsStruct>(&mut self, tag: u8, value: &T) {
        self.head(tag, TarsType::StructBegin);
        value.write_fields(self);
        self.head(0, TarsType::StructEnd);
    }
}
