//! The one loop that steps an election machine over a transport on tokio's clock, for every
//! algorithm and across election rounds.
//!
//! A server has one such task for its lifetime. [`Command::Start`] begins a round
//! ([`Input::Start`]) and carries where the round's [`Outcome`] goes; between rounds the task
//! keeps stepping the machine with what peers send, so a decided server goes on answering
//! LOOKING peers with the vote that elected its leader.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio::time::{sleep_until, Duration, Instant};
use tracing::{debug, Instrument, Span};
use zk_elect::{Action, Election, Input, Millis, Outcome, ServerState, Vote};
use zk_proto::{Epoch, Sid, Zxid};

/// The sending side of a transport, as the loop sees it.
pub(crate) trait Wire<M>: Send + 'static {
    /// This server's sid.
    fn sid(&self) -> Sid;
    /// Queues `msg` for `to`.
    fn send(&self, to: Sid, msg: &M);
}

/// What a transport's inbound queue yields, as a machine input.
pub(crate) trait IntoInput<M>: Send + 'static {
    /// The input for the machine.
    fn into_input(self) -> Input<M>;
}

/// Decides whether a received message may reach the machine (for example, whether its MAC is
/// valid); refused messages are counted.
pub(crate) trait Admit<M>: Send + 'static {
    /// Whether `msg`, said to come from `from`, may reach the machine.
    fn admit(&mut self, from: Sid, msg: &M) -> bool;
}

/// Admits everything.
pub(crate) struct AdmitAll;

impl<M> Admit<M> for AdmitAll {
    fn admit(&mut self, _from: Sid, _msg: &M) -> bool {
        true
    }
}

/// What the owner of the loop asks of it.
pub(crate) enum Command {
    /// Begin a new round with this vote; the round's outcome goes to `reply`.
    Start {
        /// The server's last logged zxid.
        last_zxid: Zxid,
        /// The server's current epoch.
        peer_epoch: Epoch,
        /// Where the outcome goes.
        reply: oneshot::Sender<Outcome>,
    },
}

/// Counters shared between the loop and its owner.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    /// Messages handed to the transport.
    pub(crate) sent: AtomicU64,
    /// Messages refused by [`Admit`].
    pub(crate) rejected: AtomicU64,
}

/// The pieces the loop runs on.
pub(crate) struct Parts<E, W, I, A> {
    pub(crate) machine: E,
    pub(crate) wire: W,
    pub(crate) inbound: mpsc::Receiver<I>,
    pub(crate) admit: A,
    pub(crate) voters: Vec<Sid>,
    pub(crate) counters: Arc<Counters>,
}

/// Steps the machine until the command channel and the inbound queue are both closed.
pub(crate) async fn run<E, W, I, A>(
    parts: Parts<E, W, I, A>,
    mut commands: mpsc::UnboundedReceiver<Command>,
) where
    E: Election,
    W: Wire<E::Msg>,
    I: IntoInput<E::Msg>,
    A: Admit<E::Msg>,
{
    let Parts {
        mut machine,
        wire,
        mut inbound,
        mut admit,
        voters,
        counters,
    } = parts;
    let me = wire.sid();
    let start = Instant::now();
    let now = || Millis(start.elapsed().as_millis() as u64);
    let mut out: Vec<Action<E::Msg>> = Vec::new();
    let mut reply: Option<oneshot::Sender<Outcome>> = None;
    let mut commands_open = true;
    loop {
        for action in out.drain(..) {
            match action {
                Action::Send { to, msg } => {
                    counters.sent.fetch_add(1, Ordering::Relaxed);
                    wire.send(to, &msg);
                }
                Action::Broadcast(msg) => {
                    for &to in voters.iter().filter(|&&to| to != me) {
                        counters.sent.fetch_add(1, Ordering::Relaxed);
                        wire.send(to, &msg);
                    }
                }
                Action::Decided(decision) => {
                    debug!(sid = %me, state = %decision.state, vote = %decision.vote, "decided");
                    if let Some(reply) = reply.take() {
                        let _ = reply.send(decision);
                    }
                }
            }
        }
        let deadline = machine
            .deadline()
            .map(|at| start + Duration::from_millis(at.0));
        tokio::select! {
            command = commands.recv(), if commands_open => match command {
                Some(Command::Start { last_zxid, peer_epoch, reply: to }) => {
                    reply = Some(to);
                    machine.step(now(), Input::Start { last_zxid, peer_epoch }, &mut out);
                }
                None => commands_open = false,
            },
            received = inbound.recv() => match received {
                Some(received) => {
                    let input = received.into_input();
                    if let Input::Recv { from, msg } = &input {
                        if !admit.admit(*from, msg) {
                            counters.rejected.fetch_add(1, Ordering::Relaxed);
                            continue;
                        }
                    }
                    machine.step(now(), input, &mut out);
                }
                None => return,
            },
            _ = sleep_until(deadline.unwrap_or(start)), if deadline.is_some() => {
                machine.step(now(), Input::Tick, &mut out);
            }
        }
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

/// A loop started for exactly one round, whose command sender is dropped at once: after the
/// decision it goes on with the peers alone. The loop stops when this is dropped.
pub(crate) struct SingleRound {
    sid: Sid,
    pending: Option<oneshot::Receiver<Outcome>>,
    outcome: Option<Outcome>,
    task: JoinHandle<()>,
}

impl SingleRound {
    /// Spawns the loop on `parts` in `span` and starts its one round with this vote.
    pub(crate) fn spawn<E, W, I, A>(
        parts: Parts<E, W, I, A>,
        last_zxid: Zxid,
        peer_epoch: Epoch,
        span: Span,
    ) -> SingleRound
    where
        E: Election + Send + 'static,
        E::Msg: Send,
        W: Wire<E::Msg>,
        I: IntoInput<E::Msg>,
        A: Admit<E::Msg>,
    {
        let sid = parts.wire.sid();
        let (commands, commands_rx) = mpsc::unbounded_channel();
        let (reply, pending) = oneshot::channel();
        let _ = commands.send(Command::Start {
            last_zxid,
            peer_epoch,
            reply,
        });
        let task = tokio::spawn(run(parts, commands_rx).instrument(span));
        SingleRound {
            sid,
            pending: Some(pending),
            outcome: None,
            task,
        }
    }

    /// Waits for the decision. Should the loop stop first (its transport gone), the outcome is
    /// LOOKING with a vote for this server.
    pub(crate) async fn decided(&mut self) -> Outcome {
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

impl Drop for SingleRound {
    fn drop(&mut self) {
        self.task.abort();
    }
}
