//! A small canonical binary codec: fixed-width little-endian integers,
//! length-prefixed byte strings with explicit upper bounds, no optional
//! encodings. One value has exactly one encoding, so hashes and signatures
//! over it are well defined. Decoding is total: every failure is a
//! [`DecodeError`], never a panic, and nothing is allocated beyond the bounds
//! the caller states.

/// Why some bytes could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The input ended before the value did.
    #[error("input ends early: needed {needed} more bytes at offset {offset}")]
    UnexpectedEnd {
        /// Offset where reading stopped.
        offset: usize,
        /// Bytes still needed.
        needed: usize,
    },
    /// Bytes were left over after the value.
    #[error("{0} trailing bytes after the value")]
    TrailingBytes(usize),
    /// A length prefix exceeds its documented limit.
    #[error("{field} is {len} bytes, limit is {max}")]
    TooLong {
        /// Which field.
        field: &'static str,
        /// Its declared length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// An unknown version or tag byte.
    #[error("unknown {field} tag {tag}")]
    UnknownTag {
        /// Which field.
        field: &'static str,
        /// The tag byte read.
        tag: u8,
    },
    /// A field's content is invalid (e.g. not UTF-8).
    #[error("invalid {field}: {reason}")]
    Invalid {
        /// Which field.
        field: &'static str,
        /// Why.
        reason: &'static str,
    },
}

/// Appends canonical encodings to a buffer.
#[derive(Default, Debug)]
pub struct Writer {
    buf: Vec<u8>,
}

impl Writer {
    /// A writer with room for `capacity` bytes.
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            buf: Vec::with_capacity(capacity),
        }
    }
    /// One byte.
    pub fn u8(&mut self, v: u8) -> &mut Self {
        self.buf.push(v);
        self
    }
    /// A little-endian u16.
    pub fn u16(&mut self, v: u16) -> &mut Self {
        self.buf.extend_from_slice(&v.to_le_bytes());
        self
    }
    /// A little-endian u32.
    pub fn u32(&mut self, v: u32) -> &mut Self {
        self.buf.extend_from_slice(&v.to_le_bytes());
        self
    }
    /// A little-endian u64.
    pub fn u64(&mut self, v: u64) -> &mut Self {
        self.buf.extend_from_slice(&v.to_le_bytes());
        self
    }
    /// Raw bytes of a length both sides know (keys, hashes).
    pub fn fixed(&mut self, bytes: &[u8]) -> &mut Self {
        self.buf.extend_from_slice(bytes);
        self
    }
    /// Bytes with a u8 length prefix. The caller guarantees `len <= 255`.
    pub fn short_bytes(&mut self, bytes: &[u8]) -> &mut Self {
        debug_assert!(bytes.len() <= u8::MAX as usize);
        self.u8(bytes.len() as u8).fixed(bytes)
    }
    /// Bytes with a u32 length prefix.
    pub fn long_bytes(&mut self, bytes: &[u8]) -> &mut Self {
        self.u32(bytes.len() as u32).fixed(bytes)
    }
    /// The encoding so far.
    pub fn finish(self) -> Vec<u8> {
        self.buf
    }
}

/// Reads canonical encodings from a byte slice.
#[derive(Debug)]
pub struct Reader<'a> {
    bytes: &'a [u8],
    offset: usize,
}

impl<'a> Reader<'a> {
    /// A reader over `bytes`.
    pub fn new(bytes: &'a [u8]) -> Self {
        Self { bytes, offset: 0 }
    }
    /// Bytes not read yet.
    pub fn remaining(&self) -> usize {
        self.bytes.len() - self.offset
    }
    /// Takes exactly `n` bytes.
    pub fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        if self.remaining() < n {
            return Err(DecodeError::UnexpectedEnd {
                offset: self.offset,
                needed: n - self.remaining(),
            });
        }
        let out = &self.bytes[self.offset..self.offset + n];
        self.offset += n;
        Ok(out)
    }
    /// A fixed-size array.
    pub fn array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }
    /// One byte.
    pub fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.array::<1>()?[0])
    }
    /// A little-endian u16.
    pub fn u16(&mut self) -> Result<u16, DecodeError> {
        Ok(u16::from_le_bytes(self.array()?))
    }
    /// A little-endian u32.
    pub fn u32(&mut self) -> Result<u32, DecodeError> {
        Ok(u32::from_le_bytes(self.array()?))
    }
    /// A little-endian u64.
    pub fn u64(&mut self) -> Result<u64, DecodeError> {
        Ok(u64::from_le_bytes(self.array()?))
    }
    /// Bytes with a u8 length prefix, at most `max` long.
    pub fn short_bytes(
        &mut self,
        field: &'static str,
        max: usize,
    ) -> Result<&'a [u8], DecodeError> {
        let len = self.u8()? as usize;
        if len > max {
            return Err(DecodeError::TooLong { field, len, max });
        }
        self.take(len)
    }
    /// Bytes with a u32 length prefix, at most `max` long.
    pub fn long_bytes(&mut self, field: &'static str, max: usize) -> Result<&'a [u8], DecodeError> {
        let len = self.u32()? as usize;
        if len > max {
            return Err(DecodeError::TooLong { field, len, max });
        }
        self.take(len)
    }
    /// Reads a version byte that must equal `expected` (`field` names it in the error).
    pub fn version(&mut self, field: &'static str, expected: u8) -> Result<u8, DecodeError> {
        match self.u8()? {
            v if v == expected => Ok(v),
            tag => Err(DecodeError::UnknownTag { field, tag }),
        }
    }
    /// Fails unless every byte was read.
    pub fn finish(self) -> Result<(), DecodeError> {
        match self.remaining() {
            0 => Ok(()),
            n => Err(DecodeError::TrailingBytes(n)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn limits_and_ends_are_typed_errors() {
        let mut w = Writer::default();
        w.short_bytes(b"hello");
        let bytes = w.finish();
        assert_eq!(
            Reader::new(&bytes).short_bytes("memo", 3),
            Err(DecodeError::TooLong {
                field: "memo",
                len: 5,
                max: 3
            })
        );
        assert!(matches!(
            Reader::new(&bytes[..3]).short_bytes("memo", 10),
            Err(DecodeError::UnexpectedEnd { .. })
        ));
        let mut r = Reader::new(&bytes);
        r.u8().unwrap();
        assert_eq!(r.finish(), Err(DecodeError::TrailingBytes(5)));
    }

    proptest! {
        #[test]
        fn integers_round_trip(a: u8, b: u16, c: u32, d: u64, s in proptest::collection::vec(any::<u8>(), 0..300)) {
            let mut w = Writer::default();
            w.u8(a).u16(b).u32(c).u64(d).long_bytes(&s);
            let bytes = w.finish();
            let mut r = Reader::new(&bytes);
            prop_assert_eq!(r.u8().unwrap(), a);
            prop_assert_eq!(r.u16().unwrap(), b);
            prop_assert_eq!(r.u32().unwrap(), c);
            prop_assert_eq!(r.u64().unwrap(), d);
            prop_assert_eq!(r.long_bytes("s", 300).unwrap(), &s[..]);
            r.finish().unwrap();
        }
    }
}
