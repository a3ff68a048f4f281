//! Serde helpers that encode node data (`Option<Vec<u8>>` or `Option<Arc<[u8]>>`) as a byte
//! string instead of a sequence of `u8`, and a shared path (`Arc<str>`) as a string.
//!
//! In postcard (and bincode) a byte string and a sequence of bytes are the same on the wire (a
//! length, then the raw bytes), so the format does not change; but the bytes are copied in
//! one piece instead of one element at a time, which made decoding a snapshot of a million
//! nodes noticeably slower. Self-describing formats that have no byte type (JSON) still see a
//! sequence, which the decoder accepts too.

/// `#[serde(with = "crate::bytes::option")]` for `Option<Vec<u8>>` and `Option<Arc<[u8]>>`.
pub(crate) mod option {
    use std::fmt;
    use std::marker::PhantomData;

    use serde::de::{Deserializer, SeqAccess, Visitor};
    use serde::Serializer;

    /// Serialises `Some` data as a byte string.
    pub(crate) fn serialize<S: Serializer, B: AsRef<[u8]>>(
        data: &Option<B>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match data {
            None => serializer.serialize_none(),
            Some(bytes) => serializer.serialize_some(&Bytes(bytes.as_ref())),
        }
    }

    /// Deserialises what [`serialize`] wrote (or a sequence of bytes). From a borrowed input
    /// (postcard's `from_bytes`) the bytes are copied once, straight into `B`.
    pub(crate) fn deserialize<
        'de,
        D: Deserializer<'de>,
        B: From<Vec<u8>> + for<'a> From<&'a [u8]>,
    >(
        deserializer: D,
    ) -> Result<Option<B>, D::Error> {
        deserializer.deserialize_option(OptionVisitor(PhantomData))
    }

    struct Bytes<'a>(&'a [u8]);

    impl serde::Serialize for Bytes<'_> {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            serializer.serialize_bytes(self.0)
        }
    }

    struct OptionVisitor<B>(PhantomData<B>);

    impl<'de, B: From<Vec<u8>> + for<'a> From<&'a [u8]>> Visitor<'de> for OptionVisitor<B> {
        type Value = Option<B>;

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
            d.deserialize_byte_buf(BytesVisitor(PhantomData)).map(Some)
        }
    }

    struct BytesVisitor<B>(PhantomData<B>);

    impl<'de, B: From<Vec<u8>> + for<'a> From<&'a [u8]>> Visitor<'de> for BytesVisitor<B> {
        type Value = B;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("bytes")
        }

        fn visit_bytes<E: serde::de::Error>(self, bytes: &[u8]) -> Result<B, E> {
            Ok(B::from(bytes))
        }

        fn visit_byte_buf<E: serde::de::Error>(self, bytes: Vec<u8>) -> Result<B, E> {
            Ok(B::from(bytes))
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<B, A::Error> {
            // Cautious: a hostile length hint must not allocate much up front.
            let mut bytes = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
            while let Some(byte) = seq.next_element::<u8>()? {
                bytes.push(byte);
            }
            Ok(B::from(bytes))
        }
    }
}

/// `#[serde(with = "crate::bytes::shared_str")]` for `Arc<str>`: a string on the wire, copied
/// once from a borrowed input.
pub(crate) mod shared_str {
    use std::fmt;
    use std::sync::Arc;

    use serde::de::{Deserializer, Visitor};
    use serde::Serializer;

    /// Serialises the string.
    pub(crate) fn serialize<S: Serializer>(
        text: &Arc<str>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(text)
    }

    /// Deserialises a string into an `Arc<str>`.
    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Arc<str>, D::Error> {
        deserializer.deserialize_str(SharedStrVisitor)
    }

    struct SharedStrVisitor;

    impl Visitor<'_> for SharedStrVisitor {
        type Value = Arc<str>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a string")
        }

        fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Arc<str>, E> {
            Ok(Arc::from(text))
        }

        fn visit_string<E: serde::de::Error>(self, text: String) -> Result<Arc<str>, E> {
            Ok(Arc::from(text))
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
