//! The client's error type: the server's KeeperException codes plus the failures that only a
//! client can see (a bad connect string, a closed client, a malformed reply).

use zk_proto::ErrorCode;

/// Everything an operation of this crate can fail with.
///
/// The variants named after ZooKeeper's codes mean exactly what the server meant by them;
/// [`Error::Server`] carries the codes that have no variant of their own.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The node does not exist (NONODE).
    #[error("node does not exist")]
    NoNode,
    /// The node already exists (NODEEXISTS).
    #[error("node already exists")]
    NodeExists,
    /// The expected version did not match (BADVERSION).
    #[error("version mismatch")]
    BadVersion,
    /// The node has children (NOTEMPTY).
    #[error("node has children")]
    NotEmpty,
    /// Ephemeral nodes cannot have children (NOCHILDRENFOREPHEMERALS).
    #[error("ephemeral nodes cannot have children")]
    NoChildrenForEphemerals,
    /// The ACL refuses the operation (NOAUTH).
    #[error("not authorized")]
    NoAuth,
    /// The ACL is invalid (INVALIDACL).
    #[error("invalid ACL")]
    InvalidAcl,
    /// The server refused the arguments (BADARGUMENTS), or the client did before sending.
    #[error("bad arguments: {0}")]
    BadArguments(String),
    /// The server does not implement the operation (UNIMPLEMENTED).
    #[error("operation not implemented by the server")]
    Unimplemented,
    /// The connection was lost before the reply arrived; the operation may or may not have
    /// been applied (CONNECTIONLOSS).
    #[error("connection lost")]
    ConnectionLoss,
    /// The session expired; its ephemeral nodes and watches are gone (SESSIONEXPIRED).
    #[error("session expired")]
    SessionExpired,
    /// The server refused the credentials (AUTHFAILED); the client is unusable.
    #[error("authentication failed")]
    AuthFailed,
    /// The client was closed.
    #[error("client closed")]
    Closed,
    /// No watch matched a removeWatches request (NOWATCHER).
    #[error("no such watcher")]
    NoWatcher,
    /// Any other code the server sent.
    #[error("server error: {0}")]
    Server(ErrorCode),
    /// The server sent a code this crate does not know.
    #[error("unknown server error code {0}")]
    UnknownCode(i32),
    /// The connect string could not be parsed.
    #[error("invalid connect string: {0}")]
    InvalidConnectString(String),
    /// The server broke the protocol (bad frame, undecodable reply, out-of-order xid).
    #[error("protocol error: {0}")]
    Protocol(String),
    /// A bounded wait of the caller's choosing elapsed.
    #[error("timed out")]
    Timeout,
}

const _: () = {
    const fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Error>();
};

impl Error {
    /// The error for a non-zero `err` field of a reply header.
    pub fn from_code(code: i32) -> Error {
        match ErrorCode::from_code(code) {
            Some(code) => Error::from(code),
            None => Error::UnknownCode(code),
        }
    }

    /// True for errors after which the same request may succeed once the connection is back.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Error::ConnectionLoss)
    }
}

impl From<ErrorCode> for Error {
    fn from(code: ErrorCode) -> Error {
        match code {
            ErrorCode::NoNode => Error::NoNode,
            ErrorCode::NodeExists => Error::NodeExists,
            ErrorCode::BadVersion => Error::BadVersion,
            ErrorCode::NotEmpty => Error::NotEmpty,
            ErrorCode::NoChildrenForEphemerals => Error::NoChildrenForEphemerals,
            ErrorCode::NoAuth => Error::NoAuth,
            ErrorCode::InvalidAcl => Error::InvalidAcl,
            ErrorCode::BadArguments => Error::BadArguments("refused by the server".into()),
            ErrorCode::Unimplemented => Error::Unimplemented,
            ErrorCode::ConnectionLoss => Error::ConnectionLoss,
            ErrorCode::SessionExpired => Error::SessionExpired,
            ErrorCode::AuthFailed => Error::AuthFailed,
            ErrorCode::NoWatcher => Error::NoWatcher,
            other => Error::Server(other),
        }
    }
}

/// The result of every fallible operation of this crate.
pub type Result<T> = std::result::Result<T, Error>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_map_to_their_variants() {
        assert_eq!(Error::from_code(-101), Error::NoNode);
        assert_eq!(Error::from_code(-112), Error::SessionExpired);
        assert_eq!(
            Error::from_code(-118),
            Error::Server(ErrorCode::SessionMoved)
        );
        assert_eq!(Error::from_code(-9999), Error::UnknownCode(-9999));
        assert!(Error::ConnectionLoss.is_retryable());
        assert!(!Error::NoNode.is_retryable());
    }
}
