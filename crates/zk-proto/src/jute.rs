//! Jute's binary archive: big-endian integers, length-prefixed strings, buffers and vectors,
//! where a length of -1 means null.
//!
//! [`Reader`] decodes from a borrowed slice. Every length it reads is checked against the bytes
//! that remain before anything is allocated, so a hostile length costs nothing.

use thiserror::Error;

/// Why a record could not be decoded.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The input ended before the record did.
    #[error("record truncated: needed {needed} more bytes, {remaining} left")]
    Truncated {
        /// Bytes the next field needed.
        needed: usize,
        /// Bytes that were left.
        remaining: usize,
    },
    /// A length prefix was negative (other than -1 for null) or larger than the input.
    #[error("bad length {0}")]
    BadLength(i32),
    /// A string was not valid UTF-8.
    #[error("string is not valid UTF-8")]
    BadUtf8,
    /// A field held a value the protocol does not allow.
    #[error("bad value for {field}: {value}")]
    BadValue {
        /// The field's name.
        field: &'static str,
        /// The value found.
        value: i64,
    },
    /// Bytes were left after the record ended where none may be.
    #[error("{0} trailing bytes after the record")]
    TrailingBytes(usize),
}

const _: () = {
    const fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<DecodeError>();
};

/// A cursor over one frame's bytes.
#[derive(Clone, Debug)]
pub struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    /// A reader over `bytes`.
    pub fn new(bytes: &'a [u8]) -> Reader<'a> {
        Reader { bytes }
    }

    /// Bytes not yet read.
    pub fn remaining(&self) -> usize {
        self.bytes.len()
    }

    /// Whether every byte has been read.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// Fails with [`DecodeError::TrailingBytes`] unless every byte has been read.
    pub fn finish(&self) -> Result<(), DecodeError> {
        if self.bytes.is_empty() {
            Ok(())
        } else {
            Err(DecodeError::TrailingBytes(self.bytes.len()))
        }
    }

    /// Takes the next `n` bytes.
    pub fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        if n > self.bytes.len() {
            return Err(DecodeError::Truncated {
                needed: n,
                remaining: self.bytes.len(),
            });
        }
        let (head, tail) = self.bytes.split_at(n);
        self.bytes = tail;
        Ok(head)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    /// Reads a jute `byte`.
    pub fn read_u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.array::<1>()?[0])
    }

    /// Reads a jute `boolean` (any non-zero byte is true).
    pub fn read_bool(&mut self) -> Result<bool, DecodeError> {
        Ok(self.read_u8()? != 0)
    }

    /// Reads a jute `int`.
    pub fn read_i32(&mut self) -> Result<i32, DecodeError> {
        Ok(i32::from_be_bytes(self.array()?))
    }

    /// Reads a jute `long`.
    pub fn read_i64(&mut self) -> Result<i64, DecodeError> {
        Ok(i64::from_be_bytes(self.array()?))
    }

    /// Reads a length prefix: `None` for -1 (null), an error for other negative values or a
    /// length that needs more than `min_element_size * len` bytes than are left.
    fn read_len(&mut self, min_element_size: usize) -> Result<Option<usize>, DecodeError> {
        let len = self.read_i32()?;
        if len == -1 {
            return Ok(None);
        }
        let Ok(n) = usize::try_from(len) else {
            return Err(DecodeError::BadLength(len));
        };
        if n.saturating_mul(min_element_size) > self.bytes.len() {
            return Err(DecodeError::BadLength(len));
        }
        Ok(Some(n))
    }

    /// Reads a jute `buffer`; null (-1) comes back as `None`.
    pub fn read_buffer_opt(&mut self) -> Result<Option<&'a [u8]>, DecodeError> {
        match self.read_len(1)? {
            None => Ok(None),
            Some(n) => self.take(n).map(Some),
        }
    }

    /// Reads a jute `buffer`, with null read as empty.
    pub fn read_buffer(&mut self) -> Result<Vec<u8>, DecodeError> {
        Ok(self.read_buffer_opt()?.unwrap_or_default().to_vec())
    }

    /// Reads a jute `ustring` without copying; null (-1) comes back as `None`. Unlike
    /// [`Reader::read_string`] this is strict: invalid UTF-8 is [`DecodeError::BadUtf8`].
    pub fn read_str_opt(&mut self) -> Result<Option<&'a str>, DecodeError> {
        match self.read_buffer_opt()? {
            None => Ok(None),
            Some(bytes) => core::str::from_utf8(bytes)
                .map(Some)
                .map_err(|_| DecodeError::BadUtf8),
        }
    }

    /// Reads a jute `ustring`, with null read as the empty string. Like Java's reader
    /// (`new String(bytes, UTF_8)`), invalid UTF-8, including the CESU-8 surrogates Java's
    /// writer emits for characters outside the BMP, becomes U+FFFD instead of an error.
    pub fn read_string(&mut self) -> Result<String, DecodeError> {
        Ok(self.read_string_opt()?.unwrap_or_default())
    }

    /// Reads a jute `ustring` where null (`None`) differs from empty, decoding invalid UTF-8
    /// to U+FFFD as [`Reader::read_string`] does.
    pub fn read_string_opt(&mut self) -> Result<Option<String>, DecodeError> {
        Ok(self.read_buffer_opt()?.map(java_utf8_lossy))
    }

    /// Reads a jute `vector`, with null read as empty. Like Java's `BinaryIndex`, any other
    /// negative count also reads as empty. Each element takes at least `min_element_size`
    /// bytes, which bounds the allocation by the input's length.
    pub fn read_vec<T>(
        &mut self,
        min_element_size: usize,
        mut element: impl FnMut(&mut Reader<'a>) -> Result<T, DecodeError>,
    ) -> Result<Vec<T>, DecodeError> {
        let count = self.read_i32()?;
        let Ok(n) = usize::try_from(count) else {
            return Ok(Vec::new());
        };
        if n.saturating_mul(min_element_size.max(1)) > self.bytes.len() {
            return Err(DecodeError::BadLength(count));
        }
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            out.push(element(self)?);
        }
        Ok(out)
    }

    /// Reads a vector of `ustring`s.
    pub fn read_string_vec(&mut self) -> Result<Vec<String>, DecodeError> {
        self.read_vec(4, Reader::read_string)
    }
}

/// Decodes UTF-8 the way Java's `new String(bytes, UTF_8)` does: each encoded surrogate
/// (`ED A0..BF 80..BF`, what Java's writer emits for characters outside the BMP) becomes one
/// U+FFFD, and any other malformed sequence one U+FFFD per maximal invalid subpart.
fn java_utf8_lossy(bytes: &[u8]) -> String {
    let mut rest = bytes;
    let mut out = String::new();
    loop {
        match core::str::from_utf8(rest) {
            Ok(valid) => {
                if out.is_empty() {
                    return valid.to_owned();
                }
                out.push_str(valid);
                return out;
            }
            Err(error) => {
                let (valid, invalid) = rest.split_at(error.valid_up_to());
                // The prefix was just validated.
                out.push_str(core::str::from_utf8(valid).unwrap_or_default());
                out.push(char::REPLACEMENT_CHARACTER);
                let skip = match invalid {
                    [0xed, 0xa0..=0xbf, 0x80..=0xbf, ..] => 3,
                    _ => error.error_len().unwrap_or(invalid.len()),
                };
                rest = &invalid[skip..];
            }
        }
    }
}

/// Writes jute's primitives onto a byte vector.
pub trait Writer {
    /// Writes a jute `byte`.
    fn write_u8(&mut self, value: u8);
    /// Writes a jute `boolean` as 0 or 1.
    fn write_bool(&mut self, value: bool);
    /// Writes a jute `int`.
    fn write_i32(&mut self, value: i32);
    /// Writes a jute `long`.
    fn write_i64(&mut self, value: i64);
    /// Writes a jute `buffer`.
    fn write_buffer(&mut self, value: &[u8]);
    /// Writes a null jute `buffer` or `ustring` (length -1).
    fn write_null(&mut self);
    /// Writes a jute `ustring` the way Java's writer does: UTF-8, except that a character
    /// outside the BMP becomes its two UTF-16 surrogates, 3 bytes each (CESU-8).
    fn write_str(&mut self, value: &str);
    /// Writes a vector of `ustring`s.
    fn write_string_vec<S: AsRef<str>>(&mut self, values: &[S]);
}

fn len_i32(len: usize) -> i32 {
    // Frames are bounded by jute.maxbuffer (at most i32::MAX); a longer value is a caller bug.
    i32::try_from(len).expect("jute length exceeds i32::MAX")
}

impl Writer for Vec<u8> {
    fn write_u8(&mut self, value: u8) {
        self.push(value);
    }
    fn write_bool(&mut self, value: bool) {
        self.push(u8::from(value));
    }
    fn write_i32(&mut self, value: i32) {
        self.extend_from_slice(&value.to_be_bytes());
    }
    fn write_i64(&mut self, value: i64) {
        self.extend_from_slice(&value.to_be_bytes());
    }
    fn write_buffer(&mut self, value: &[u8]) {
        self.write_i32(len_i32(value.len()));
        self.extend_from_slice(value);
    }
    fn write_null(&mut self) {
        self.write_i32(-1);
    }
    fn write_str(&mut self, value: &str) {
        // Only characters outside the BMP (4-byte UTF-8, lead byte 0xF0..) differ from UTF-8.
        if !value.bytes().any(|b| b >= 0xf0) {
            self.write_buffer(value.as_bytes());
            return;
        }
        let start = self.len();
        self.write_i32(0);
        let mut utf8 = [0u8; 4];
        let mut utf16 = [0u16; 2];
        for c in value.chars() {
            if c.len_utf8() < 4 {
                self.extend_from_slice(c.encode_utf8(&mut utf8).as_bytes());
                continue;
            }
            // Each surrogate on its own (0xD800..0xDFFF, always 3 bytes), as Java's
            // BinaryOutputArchive.writeString encodes every UTF-16 unit.
            for &unit in c.encode_utf16(&mut utf16).iter() {
                self.push(0xe0 | (unit >> 12) as u8);
                self.push(0x80 | ((unit >> 6) & 0x3f) as u8);
                self.push(0x80 | (unit & 0x3f) as u8);
            }
        }
        let len = len_i32(self.len() - start - 4);
        self[start..start + 4].copy_from_slice(&len.to_be_bytes());
    }
    fn write_string_vec<S: AsRef<str>>(&mut self, values: &[S]) {
        self.write_i32(len_i32(values.len()));
        for value in values {
            self.write_str(value.as_ref());
        }
    }
}

/// A jute record: fields in declaration order, no header, no padding.
pub trait Record: Sized {
    /// Appends the record's bytes to `out`.
    fn encode(&self, out: &mut Vec<u8>);
    /// Reads the record from `reader`.
    fn decode(reader: &mut Reader<'_>) -> Result<Self, DecodeError>;

    /// The record as a fresh byte vector.
    fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode(&mut out);
        out
    }

    /// Decodes a record that must fill `bytes` exactly.
    fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut reader = Reader::new(bytes);
        let record = Self::decode(&mut reader)?;
        reader.finish()?;
        Ok(record)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn null_and_empty_strings_differ_on_the_wire() {
        let mut out = Vec::new();
        out.write_null();
        out.write_str("");
        assert_eq!(out, [0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]);
        let mut reader = Reader::new(&out);
        assert_eq!(reader.read_str_opt(), Ok(None));
        assert_eq!(reader.read_str_opt(), Ok(Some("")));
        assert!(reader.is_empty());
    }

    #[test]
    fn a_length_beyond_the_input_is_refused_before_allocating() {
        let mut out = Vec::new();
        out.write_i32(i32::MAX);
        assert_eq!(
            Reader::new(&out).read_string_vec(),
            Err(DecodeError::BadLength(i32::MAX))
        );
        assert_eq!(
            Reader::new(&out).read_buffer(),
            Err(DecodeError::BadLength(i32::MAX))
        );
    }

    #[test]
    fn negative_vector_counts_read_as_empty_like_java() {
        let mut out = Vec::new();
        out.write_i32(-5);
        let mut reader = Reader::new(&out);
        assert_eq!(reader.read_string_vec(), Ok(Vec::new()));
        assert!(reader.is_empty());
    }

    #[test]
    fn invalid_utf8_reads_as_replacement_characters_like_java() {
        // 0xc3 0x28 is an invalid sequence; ED A0 BD ED B8 80 is U+1F600 as CESU-8.
        let mut out = Vec::new();
        out.write_buffer(&[0xc3, 0x28]);
        out.write_buffer(&[b'/', 0xed, 0xa0, 0xbd, 0xed, 0xb8, 0x80, b'x']);
        let mut reader = Reader::new(&out);
        assert_eq!(reader.read_string(), Ok("\u{fffd}(".to_owned()));
        assert_eq!(reader.read_string(), Ok("/\u{fffd}\u{fffd}x".to_owned()));
        assert_eq!(Reader::new(&out).read_str_opt(), Err(DecodeError::BadUtf8));
    }

    #[test]
    fn characters_outside_the_bmp_are_written_as_cesu8_like_java() {
        let mut out = Vec::new();
        out.write_str("/\u{1f600}\u{0}\u{e9}");
        assert_eq!(
            out,
            [0, 0, 0, 10, b'/', 0xed, 0xa0, 0xbd, 0xed, 0xb8, 0x80, 0, 0xc3, 0xa9]
        );
    }

    #[test]
    fn negative_lengths_other_than_null_are_refused() {
        let mut out = Vec::new();
        out.write_i32(-2);
        assert_eq!(
            Reader::new(&out).read_buffer_opt(),
            Err(DecodeError::BadLength(-2))
        );
    }
}
