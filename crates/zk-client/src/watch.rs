//! Typed watch receivers (one-shot, persistent, session state) and the registry that the
//! session task uses to route the server's notifications to them.
//!
//! A watch is registered in the registry only when its request succeeded, by the session task,
//! before the reply is handed to the caller; the server sends a watch's notification only after
//! that reply, so no notification can overtake its registration.

use std::collections::HashMap;

use tokio::sync::{broadcast, mpsc, oneshot, watch};
use zk_proto::{EventType, WatcherType, Zxid};

use crate::connect_string::parent_path;

/// The state of a client's session, as reported by [`crate::Client::state`] and
/// [`StateWatcher`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SessionState {
    /// No session has been established yet.
    Connecting,
    /// Connected to a server; the session is alive.
    Connected,
    /// The connection was lost ("suspended"); the client is reconnecting to the same session,
    /// whose ephemeral nodes and watches survive if it reconnects in time.
    Disconnected,
    /// The server declared the session expired: its ephemeral nodes and watches are gone.
    /// A client built with [`crate::ClientBuilder::renew_expired_session`] goes on to
    /// `Connected` with a new session; otherwise this state is final.
    Expired,
    /// The server refused the credentials; final.
    AuthFailed,
    /// The client was closed; final.
    Closed,
}

impl SessionState {
    /// True for the states after which the client never connects again.
    pub fn is_terminal(self) -> bool {
        matches!(self, SessionState::AuthFailed | SessionState::Closed)
    }

    /// True when requests can be served right now.
    pub fn is_connected(self) -> bool {
        self == SessionState::Connected
    }
}

/// One event delivered to a watcher.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WatchedEvent {
    /// What happened; [`EventType::None`] for a session event that ends the watch.
    pub event_type: EventType,
    /// The session state at delivery: `Connected` for node events, `Expired` or `Closed` when
    /// the session ended and the watch with it.
    pub session_state: SessionState,
    /// The client path (chroot removed) of the node concerned.
    pub path: String,
    /// The zxid in the notification's header (-1, that is `u64::MAX`, from 3.8 servers).
    pub zxid: Zxid,
}

/// A standard (one-shot) watch: fires at most once.
#[derive(Debug)]
pub struct OneshotWatcher {
    pub(crate) receiver: oneshot::Receiver<WatchedEvent>,
    pub(crate) path: String,
}

impl OneshotWatcher {
    /// Waits for the watch to fire. When the client goes away first this returns an event of
    /// type [`EventType::None`] with state [`SessionState::Closed`].
    pub async fn changed(self) -> WatchedEvent {
        let path = self.path;
        self.receiver.await.unwrap_or(WatchedEvent {
            event_type: EventType::None,
            session_state: SessionState::Closed,
            path,
            zxid: Zxid(u64::MAX),
        })
    }

    /// The client path this watch is set on.
    pub fn path(&self) -> &str {
        &self.path
    }
}

/// A persistent or persistent-recursive watch (`addWatch`): fires until removed.
#[derive(Debug)]
pub struct PersistentWatcher {
    pub(crate) receiver: mpsc::UnboundedReceiver<WatchedEvent>,
    pub(crate) path: String,
}

impl PersistentWatcher {
    /// The next event; `None` once the session has ended (after an event of type
    /// [`EventType::None`] telling why) or the client is gone.
    pub async fn changed(&mut self) -> Option<WatchedEvent> {
        self.receiver.recv().await
    }

    /// The client path this watch is set on.
    pub fn path(&self) -> &str {
        &self.path
    }
}

/// A stream of session state changes.
///
/// Every transition is delivered in order; a watcher that falls far behind skips to the
/// current state instead of replaying stale ones.
#[derive(Debug)]
pub struct StateWatcher {
    pub(crate) events: broadcast::Receiver<SessionState>,
    pub(crate) current: watch::Receiver<SessionState>,
}

impl StateWatcher {
    /// The state now.
    pub fn state(&self) -> SessionState {
        *self.current.borrow()
    }

    /// Waits for the next state change and returns the new state; `None` once the session
    /// task has ended (the state then stays as [`StateWatcher::state`] says).
    pub async fn changed(&mut self) -> Option<SessionState> {
        match self.events.recv().await {
            Ok(state) => Some(state),
            Err(broadcast::error::RecvError::Lagged(_)) => {
                self.events = self.events.resubscribe();
                Some(*self.current.borrow())
            }
            Err(broadcast::error::RecvError::Closed) => None,
        }
    }
}

/// What a request registers when it succeeds.
#[derive(Debug)]
pub(crate) enum WatchRegistration {
    /// getData: a data watch.
    Data(oneshot::Sender<WatchedEvent>),
    /// exists: a data watch if the node exists, an exist watch if not.
    Exists(oneshot::Sender<WatchedEvent>),
    /// getChildren: a child watch.
    Child(oneshot::Sender<WatchedEvent>),
    /// addWatch mode 0.
    Persistent(mpsc::UnboundedSender<WatchedEvent>),
    /// addWatch mode 1.
    PersistentRecursive(mpsc::UnboundedSender<WatchedEvent>),
}

/// The watch lists re-sent with SetWatches2 after a reconnect (server paths).
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct WatchLists {
    pub(crate) data: Vec<String>,
    pub(crate) exist: Vec<String>,
    pub(crate) child: Vec<String>,
    pub(crate) persistent: Vec<String>,
    pub(crate) persistent_recursive: Vec<String>,
}

impl WatchLists {
    pub(crate) fn is_empty(&self) -> bool {
        self.data.is_empty()
            && self.exist.is_empty()
            && self.child.is_empty()
            && self.persistent.is_empty()
            && self.persistent_recursive.is_empty()
    }
}

type Oneshots = HashMap<String, Vec<oneshot::Sender<WatchedEvent>>>;
type Persistents = HashMap<String, Vec<mpsc::UnboundedSender<WatchedEvent>>>;

/// Every watch of the session, keyed by server path. Owned by the session task alone.
#[derive(Debug, Default)]
pub(crate) struct WatchRegistry {
    data: Oneshots,
    exist: Oneshots,
    child: Oneshots,
    persistent: Persistents,
    persistent_recursive: Persistents,
}

impl WatchRegistry {
    /// Records the watch of a request that succeeded (`node_exists` matters for exists only).
    pub(crate) fn register(
        &mut self,
        path: &str,
        registration: WatchRegistration,
        node_exists: bool,
    ) {
        let path = path.to_owned();
        match registration {
            WatchRegistration::Data(tx) => self.data.entry(path).or_default().push(tx),
            WatchRegistration::Exists(tx) if node_exists => {
                self.data.entry(path).or_default().push(tx)
            }
            WatchRegistration::Exists(tx) => self.exist.entry(path).or_default().push(tx),
            WatchRegistration::Child(tx) => self.child.entry(path).or_default().push(tx),
            WatchRegistration::Persistent(tx) => self.persistent.entry(path).or_default().push(tx),
            WatchRegistration::PersistentRecursive(tx) => {
                self.persistent_recursive.entry(path).or_default().push(tx)
            }
        }
    }

    /// Delivers a notification for `server_path`; `client_path` is what watchers see.
    /// Returns how many watchers received it.
    pub(crate) fn dispatch(
        &mut self,
        event_type: EventType,
        server_path: &str,
        client_path: &str,
        zxid: Zxid,
    ) -> usize {
        let event = WatchedEvent {
            event_type,
            session_state: SessionState::Connected,
            path: client_path.to_owned(),
            zxid,
        };
        let mut oneshots = Vec::new();
        match event_type {
            EventType::NodeCreated | EventType::NodeDataChanged => {
                oneshots.extend(self.data.remove(server_path).unwrap_or_default());
                oneshots.extend(self.exist.remove(server_path).unwrap_or_default());
            }
            EventType::NodeDeleted => {
                oneshots.extend(self.data.remove(server_path).unwrap_or_default());
                oneshots.extend(self.exist.remove(server_path).unwrap_or_default());
                oneshots.extend(self.child.remove(server_path).unwrap_or_default());
            }
            EventType::NodeChildrenChanged => {
                oneshots.extend(self.child.remove(server_path).unwrap_or_default());
            }
            _ => {}
        }
        let mut delivered = 0;
        for tx in oneshots {
            if tx.send(event.clone()).is_ok() {
                delivered += 1;
            }
        }
        if let Some(list) = self.persistent.get_mut(server_path) {
            list.retain(|tx| tx.send(event.clone()).is_ok());
            delivered += list.len();
        }
        if event_type != EventType::NodeChildrenChanged {
            let mut path = server_path;
            loop {
                if let Some(list) = self.persistent_recursive.get_mut(path) {
                    list.retain(|tx| tx.send(event.clone()).is_ok());
                    delivered += list.len();
                }
                if path == "/" {
                    break;
                }
                path = parent_path(path);
            }
        }
        self.prune();
        delivered
    }

    /// Forgets the watches of `watcher_type` on a path after removeWatches succeeded, telling
    /// each watcher with a `*WatchRemoved` event.
    pub(crate) fn remove(
        &mut self,
        server_path: &str,
        client_path: &str,
        watcher_type: WatcherType,
    ) {
        let event = |event_type| WatchedEvent {
            event_type,
            session_state: SessionState::Connected,
            path: client_path.to_owned(),
            zxid: Zxid(u64::MAX),
        };
        let mut oneshots = Vec::new();
        if matches!(watcher_type, WatcherType::Data | WatcherType::Any) {
            for tx in self.data.remove(server_path).into_iter().flatten() {
                oneshots.push((tx, EventType::DataWatchRemoved));
            }
            for tx in self.exist.remove(server_path).into_iter().flatten() {
                oneshots.push((tx, EventType::DataWatchRemoved));
            }
        }
        if matches!(watcher_type, WatcherType::Children | WatcherType::Any) {
            for tx in self.child.remove(server_path).into_iter().flatten() {
                oneshots.push((tx, EventType::ChildWatchRemoved));
            }
        }
        for (tx, event_type) in oneshots {
            let _ = tx.send(event(event_type));
        }
        let mut persistents = Vec::new();
        if matches!(watcher_type, WatcherType::Persistent | WatcherType::Any) {
            persistents.extend(self.persistent.remove(server_path).into_iter().flatten());
        }
        if matches!(
            watcher_type,
            WatcherType::PersistentRecursive | WatcherType::Any
        ) {
            persistents.extend(
                self.persistent_recursive
                    .remove(server_path)
                    .into_iter()
                    .flatten(),
            );
        }
        for tx in persistents {
            let _ = tx.send(event(EventType::PersistentWatchRemoved));
        }
    }

    /// Drops watches whose receivers are gone.
    fn prune(&mut self) {
        for map in [&mut self.data, &mut self.exist, &mut self.child] {
            map.retain(|_, list| {
                list.retain(|tx| !tx.is_closed());
                !list.is_empty()
            });
        }
        for map in [&mut self.persistent, &mut self.persistent_recursive] {
            map.retain(|_, list| {
                list.retain(|tx| !tx.is_closed());
                !list.is_empty()
            });
        }
    }

    /// The watches to re-register after a reconnect, sorted for a stable wire image.
    pub(crate) fn lists(&mut self) -> WatchLists {
        self.prune();
        let keys = |map: &Oneshots| {
            let mut keys: Vec<String> = map.keys().cloned().collect();
            keys.sort();
            keys
        };
        let pkeys = |map: &Persistents| {
            let mut keys: Vec<String> = map.keys().cloned().collect();
            keys.sort();
            keys
        };
        WatchLists {
            data: keys(&self.data),
            exist: keys(&self.exist),
            child: keys(&self.child),
            persistent: pkeys(&self.persistent),
            persistent_recursive: pkeys(&self.persistent_recursive),
        }
    }

    /// Ends every watch with a session event (`Expired` or `Closed`).
    pub(crate) fn end_all(&mut self, state: SessionState, client_path: impl Fn(&str) -> String) {
        let event = |path: &str| WatchedEvent {
            event_type: EventType::None,
            session_state: state,
            path: client_path(path),
            zxid: Zxid(u64::MAX),
        };
        for map in [&mut self.data, &mut self.exist, &mut self.child] {
            for (path, list) in map.drain() {
                for tx in list {
                    let _ = tx.send(event(&path));
                }
            }
        }
        for map in [&mut self.persistent, &mut self.persistent_recursive] {
            for (path, list) in map.drain() {
                for tx in list {
                    let _ = tx.send(event(&path));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn oneshot_pair() -> (
        oneshot::Sender<WatchedEvent>,
        oneshot::Receiver<WatchedEvent>,
    ) {
        oneshot::channel()
    }

    #[test]
    fn exists_on_a_missing_node_is_an_exist_watch_fired_by_creation() {
        let mut registry = WatchRegistry::default();
        let (tx, mut rx) = oneshot_pair();
        registry.register("/a", WatchRegistration::Exists(tx), false);
        assert_eq!(registry.lists().exist, vec!["/a".to_owned()]);
        assert_eq!(
            registry.dispatch(EventType::NodeChildrenChanged, "/a", "/a", Zxid(1)),
            0
        );
        assert_eq!(
            registry.dispatch(EventType::NodeCreated, "/a", "/a", Zxid(1)),
            1
        );
        assert_eq!(rx.try_recv().unwrap().event_type, EventType::NodeCreated);
        assert!(registry.lists().is_empty());
    }

    #[test]
    fn deletion_fires_data_and_child_watches_once() {
        let mut registry = WatchRegistry::default();
        let (data_tx, mut data_rx) = oneshot_pair();
        let (child_tx, mut child_rx) = oneshot_pair();
        registry.register("/a", WatchRegistration::Data(data_tx), true);
        registry.register("/a", WatchRegistration::Child(child_tx), true);
        assert_eq!(
            registry.dispatch(EventType::NodeDeleted, "/a", "/a", Zxid(1)),
            2
        );
        assert!(data_rx.try_recv().is_ok());
        assert!(child_rx.try_recv().is_ok());
        assert_eq!(
            registry.dispatch(EventType::NodeDeleted, "/a", "/a", Zxid(1)),
            0
        );
    }

    #[test]
    fn recursive_watches_see_descendants_but_not_child_events() {
        let mut registry = WatchRegistry::default();
        let (tx, mut rx) = mpsc::unbounded_channel();
        registry.register("/a", WatchRegistration::PersistentRecursive(tx), true);
        assert_eq!(
            registry.dispatch(EventType::NodeCreated, "/a/b/c", "/a/b/c", Zxid(1)),
            1
        );
        assert_eq!(
            registry.dispatch(EventType::NodeChildrenChanged, "/a", "/a", Zxid(1)),
            0
        );
        assert_eq!(rx.try_recv().unwrap().path, "/a/b/c");
        assert_eq!(registry.lists().persistent_recursive, vec!["/a".to_owned()]);
    }

    #[test]
    fn dropped_receivers_are_not_re_registered() {
        let mut registry = WatchRegistry::default();
        let (tx, rx) = oneshot_pair();
        registry.register("/a", WatchRegistration::Data(tx), true);
        drop(rx);
        assert!(registry.lists().is_empty());
    }

    #[test]
    fn ending_the_session_tells_every_watcher() {
        let mut registry = WatchRegistry::default();
        let (tx, mut rx) = oneshot_pair();
        let (ptx, mut prx) = mpsc::unbounded_channel();
        registry.register("/root/a", WatchRegistration::Data(tx), true);
        registry.register("/root/b", WatchRegistration::Persistent(ptx), true);
        registry.end_all(SessionState::Expired, |p| {
            p.trim_start_matches("/root").to_owned()
        });
        let event = rx.try_recv().unwrap();
        assert_eq!(event.session_state, SessionState::Expired);
        assert_eq!(event.path, "/a");
        assert_eq!(prx.try_recv().unwrap().event_type, EventType::None);
        assert!(prx.try_recv().is_err());
        assert!(registry.lists().is_empty());
    }
}
