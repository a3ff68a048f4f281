//! Watch registry rules of ZooKeeper 3.8's WatchManager and DataTree, table-driven.

use std::collections::BTreeMap;

use zk_proto::Zxid;
use zk_watch::{
    EventKind, NoWatcher, NodeView, NodeZxids, RemoveKind, SetWatchLists, WatchKind, WatchRegistry,
    WatcherId,
};

/// Watches to register: (path, kind, watcher).
type Watches = Vec<(&'static str, WatchKind, WatcherId)>;

/// (name, watches, path, event, watchers notified, watch entries left).
type FireCase = (
    &'static str,
    Watches,
    &'static str,
    EventKind,
    Vec<u64>,
    usize,
);

/// (watches of W1 on /a, kind removed, answer, W1 entries left).
type RemoveCase = (Vec<WatchKind>, RemoveKind, Result<(), NoWatcher>, usize);

const W1: WatcherId = WatcherId(1);
const W2: WatcherId = WatcherId(2);

/// Who gets notified for `event` on `path` when `watches` are registered, and how many watch
/// entries are left afterwards.
fn fire(
    watches: &[(&str, WatchKind, WatcherId)],
    path: &str,
    event: EventKind,
) -> (Vec<u64>, usize) {
    let mut registry = WatchRegistry::new();
    for &(p, kind, watcher) in watches {
        registry.add(p, kind, watcher);
    }
    let fired = registry.trigger(path, event);
    assert!(fired.iter().all(|(_, kind, p)| *kind == event && p == path));
    (
        fired.iter().map(|(w, _, _)| w.0).collect(),
        registry.watch_count(),
    )
}

#[test]
fn which_watches_fire_for_which_events() {
    use EventKind::*;
    use WatchKind::*;
    let cases: Vec<FireCase> = vec![
        (
            "data watch on change",
            vec![("/a", Data, W1)],
            "/a",
            NodeDataChanged,
            vec![1],
            0,
        ),
        (
            "data watch on delete",
            vec![("/a", Data, W1)],
            "/a",
            NodeDeleted,
            vec![1],
            0,
        ),
        (
            "data watch not on child change",
            vec![("/a", Data, W1)],
            "/a",
            NodeChildrenChanged,
            vec![],
            1,
        ),
        (
            "exist watch on create",
            vec![("/a", Exist, W1)],
            "/a",
            NodeCreated,
            vec![1],
            0,
        ),
        (
            "exist watch on change",
            vec![("/a", Exist, W1)],
            "/a",
            NodeDataChanged,
            vec![1],
            0,
        ),
        (
            "child watch on child change",
            vec![("/a", Child, W1)],
            "/a",
            NodeChildrenChanged,
            vec![1],
            0,
        ),
        (
            "child watch on delete",
            vec![("/a", Child, W1)],
            "/a",
            NodeDeleted,
            vec![1],
            0,
        ),
        (
            "child watch not on data change",
            vec![("/a", Child, W1)],
            "/a",
            NodeDataChanged,
            vec![],
            1,
        ),
        (
            "child watch not on create",
            vec![("/a", Child, W1)],
            "/a",
            NodeCreated,
            vec![],
            1,
        ),
        (
            "other path",
            vec![("/a", Data, W1)],
            "/b",
            NodeDataChanged,
            vec![],
            1,
        ),
        (
            "no ancestor for one-shot",
            vec![("/a", Data, W1)],
            "/a/b",
            NodeDataChanged,
            vec![],
            1,
        ),
        (
            "data and child watch of one watcher: one delete event, both consumed",
            vec![("/a", Data, W1), ("/a", Child, W1)],
            "/a",
            NodeDeleted,
            vec![1],
            0,
        ),
        (
            "two watchers, sorted",
            vec![("/a", Data, W2), ("/a", Data, W1)],
            "/a",
            NodeDataChanged,
            vec![1, 2],
            0,
        ),
        (
            "persistent on change stays",
            vec![("/a", Persistent, W1)],
            "/a",
            NodeDataChanged,
            vec![1],
            2,
        ),
        (
            "persistent on create",
            vec![("/a", Persistent, W1)],
            "/a",
            NodeCreated,
            vec![1],
            2,
        ),
        (
            "persistent on delete",
            vec![("/a", Persistent, W1)],
            "/a",
            NodeDeleted,
            vec![1],
            2,
        ),
        (
            "persistent on child change",
            vec![("/a", Persistent, W1)],
            "/a",
            NodeChildrenChanged,
            vec![1],
            2,
        ),
        (
            "persistent not for descendants",
            vec![("/a", Persistent, W1)],
            "/a/b",
            NodeCreated,
            vec![],
            2,
        ),
        (
            "recursive on itself",
            vec![("/a", PersistentRecursive, W1)],
            "/a",
            NodeDataChanged,
            vec![1],
            2,
        ),
        (
            "recursive on descendant create",
            vec![("/a", PersistentRecursive, W1)],
            "/a/b/c",
            NodeCreated,
            vec![1],
            2,
        ),
        (
            "recursive on descendant delete",
            vec![("/a", PersistentRecursive, W1)],
            "/a/b",
            NodeDeleted,
            vec![1],
            2,
        ),
        (
            "recursive on descendant change",
            vec![("/a", PersistentRecursive, W1)],
            "/a/b",
            NodeDataChanged,
            vec![1],
            2,
        ),
        (
            "recursive never for child changes",
            vec![("/a", PersistentRecursive, W1)],
            "/a",
            NodeChildrenChanged,
            vec![],
            2,
        ),
        (
            "recursive never for descendant child changes",
            vec![("/a", PersistentRecursive, W1)],
            "/a/b",
            NodeChildrenChanged,
            vec![],
            2,
        ),
        (
            "recursive on the root",
            vec![("/", PersistentRecursive, W1)],
            "/x/y",
            NodeCreated,
            vec![1],
            2,
        ),
        (
            "recursive on a sibling prefix",
            vec![("/a", PersistentRecursive, W1)],
            "/ab",
            NodeCreated,
            vec![],
            2,
        ),
        (
            "recursive plus one-shot: one notification, one-shot consumed",
            vec![
                ("/", PersistentRecursive, W1),
                ("/a", Data, W1),
                ("/a", Data, W2),
            ],
            "/a",
            NodeDataChanged,
            vec![1, 2],
            2,
        ),
        (
            "one-shot after persistent on the same path replaces the mode (3.8)",
            vec![("/a", Persistent, W1), ("/a", Data, W1)],
            "/a",
            NodeDataChanged,
            vec![1],
            1,
        ),
    ];
    for (name, watches, path, event, expected, left) in cases {
        assert_eq!(fire(&watches, path, event), (expected, left), "{name}");
    }
}

#[test]
fn a_one_shot_watch_fires_once() {
    let mut r = WatchRegistry::new();
    r.add("/a", WatchKind::Data, W1);
    assert_eq!(r.trigger("/a", EventKind::NodeDataChanged).len(), 1);
    assert!(r.trigger("/a", EventKind::NodeDataChanged).is_empty());
    assert_eq!(r.watch_count(), 0);
    assert_eq!(r.path_count(), 0);
    assert!(r.by_watcher().is_empty());
}

#[test]
fn removing_watches_by_kind() {
    use RemoveKind::*;
    let cases: Vec<RemoveCase> = vec![
        (vec![WatchKind::Data], Data, Ok(()), 0),
        (vec![WatchKind::Exist], Data, Ok(()), 0),
        (vec![WatchKind::Data], Children, Err(NoWatcher), 1),
        (vec![WatchKind::Child], Children, Ok(()), 0),
        (vec![WatchKind::Child], Data, Err(NoWatcher), 1),
        (vec![WatchKind::Data, WatchKind::Child], Any, Ok(()), 0),
        (vec![WatchKind::Child], Any, Ok(()), 0),
        (vec![], Any, Err(NoWatcher), 0),
        // ZooKeeper 3.8's DataTree.removeWatch has no case for these types.
        (vec![WatchKind::Persistent], Persistent, Err(NoWatcher), 2),
        (
            vec![WatchKind::PersistentRecursive],
            PersistentRecursive,
            Err(NoWatcher),
            2,
        ),
        (vec![WatchKind::Persistent], Data, Ok(()), 1),
        (vec![WatchKind::PersistentRecursive], Any, Ok(()), 0),
    ];
    for (kinds, remove, expected, left) in cases {
        let mut r = WatchRegistry::new();
        for &kind in &kinds {
            r.add("/a", kind, W1);
        }
        r.add("/a", WatchKind::Data, W2);
        assert_eq!(r.remove(W1, "/a", remove), expected, "{kinds:?} {remove:?}");
        assert_eq!(r.watch_count() - 1, left, "{kinds:?} {remove:?}");
        assert_eq!(r.remove(W1, "/other", remove), Err(NoWatcher));
    }
}

#[test]
fn a_removed_recursive_watch_stops_firing_for_descendants() {
    let mut r = WatchRegistry::new();
    r.add("/a", WatchKind::PersistentRecursive, W1);
    assert_eq!(r.remove(W1, "/a", RemoveKind::Any), Ok(()));
    assert!(r.trigger("/a/b", EventKind::NodeCreated).is_empty());
}

#[test]
fn check_watches_is_as_lenient_as_zookeeper_3_8() {
    let mut r = WatchRegistry::new();
    r.add("/a", WatchKind::Data, W1);
    r.add("/c", WatchKind::Child, W1);
    let cases = [
        (W1, "/a", RemoveKind::Data, true),
        (W1, "/a", RemoveKind::Any, true),
        (W1, "/a", RemoveKind::Children, false),
        // Another connection's watch on the path counts (containsWatcher checks the path only).
        (W2, "/a", RemoveKind::Data, true),
        (W1, "/c", RemoveKind::Children, true),
        (W1, "/b", RemoveKind::Any, false),
        (W1, "/a", RemoveKind::Persistent, false),
    ];
    for (watcher, path, kind, present) in cases {
        assert_eq!(
            r.contains(watcher, path, kind),
            present,
            "{watcher:?} {path} {kind:?}"
        );
        assert_eq!(r.check(watcher, path, kind).is_ok(), present);
    }
}

#[test]
fn closing_a_connection_drops_all_its_watches() {
    let mut r = WatchRegistry::new();
    r.add("/a", WatchKind::Data, W1);
    r.add("/a", WatchKind::Child, W1);
    r.add("/", WatchKind::PersistentRecursive, W1);
    r.add("/a", WatchKind::Data, W2);
    r.remove_watcher(W1);
    assert_eq!(r.watch_count(), 1);
    let fired: Vec<_> = r
        .trigger("/a", EventKind::NodeDeleted)
        .into_iter()
        .map(|(w, _, _)| w)
        .collect();
    assert_eq!(fired, vec![W2]);
    assert!(r.trigger("/a/b", EventKind::NodeCreated).is_empty());
}

/// A fake tree for SetWatches.
struct Nodes(BTreeMap<&'static str, NodeZxids>);

impl NodeView for Nodes {
    fn zxids(&self, path: &str) -> Option<NodeZxids> {
        self.0.get(path).copied()
    }
}

#[test]
fn set_watches_reports_missed_changes_and_registers_the_rest() {
    let node = |mzxid: u64, pzxid: u64| NodeZxids {
        czxid: Zxid(1),
        mzxid: Zxid(mzxid),
        pzxid: Zxid(pzxid),
    };
    let view = Nodes(BTreeMap::from([
        ("/same", node(5, 5)),
        ("/changed", node(11, 5)),
        ("/kids", node(5, 12)),
    ]));
    let lists = SetWatchLists {
        data: vec!["/same".into(), "/changed".into(), "/gone".into()],
        exist: vec!["/same".into(), "/absent".into()],
        child: vec!["/same".into(), "/kids".into(), "/gone".into()],
        persistent: vec!["/gone".into()],
        persistent_recursive: vec!["/r".into()],
    };
    let mut r = WatchRegistry::new();
    let events = r.set_watches(W1, Zxid(10), &lists, &view);
    assert_eq!(
        events,
        vec![
            (EventKind::NodeDataChanged, "/changed".to_owned()),
            (EventKind::NodeDeleted, "/gone".to_owned()),
            (EventKind::NodeCreated, "/same".to_owned()),
            (EventKind::NodeChildrenChanged, "/kids".to_owned()),
            (EventKind::NodeDeleted, "/gone".to_owned()),
        ]
    );
    // Registered: data /same, exist /absent, child /same, persistent /gone (both tables),
    // recursive /r (both tables).
    assert_eq!(r.watch_count(), 7);
    assert_eq!(
        r.by_watcher(),
        BTreeMap::from([(
            W1,
            vec![
                "/absent".to_owned(),
                "/gone".into(),
                "/r".into(),
                "/same".into()
            ]
        )])
    );
    let fired = r.trigger("/absent", EventKind::NodeCreated);
    assert_eq!(
        fired,
        vec![(W1, EventKind::NodeCreated, "/absent".to_owned())]
    );
    assert_eq!(r.trigger("/r/x", EventKind::NodeCreated).len(), 1);
}

#[test]
fn listings_for_the_four_letter_words_cover_the_data_table() {
    let mut r = WatchRegistry::new();
    r.add("/b", WatchKind::Data, W2);
    r.add("/a", WatchKind::Data, W2);
    r.add("/a", WatchKind::Exist, W1);
    r.add("/c", WatchKind::Child, W1);
    assert_eq!(r.watch_count(), 4);
    assert_eq!(r.path_count(), 2);
    assert_eq!(r.watcher_count(), 2);
    assert_eq!(r.data_watch_count(), 3);
    assert_eq!(
        r.by_watcher(),
        BTreeMap::from([
            (W1, vec!["/a".to_owned()]),
            (W2, vec!["/a".to_owned(), "/b".to_owned()])
        ])
    );
    assert_eq!(
        r.by_path(),
        BTreeMap::from([("/a".to_owned(), vec![W1, W2]), ("/b".to_owned(), vec![W2])])
    );
}

#[test]
fn event_codes_match_the_wire() {
    let codes: Vec<i32> = [
        EventKind::NodeCreated,
        EventKind::NodeDeleted,
        EventKind::NodeDataChanged,
        EventKind::NodeChildrenChanged,
    ]
    .iter()
    .map(|e| e.code())
    .collect();
    assert_eq!(codes, vec![1, 2, 3, 4]);
    assert_eq!(RemoveKind::from_code(3), Some(RemoveKind::Any));
    assert_eq!(RemoveKind::from_code(0), None);
    // ZooKeeper 3.8's WatcherType stops at Any: 4 and 5 are MARSHALLINGERROR there.
    assert_eq!(RemoveKind::from_code(4), None);
    assert_eq!(RemoveKind::from_code(5), None);
    assert_eq!(
        RemoveKind::from_code_3_9(5),
        Some(RemoveKind::PersistentRecursive)
    );
    assert_eq!(RemoveKind::from_code_3_9(6), None);
    for code in 1..=5 {
        assert_eq!(
            RemoveKind::from_code_3_9(code).map(RemoveKind::code),
            Some(code)
        );
    }
}
