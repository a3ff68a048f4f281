//! Errors of zk-le: only decoding a datagram can fail.

use thiserror::Error;

/// A datagram on the quorum port is not a LeaderElection message this server understands.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The datagram is empty.
    #[error("empty election datagram")]
    Empty,
    /// The leading wire-version byte is not one this server speaks.
    #[error("unknown election wire version {0}")]
    UnknownWireVersion(u8),
    /// The postcard body is malformed or has trailing bytes.
    #[error("malformed LeaderElection message: {0}")]
    Malformed(String),
}

const _: () = {
    const fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<DecodeError>();
};
