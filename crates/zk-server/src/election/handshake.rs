//! ZooKeeper's election-port handshake (3.5+, protocol version `-65536`), byte for byte.
//!
//! The dialling side sends: `long` protocol version, `long` sid, `int` address length (1..=2048)
//! and the UTF-8 `host:port` of its election address. A first `long` that is not negative is a
//! pre-3.5 peer that sends its sid alone.

use thiserror::Error;
use tokio::io::{AsyncRead, AsyncReadExt};
use zk_proto::Sid;

/// The protocol version ZooKeeper 3.5+ sends first.
pub const PROTOCOL_VERSION_V1: i64 = -65536;
/// The multi-address protocol version of ZooKeeper 3.6+.
pub const PROTOCOL_VERSION_V2: i64 = -65535;
/// The longest election address accepted.
pub const ADDRESS_LENGTH_MAX: usize = 2048;

/// Why a handshake was refused.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum HandshakeError {
    /// The socket failed or closed early.
    #[error("election handshake: {0}")]
    Io(#[from] std::io::Error),
    /// An unknown negative protocol version.
    #[error("unknown election protocol version {0}")]
    UnknownVersion(i64),
    /// The address length is outside 1..=2048.
    #[error("election address length {0} outside 1..=2048")]
    BadAddressLength(i32),
}

/// What the dialling side said about itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hello {
    /// Its sid.
    pub sid: Sid,
    /// Its election address (`host:port`), absent from pre-3.5 peers.
    pub address: Option<String>,
}

/// The bytes of our handshake.
pub fn encode(sid: Sid, address: &str) -> Vec<u8> {
    let address = address.as_bytes();
    let mut bytes = Vec::with_capacity(20 + address.len());
    bytes.extend_from_slice(&PROTOCOL_VERSION_V1.to_be_bytes());
    bytes.extend_from_slice(&(sid.0 as i64).to_be_bytes());
    bytes.extend_from_slice(&(address.len() as i32).to_be_bytes());
    bytes.extend_from_slice(address);
    bytes
}

/// Reads a handshake from a freshly accepted connection.
pub async fn read(stream: &mut (impl AsyncRead + Unpin)) -> Result<Hello, HandshakeError> {
    let first = stream.read_i64().await?;
    if first >= 0 {
        return Ok(Hello {
            sid: Sid(first as u64),
            address: None,
        });
    }
    if first != PROTOCOL_VERSION_V1 && first != PROTOCOL_VERSION_V2 {
        return Err(HandshakeError::UnknownVersion(first));
    }
    let sid = Sid(stream.read_i64().await? as u64);
    let length = stream.read_i32().await?;
    if length < 1 || length as usize > ADDRESS_LENGTH_MAX {
        return Err(HandshakeError::BadAddressLength(length));
    }
    let mut address = vec![0; length as usize];
    stream.read_exact(&mut address).await?;
    Ok(Hello {
        sid,
        address: Some(String::from_utf8_lossy(&address).into_owned()),
    })
}
