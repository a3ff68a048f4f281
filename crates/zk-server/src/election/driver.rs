//! Steps a FastLeaderElection over the transport on tokio's clock.
//!
//! The driver keeps running after the decision: a decided server must go on answering LOOKING
//! peers with the vote that elected its leader.

use std::sync::Arc;

use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio::time::{sleep_until, Duration, Instant};
use zk_elect::{Action, Election, Input, Millis, Outcome};
use zk_fle::{FastLeaderElection, Notification};
use zk_proto::{Epoch, Sid, Zxid};

use super::transport::{ElectionTransport, Inbound};

/// A running election for one server.
pub struct ElectionDriver {
    outcome: watch::Receiver<Option<Outcome>>,
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
        let (outcome_tx, outcome) = watch::channel(None);
        let task = tokio::spawn(run(
            transport, inbound, fle, voters, last_zxid, peer_epoch, outcome_tx,
        ));
        ElectionDriver { outcome, task }
    }

    /// Waits for the decision.
    pub async fn decided(&mut self) -> Outcome {
        loop {
            if let Some(outcome) = self.outcome.borrow_and_update().clone() {
                return outcome;
            }
            if self.outcome.changed().await.is_err() {
                panic!("the election driver stopped before deciding");
            }
        }
    }
}

impl Drop for ElectionDriver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The loop: one input at a time, then the actions in order.
pub async fn run(
    transport: Arc<ElectionTransport>,
    mut inbound: mpsc::Receiver<Inbound>,
    mut fle: FastLeaderElection,
    voters: Vec<Sid>,
    last_zxid: Zxid,
    peer_epoch: Epoch,
    outcome: watch::Sender<Option<Outcome>>,
) {
    let start = Instant::now();
    let now = || Millis(start.elapsed().as_millis() as u64);
    let mut out: Vec<Action<Notification>> = Vec::new();
    fle.step(
        now(),
        Input::Start {
            last_zxid,
            peer_epoch,
        },
        &mut out,
    );
    loop {
        for action in out.drain(..) {
            match action {
                Action::Send { to, msg } => transport.send(to, &msg),
                Action::Broadcast(msg) => {
                    for &to in voters.iter().filter(|&&to| to != transport.sid()) {
                        transport.send(to, &msg);
                    }
                }
                Action::Decided(decision) => {
                    let _ = outcome.send(Some(decision));
                }
            }
        }
        let deadline = fle.deadline().map(|at| start + Duration::from_millis(at.0));
        tokio::select! {
            received = inbound.recv() => match received {
                Some(Inbound::Message { from, msg }) => fle.step(now(), Input::Recv { from, msg }, &mut out),
                Some(Inbound::PeerDown(sid)) => fle.step(now(), Input::PeerDown(sid), &mut out),
                None => return,
            },
            _ = sleep_until(deadline.unwrap_or(start)), if deadline.is_some() => {
                fle.step(now(), Input::Tick, &mut out);
            }
        }
    }
}
