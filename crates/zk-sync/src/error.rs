//! Errors of zk-sync: only decoding a peer message from bytes can fail; everything else a
//! machine meets is either a stale message (dropped with a `warn!`) or a driver bug (an assert).

use thiserror::Error;

/// Bytes from the quorum port are not a Zab message this server understands.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The frame is empty.
    #[error("empty Zab message")]
    Empty,
    /// The leading wire-version byte is not one this server speaks.
    #[error("unknown Zab wire version {0}")]
    UnknownWireVersion(u8),
    /// The postcard body is malformed or has trailing bytes.
    #[error("malformed Zab message: {0}")]
    Malformed(String),
}

const _: () = {
    const fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<DecodeError>();
};
