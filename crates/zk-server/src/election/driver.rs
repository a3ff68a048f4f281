//! Steps a FastLeaderElection over the transport on tokio's clock.
//!
//! The driver keeps running after the decision: a decided server must go on answering LOOKING
//! peers with the vote that elected its leader.

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tracing::Instrument;
use zk_elect::{Input, Outcome, ServerState, Vote};
use zk_fle::{FastLeaderElection, Notification};
use zk_proto::{Epoch, Sid, Zxid};

use super::stepper::{self, AdmitAll, Command, Counters, IntoInput, Parts, Wire};
use super::transport::{ElectionTransport, Inbound};

impl Wire<Notification> for Arc<ElectionTransport> {
    fn sid(&self) -> Sid {
        ElectionTransport::sid(self)
    }
    fn send(&self, to: Sid, msg: &Notification) {
        ElectionTransport::send(self, to, msg)
    }
}

impl IntoInput<Notification> for Inbound {
    fn into_input(self) -> Input<Notification> {
        match self {
            Inbound::Message { from, msg } => Input::Recv { from, msg },
            Inbound::PeerDown(sid) => Input::PeerDown(sid),
        }
    }
}

/// A running election for one server.
pub struct ElectionDriver {
    sid: Sid,
    pending: Option<oneshot::Receiver<Outcome>>,
    outcome: Option<Outcome>,
    task: JoinHandle<()>,
}

impl ElectionDriver {
    /// Starts looking for a leader with the server's last zxid and current epoch; `voters` are
    /// the servers a broadcast goes to.
    pub fn spawn(
        transport: Arc<ElectionTransport>,
        inbound: mpsc::Receiver<Inbound>,
        fle: FastLeaderElection,
        voters: Vec<Sid>,
        last_zxid: Zxid,
        peer_epoch: Epoch,
    ) -> ElectionDriver {
        let sid = transport.sid();
        let (commands, commands_rx) = mpsc::unbounded_channel();
        let (reply, pending) = oneshot::channel();
        let _ = commands.send(Command::Start {
            last_zxid,
            peer_epoch,
            reply,
        });
        let parts = Parts {
            machine: fle,
            wire: transport,
            inbound,
            admit: AdmitAll,
            voters,
            counters: Arc::new(Counters::default()),
        };
        let span = tracing::info_span!("election", sid = %sid, alg = "fle");
        // The command sender is dropped here: the loop goes on with the peers alone.
        let task = tokio::spawn(stepper::run(parts, commands_rx).instrument(span));
        ElectionDriver {
            sid,
            pending: Some(pending),
            outcome: None,
            task,
        }
    }

    /// Waits for the decision.
    /// Waits for the decision. Should the loop stop first (its transport gone), the outcome is
    /// LOOKING with a vote for this server.
    pub async fn decided(&mut self) -> Outcome {
        if let Some(outcome) = &self.outcome {
            return outcome.clone();
        }
        let outcome = match self.pending.take() {
            Some(pending) => pending.await.ok(),
            None => None,
        };
        let outcome = outcome.unwrap_or_else(|| stopped(self.sid));
        self.outcome = Some(outcome.clone());
        outcome
    }
}

impl Drop for ElectionDriver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The outcome reported when an election loop stopped before deciding.
pub(crate) fn stopped(sid: Sid) -> Outcome {
    Outcome {
        state: ServerState::Looking,
        vote: Vote::new(sid, Zxid(0), Epoch(0)),
        election_epoch: zk_elect::ElectionEpoch(0),
        backing: Default::default(),
    }
}
