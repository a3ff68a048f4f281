//! The connect handshake: `ConnectRequest` (the first client frame, no header), `ConnectResponse`
//! (the first server frame, no header) and the session password every server derives from a
//! session id.
//!
//! Both records end in an optional `readOnly` boolean. Clients older than 3.4 do not send it;
//! the server notices (one more byte or not) and then leaves it out of its response too.
//! Like Java, decoding ignores any bytes after that boolean.

use crate::ids::{SessionId, Zxid};
use crate::jute::{DecodeError, Reader, Record, Writer};

/// The length of a session password.
pub const PASSWORD_LEN: usize = 16;

/// The secret ZooKeeper mixes into the seed of a session password (`ZooKeeperServer.superSecret`).
const SUPER_SECRET: i64 = 0xB341_5C00;

/// `ConnectRequest`: the client's first frame.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Default)]
pub struct ConnectRequest {
    /// Always 0.
    pub protocol_version: i32,
    /// The highest zxid the client has seen (0 for a new client).
    pub last_zxid_seen: Zxid,
    /// The requested session timeout.
    pub timeout_ms: i32,
    /// 0 to create a session, otherwise the session to reattach to.
    pub session_id: SessionId,
    /// The session password (16 zero bytes or empty for a new session).
    pub password: Vec<u8>,
    /// The trailing `readOnly` byte, `None` when the client did not send it (clients <= 3.3).
    pub read_only: Option<bool>,
}

impl Record for ConnectRequest {
    fn encode(&self, out: &mut Vec<u8>) {
        out.write_i32(self.protocol_version);
        out.write_i64(self.last_zxid_seen.as_i64());
        out.write_i32(self.timeout_ms);
        out.write_i64(self.session_id.0);
        out.write_buffer(&self.password);
        if let Some(read_only) = self.read_only {
            out.write_bool(read_only);
        }
    }

    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(ConnectRequest {
            protocol_version: r.read_i32()?,
            last_zxid_seen: Zxid::from_i64(r.read_i64()?),
            timeout_ms: r.read_i32()?,
            session_id: SessionId(r.read_i64()?),
            password: r.read_buffer()?,
            read_only: read_optional_bool(r)?,
        })
    }
}

/// `ConnectResponse`: the server's first frame.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Default)]
pub struct ConnectResponse {
    /// Always 0.
    pub protocol_version: i32,
    /// The negotiated session timeout; 0 means the session is invalid or expired.
    pub timeout_ms: i32,
    /// The session id, 0 when invalid.
    pub session_id: SessionId,
    /// The session password (16 bytes; 16 zero bytes when invalid).
    pub password: Vec<u8>,
    /// The trailing `readOnly` byte, written only when the request carried one.
    pub read_only: Option<bool>,
}

impl ConnectResponse {
    /// The answer to a reattach with an unknown, expired or wrongly authenticated session:
    /// timeout 0, session 0, 16 zero bytes. `read_only` echoes the request's form.
    pub fn invalid(request: &ConnectRequest) -> ConnectResponse {
        ConnectResponse {
            protocol_version: 0,
            timeout_ms: 0,
            session_id: SessionId(0),
            password: vec![0; PASSWORD_LEN],
            read_only: request.read_only.map(|_| false),
        }
    }
}

impl Record for ConnectResponse {
    fn encode(&self, out: &mut Vec<u8>) {
        out.write_i32(self.protocol_version);
        out.write_i32(self.timeout_ms);
        out.write_i64(self.session_id.0);
        out.write_buffer(&self.password);
        if let Some(read_only) = self.read_only {
            out.write_bool(read_only);
        }
    }

    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(ConnectResponse {
            protocol_version: r.read_i32()?,
            timeout_ms: r.read_i32()?,
            session_id: SessionId(r.read_i64()?),
            password: r.read_buffer()?,
            read_only: read_optional_bool(r)?,
        })
    }
}

/// Java reads the trailing boolean and treats end-of-input as "old peer".
fn read_optional_bool(r: &mut Reader<'_>) -> Result<Option<bool>, DecodeError> {
    if r.is_empty() {
        Ok(None)
    } else {
        r.read_bool().map(Some)
    }
}

/// The password of a session, as every ZooKeeper server computes it
/// (`ZooKeeperServer.generatePasswd`): 16 bytes of `java.util.Random(id ^ 0xB3415C00)`.
pub fn session_password(session_id: SessionId) -> [u8; PASSWORD_LEN] {
    let mut random = JavaRandom::new(session_id.0 ^ SUPER_SECRET);
    let mut out = [0u8; PASSWORD_LEN];
    random.next_bytes(&mut out);
    out
}

/// `java.util.Random`: a 48-bit linear congruential generator.
struct JavaRandom {
    seed: u64,
}

impl JavaRandom {
    const MULTIPLIER: u64 = 0x5_DEEC_E66D;
    const ADDEND: u64 = 0xB;
    const MASK: u64 = (1 << 48) - 1;

    fn new(seed: i64) -> JavaRandom {
        JavaRandom {
            seed: (seed as u64 ^ Self::MULTIPLIER) & Self::MASK,
        }
    }

    fn next_i32(&mut self) -> i32 {
        self.seed = (self
            .seed
            .wrapping_mul(Self::MULTIPLIER)
            .wrapping_add(Self::ADDEND))
            & Self::MASK;
        (self.seed >> 16) as u32 as i32
    }

    /// `Random.nextBytes`: each int fills four bytes, low byte first.
    fn next_bytes(&mut self, out: &mut [u8]) {
        for chunk in out.chunks_mut(4) {
            let bytes = self.next_i32().to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reference 1.3's example: a new session asking for 30 s, with the readOnly byte.
    const NEW_SESSION_REQUEST: [u8; 45] = [
        0, 0, 0, 0, // protocolVersion
        0, 0, 0, 0, 0, 0, 0, 0, // lastZxidSeen
        0, 0, 0x75, 0x30, // timeOut = 30000
        0, 0, 0, 0, 0, 0, 0, 0, // sessionId
        0, 0, 0, 0x10, // passwd length 16
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // passwd
        0, // readOnly
    ];

    #[test]
    fn reference_connect_request_decodes_and_re_encodes() {
        let request = ConnectRequest::from_bytes(&NEW_SESSION_REQUEST).unwrap();
        assert_eq!(
            request,
            ConnectRequest {
                protocol_version: 0,
                last_zxid_seen: Zxid(0),
                timeout_ms: 30000,
                session_id: SessionId(0),
                password: vec![0; 16],
                read_only: Some(false),
            }
        );
        assert_eq!(request.to_bytes(), NEW_SESSION_REQUEST);
    }

    #[test]
    fn reference_connect_exchange_is_framed_with_0x2d_and_0x25() {
        let mut wire = Vec::new();
        crate::frame::encode_frame(&NEW_SESSION_REQUEST, &mut wire);
        assert_eq!(wire[..4], [0, 0, 0, 0x2d]);
        let (consumed, payload) = crate::frame::decode_frame(&wire, crate::DEFAULT_MAX_BUFFER)
            .unwrap()
            .unwrap();
        assert_eq!(consumed, 49);
        let request = ConnectRequest::from_bytes(payload).unwrap();

        let session_id = SessionId(0x0100_0000_0000_0001);
        let response = ConnectResponse {
            protocol_version: 0,
            timeout_ms: request.timeout_ms,
            session_id,
            password: session_password(session_id).to_vec(),
            read_only: request.read_only.map(|_| false),
        };
        let mut wire = Vec::new();
        crate::frame::write_frame(&mut wire, |out| response.encode(out));
        assert_eq!(wire[..12], [0, 0, 0, 0x25, 0, 0, 0, 0, 0, 0, 0x75, 0x30]);
        assert_eq!(wire[12..20], session_id.0.to_be_bytes());
        assert_eq!(wire[20..24], [0, 0, 0, 0x10]);
        assert_eq!(wire[24..40], session_password(session_id));
        assert_eq!(wire[40..], [0]);
    }

    #[test]
    fn old_clients_connect_request_has_no_read_only_byte() {
        let request = ConnectRequest::from_bytes(&NEW_SESSION_REQUEST[..44]).unwrap();
        assert_eq!(request.read_only, None);
        assert_eq!(request.to_bytes(), NEW_SESSION_REQUEST[..44]);
    }

    #[test]
    fn connect_response_is_36_or_37_bytes() {
        let mut response = ConnectResponse {
            protocol_version: 0,
            timeout_ms: 30000,
            session_id: SessionId(0x0100_0000_0000_0001),
            password: session_password(SessionId(0x0100_0000_0000_0001)).to_vec(),
            read_only: Some(false),
        };
        let bytes = response.to_bytes();
        assert_eq!(bytes.len(), 37);
        assert_eq!(&bytes[..8], [0, 0, 0, 0, 0, 0, 0x75, 0x30]);
        assert_eq!(ConnectResponse::from_bytes(&bytes), Ok(response.clone()));
        response.read_only = None;
        assert_eq!(response.to_bytes().len(), 36);
        assert_eq!(ConnectResponse::from_bytes(&bytes[..36]), Ok(response));
    }

    #[test]
    fn invalid_session_response_mirrors_the_request_form() {
        let old = ConnectRequest::from_bytes(&NEW_SESSION_REQUEST[..44]).unwrap();
        let response = ConnectResponse::invalid(&old);
        assert_eq!(response.to_bytes().len(), 36);
        assert_eq!(response.password, [0; 16]);
    }

    #[test]
    fn session_password_of_session_zero_is_hand_computable() {
        // Seed 0 ^ 0xB3415C00, scrambled: 0xB3415C00 ^ 0x5DEECE66D = 0x56DADBA6D.
        // Next state: (0x56DADBA6D * 0x5DEECE66D + 0xB) mod 2^48 = 0x4ACD2AF24E74, whose top 32
        // bits 0x4ACD2AF2 give the first four bytes low byte first: f2 2a cd 4a.
        let password = session_password(SessionId(0));
        assert_eq!(password[..4], [0xf2, 0x2a, 0xcd, 0x4a]);
    }

    #[test]
    fn session_password_matches_java_util_random() {
        // From `new java.util.Random(id ^ 0xB3415C00L).nextBytes(b)` on OpenJDK.
        let cases: [(i64, [u8; 16]); 4] = [
            (
                0,
                [
                    0xf2, 0x2a, 0xcd, 0x4a, 0x97, 0xe6, 0x9d, 0x6d, 0x20, 0xa4, 0x9b, 0xb6, 0x38,
                    0xea, 0xdb, 0x38,
                ],
            ),
            (
                0x7f00_016b_2a3c_0000,
                [
                    0x06, 0xc9, 0x64, 0xae, 0x1b, 0x2d, 0xa2, 0x1f, 0x54, 0x42, 0x78, 0xd3, 0x5c,
                    0xfe, 0xdd, 0xa8,
                ],
            ),
            (
                -1,
                [
                    0x20, 0xf6, 0x2c, 0xb5, 0x64, 0x8d, 0xc2, 0xd7, 0x71, 0x47, 0x1c, 0x8a, 0x24,
                    0x86, 0xa9, 0xee,
                ],
            ),
            (
                0x72a1_b2c3_d4e5_0000,
                [
                    0xf1, 0x9d, 0xeb, 0x2d, 0x2a, 0xf7, 0xf9, 0xa1, 0xb7, 0xc4, 0x36, 0x7a, 0x83,
                    0x74, 0x64, 0xde,
                ],
            ),
        ];
        for (id, expected) in cases {
            assert_eq!(session_password(SessionId(id)), expected, "session {id:#x}");
        }
    }

    #[test]
    fn session_password_ignores_the_top_16_bits_like_java() {
        // java.util.Random keeps only 48 bits of its seed.
        assert_eq!(
            session_password(SessionId(1)),
            session_password(SessionId(0x0100_0000_0000_0001))
        );
    }

    #[test]
    fn java_random_matches_hand_computed_first_int() {
        // Seed 0: scrambled seed = 0x5DEECE66D; next = (0x5DEECE66D * 0x5DEECE66D + 0xB) mod 2^48
        // = 0xBB20B4600A69 (the well-known first state), and (int)(state >>> 16) = 0xBB20B460,
        // which is Java's `new Random(0).nextInt()` = -1155484576.
        let mut random = JavaRandom::new(0);
        assert_eq!(random.next_i32(), -1_155_484_576);
        assert_eq!(random.next_i32(), -723_955_400);
    }
}
