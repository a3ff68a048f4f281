//! Steps a FastLeaderElection over the transport on tokio's clock.
//!
//! The driver keeps running after the decision: a decided server must go on answering LOOKING
//! peers with the vote that elected its leader.

use std::sync::Arc;

use tokio::sync::mpsc;
use zk_elect::{Input, Outcome};
use zk_fle::{FastLeaderElection, Notification};
use zk_proto::{Epoch, Sid, Zxid};

use super::stepper::{AdmitAll, Counters, IntoInput, Parts, SingleRound, Wire};
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
    round: SingleRound,
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
        let span = tracing::info_span!("election", sid = %transport.sid(), alg = "fle");
        let parts = Parts {
            machine: fle,
            wire: transport,
            inbound,
            admit: AdmitAll,
            voters,
            counters: Arc::new(Counters::default()),
        };
        ElectionDriver {
            round: SingleRound::spawn(parts, last_zxid, peer_epoch, span),
        }
    }

    /// Waits for the decision. Should the loop stop first (its transport gone), the outcome is
    /// LOOKING with a vote for this server.
    pub async fn decided(&mut self) -> Outcome {
        self.round.decided().await
    }
}
