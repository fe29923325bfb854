//! Decoding. The reader only moves forward (fields arrive in ascending tag order), skips
//! unknown tags, and checks every length against what is left before using it, so a
//! hostile buffer can cost neither memory nor time beyond its own size. Element counts
//! are untrusted: a collection's pre-allocation is bounded by the bytes left in the
//! buffer (never `count × element size`), and grows only as elements actually decode.

use std::borrow::Cow;

use super::{Field, Head, TarsStruct, TarsType};
use crate::DecodeError;

/// Deepest nesting of structs, lists and maps accepted.
pub const MAX_DEPTH: usize = 64;

/// A cursor over encoded fields.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    depth: usize,
}

impl<'a> Reader<'a> {
    /// A reader at the start of `buf`.
    pub fn new(buf: &'a [u8]) -> Reader<'a> {
        Reader {
            buf,
            pos: 0,
            depth: 0,
        }
    }

    /// Bytes not read yet.
    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// How many elements of `T` to reserve room for when `count` are announced: never
    /// more than the bytes left in the buffer could hold, so a lying count costs at most
    /// the buffer's own size, whatever the element's in-memory size.
    pub fn capacity_for<T>(&self, count: usize) -> usize {
        count.min(self.remaining() / std::mem::size_of::<T>().max(1))
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        if self.remaining() < n {
            return Err(DecodeError::Incomplete);
        }
        let slice = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(slice)
    }

    fn take_array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    /// The next head and its encoded size, without consuming it; `None` at the end.
    fn peek_head(&self) -> Result<Option<(Head, usize)>, DecodeError> {
        let Some(&first) = self.buf.get(self.pos) else {
            return Ok(None);
        };
        let ty = TarsType::from_id(first & 0x0F).ok_or(DecodeError::UnknownType(first & 0x0F))?;
        let tag = first >> 4;
        if tag == 15 {
            let tag = *self.buf.get(self.pos + 1).ok_or(DecodeError::Incomplete)?;
            Ok(Some((Head { tag, ty }, 2)))
        } else {
            Ok(Some((Head { tag, ty }, 1)))
        }
    }

    /// Reads the next head.
    pub fn read_head(&mut self) -> Result<Head, DecodeError> {
        let (head, size) = self.peek_head()?.ok_or(DecodeError::Incomplete)?;
        self.pos += size;
        Ok(head)
    }

    /// Moves to the field with `tag` and consumes its head. Returns `None` (consuming
    /// nothing more) when the field is absent: the data ends, a struct ends, or a
    /// higher tag comes first.
    pub fn skip_to_tag(&mut self, tag: u8) -> Result<Option<Head>, DecodeError> {
        loop {
            let Some((head, size)) = self.peek_head()? else {
                return Ok(None);
            };
            if head.ty == TarsType::StructEnd || head.tag > tag {
                return Ok(None);
            }
            self.pos += size;
            if head.tag == tag {
                return Ok(Some(head));
            }
            self.skip_field(head.ty)?;
        }
    }

    fn enter(&mut self) -> Result<(), DecodeError> {
        if self.depth >= MAX_DEPTH {
            return Err(DecodeError::TooDeep(MAX_DEPTH));
        }
        self.depth += 1;
        Ok(())
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }

    /// A count (of list elements, map entries or bytes), checked against what is left:
    /// every element takes at least `min_each` bytes.
    fn read_count(&mut self, min_each: usize) -> Result<usize, DecodeError> {
        let head = self.skip_to_tag(0)?.ok_or(DecodeError::MissingField(0))?;
        let count = self.read_int_value(head)?;
        let fits = usize::try_from(count)
            .ok()
            .filter(|c| c.saturating_mul(min_each) <= self.remaining());
        fits.ok_or(DecodeError::InvalidLength(count))
    }

    /// Skips the payload of a field whose head was consumed.
    pub fn skip_field(&mut self, ty: TarsType) -> Result<(), DecodeError> {
        match ty {
            TarsType::Int1 => self.take(1).map(drop),
            TarsType::Int2 => self.take(2).map(drop),
            TarsType::Int4 | TarsType::Float => self.take(4).map(drop),
            TarsType::Int8 | TarsType::Double => self.take(8).map(drop),
            TarsType::String1 => {
                let len = self.take(1)?[0] as usize;
                self.take(len).map(drop)
            }
            TarsType::String4 => {
                let len = u32::from_be_bytes(self.take_array()?) as usize;
                self.take(len).map(drop)
            }
            TarsType::Map => {
                self.enter()?;
                let count = self.read_count(2)?;
                for _ in 0..count.saturating_mul(2) {
                    let head = self.read_head()?;
                    self.skip_field(head.ty)?;
                }
                self.leave();
                Ok(())
            }
            TarsType::List => {
                self.enter()?;
                let count = self.read_count(1)?;
                for _ in 0..count {
                    let head = self.read_head()?;
                    self.skip_field(head.ty)?;
                }
                self.leave();
                Ok(())
            }
            TarsType::SimpleList => {
                let inner = self.read_head()?;
                if inner.ty != TarsType::Int1 {
                    return Err(DecodeError::TypeMismatch {
                        tag: inner.tag,
                        expected: "simple list of bytes",
                        found: inner.ty as u8,
                    });
                }
                let len = self.read_count(1)?;
                self.take(len).map(drop)
            }
            TarsType::StructBegin => {
                self.enter()?;
                self.skip_to_struct_end()?;
                self.leave();
                Ok(())
            }
            TarsType::StructEnd | TarsType::Zero => Ok(()),
        }
    }

    /// Skips the rest of the current struct, including its end marker.
    pub fn skip_to_struct_end(&mut self) -> Result<(), DecodeError> {
        loop {
            let head = self.read_head()?;
            if head.ty == TarsType::StructEnd {
                return Ok(());
            }
            self.skip_field(head.ty)?;
        }
    }

    /// Reads an integer payload of any integer type.
    pub fn read_int_value(&mut self, head: Head) -> Result<i64, DecodeError> {
        Ok(match head.ty {
            TarsType::Zero => 0,
            TarsType::Int1 => i8::from_be_bytes(self.take_array()?) as i64,
            TarsType::Int2 => i16::from_be_bytes(self.take_array()?) as i64,
            TarsType::Int4 => i32::from_be_bytes(self.take_array()?) as i64,
            TarsType::Int8 => i64::from_be_bytes(self.take_array()?),
            other => {
                return Err(DecodeError::TypeMismatch {
                    tag: head.tag,
                    expected: "integer",
                    found: other as u8,
                })
            }
        })
    }

    /// Reads a float or double payload (or zero).
    pub fn read_float_value(&mut self, head: Head) -> Result<f64, DecodeError> {
        Ok(match head.ty {
            TarsType::Zero => 0.0,
            TarsType::Float => f32::from_be_bytes(self.take_array()?) as f64,
            TarsType::Double => f64::from_be_bytes(self.take_array()?),
            other => {
                return Err(DecodeError::TypeMismatch {
                    tag: head.tag,
                    expected: "float",
                    found: other as u8,
                })
            }
        })
    }

    /// Reads a string payload.
    pub fn read_string_value(&mut self, head: Head) -> Result<String, DecodeError> {
        self.read_str_value(head).map(str::to_owned)
    }

    /// Reads a string payload without copying it.
    pub fn read_str_value(&mut self, head: Head) -> Result<&'a str, DecodeError> {
        let len = match head.ty {
            TarsType::String1 => self.take(1)?[0] as usize,
            TarsType::String4 => {
                let len = u32::from_be_bytes(self.take_array()?) as usize;
                if len > self.remaining() {
                    return Err(DecodeError::InvalidLength(len as i64));
                }
                len
            }
            other => {
                return Err(DecodeError::TypeMismatch {
                    tag: head.tag,
                    expected: "string",
                    found: other as u8,
                })
            }
        };
        let bytes = self.take(len)?;
        std::str::from_utf8(bytes).map_err(|_| DecodeError::InvalidUtf8)
    }

    /// Reads a byte-list payload: a simple list, or a list of 1-byte integers.
    pub fn read_bytes_value(&mut self, head: Head) -> Result<Vec<u8>, DecodeError> {
        self.read_bytes_ref(head).map(Cow::into_owned)
    }

    /// Reads a byte-list payload, borrowed from the buffer when it is a simple list.
    pub fn read_bytes_ref(&mut self, head: Head) -> Result<Cow<'a, [u8]>, DecodeError> {
        match head.ty {
            TarsType::SimpleList => {
                let inner = self.read_head()?;
                if inner.ty != TarsType::Int1 {
                    return Err(DecodeError::TypeMismatch {
                        tag: head.tag,
                        expected: "simple list of bytes",
                        found: inner.ty as u8,
                    });
                }
                let len = self.read_count(1)?;
                Ok(Cow::Borrowed(self.take(len)?))
            }
            TarsType::List => {
                let count = self.read_count(1)?;
                let mut out = Vec::with_capacity(self.capacity_for::<u8>(count));
                for _ in 0..count {
                    let h = self.read_head()?;
                    let v = self.read_int_value(h)?;
                    out.push(i8::try_from(v).map_err(|_| DecodeError::InvalidLength(v))? as u8);
                }
                Ok(Cow::Owned(out))
            }
            other => Err(DecodeError::TypeMismatch {
                tag: head.tag,
                expected: "bytes",
                found: other as u8,
            }),
        }
    }

    /// Reads the elements of a list whose head was consumed.
    pub fn read_list_value<T: Field>(&mut self, head: Head) -> Result<Vec<T>, DecodeError> {
        if head.ty != TarsType::List {
            return Err(DecodeError::TypeMismatch {
                tag: head.tag,
                expected: "list",
                found: head.ty as u8,
            });
        }
        self.enter()?;
        let count = self.read_count(1)?;
        let mut out = Vec::with_capacity(self.capacity_for::<T>(count));
        for _ in 0..count {
            let h = self.skip_to_tag(0)?.ok_or(DecodeError::MissingField(0))?;
            out.push(T::read_value(self, h)?);
        }
        self.leave();
        Ok(out)
    }

    /// Reads the entries of a map whose head was consumed.
    pub fn read_map_value<K: Field, V: Field>(
        &mut self,
        head: Head,
    ) -> Result<Vec<(K, V)>, DecodeError> {
        self.read_map_into(head, Vec::with_capacity, |out, k, v| out.push((k, v)))
    }

    /// Reads the entries of a map whose head was consumed into a collection: `make`
    /// creates it given a capacity (the announced count, bounded by
    /// [`Reader::capacity_for`]), `add` puts each entry in as it decodes.
    pub fn read_map_into<K: Field, V: Field, C>(
        &mut self,
        head: Head,
        make: impl FnOnce(usize) -> C,
        mut add: impl FnMut(&mut C, K, V),
    ) -> Result<C, DecodeError> {
        if head.ty != TarsType::Map {
            return Err(DecodeError::TypeMismatch {
                tag: head.tag,
                expected: "map",
                found: head.ty as u8,
            });
        }
        self.enter()?;
        let count = self.read_count(2)?;
        let mut out = make(self.capacity_for::<(K, V)>(count));
        for _ in 0..count {
            let kh = self.skip_to_tag(0)?.ok_or(DecodeError::MissingField(0))?;
            let k = K::read_value(self, kh)?;
            let vh = self.skip_to_tag(1)?.ok_or(DecodeError::MissingField(1))?;
            let v = V::read_value(self, vh)?;
            add(&mut out, k, v);
        }
        self.leave();
        Ok(out)
    }

    /// Reads a nested struct whose head was consumed.
    pub fn read_struct_value<T: TarsStruct>(&mut self, head: Head) -> Result<T, DecodeError> {
        if head.ty != TarsType::StructBegin {
            return Err(DecodeError::TypeMismatch {
                tag: head.tag,
                expected: "struct",
                found: head.ty as u8,
            });
        }
        self.enter()?;
        let value = T::read_fields(self)?;
        self.skip_to_struct_end()?;
        self.leave();
        Ok(value)
    }

    /// Reads a required field.
    pub fn required<T: Field>(&mut self, tag: u8) -> Result<T, DecodeError> {
        let head = self
            .skip_to_tag(tag)?
            .ok_or(DecodeError::MissingField(tag))?;
        T::read_value(self, head)
    }

    /// Reads an optional field, `default` when absent.
    pub fn optional<T: Field>(&mut self, tag: u8, default: T) -> Result<T, DecodeError> {
        match self.skip_to_tag(tag)? {
            Some(head) => T::read_value(self, head),
            None => Ok(default),
        }
    }
}
