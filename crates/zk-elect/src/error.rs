//! Errors of zk-elect: only configuration parsing can fail; the state machines cannot.

use thiserror::Error;
use zk_proto::Sid;

/// A quorum configuration (zoo.cfg `group.N` / `weight.N` lines, or a voter list) is unusable.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum QuorumConfigError {
    /// A key looked like `group.N` or `weight.N` but N is not a number.
    #[error("bad key {key:?}: expected group.<number> or weight.<number>")]
    BadKey {
        /// The key as written.
        key: String,
    },
    /// A value that should be a number or a `:`-separated list of server ids is not.
    #[error("bad value {value:?} for {key}")]
    BadValue {
        /// The key the value belongs to.
        key: String,
        /// The value as written.
        value: String,
    },
    /// A server is listed in two groups.
    #[error("server {sid} is in group {first} and in group {second}")]
    ServerInTwoGroups {
        /// The server.
        sid: Sid,
        /// The first group naming it.
        first: u64,
        /// The second group naming it.
        second: u64,
    },
    /// A `weight.N` line names a server that is in no group.
    #[error("weight given for server {sid}, which is in no group")]
    WeightWithoutGroup {
        /// The server.
        sid: Sid,
    },
    /// No voter, or no group with a non-zero weight: no set of servers could ever be a quorum.
    #[error("the configuration has no voter with a non-zero weight")]
    NoVoters,
}

const _: () = {
    const fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<QuorumConfigError>();
};
