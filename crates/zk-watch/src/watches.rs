//! The watch registry: who watches which path, in which mode, and who is notified when a node
//! changes, following ZooKeeper 3.8's `WatchManager`, `WatcherModeManager` and the watch parts
//! of `DataTree`.
//!
//! There are two tables, as in ZooKeeper: the data table (getData, exists, persistent and
//! persistent-recursive watches) and the child table (getChildren, persistent and
//! persistent-recursive watches). Each maps a path to its watchers, and each (watcher, path) pair
//! of a table has one mode; adding a watch again replaces the mode, exactly as ZooKeeper 3.8's
//! `setWatcherMode` does (so a one-shot watch set after a persistent one on the same path
//! degrades it to one-shot).

use std::collections::{BTreeMap, BTreeSet};

use thiserror::Error;
use zk_proto::Zxid;

/// One watcher: in practice one client connection.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Default)]
pub struct WatcherId(pub u64);

/// The kind of watch a request sets.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum WatchKind {
    /// getData with watch, or exists with watch on an existing node (data table, one-shot).
    Data,
    /// exists with watch on a missing node (data table, one-shot).
    Exist,
    /// getChildren/getChildren2 with watch (child table, one-shot).
    Child,
    /// addWatch mode 0 (both tables, never removed by a trigger).
    Persistent,
    /// addWatch mode 1 (both tables, fires for the path and every descendant).
    PersistentRecursive,
}

/// The event types the server sends (`Watcher.Event.EventType`).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub enum EventKind {
    /// The node was created.
    NodeCreated,
    /// The node was deleted.
    NodeDeleted,
    /// The node's data changed.
    NodeDataChanged,
    /// A child was created or deleted.
    NodeChildrenChanged,
}

impl EventKind {
    /// The number in `WatcherEvent.type`.
    pub fn code(self) -> i32 {
        match self {
            EventKind::NodeCreated => 1,
            EventKind::NodeDeleted => 2,
            EventKind::NodeDataChanged => 3,
            EventKind::NodeChildrenChanged => 4,
        }
    }
}

/// The `type` of checkWatches/removeWatches (`Watcher.WatcherType`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum RemoveKind {
    /// 1: child watches.
    Children,
    /// 2: data watches.
    Data,
    /// 3: both.
    Any,
    /// 4: persistent watches (3.9 only: 3.8 refuses the number, see
    /// [`RemoveKind::from_code`]; if passed anyway, [`WatchRegistry::remove`] and
    /// [`WatchRegistry::check`] answer NOWATCHER).
    Persistent,
    /// 5: persistent recursive watches (3.9 only, as [`RemoveKind::Persistent`]).
    PersistentRecursive,
}

impl RemoveKind {
    /// The kind for a `type` number as ZooKeeper 3.8 reads it: its `WatcherType` has only
    /// Children (1), Data (2) and Any (3), and `WatcherType.fromInt` throws for anything else,
    /// which FinalRequestProcessor answers with MARSHALLINGERROR. So 4, 5 and unknown numbers
    /// give `None` here, and the server should reply MARSHALLINGERROR.
    pub fn from_code(code: i32) -> Option<RemoveKind> {
        Some(match code {
            1 => RemoveKind::Children,
            2 => RemoveKind::Data,
            3 => RemoveKind::Any,
            _ => return None,
        })
    }

    /// The kind for a `type` number as ZooKeeper 3.9 reads it (adds Persistent and
    /// PersistentRecursive), for servers that want to accept those numbers anyway.
    pub fn from_code_3_9(code: i32) -> Option<RemoveKind> {
        match code {
            4 => Some(RemoveKind::Persistent),
            5 => Some(RemoveKind::PersistentRecursive),
            _ => RemoveKind::from_code(code),
        }
    }

    /// The number of this kind.
    pub fn code(self) -> i32 {
        match self {
            RemoveKind::Children => 1,
            RemoveKind::Data => 2,
            RemoveKind::Any => 3,
            RemoveKind::Persistent => 4,
            RemoveKind::PersistentRecursive => 5,
        }
    }
}

/// The answer when a checkWatches/removeWatches finds nothing (NOWATCHER, -121).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Error)]
#[error("no such watcher")]
pub struct NoWatcher;

/// The watch lists of SetWatches/SetWatches2.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct SetWatchLists {
    /// Data watches (getData or exists on an existing node).
    pub data: Vec<String>,
    /// Exist watches (exists on a missing node).
    pub exist: Vec<String>,
    /// Child watches.
    pub child: Vec<String>,
    /// Persistent watches (SetWatches2 only).
    pub persistent: Vec<String>,
    /// Persistent recursive watches (SetWatches2 only).
    pub persistent_recursive: Vec<String>,
}

/// The zxids of an existing node, as far as SetWatches needs them.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct NodeZxids {
    /// The zxid that created the node.
    pub czxid: Zxid,
    /// The zxid of the last data change.
    pub mzxid: Zxid,
    /// The zxid of the last child create or delete.
    pub pzxid: Zxid,
}

/// Read access to the data tree for [`WatchRegistry::set_watches`].
pub trait NodeView {
    /// The zxids of the node at `path`, or `None` if it does not exist.
    fn zxids(&self, path: &str) -> Option<NodeZxids>;
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Mode {
    Standard,
    Persistent,
    PersistentRecursive,
}

impl Mode {
    fn is_persistent(self) -> bool {
        self != Mode::Standard
    }

    fn is_recursive(self) -> bool {
        self == Mode::PersistentRecursive
    }
}

/// One of ZooKeeper's two watch tables.
#[derive(Clone, Debug, Default)]
struct Table {
    by_path: BTreeMap<String, BTreeMap<WatcherId, Mode>>,
    by_watcher: BTreeMap<WatcherId, BTreeSet<String>>,
    recursive_count: usize,
}

impl Table {
    fn add(&mut self, path: &str, watcher: WatcherId, mode: Mode) {
        let old = self
            .by_path
            .entry(path.to_owned())
            .or_default()
            .insert(watcher, mode);
        self.adjust_recursive(old, Some(mode));
        self.by_watcher
            .entry(watcher)
            .or_default()
            .insert(path.to_owned());
    }

    fn adjust_recursive(&mut self, old: Option<Mode>, new: Option<Mode>) {
        let was = old.is_some_and(Mode::is_recursive);
        let is = new.is_some_and(Mode::is_recursive);
        if was && !is {
            self.recursive_count = self.recursive_count.saturating_sub(1);
        } else if is && !was {
            self.recursive_count += 1;
        }
    }

    /// `WatchManager.triggerWatch` without the delivery: the watchers to notify.
    fn trigger(&mut self, path: &str, kind: EventKind, out: &mut BTreeSet<WatcherId>) {
        // The path itself: every mode fires (recursive ones not for NodeChildrenChanged);
        // one-shot watches are consumed.
        let mut removed = Vec::new();
        if let Some(watchers) = self.by_path.get_mut(path) {
            watchers.retain(|&watcher, mode| {
                if mode.is_recursive() {
                    if kind != EventKind::NodeChildrenChanged {
                        out.insert(watcher);
                    }
                    true
                } else {
                    out.insert(watcher);
                    if mode.is_persistent() {
                        true
                    } else {
                        removed.push(watcher);
                        false
                    }
                }
            });
            if watchers.is_empty() {
                self.by_path.remove(path);
            }
        }
        for watcher in removed {
            self.forget_path_of(watcher, path);
        }
        // The ancestors: only recursive watches fire, and only when any exists.
        if self.recursive_count == 0 || kind == EventKind::NodeChildrenChanged {
            return;
        }
        for ancestor in ancestors(path) {
            if let Some(watchers) = self.by_path.get(ancestor) {
                for (&watcher, mode) in watchers {
                    if mode.is_recursive() {
                        out.insert(watcher);
                    }
                }
            }
        }
    }

    fn forget_path_of(&mut self, watcher: WatcherId, path: &str) {
        if let Some(paths) = self.by_watcher.get_mut(&watcher) {
            paths.remove(path);
            if paths.is_empty() {
                self.by_watcher.remove(&watcher);
            }
        }
    }

    /// `WatchManager.removeWatcher(path, watcher)`.
    fn remove(&mut self, path: &str, watcher: WatcherId) -> bool {
        let Some(watchers) = self.by_path.get_mut(path) else {
            return false;
        };
        let Some(old) = watchers.remove(&watcher) else {
            return false;
        };
        if watchers.is_empty() {
            self.by_path.remove(path);
        }
        self.adjust_recursive(Some(old), None);
        self.forget_path_of(watcher, path);
        true
    }

    /// `WatchManager.containsWatcher(path, watcher)` in 3.8, including its leniency: at the path
    /// itself any watcher (not only this one) counts. (3.8 also answers yes for a recursive mode
    /// of this watcher on `path`, which implies an entry at `path`.)
    fn contains(&self, path: &str, _watcher: WatcherId) -> bool {
        self.by_path.contains_key(path)
    }

    fn remove_watcher(&mut self, watcher: WatcherId) {
        let Some(paths) = self.by_watcher.remove(&watcher) else {
            return;
        };
        for path in paths {
            if let Some(watchers) = self.by_path.get_mut(&path) {
                let old = watchers.remove(&watcher);
                if watchers.is_empty() {
                    self.by_path.remove(&path);
                }
                self.adjust_recursive(old, None);
            }
        }
    }

    fn size(&self) -> usize {
        self.by_path.values().map(BTreeMap::len).sum()
    }
}

/// The ancestors of a path, nearest first, ending with `/` (none for `/` itself).
fn ancestors(path: &str) -> impl Iterator<Item = &str> {
    let mut rest = if path == "/" { None } else { Some(path) };
    std::iter::from_fn(move || {
        let current = rest?;
        let cut = current.rfind('/')?;
        let parent = if cut == 0 { "/" } else { &current[..cut] };
        rest = if parent == "/" { None } else { Some(parent) };
        Some(parent)
    })
}

/// Every watch of every connection.
#[derive(Clone, Debug, Default)]
pub struct WatchRegistry {
    data: Table,
    child: Table,
}

impl WatchRegistry {
    /// An empty registry.
    pub fn new() -> WatchRegistry {
        WatchRegistry::default()
    }

    /// Registers a watch (`DataTree.getData/statNode/getChildren/addWatch` with a watcher).
    pub fn add(&mut self, path: &str, kind: WatchKind, watcher: WatcherId) {
        match kind {
            WatchKind::Data | WatchKind::Exist => self.data.add(path, watcher, Mode::Standard),
            WatchKind::Child => self.child.add(path, watcher, Mode::Standard),
            WatchKind::Persistent => {
                self.data.add(path, watcher, Mode::Persistent);
                self.child.add(path, watcher, Mode::Persistent);
            }
            WatchKind::PersistentRecursive => {
                self.data.add(path, watcher, Mode::PersistentRecursive);
                self.child.add(path, watcher, Mode::PersistentRecursive);
            }
        }
    }

    /// The notifications for one change of the tree, sorted by watcher, at most one per
    /// watcher; one-shot watches that fired are removed.
    ///
    /// As in ZooKeeper's `DataTree`: NodeCreated and NodeDataChanged consult the data table,
    /// NodeChildrenChanged (with the parent's path) the child table, and NodeDeleted the data
    /// table and then the child table, where watchers already notified are skipped but their
    /// one-shot child watch is still consumed. Persistent-recursive watches on ancestors fire
    /// for every kind except NodeChildrenChanged.
    pub fn trigger(&mut self, path: &str, kind: EventKind) -> Vec<(WatcherId, EventKind, String)> {
        let mut watchers = BTreeSet::new();
        match kind {
            EventKind::NodeCreated | EventKind::NodeDataChanged => {
                self.data.trigger(path, kind, &mut watchers);
            }
            EventKind::NodeChildrenChanged => self.child.trigger(path, kind, &mut watchers),
            EventKind::NodeDeleted => {
                self.data.trigger(path, kind, &mut watchers);
                self.child.trigger(path, kind, &mut watchers);
            }
        }
        watchers
            .into_iter()
            .map(|watcher| (watcher, kind, path.to_owned()))
            .collect()
    }

    /// removeWatches: removes the watcher's watches on `path` of the given kind (any mode), as
    /// ZooKeeper 3.8's `DataTree.removeWatch`. Persistent and PersistentRecursive kinds are not
    /// handled by 3.8's server and always answer NOWATCHER; `Any` removes persistent watches too.
    pub fn remove(
        &mut self,
        watcher: WatcherId,
        path: &str,
        kind: RemoveKind,
    ) -> Result<(), NoWatcher> {
        let removed = match kind {
            RemoveKind::Children => self.child.remove(path, watcher),
            RemoveKind::Data => self.data.remove(path, watcher),
            RemoveKind::Any => {
                let child = self.child.remove(path, watcher);
                let data = self.data.remove(path, watcher);
                child || data
            }
            RemoveKind::Persistent | RemoveKind::PersistentRecursive => false,
        };
        if removed {
            Ok(())
        } else {
            Err(NoWatcher)
        }
    }

    /// checkWatches: ZooKeeper 3.8's `DataTree.containsWatcher`. Note 3.8's leniency, kept for
    /// compatibility: the answer is yes when any connection watches `path` in the table asked
    /// about.
    pub fn check(&self, watcher: WatcherId, path: &str, kind: RemoveKind) -> Result<(), NoWatcher> {
        if self.contains(watcher, path, kind) {
            Ok(())
        } else {
            Err(NoWatcher)
        }
    }

    /// Whether [`WatchRegistry::check`] succeeds.
    pub fn contains(&self, watcher: WatcherId, path: &str, kind: RemoveKind) -> bool {
        match kind {
            RemoveKind::Children => self.child.contains(path, watcher),
            RemoveKind::Data => self.data.contains(path, watcher),
            RemoveKind::Any => {
                self.child.contains(path, watcher) || self.data.contains(path, watcher)
            }
            RemoveKind::Persistent | RemoveKind::PersistentRecursive => false,
        }
    }

    /// Drops every watch of a watcher (its connection closed).
    pub fn remove_watcher(&mut self, watcher: WatcherId) {
        self.data.remove_watcher(watcher);
        self.child.remove_watcher(watcher);
    }

    /// SetWatches/SetWatches2 after a reconnect, as ZooKeeper 3.8's `DataTree.setWatches`:
    /// returns the events to send at once for changes the client missed (in list order: data,
    /// exist, child) and registers the other watches.
    ///
    /// Data watch: node gone -> NodeDeleted; `mzxid > relative_zxid` -> NodeDataChanged; else
    /// registered. Exist watch: node present -> NodeCreated; else registered. Child watch: node
    /// gone -> NodeDeleted; `pzxid > relative_zxid` -> NodeChildrenChanged; else registered.
    /// Persistent and recursive watches are always registered.
    pub fn set_watches<V: NodeView + ?Sized>(
        &mut self,
        watcher: WatcherId,
        relative_zxid: Zxid,
        lists: &SetWatchLists,
        view: &V,
    ) -> Vec<(EventKind, String)> {
        let relative = relative_zxid.as_i64();
        let mut events = Vec::new();
        for path in &lists.data {
            match view.zxids(path) {
                None => events.push((EventKind::NodeDeleted, path.clone())),
                Some(node) if node.mzxid.as_i64() > relative => {
                    events.push((EventKind::NodeDataChanged, path.clone()));
                }
                Some(_) => self.add(path, WatchKind::Data, watcher),
            }
        }
        for path in &lists.exist {
            match view.zxids(path) {
                Some(_) => events.push((EventKind::NodeCreated, path.clone())),
                None => self.add(path, WatchKind::Exist, watcher),
            }
        }
        for path in &lists.child {
            match view.zxids(path) {
                None => events.push((EventKind::NodeDeleted, path.clone())),
                Some(node) if node.pzxid.as_i64() > relative => {
                    events.push((EventKind::NodeChildrenChanged, path.clone()));
                }
                Some(_) => self.add(path, WatchKind::Child, watcher),
            }
        }
        for path in &lists.persistent {
            self.add(path, WatchKind::Persistent, watcher);
        }
        for path in &lists.persistent_recursive {
            self.add(path, WatchKind::PersistentRecursive, watcher);
        }
        events
    }

    /// The number of (path, watcher) entries in both tables (mntr's `zk_watch_count`).
    pub fn watch_count(&self) -> usize {
        self.data.size() + self.child.size()
    }

    /// The number of watched paths in the data table (as `wchs` reports).
    pub fn path_count(&self) -> usize {
        self.data.by_path.len()
    }

    /// The number of watchers with a data watch (`wchs`: "N connections watching M paths").
    pub fn watcher_count(&self) -> usize {
        self.data.by_watcher.len()
    }

    /// The number of data-table watches (`wchs`: "Total watches:N").
    pub fn data_watch_count(&self) -> usize {
        self.data.size()
    }

    /// `wchc`: each watcher's data-table paths, sorted (ZooKeeper 3.8 lists the data table only).
    pub fn by_watcher(&self) -> BTreeMap<WatcherId, Vec<String>> {
        self.data
            .by_watcher
            .iter()
            .map(|(&watcher, paths)| (watcher, paths.iter().cloned().collect()))
            .collect()
    }

    /// `wchp`: each data-table path's watchers, sorted (ZooKeeper 3.8 lists the data table only).
    pub fn by_path(&self) -> BTreeMap<String, Vec<WatcherId>> {
        self.data
            .by_path
            .iter()
            .map(|(path, watchers)| (path.clone(), watchers.keys().copied().collect()))
            .collect()
    }
}
