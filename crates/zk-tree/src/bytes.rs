//! Serde helpers that encode node data (`Option<Vec<u8>>`) as a byte string instead of a
//! sequence of `u8`.
//!
//! In postcard (and bincode) a byte string and a sequence of bytes are the same on the wire (a
//! length, then the raw bytes), so the format does not change; but the bytes are copied in
//! one piece instead of one element at a time, which made decoding a snapshot of a million
//! nodes noticeably slower. Self-describing formats that have no byte type (JSON) still see a
//! sequence, which the decoder accepts too.

/// `#[serde(with = "crate::bytes::option")]` for `Option<Vec<u8>>`.
pub(crate) mod option {
    use std::fmt;

    use serde::de::{Deserializer, SeqAccess, Visitor};
    use serde::Serializer;

    /// Serialises `Some` data as a byte string.
    pub(crate) fn serialize<S: Serializer>(
        data: &Option<Vec<u8>>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match data {
            None => serializer.serialize_none(),
            Some(bytes) => serializer.serialize_some(&Bytes(bytes)),
        }
    }

    /// Deserialises what [`serialize`] wrote (or a sequence of bytes).
    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Vec<u8>>, D::Error> {
        deserializer.deserialize_option(OptionVisitor)
    }

    struct Bytes<'a>(&'a [u8]);

    impl serde::Serialize for Bytes<'_> {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            serializer.serialize_bytes(self.0)
        }
    }

    struct OptionVisitor;

    impl<'de> Visitor<'de> for OptionVisitor {
        type Value = Option<Vec<u8>>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("optional bytes")
        }

        fn visit_none<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_byte_buf(BytesVisitor).map(Some)
        }
    }

    struct BytesVisitor;

    impl<'de> Visitor<'de> for BytesVisitor {
        type Value = Vec<u8>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("bytes")
        }

        fn visit_bytes<E: serde::de::Error>(self, bytes: &[u8]) -> Result<Vec<u8>, E> {
            Ok(bytes.to_vec())
        }

        fn visit_byte_buf<E: serde::de::Error>(self, bytes: Vec<u8>) -> Result<Vec<u8>, E> {
            Ok(bytes)
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<u8>, A::Error> {
            // Cautious: a hostile length hint must not allocate much up front.
            let mut bytes = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
            while let Some(byte) = seq.next_element::<u8>()? {
                bytes.push(byte);
            }
            Ok(bytes)
        }
    }
}

#[cfg(test)]
mod tests {
    use serde::{Deserialize, Serialize};

    #[derive(Serialize, Deserialize, PartialEq, Debug)]
    struct Plain {
        data: Option<Vec<u8>>,
    }

    #[derive(Serialize, Deserialize, PartialEq, Debug)]
    struct AsBytes {
        #[serde(with = "super::option")]
        data: Option<Vec<u8>>,
    }

    #[test]
    fn postcard_bytes_are_the_same_as_a_sequence() {
        for data in [None, Some(vec![]), Some(vec![7]), Some((0..=255).collect())] {
            let plain = postcard::to_allocvec(&Plain { data: data.clone() }).expect("plain");
            let bytes = postcard::to_allocvec(&AsBytes { data: data.clone() }).expect("bytes");
            assert_eq!(plain, bytes);
            let back: AsBytes = postcard::from_bytes(&plain).expect("decode");
            assert_eq!(back.data, data);
        }
    }

    #[test]
    fn truncated_input_is_an_error() {
        let bytes = postcard::to_allocvec(&AsBytes {
            data: Some(vec![1; 300]),
        })
        .expect("encode");
        for cut in 0..bytes.len() {
            assert!(postcard::from_bytes::<AsBytes>(&bytes[..cut]).is_err());
        }
    }
}
