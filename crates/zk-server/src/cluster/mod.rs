//! Cluster mode: one server of a replicated ensemble.
//!
//! Three parts run side by side:
//! - the election ([`crate::election::runner::ElectionRunner`]) while the server is LOOKING;
//! - the node task ([`node`]), which owns the [`zk_sync::Zab`] machine, the durable store and
//!   the quorum-port links ([`peer`]), and executes Zab's actions: it logs proposals, writes the
//!   epoch files, sends packets, and hands committed transactions to the core;
//! - the core task (the same one as in standalone mode, in cluster mode), which owns the tree,
//!   sessions and watches, serves clients, and applies transactions only once they are
//!   committed. On the leader it prepares writes against the tree plus the changes still in
//!   flight (ZooKeeper's outstanding changes) and hands them to the node task to propose; on a
//!   learner it forwards writes to the leader and answers them when their commit comes back.
//!
//! The messages between the core and the node task are [`ToCore`] and [`ToNode`]; what learners
//! and leaders exchange besides Zab's packets is [`PeerMsg`].

pub mod node;
pub mod peer;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering::Relaxed};

use serde::{Deserialize, Serialize};
use tokio::sync::oneshot;
use zk_proto::{Epoch, ErrorCode, Id, SessionId, Sid, Zxid};
use zk_sync::ZabMsg;
use zk_tree::{DataTree, Op, TreeCapture, Txn, TxnHeader};

/// The leading byte of every quorum-port frame. Version 2: ACK and COMMIT are cumulative (a
/// version-1 leader would wait forever for the ACKs a version-2 follower no longer sends).
pub const PEER_WIRE_VERSION: u8 = 2;

/// What a quorum-port frame carries.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum PeerMsg {
    /// A Zab packet.
    Zab(ZabMsg),
    /// Learner to leader: a client's write to propose (ZooKeeper's REQUEST).
    Request {
        /// The client's session.
        session: SessionId,
        /// The client's xid.
        cxid: i32,
        /// The identities of the client's connection (for ACL checks on the leader).
        auth: Vec<Id>,
        /// The write, or the error code a txn must record (the learner already knew it fails).
        op: Result<Op, i32>,
    },
    /// Learner to leader: sessions with client activity since the last touch (ZooKeeper
    /// piggybacks them on PING).
    Touch {
        /// The sessions.
        sessions: Vec<SessionId>,
    },
    /// Learner to leader: a client's `sync`.
    Sync {
        /// The client's session.
        session: SessionId,
        /// The client's xid.
        cxid: i32,
    },
    /// Leader to learner: the answer to [`PeerMsg::Sync`]: answer the client once every
    /// transaction up to `zxid` is applied.
    SyncDone {
        /// The client's session.
        session: SessionId,
        /// The client's xid.
        cxid: i32,
        /// The leader's last proposed zxid when the sync reached it.
        zxid: Zxid,
    },
}

impl PeerMsg {
    /// Encodes the message as one frame body.
    pub fn encode(&self) -> Vec<u8> {
        // Serialised straight after the version byte: one allocation, no copy.
        postcard::to_extend(self, vec![PEER_WIRE_VERSION])
            .expect("a peer message always serializes")
    }

    /// Decodes a frame body made by [`PeerMsg::encode`].
    pub fn decode(bytes: &[u8]) -> Result<PeerMsg, String> {
        let (&version, body) = bytes.split_first().ok_or("empty frame")?;
        if version != PEER_WIRE_VERSION {
            return Err(format!("unknown peer wire version {version}"));
        }
        let (msg, rest) = postcard::take_from_bytes::<PeerMsg>(body).map_err(|e| e.to_string())?;
        if !rest.is_empty() {
            return Err(format!("{} trailing bytes", rest.len()));
        }
        Ok(msg)
    }
}

/// Encodes a transaction as the opaque bytes Zab replicates.
pub fn encode_txn(header: &TxnHeader, txn: &Txn) -> Vec<u8> {
    postcard::to_allocvec(&(header, txn)).expect("a txn always serializes")
}

/// Decodes bytes made by [`encode_txn`].
pub fn decode_txn(bytes: &[u8]) -> Result<(TxnHeader, Txn), String> {
    postcard::from_bytes(bytes).map_err(|e| e.to_string())
}

/// The error code carried by a forwarded write that fails before it reaches the tree.
pub(crate) fn op_error(code: ErrorCode) -> Result<Op, i32> {
    Err(code.code())
}

/// How the core serves clients in cluster mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServingRole {
    /// Electing or synchronizing: no client is served.
    NotServing,
    /// An established leader.
    Leader,
    /// An up-to-date follower.
    Follower,
    /// An up-to-date observer.
    Observer,
}

/// A snapshot of the core's applied state: the tree (with its zxid) and the sessions.
pub type AppliedSnapshot = (TreeCapture, Vec<(SessionId, i32)>);

/// The node task's messages to the core.
#[derive(Debug)]
pub enum ToCore {
    /// Stop serving: close every client connection and forget requests in flight.
    StopServing,
    /// Start serving in `role` (never `NotServing`) for `epoch`.
    Serve {
        /// Leader, follower or observer.
        role: ServingRole,
        /// The established epoch.
        epoch: Epoch,
    },
    /// Committed transactions to apply, in zxid order.
    Apply(Vec<(TxnHeader, Txn)>),
    /// Replace the whole state with one received from the leader (SNAP).
    ReplaceState {
        /// The new tree (its last processed zxid is the snapshot's).
        tree: DataTree,
        /// The sessions it holds.
        sessions: BTreeMap<SessionId, i32>,
    },
    /// Produce a snapshot of the applied state (to send to a learner).
    TakeSnapshot {
        /// Where the snapshot goes: the applied zxid, the tree and the sessions.
        reply: oneshot::Sender<AppliedSnapshot>,
    },
    /// A learner's request, touch or sync (leader only).
    FromLearner {
        /// The learner.
        sid: Sid,
        /// The message.
        msg: PeerMsg,
    },
    /// The leader answered a sync this server forwarded.
    SyncDone {
        /// The client's session.
        session: SessionId,
        /// The client's xid.
        cxid: i32,
        /// Answer once this zxid is applied.
        zxid: Zxid,
    },
}

/// The core's messages to the node task.
#[derive(Debug)]
pub enum ToNode {
    /// Leader: prepared transactions to propose, in zxid order.
    Propose(Vec<(TxnHeader, Txn)>),
    /// Learner: a message for the leader.
    ToLeader(PeerMsg),
    /// Leader: a message for one learner.
    ToLearner {
        /// The learner.
        sid: Sid,
        /// The message.
        msg: PeerMsg,
    },
    /// A snapshot of committed state to write to the data directory.
    Snapshot {
        /// The tree, captured (sorted into a snapshot on the snapshot thread).
        tree: TreeCapture,
        /// The sessions.
        sessions: Vec<(SessionId, i32)>,
    },
}

/// What the four-letter words report about the ensemble, updated by the node task.
#[derive(Debug, Default)]
pub struct ClusterStats {
    /// 0 looking, 1 following, 2 leading, 3 observing (ZooKeeper's ordinals).
    pub state: AtomicU8,
    /// The current epoch.
    pub epoch: AtomicU64,
    /// The sid of the current leader (0 when none).
    pub leader: AtomicU64,
    /// Learners connected to this leader.
    pub learners: AtomicU64,
    /// Followers (voters) connected and synchronized.
    pub synced_followers: AtomicU64,
    /// Observers connected.
    pub observers: AtomicU64,
    /// Learner synchronizations by DIFF this server performed as leader.
    pub diff_count: AtomicU64,
    /// ... by SNAP.
    pub snap_count: AtomicU64,
    /// ... by TRUNC.
    pub trunc_count: AtomicU64,
    /// Elections this server took part in.
    pub elections: AtomicU64,
    /// Election messages (datagrams or frames) this server sent, over its lifetime.
    pub election_messages_sent: AtomicU64,
    /// How long the last election took, from LOOKING to the decision, in milliseconds.
    pub last_election_time_ms: AtomicU64,
    /// Proposals this server made as leader.
    pub proposals: AtomicU64,
    /// The zxid up to which the last history write of this server is durable (`mntr`'s
    /// `zk_last_logged_zxid`, a key of this server's own).
    pub last_logged_zxid: AtomicU64,
    /// Sizes of the proposals made as leader, in bytes: (last, min, max), 0 before the first.
    pub proposal_sizes: std::sync::Mutex<(u64, u64, u64)>,
}

impl ClusterStats {
    /// Records the size of one proposal.
    pub fn record_proposal_size(&self, bytes: usize) {
        let bytes = bytes as u64;
        let mut sizes = self
            .proposal_sizes
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let (_, min, max) = *sizes;
        *sizes = (
            bytes,
            if min == 0 { bytes } else { min.min(bytes) },
            max.max(bytes),
        );
    }

    /// The last, smallest and largest proposal size, as ZooKeeper reports them (-1 each before
    /// the first proposal).
    pub fn proposal_sizes(&self) -> [i64; 3] {
        let (last, min, max) = *self
            .proposal_sizes
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if max == 0 {
            [-1; 3]
        } else {
            [last, min, max].map(|size| i64::try_from(size).unwrap_or(i64::MAX))
        }
    }

    /// ZooKeeper's name of the server's state, as `srvr` and `mntr` print it.
    pub fn mode(&self) -> &'static str {
        match self.state.load(Relaxed) {
            1 => "follower",
            2 => "leader",
            3 => "observer",
            _ => "looking",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use zk_proto::Epoch;

    #[test]
    fn peer_messages_and_txns_round_trip_and_garbage_is_refused() {
        let msgs = vec![
            PeerMsg::Zab(ZabMsg::Ack {
                zxid: Zxid::new(Epoch(2), 5),
            }),
            PeerMsg::Request {
                session: SessionId(7),
                cxid: 3,
                auth: vec![Id::new("ip", "127.0.0.1")],
                op: Ok(Op::Delete {
                    path: "/a".into(),
                    version: -1,
                }),
            },
            PeerMsg::Request {
                session: SessionId(7),
                cxid: 4,
                auth: vec![],
                op: op_error(ErrorCode::BadArguments),
            },
            PeerMsg::Touch {
                sessions: vec![SessionId(1), SessionId(2)],
            },
            PeerMsg::Sync {
                session: SessionId(1),
                cxid: 9,
            },
            PeerMsg::SyncDone {
                session: SessionId(1),
                cxid: 9,
                zxid: Zxid::new(Epoch(1), 1),
            },
        ];
        for msg in msgs {
            let bytes = msg.encode();
            assert_eq!(PeerMsg::decode(&bytes).unwrap(), msg);
            for len in 0..bytes.len() {
                let _ = PeerMsg::decode(&bytes[..len]);
            }
        }
        assert!(PeerMsg::decode(&[9, 1, 2]).is_err());
        let header = TxnHeader {
            session_id: SessionId(1),
            cxid: 2,
            zxid: Zxid::new(Epoch(1), 3),
            time_ms: 4,
        };
        let txn = Txn::Delete { path: "/x".into() };
        assert_eq!(
            decode_txn(&encode_txn(&header, &txn)).unwrap(),
            (header, txn)
        );
        assert!(decode_txn(&[0xff; 3]).is_err());
    }
}
