//! A property test: random watch registrations, triggers and removals against a naive model of
//! ZooKeeper 3.8's two watch tables, one `(table, watcher, path) -> mode` map.

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;
use zk_watch::{EventKind, RemoveKind, WatchKind, WatchRegistry, WatcherId};

const PATHS: [&str; 6] = ["/", "/a", "/a/b", "/a/b/c", "/b", "/ab"];

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Mode {
    Standard,
    Persistent,
    Recursive,
}

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Table {
    Data,
    Child,
}

#[derive(Default)]
struct Model {
    watches: BTreeMap<(Table, u64, String), Mode>,
}

fn is_ancestor(ancestor: &str, path: &str) -> bool {
    ancestor != path && (ancestor == "/" || path.starts_with(&format!("{ancestor}/")))
}

impl Model {
    fn add(&mut self, path: &str, kind: WatchKind, w: u64) {
        let entries: &[(Table, Mode)] = match kind {
            WatchKind::Data | WatchKind::Exist => &[(Table::Data, Mode::Standard)],
            WatchKind::Child => &[(Table::Child, Mode::Standard)],
            WatchKind::Persistent => &[
                (Table::Data, Mode::Persistent),
                (Table::Child, Mode::Persistent),
            ],
            WatchKind::PersistentRecursive => &[
                (Table::Data, Mode::Recursive),
                (Table::Child, Mode::Recursive),
            ],
        };
        for &(table, mode) in entries {
            self.watches.insert((table, w, path.to_owned()), mode);
        }
    }

    fn trigger_table(
        &mut self,
        table: Table,
        path: &str,
        event: EventKind,
        out: &mut BTreeSet<u64>,
    ) {
        let mut consumed = Vec::new();
        for ((t, w, p), mode) in &self.watches {
            if *t != table {
                continue;
            }
            if p == path {
                match mode {
                    Mode::Recursive if event == EventKind::NodeChildrenChanged => {}
                    Mode::Recursive | Mode::Persistent => {
                        out.insert(*w);
                    }
                    Mode::Standard => {
                        out.insert(*w);
                        consumed.push((*t, *w, p.clone()));
                    }
                }
            } else if *mode == Mode::Recursive
                && event != EventKind::NodeChildrenChanged
                && is_ancestor(p, path)
            {
                out.insert(*w);
            }
        }
        for key in consumed {
            self.watches.remove(&key);
        }
    }

    fn trigger(&mut self, path: &str, event: EventKind) -> Vec<u64> {
        let mut out = BTreeSet::new();
        match event {
            EventKind::NodeCreated | EventKind::NodeDataChanged => {
                self.trigger_table(Table::Data, path, event, &mut out)
            }
            EventKind::NodeChildrenChanged => {
                self.trigger_table(Table::Child, path, event, &mut out)
            }
            EventKind::NodeDeleted => {
                self.trigger_table(Table::Data, path, event, &mut out);
                self.trigger_table(Table::Child, path, event, &mut out);
            }
        }
        out.into_iter().collect()
    }

    fn remove(&mut self, w: u64, path: &str, kind: RemoveKind) -> bool {
        let tables: &[Table] = match kind {
            RemoveKind::Children => &[Table::Child],
            RemoveKind::Data => &[Table::Data],
            RemoveKind::Any => &[Table::Child, Table::Data],
            RemoveKind::Persistent | RemoveKind::PersistentRecursive => &[],
        };
        let mut removed = false;
        for &t in tables {
            removed |= self.watches.remove(&(t, w, path.to_owned())).is_some();
        }
        removed
    }

    fn remove_watcher(&mut self, w: u64) {
        self.watches.retain(|(_, watcher, _), _| *watcher != w);
    }

    fn by_watcher(&self) -> BTreeMap<WatcherId, Vec<String>> {
        let mut out: BTreeMap<WatcherId, Vec<String>> = BTreeMap::new();
        for (t, w, p) in self.watches.keys() {
            if *t == Table::Data {
                out.entry(WatcherId(*w)).or_default().push(p.clone());
            }
        }
        out
    }
}

#[derive(Clone, Debug)]
enum Step {
    Add(usize, WatchKind, u64),
    Trigger(usize, EventKind),
    Remove(u64, usize, RemoveKind),
    Close(u64),
}

fn step() -> impl Strategy<Value = Step> {
    let path = 0..PATHS.len();
    let watcher = 1..4u64;
    let kind = prop_oneof![
        Just(WatchKind::Data),
        Just(WatchKind::Exist),
        Just(WatchKind::Child),
        Just(WatchKind::Persistent),
        Just(WatchKind::PersistentRecursive),
    ];
    let event = prop_oneof![
        Just(EventKind::NodeCreated),
        Just(EventKind::NodeDeleted),
        Just(EventKind::NodeDataChanged),
        Just(EventKind::NodeChildrenChanged),
    ];
    let remove = prop_oneof![
        Just(RemoveKind::Children),
        Just(RemoveKind::Data),
        Just(RemoveKind::Any),
        Just(RemoveKind::Persistent),
    ];
    prop_oneof![
        4 => (path.clone(), kind, watcher.clone()).prop_map(|(p, k, w)| Step::Add(p, k, w)),
        4 => (path.clone(), event).prop_map(|(p, e)| Step::Trigger(p, e)),
        2 => (watcher.clone(), path, remove).prop_map(|(w, p, k)| Step::Remove(w, p, k)),
        1 => watcher.prop_map(Step::Close),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn the_registry_agrees_with_a_naive_model(steps in proptest::collection::vec(step(), 1..80)) {
        let mut registry = WatchRegistry::new();
        let mut model = Model::default();
        for step in steps {
            match step {
                Step::Add(p, kind, w) => {
                    registry.add(PATHS[p], kind, WatcherId(w));
                    model.add(PATHS[p], kind, w);
                }
                Step::Trigger(p, event) => {
                    let fired: Vec<u64> = registry
                        .trigger(PATHS[p], event)
                        .into_iter()
                        .map(|(w, _, _)| w.0)
                        .collect();
                    prop_assert_eq!(fired, model.trigger(PATHS[p], event), "{:?} {}", event, PATHS[p]);
                }
                Step::Remove(w, p, kind) => {
                    let removed = registry.remove(WatcherId(w), PATHS[p], kind).is_ok();
                    prop_assert_eq!(removed, model.remove(w, PATHS[p], kind));
                }
                Step::Close(w) => {
                    registry.remove_watcher(WatcherId(w));
                    model.remove_watcher(w);
                }
            }
            prop_assert_eq!(registry.watch_count(), model.watches.len());
            prop_assert_eq!(registry.by_watcher(), model.by_watcher());
        }
    }
}
