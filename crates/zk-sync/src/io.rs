//! What the host feeds a [`Zab`](crate::Zab) machine ([`Input`]) and what it must do in return
//! ([`Action`]), plus the durable state it restores a machine from ([`Durable`]).
//!
//! The host executes actions in order. Two kinds of writes exist:
//! - epoch writes ([`Action::PersistAcceptedEpoch`], [`Action::PersistCurrentEpoch`]) are
//!   synchronous: the host completes them durably before it executes the next action, as
//!   ZooKeeper writes its epoch files;
//! - history writes ([`Action::Append`], [`Action::Truncate`], [`Action::ApplySnapshot`]) are
//!   asynchronous but complete in the order issued; after each one the host feeds
//!   [`Input::Persisted`]. Acknowledgements that promise durability wait for that input
//!   (raft-rs's `persisted_messages`, made explicit).

use serde::{Deserialize, Serialize};
use zk_elect::ServerState;
use zk_proto::{Epoch, Sid, Zxid};

use crate::message::ZabMsg;

/// One logged proposal: a zxid and the opaque transaction (zk-sync never interprets it).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// The proposal's zxid.
    pub zxid: Zxid,
    /// The transaction bytes.
    pub txn: Vec<u8>,
}

/// The durable state a machine is restored from after a restart.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Durable {
    /// The zxid of the host's last snapshot; the log holds only later proposals.
    pub snapshot_zxid: Zxid,
    /// The durable transaction log, in zxid order, every zxid above `snapshot_zxid`.
    pub log: Vec<Entry>,
    /// The `acceptedEpoch` file.
    pub accepted_epoch: Epoch,
    /// The `currentEpoch` file.
    pub current_epoch: Epoch,
}

/// Something that happened to the server, fed to [`Zab::step`](crate::Zab::step).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    /// The election ended: lead (`Leading`), or follow or observe `leader`.
    ElectionDecided {
        /// The elected leader.
        leader: Sid,
        /// LEADING, FOLLOWING or OBSERVING.
        state: ServerState,
    },
    /// A packet from a peer.
    Recv {
        /// The sender.
        from: Sid,
        /// The packet.
        msg: ZabMsg,
    },
    /// A client write reached the leader: propose it (ignored, with a warning, unless this
    /// server is an established leader; see [`Zab::can_propose`](crate::Zab::can_propose)).
    Propose(Vec<u8>),
    /// The oldest outstanding history writes completed, through the first one whose log
    /// ends at `up_to` (one write, or several the host made durable together; see
    /// [`Zab::persist_point_after`](crate::Zab::persist_point_after)); the log is durable up
    /// to `up_to`.
    Persisted {
        /// The last zxid of the log once those writes are durable.
        up_to: Zxid,
    },
    /// The clock reached [`Zab::deadline`](crate::Zab::deadline).
    Tick,
    /// The connection to a peer broke.
    PeerDown(Sid),
}

/// Something the host must do, appended by [`Zab::step`](crate::Zab::step), in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Send a packet to a peer over the quorum connection (FIFO).
    Send {
        /// The recipient.
        to: Sid,
        /// The packet.
        msg: ZabMsg,
    },
    /// Send `to`, on the same FIFO connection and right now, `ZabMsg::Snap` carrying the host's
    /// state with every transaction up to `zxid` (its applied state plus its log up to `zxid`).
    SendSnapshot {
        /// The recipient.
        to: Sid,
        /// The zxid the snapshot must reflect.
        zxid: Zxid,
    },
    /// Append proposals to the log (asynchronous; [`Input::Persisted`] when durable).
    Append(Vec<Entry>),
    /// Drop every logged proposal above the zxid (asynchronous; [`Input::Persisted`]).
    Truncate(Zxid),
    /// Replace the state and log with a snapshot received from the leader, atomically
    /// (asynchronous; [`Input::Persisted`]).
    ApplySnapshot {
        /// The zxid the snapshot reflects.
        zxid: Zxid,
        /// The snapshot bytes, as the leader's host produced them.
        state: Vec<u8>,
    },
    /// Write `acceptedEpoch` durably before executing the next action.
    PersistAcceptedEpoch(Epoch),
    /// Write `currentEpoch` durably before executing the next action.
    PersistCurrentEpoch(Epoch),
    /// Every logged transaction up to this zxid is committed: apply the ones not yet applied.
    Commit(Zxid),
    /// This server is now an established leader (a quorum ACKed NEWLEADER) or an up-to-date
    /// learner of `epoch`: it may serve clients.
    ServeClients {
        /// The established epoch.
        epoch: Epoch,
    },
    /// Close the quorum connection to `peer` (the leader dropping a learner that lags).
    Disconnect {
        /// The learner to disconnect.
        peer: Sid,
    },
    /// Leave the role and look for a leader again.
    GoLooking {
        /// Why, for logs.
        reason: String,
    },
}
