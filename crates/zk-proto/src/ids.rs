//! Identifier newtypes: zxid, epoch, server id, session id, xid.
//!
//! A zxid is 64 bits: the high 32 bits are the epoch of the leader that proposed it, the low
//! 32 bits a counter within that epoch. It displays as `0x<hex>` the way ZooKeeper logs it.

use core::fmt;

use serde::{Deserialize, Serialize};

/// A ZooKeeper transaction id: `(epoch << 32) | counter`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
pub struct Zxid(pub u64);

impl Zxid {
    /// The zxid before any transaction.
    pub const ZERO: Zxid = Zxid(0);

    /// Builds a zxid from an epoch and a counter within it.
    pub fn new(epoch: Epoch, counter: u32) -> Zxid {
        Zxid((epoch.0 << 32) | u64::from(counter))
    }

    /// The epoch of the leader that proposed this transaction.
    pub fn epoch(self) -> Epoch {
        Epoch(self.0 >> 32)
    }

    /// The counter within the epoch.
    pub fn counter(self) -> u32 {
        (self.0 & 0xffff_ffff) as u32
    }

    /// The zxid as the signed 64-bit value jute puts on the wire.
    pub fn as_i64(self) -> i64 {
        self.0 as i64
    }

    /// The zxid from the signed 64-bit value jute carries.
    pub fn from_i64(value: i64) -> Zxid {
        Zxid(value as u64)
    }
}

impl fmt::Display for Zxid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0x{:x}", self.0)
    }
}

impl fmt::Debug for Zxid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Zxid(0x{:x})", self.0)
    }
}

/// A leader epoch (the high 32 bits of a zxid; kept in 64 bits as ZooKeeper's epoch files do).
#[derive(
    Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Debug, Serialize, Deserialize,
)]
pub struct Epoch(pub u64);

impl fmt::Display for Epoch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A server id: the number in `myid` and in `server.N` of zoo.cfg.
#[derive(
    Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Debug, Serialize, Deserialize,
)]
pub struct Sid(pub u64);

impl fmt::Display for Sid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A client session id (signed on the wire, as Java's `long`). 0 means "no session".
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
pub struct SessionId(pub i64);

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0x{:x}", self.0)
    }
}

impl fmt::Debug for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SessionId(0x{:x})", self.0)
    }
}

/// A request id chosen by the client and echoed in the reply; negative values are special.
#[derive(
    Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Debug, Serialize, Deserialize,
)]
pub struct Xid(pub i32);

impl Xid {
    /// The xid of a watch notification sent by the server.
    pub const NOTIFICATION: Xid = Xid(-1);
    /// The xid of a ping and of its reply.
    pub const PING: Xid = Xid(-2);
    /// The xid of an auth packet and of its reply.
    pub const AUTH: Xid = Xid(-4);
    /// The xid the C and Rust clients give SetWatches/SetWatches2.
    pub const SET_WATCHES: Xid = Xid(-8);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zxid_splits_into_epoch_and_counter() {
        let zxid = Zxid::new(Epoch(5), 7);
        assert_eq!(zxid.0, 0x5_0000_0007);
        assert_eq!(zxid.epoch(), Epoch(5));
        assert_eq!(zxid.counter(), 7);
        assert_eq!(zxid.to_string(), "0x500000007");
    }
}
