//! The one interface every election algorithm implements: a state machine stepped with
//! `(now, input)` that appends [`Action`]s.
//!
//! The driver (the server's runtime or the simulator) owns the network and the clock. It feeds
//! [`Input::Start`] when the server begins looking for a leader, [`Input::Recv`] for every
//! message that arrives, and [`Input::Tick`] once its clock reaches [`Election::deadline`]. It then
//! executes the appended actions in order: [`Action::Send`] and [`Action::Broadcast`] go on the
//! wire, [`Action::Decided`] ends the election and hands the [`Outcome`] to the role that follows.

use std::collections::BTreeMap;
use std::fmt::Debug;

use serde::de::DeserializeOwned;
use serde::Serialize;
use zk_proto::{Epoch, Sid, Zxid};

use crate::state::ServerState;
use crate::time::Millis;
use crate::vote::{ElectionEpoch, Vote};

/// Something that happened to the server, fed to [`Election::step`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input<M> {
    /// Begin a new election (the server just started, or left its role and is LOOKING again).
    /// Carries what the server's own vote proposes: its last logged zxid and its current epoch.
    Start {
        /// The zxid of the last transaction in the server's log.
        last_zxid: Zxid,
        /// The server's current epoch (the `currentEpoch` file).
        peer_epoch: Epoch,
    },
    /// The driver's clock reached [`Election::deadline`] (extra ticks are harmless).
    Tick,
    /// A message from a peer.
    Recv {
        /// The sender.
        from: Sid,
        /// The decoded message.
        msg: M,
    },
    /// The connection to a peer was lost.
    PeerDown(Sid),
}

/// Something the driver must do, appended by [`Election::step`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action<M> {
    /// Send `msg` to one peer.
    Send {
        /// The recipient.
        to: Sid,
        /// The message.
        msg: M,
    },
    /// Send `msg` to every voting member except this server.
    Broadcast(M),
    /// The election ended; the server takes the role in `Outcome::state`.
    Decided(Outcome),
}

/// One vote among those that made a server decide, as the decider saw it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Backer {
    /// The state the voter reported (LOOKING for a vote of the current round, FOLLOWING or
    /// LEADING for a member of an established ensemble).
    pub state: ServerState,
    /// The voter's vote.
    pub vote: Vote,
    /// The round the voter reported.
    pub election_epoch: ElectionEpoch,
}

/// How an election ended, with the evidence: the votes that formed the deciding quorum.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// LEADING, FOLLOWING or OBSERVING.
    pub state: ServerState,
    /// The elected leader, its zxid and epoch.
    pub vote: Vote,
    /// The round in which the election was decided.
    pub election_epoch: ElectionEpoch,
    /// The votes, by voter, that the decision rests on.
    pub backing: BTreeMap<Sid, Backer>,
}

/// A leader-election algorithm as a pure state machine (no IO, no clock, no global randomness).
pub trait Election {
    /// The message the algorithm exchanges with peers.
    type Msg: Clone + Debug + Serialize + DeserializeOwned;

    /// Feeds one input at time `now` and appends the resulting actions to `out`.
    fn step(&mut self, now: Millis, input: Input<Self::Msg>, out: &mut Vec<Action<Self::Msg>>);

    /// When the driver should next feed [`Input::Tick`], if a timer is armed.
    fn deadline(&self) -> Option<Millis>;

    /// The server's current state.
    fn state(&self) -> ServerState;
}
