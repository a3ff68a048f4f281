//! Errors of zk-fle: only decoding a notification from bytes can fail.

use thiserror::Error;

/// Bytes from the election port are not a notification this server understands.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The frame is empty.
    #[error("empty election message")]
    Empty,
    /// The leading wire-version byte is not one this server speaks.
    #[error("unknown election wire version {0}")]
    UnknownWireVersion(u8),
    /// The postcard body is malformed or has trailing bytes.
    #[error("malformed notification: {0}")]
    Malformed(String),
}

const _: () = {
    const fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<DecodeError>();
};
