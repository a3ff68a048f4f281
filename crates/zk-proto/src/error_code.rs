//! ZooKeeper's numeric error codes (`KeeperException.Code`), as they travel in `ReplyHeader.err`.

use core::fmt;

use serde::{Deserialize, Serialize};

macro_rules! error_codes {
    ($($(#[$doc:meta])* $name:ident = $value:literal, $text:literal;)*) => {
        /// A ZooKeeper error code. `Ok` is 0; system errors are -1..-99, API errors -100 and below.
        #[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
        #[non_exhaustive]
        pub enum ErrorCode {
            $($(#[$doc])* $name,)*
        }

        impl ErrorCode {
            /// Every known code, in declaration order.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$name,)*];

            /// The numeric code on the wire.
            pub fn code(self) -> i32 {
                match self { $(ErrorCode::$name => $value,)* }
            }

            /// The code for a number, or `None` when ZooKeeper 3.8 has no such code.
            pub fn from_code(code: i32) -> Option<ErrorCode> {
                match code { $($value => Some(ErrorCode::$name),)* _ => None }
            }

            /// The message ZooKeeper's `KeeperException` gives this code.
            pub fn message(self) -> &'static str {
                match self { $(ErrorCode::$name => $text,)* }
            }
        }
    };
}

error_codes! {
    /// Success.
    Ok = 0, "ok";
    /// A system or server-side error.
    SystemError = -1, "SystemError";
    /// A runtime inconsistency; also the result of multi ops after the failing one.
    RuntimeInconsistency = -2, "RuntimeInconsistency";
    /// A data inconsistency.
    DataInconsistency = -3, "DataInconsistency";
    /// Connection to the server was lost (client-side only).
    ConnectionLoss = -4, "ConnectionLoss";
    /// A request could not be decoded.
    MarshallingError = -5, "MarshallingError";
    /// The operation is not implemented (or TTL nodes are disabled).
    Unimplemented = -6, "Unimplemented";
    /// The operation timed out (client-side only).
    OperationTimeout = -7, "OperationTimeout";
    /// Invalid arguments.
    BadArguments = -8, "BadArguments";
    /// Unknown session (internal).
    UnknownSession = -12, "UnknownSession";
    /// No quorum of the new configuration is connected.
    NewConfigNoQuorum = -13, "NewConfigNoQuorum";
    /// Another reconfiguration is in progress.
    ReconfigInProgress = -14, "ReconfigInProgress";
    /// The base of the API errors.
    ApiError = -100, "APIError";
    /// The node does not exist.
    NoNode = -101, "NoNode";
    /// Not authenticated for the operation.
    NoAuth = -102, "NoAuth";
    /// The version did not match.
    BadVersion = -103, "BadVersion";
    /// Ephemeral nodes may not have children.
    NoChildrenForEphemerals = -108, "NoChildrenForEphemerals";
    /// The node already exists.
    NodeExists = -110, "NodeExists";
    /// The node has children.
    NotEmpty = -111, "Directory not empty";
    /// The session has expired.
    SessionExpired = -112, "Session expired";
    /// An invalid callback (client-side only).
    InvalidCallback = -113, "Invalid callback";
    /// An invalid ACL.
    InvalidAcl = -114, "InvalidACL";
    /// Client authentication failed.
    AuthFailed = -115, "AuthFailed";
    /// The session moved to another server.
    SessionMoved = -118, "Session moved";
    /// A write was sent to a read-only server.
    NotReadOnly = -119, "Not a read-only call";
    /// An ephemeral was requested on a local session.
    EphemeralOnLocalSession = -120, "Ephemeral node on local session";
    /// No such watcher.
    NoWatcher = -121, "No such watcher";
    /// The request timed out (client-side only).
    RequestTimeout = -122, "Request timeout";
    /// Reconfiguration is disabled.
    ReconfigDisabled = -123, "Reconfig is disabled";
    /// The session was closed because SASL authentication is required.
    SessionClosedRequireSaslAuth = -124, "Session closed because client failed to authenticate";
    /// A quota was exceeded.
    QuotaExceeded = -125, "Quota has exceeded";
    /// The operation was throttled.
    ThrottledOp = -127, "Op throttled due to high load";
}

impl ErrorCode {
    /// Whether this code is `Ok`.
    pub fn is_ok(self) -> bool {
        self == ErrorCode::Ok
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.message(), self.code())
    }
}

impl std::error::Error for ErrorCode {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_round_trips_through_its_number() {
        for &code in ErrorCode::ALL {
            assert_eq!(ErrorCode::from_code(code.code()), Some(code));
        }
        assert_eq!(ErrorCode::from_code(-9999), None);
        assert_eq!(ErrorCode::NoNode.code(), -101);
    }
}
