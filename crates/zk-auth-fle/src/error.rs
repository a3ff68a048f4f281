//! Errors of zk-auth-fle: decoding a datagram, and an unusable secret.

use thiserror::Error;

/// A datagram on the election port is not an AuthFastLeaderElection message.
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
    #[error("malformed AuthFastLeaderElection message: {0}")]
    Malformed(String),
}

/// The configured `authFleSecret` (or key file contents) cannot serve as a MAC key.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The secret is shorter than [`crate::AuthKey::LEN_MIN`] bytes (after trimming whitespace).
    #[error("authFleSecret is {len} bytes long; at least {min} are required")]
    TooShort {
        /// Its length.
        len: usize,
        /// The minimum.
        min: usize,
    },
}

const _: () = {
    const fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<DecodeError>();
    assert_send_sync::<KeyError>();
};
