//! Leader election without the herd effect.
//!
//! Each contender creates an EPHEMERAL_SEQUENTIAL node `<path>/<unique prefix>-n_<seq>` whose
//! data is the contender's id. The lowest sequence leads. Every other contender watches (with
//! `getData`, which leaves no watch behind when the node is already gone) only the node just
//! below its own, so when a node goes away exactly one contender is notified; it lists the
//! children again and either leads or watches its new predecessor.
//!
//! * Leadership ends the moment the connection is suspended ([`SessionState::Disconnected`]),
//!   not only when the session expires: a leader cut off from the ensemble cannot know whether
//!   its session still holds. After a reconnect within the session it re-checks and may lead
//!   again with the same fencing token.
//! * The leader's fencing token is its node's czxid: it grows with every new leader node, so a
//!   downstream resource can refuse writes carrying an older token.
//! * A lost reply to the create is recovered by the unique prefix (see [`super::queue`]).
//! * With a client built with [`crate::ClientBuilder::renew_expired_session`], a contender
//!   whose session expired re-enters the queue at the back on the new session.
//! * The leader watches nothing (a watch on its own node would be a second watcher on it):
//!   if someone else deletes the leader's node while its session lives, the leader learns it
//!   only when it next re-reads the queue (after a reconnect).
//! * [`WatchStrategy::Leader`] is the deliberately naive variant in which every contender
//!   watches the leader's node: each leader change then notifies every contender (the herd
//!   effect). It exists as a benchmark baseline.

use std::fmt;

use tokio::sync::{mpsc, oneshot, watch};
use tracing::{debug, info, warn};

use super::queue::{sorted_members, Position, Queue};
use crate::connect_string::join_path;
use crate::error::{Error, Result};
use crate::watch::SessionState;
use crate::{Client, Zxid};

/// The leader's fencing token: the czxid of its election node.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FencingToken(pub Zxid);

impl fmt::Display for FencingToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0 .0)
    }
}

/// Which node a waiting contender watches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum WatchStrategy {
    /// The node just below its own: one notification per leader change.
    #[default]
    Predecessor,
    /// The leader's node (naive; every contender is notified of every change).
    Leader,
}

/// Why leadership ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LossReason {
    /// The connection was suspended.
    Suspended,
    /// The session expired.
    SessionExpired,
    /// Our node disappeared while the session lived (deleted by someone else).
    NodeDeleted,
    /// [`Campaign::resign`] was called.
    Resigned,
    /// The client was closed or failed authentication.
    ClientClosed,
}

/// What a campaign reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ElectionEvent {
    /// Our node is in the queue (reported for every node we create or recover).
    Joined {
        /// The node name.
        node: String,
    },
    /// We lead.
    Elected {
        /// The token to pass downstream.
        fencing_token: FencingToken,
        /// Our node name.
        node: String,
    },
    /// We no longer lead.
    NotLeader {
        /// Why.
        reason: LossReason,
    },
    /// The campaign stopped for good with this error.
    Failed(Error),
}

/// The current leader, as seen by an observer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Leader {
    /// The leader's node name.
    pub node: String,
    /// The id the leader campaigned with (its node's data).
    pub id: String,
    /// Its fencing token.
    pub fencing_token: FencingToken,
}

/// An election at one path.
#[derive(Clone, Debug)]
pub struct LeaderElection {
    client: Client,
    path: String,
    strategy: WatchStrategy,
}

impl LeaderElection {
    /// The election at `path` (created if missing), with the herd-free strategy.
    pub fn new(client: Client, path: impl Into<String>) -> LeaderElection {
        LeaderElection {
            client,
            path: path.into(),
            strategy: WatchStrategy::Predecessor,
        }
    }

    /// Chooses the watch strategy ([`WatchStrategy::Leader`] is the naive baseline).
    pub fn with_strategy(mut self, strategy: WatchStrategy) -> LeaderElection {
        self.strategy = strategy;
        self
    }

    /// The election path.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Joins the election as `id`; returns once our node exists. Events follow on the
    /// returned [`Campaign`].
    pub async fn campaign(&self, id: &str) -> Result<Campaign> {
        let queue = Queue::new(self.client.clone(), self.path.clone());
        let (name, stat) = queue.join(id.as_bytes()).await?;
        let (events_tx, events) = mpsc::unbounded_channel();
        let (leading_tx, leading) = watch::channel(None);
        let (stop_tx, stop_rx) = oneshot::channel();
        let _ = events_tx.send(ElectionEvent::Joined { node: name.clone() });
        let contender = Contender {
            queue,
            id: id.to_owned(),
            strategy: self.strategy,
            node: Some((name.clone(), FencingToken(stat.czxid))),
            leading: false,
            events: events_tx,
            leading_tx,
        };
        let task = tokio::spawn(contender.run(stop_rx));
        Ok(Campaign {
            events,
            leading,
            stop: Some(stop_tx),
            task: Some(task),
            first_node: name,
        })
    }

    /// The current leader, if any contender is in the queue.
    pub async fn leader(&self) -> Result<Option<Leader>> {
        loop {
            let children = match self.client.get_children(&self.path).await {
                Ok(children) => children,
                Err(Error::NoNode) => return Ok(None),
                Err(error) => return Err(error),
            };
            let Some(head) = sorted_members(children).into_iter().next() else {
                return Ok(None);
            };
            match self
                .client
                .get_data(&join_path(&self.path, &head.name))
                .await
            {
                Ok((data, stat)) => {
                    return Ok(Some(Leader {
                        node: head.name,
                        id: String::from_utf8_lossy(&data).into_owned(),
                        fencing_token: FencingToken(stat.czxid),
                    }))
                }
                // The head left between the two reads: look again.
                Err(Error::NoNode) => continue,
                Err(error) => return Err(error),
            }
        }
    }

    /// Follows the leader: the returned observer reports every change of leader (a child
    /// watch on the election path, so one notification per join or leave for each observer).
    pub fn observe(&self) -> LeaderObserver {
        let (tx, current) = watch::channel(None);
        let election = self.clone();
        tokio::spawn(async move {
            tokio::select! {
                _ = tx.closed() => {}
                _ = election.follow(&tx) => {}
            }
        });
        LeaderObserver { current }
    }

    /// The observer's loop: re-read the leader whenever the children change or the session
    /// comes back; ends when the client is gone for good.
    async fn follow(&self, tx: &watch::Sender<Option<Leader>>) {
        let mut states = self.client.state_watcher();
        loop {
            let watched = match self.client.get_children_and_watch(&self.path).await {
                Ok((_, _, watcher)) => Some(watcher),
                // No election yet: wait for the path to appear.
                Err(Error::NoNode) => match self.client.exists_and_watch(&self.path).await {
                    Ok((_, watcher)) => Some(watcher),
                    Err(_) => None,
                },
                Err(_) => None,
            };
            if watched.is_some() {
                match self.leader().await {
                    Ok(leader) => {
                        tx.send_if_modified(|current| {
                            let changed = *current != leader;
                            *current = leader;
                            changed
                        });
                    }
                    Err(error) => debug!(%error, "could not read the leader"),
                }
            }
            let state_change = async {
                loop {
                    match states.changed().await {
                        Some(SessionState::Connected) => return true,
                        Some(_) => {}
                        None => return false,
                    }
                }
            };
            match watched {
                Some(watcher) => {
                    tokio::select! {
                        _ = watcher.changed() => {}
                        alive = state_change => if !alive { return },
                    }
                }
                None => {
                    if !state_change.await {
                        return;
                    }
                }
            }
        }
    }

    /// The contenders' node names in queue order.
    pub async fn contenders(&self) -> Result<Vec<String>> {
        match self.client.get_children(&self.path).await {
            Ok(children) => Ok(sorted_members(children)
                .into_iter()
                .map(|m| m.name)
                .collect()),
            Err(Error::NoNode) => Ok(Vec::new()),
            Err(error) => Err(error),
        }
    }
}

/// Follows the current leader of an election; see [`LeaderElection::observe`].
#[derive(Debug)]
pub struct LeaderObserver {
    current: watch::Receiver<Option<Leader>>,
}

impl LeaderObserver {
    /// The leader as last seen (`None`: no contender, or not read yet).
    pub fn leader(&self) -> Option<Leader> {
        self.current.borrow().clone()
    }

    /// Waits for the next change of leader and returns the new one; fails with
    /// [`Error::Closed`] once the observer's client is gone for good.
    pub async fn changed(&mut self) -> Result<Option<Leader>> {
        self.current.changed().await.map_err(|_| Error::Closed)?;
        Ok(self.current.borrow_and_update().clone())
    }
}

/// One contender's campaign. Dropping it resigns (in the background).
#[derive(Debug)]
pub struct Campaign {
    events: mpsc::UnboundedReceiver<ElectionEvent>,
    leading: watch::Receiver<Option<FencingToken>>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
    first_node: String,
}

impl Campaign {
    /// The next event; `None` after the campaign ended.
    pub async fn next_event(&mut self) -> Option<ElectionEvent> {
        self.events.recv().await
    }

    /// The fencing token while we lead, `None` otherwise.
    pub fn leadership(&self) -> Option<FencingToken> {
        *self.leading.borrow()
    }

    /// Waits until we lead and returns the fencing token; fails if the campaign ends first.
    pub async fn wait_elected(&mut self) -> Result<FencingToken> {
        loop {
            match self.next_event().await {
                Some(ElectionEvent::Elected { fencing_token, .. }) => return Ok(fencing_token),
                Some(ElectionEvent::Failed(error)) => return Err(error),
                Some(_) => {}
                None => return Err(Error::Closed),
            }
        }
    }

    /// The node created when the campaign started.
    pub fn first_node(&self) -> &str {
        &self.first_node
    }

    /// Leaves the election: deletes our node and ends the campaign.
    pub async fn resign(mut self) -> Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
        Ok(())
    }
}

impl Drop for Campaign {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

struct Contender {
    queue: Queue,
    id: String,
    strategy: WatchStrategy,
    node: Option<(String, FencingToken)>,
    leading: bool,
    events: mpsc::UnboundedSender<ElectionEvent>,
    leading_tx: watch::Sender<Option<FencingToken>>,
}

/// What ended one step of the contender loop.
enum Step {
    Continue,
    Stop,
    Fail(Error),
}

impl Contender {
    fn emit(&self, event: ElectionEvent) {
        let _ = self.events.send(event);
    }

    fn lose(&mut self, reason: LossReason) {
        if self.leading {
            self.leading = false;
            self.leading_tx.send_replace(None);
            info!(id = %self.id, ?reason, "leadership ended");
            self.emit(ElectionEvent::NotLeader { reason });
        }
    }

    fn elect(&mut self, name: &str, token: FencingToken) {
        if !self.leading {
            self.leading = true;
            self.leading_tx.send_replace(Some(token));
            info!(id = %self.id, node = name, %token, "elected");
            self.emit(ElectionEvent::Elected {
                fencing_token: token,
                node: name.to_owned(),
            });
        }
    }

    async fn run(mut self, mut stop: oneshot::Receiver<()>) {
        let client = self.queue.client.clone();
        let mut states = client.state_watcher();
        loop {
            let step = tokio::select! {
                biased;
                _ = &mut stop => Step::Stop,
                step = self.step(&mut states) => step,
            };
            match step {
                Step::Continue => {}
                Step::Stop => {
                    self.lose(LossReason::Resigned);
                    if let Some((name, _)) = self.node.take() {
                        // Bounded: with the ensemble out of reach the node goes with the session.
                        let bound = std::time::Duration::from_millis(u64::from(
                            self.queue.client.session().timeout_ms,
                        ));
                        match tokio::time::timeout(bound, self.queue.leave(&name)).await {
                            Ok(Ok(())) => {}
                            Ok(Err(error)) => {
                                debug!(%error, "could not delete our node while resigning")
                            }
                            Err(_) => debug!("gave up deleting our node while resigning"),
                        }
                    }
                    return;
                }
                Step::Fail(error) => {
                    let reason = match error {
                        Error::SessionExpired => LossReason::SessionExpired,
                        _ => LossReason::ClientClosed,
                    };
                    self.lose(reason);
                    warn!(%error, id = %self.id, "campaign ended");
                    self.emit(ElectionEvent::Failed(error));
                    return;
                }
            }
        }
    }

    /// Handles a failed request of the loop.
    fn on_error(&mut self, error: Error) -> Step {
        match error {
            Error::ConnectionLoss => {
                self.lose(LossReason::Suspended);
                Step::Continue
            }
            // With a renewing client the next step waits for the new session; otherwise the
            // state stream ends and the campaign fails with the expiry.
            Error::SessionExpired => {
                self.lose(LossReason::SessionExpired);
                self.node = None;
                Step::Continue
            }
            error => Step::Fail(error),
        }
    }

    /// Waits until the session state changes; returns the new state.
    async fn next_state(&mut self, states: &mut crate::StateWatcher) -> Option<SessionState> {
        let state = states.changed().await;
        debug!(id = %self.id, ?state, "session state seen by the contender");
        match state {
            Some(SessionState::Connected) | Some(SessionState::Connecting) => {}
            Some(SessionState::Disconnected) => self.lose(LossReason::Suspended),
            Some(SessionState::Expired) => {
                self.lose(LossReason::SessionExpired);
                self.node = None;
            }
            Some(SessionState::AuthFailed) | Some(SessionState::Closed) | None => {
                self.lose(LossReason::ClientClosed)
            }
        }
        state
    }

    async fn step(&mut self, states: &mut crate::StateWatcher) -> Step {
        let client = self.queue.client.clone();
        // Only a connected session can lead or queue.
        if client.state() != SessionState::Connected {
            self.lose(LossReason::Suspended);
            return match self.next_state(states).await {
                None => Step::Fail(client_error(&client)),
                Some(_) => Step::Continue,
            };
        }
        let (name, token) = match self.node.clone() {
            Some(node) => node,
            None => match self.queue.join(self.id.as_bytes()).await {
                Ok((name, stat)) => {
                    let token = FencingToken(stat.czxid);
                    self.node = Some((name.clone(), token));
                    self.emit(ElectionEvent::Joined { node: name.clone() });
                    (name, token)
                }
                Err(error) => return self.on_error(error),
            },
        };
        let position = match self.queue.position(&name).await {
            Ok(position) => position,
            Err(error) => return self.on_error(error),
        };
        match position {
            Position::Missing => {
                // Our node is gone while the session lives (or the expiry is not yet seen):
                // queue again at the back.
                warn!(node = %name, "our election node disappeared");
                self.lose(LossReason::NodeDeleted);
                self.node = None;
                Step::Continue
            }
            Position::Head => {
                if client.state() != SessionState::Connected {
                    return Step::Continue;
                }
                self.elect(&name, token);
                // Lead until the connection is suspended or the session ends.
                loop {
                    match self.next_state(states).await {
                        Some(SessionState::Connected) if self.leading => continue,
                        None => return Step::Fail(client_error(&client)),
                        Some(_) => return Step::Continue,
                    }
                }
            }
            Position::Behind { predecessor, head } => {
                self.lose(LossReason::NodeDeleted);
                let target = match self.strategy {
                    WatchStrategy::Predecessor => predecessor,
                    WatchStrategy::Leader => head,
                };
                let watched = join_path(&self.queue.dir, &target);
                let watcher = match client.get_data_and_watch(&watched).await {
                    Ok((_, _, watcher)) => watcher,
                    // Gone already: look again.
                    Err(Error::NoNode) => return Step::Continue,
                    Err(error) => return self.on_error(error),
                };
                debug!(node = %name, watching = %target, "waiting");
                tokio::select! {
                    event = watcher.changed() => {
                        debug!(node = %name, event = ?event.event_type, "watched node changed");
                        Step::Continue
                    }
                    state = self.next_state(states) => match state {
                        None => Step::Fail(client_error(&client)),
                        Some(_) => Step::Continue,
                    },
                }
            }
        }
    }
}

fn client_error(client: &Client) -> Error {
    match client.state() {
        SessionState::Expired => Error::SessionExpired,
        SessionState::AuthFailed => Error::AuthFailed,
        _ => Error::Closed,
    }
}
