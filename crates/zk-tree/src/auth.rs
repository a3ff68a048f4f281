//! Authentication: turning an auth packet into identities (`digest` and `ip` schemes of
//! ZooKeeper's default `ProviderRegistry`), and the SHA-1 + base64 digest ZooKeeper's
//! `DigestAuthenticationProvider.generateDigest` computes.

use thiserror::Error;
use zk_proto::Id;

/// The auth packet named an unknown scheme (the server replies AUTHFAILED and closes).
#[derive(Clone, PartialEq, Eq, Debug, Error)]
#[error("authentication failed for scheme {scheme:?}")]
pub struct AuthFailed {
    /// The scheme the client asked for.
    pub scheme: String,
}

/// `digest:user:base64(sha1("user:password"))` for `user:password`. The user is everything
/// before the first `:` (the whole text when there is none), as `generateDigest` does.
pub fn digest_id(user_password: &str) -> Id {
    Id::new("digest", generate_digest(user_password))
}

/// `user:base64(sha1(user_password))`: the id part of [`digest_id`], and the format of the
/// `superDigest` setting.
pub fn generate_digest(user_password: &str) -> String {
    let user = user_password.split(':').next().unwrap_or("");
    format!("{user}:{}", base64(&sha1(user_password.as_bytes())))
}

/// Handles an auth packet (opcode 100): the ids to add to the connection, or [`AuthFailed`].
///
/// * `digest`: the data is `user:password` (UTF-8, invalid bytes replaced); adds
///   `digest:user:hash`, preceded by `super:` when the digest equals `super_digest`.
/// * `ip`: adds `ip:<client_ip>` (ZooKeeper's IP provider ignores the data).
/// * anything else: [`AuthFailed`].
pub fn authenticate(
    scheme: &str,
    auth_data: &[u8],
    client_ip: &str,
    super_digest: Option<&str>,
) -> Result<Vec<Id>, AuthFailed> {
    match scheme {
        "digest" => {
            let text = String::from_utf8_lossy(auth_data);
            let digest = generate_digest(&text);
            let mut ids = Vec::with_capacity(2);
            if super_digest == Some(digest.as_str()) {
                ids.push(Id::new("super", ""));
            }
            ids.push(Id::new("digest", digest));
            Ok(ids)
        }
        "ip" => Ok(vec![Id::new("ip", client_ip)]),
        _ => Err(AuthFailed {
            scheme: scheme.to_owned(),
        }),
    }
}

/// Standard base64 with padding (the alphabet of ZooKeeper's own encoder).
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b0 = u32::from(chunk[0]);
        let b1 = chunk.get(1).copied().map_or(0, u32::from);
        let b2 = chunk.get(2).copied().map_or(0, u32::from);
        let v = (b0 << 16) | (b1 << 8) | b2;
        let sextet = |shift: u32| char::from(ALPHABET[((v >> shift) & 0x3f) as usize]);
        out.push(sextet(18));
        out.push(sextet(12));
        out.push(if chunk.len() > 1 { sextet(6) } else { '=' });
        out.push(if chunk.len() > 2 { sextet(0) } else { '=' });
    }
    out
}

/// SHA-1 (FIPS 180-4) of a byte string.
fn sha1(message: &[u8]) -> [u8; 20] {
    let mut h: [u32; 5] = [
        0x6745_2301,
        0xEFCD_AB89,
        0x98BA_DCFE,
        0x1032_5476,
        0xC3D2_E1F0,
    ];
    let bit_len = (message.len() as u64).wrapping_mul(8);
    let mut padded = message.to_vec();
    padded.push(0x80);
    while padded.len() % 64 != 56 {
        padded.push(0);
    }
    padded.extend_from_slice(&bit_len.to_be_bytes());
    for block in padded.chunks_exact(64) {
        let mut w = [0u32; 80];
        for (i, word) in block.chunks_exact(4).enumerate() {
            w[i] = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
        }
        for i in 16..80 {
            w[i] = (w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16]).rotate_left(1);
        }
        let [mut a, mut b, mut c, mut d, mut e] = h;
        for (i, &word) in w.iter().enumerate() {
            let (f, k) = match i {
                0..=19 => ((b & c) | (!b & d), 0x5A82_7999),
                20..=39 => (b ^ c ^ d, 0x6ED9_EBA1),
                40..=59 => ((b & c) | (b & d) | (c & d), 0x8F1B_BCDC),
                _ => (b ^ c ^ d, 0xCA62_C1D6),
            };
            let temp = a
                .rotate_left(5)
                .wrapping_add(f)
                .wrapping_add(e)
                .wrapping_add(k)
                .wrapping_add(word);
            e = d;
            d = c;
            c = b.rotate_left(30);
            b = a;
            a = temp;
        }
        for (slot, value) in h.iter_mut().zip([a, b, c, d, e]) {
            *slot = slot.wrapping_add(value);
        }
    }
    let mut out = [0u8; 20];
    for (chunk, word) in out.chunks_exact_mut(4).zip(h) {
        chunk.copy_from_slice(&word.to_be_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn sha1_matches_known_vectors() {
        assert_eq!(hex(&sha1(b"")), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
        assert_eq!(
            hex(&sha1(b"abc")),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
        assert_eq!(
            hex(&sha1(&[b'a'; 1000])),
            "291e9a6c66994949b57ba5e650361e98fc36b1ba"
        );
    }

    #[test]
    fn base64_pads_like_zookeeper() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
    }

    #[test]
    fn digest_id_is_user_and_base64_sha1_of_the_whole_text() {
        let cases = [
            ("user:password", "user:tpUq/4Pn5A64fVZyQ0gOJ8ZWqkY="),
            ("bob:secret", "bob:fyVmFCwVbTJYrznoSu1koqYEYF0="),
            ("super:test", "super:D/InIHSb7yEEbrWz8b9l71RjZJU="),
        ];
        for (input, id) in cases {
            assert_eq!(digest_id(input), Id::new("digest", id));
        }
    }

    #[test]
    fn authenticate_adds_super_when_the_digest_matches() {
        let super_digest = Some("super:D/InIHSb7yEEbrWz8b9l71RjZJU=");
        assert_eq!(
            authenticate("digest", b"super:test", "127.0.0.1", super_digest),
            Ok(vec![
                Id::new("super", ""),
                Id::new("digest", "super:D/InIHSb7yEEbrWz8b9l71RjZJU=")
            ])
        );
        assert_eq!(
            authenticate("digest", b"super:wrong", "127.0.0.1", super_digest).map(|ids| ids.len()),
            Ok(1)
        );
        assert_eq!(
            authenticate("ip", b"", "10.0.0.1", None),
            Ok(vec![Id::new("ip", "10.0.0.1")])
        );
        assert_eq!(
            authenticate("kerberos", b"x", "10.0.0.1", None),
            Err(AuthFailed {
                scheme: "kerberos".to_owned()
            })
        );
    }
}
