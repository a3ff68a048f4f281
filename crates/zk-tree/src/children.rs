//! The child names of one node: a hash set that splits itself into shards once it is large,
//! so that growing it never stops the tree for long.
//!
//! A hash set rather than an ordered one (names are sorted when listed): adding a child to a
//! parent of many is one probe, not a walk of string comparisons through pointers to the names.
//! The sets live beside the node map, not in it, so that a node-map shard copied for a capture
//! (see [`crate::nodes`]) copies no child names.
//!
//! A hash set doubles its table when it fills, and the doubling rehashes every name in one go:
//! with the names in their own allocations that is a cache miss per name, 36 ms at the
//! 458,752nd child of one parent on the development machine, and twice that at the next
//! doubling. A parent of many children is common (a queue, a lock directory, `zk-bench`'s
//! creates), and every client of the server waits behind that one insert. Past
//! [`SHARD_FROM`] names the set becomes [`SHARDS`] sets chosen by hash; each doubles on its
//! own, and the largest stop is a [`SHARDS`]th of the whole.

use std::collections::HashSet;

use crate::nodes::shard_index;
use crate::tree::PathHashState;

/// Names from which a set is split into shards.
const SHARD_FROM: usize = 4096;

/// Shards of a large set (a power of two).
const SHARDS: usize = 64;

type Names = HashSet<Box<str>, PathHashState>;

/// The child names of one node, unordered.
#[derive(Clone, Debug)]
pub(crate) enum ChildSet {
    /// One set, while small.
    Small(Names),
    /// [`SHARDS`] sets, a name in the one its hash picks.
    Sharded {
        /// The shards.
        shards: Box<[Names]>,
        /// Names in all shards.
        len: usize,
    },
}

impl ChildSet {
    /// An empty set with room for `capacity` names.
    pub(crate) fn with_capacity(capacity: usize, state: PathHashState) -> ChildSet {
        if capacity < SHARD_FROM {
            return ChildSet::Small(Names::with_capacity_and_hasher(capacity, state));
        }
        let shards = (0..SHARDS)
            .map(|_| Names::with_capacity_and_hasher(capacity / SHARDS + 1, state.clone()))
            .collect();
        ChildSet::Sharded { shards, len: 0 }
    }

    /// The shard of `name` in a sharded set.
    fn shard_of(shards: &[Names], name: &str) -> usize {
        shard_index(shards[0].hasher(), name, SHARDS)
    }

    /// Adds `name`; false if it was there. A full small set is split first (once per set,
    /// about a millisecond).
    pub(crate) fn insert(&mut self, name: Box<str>) -> bool {
        match self {
            ChildSet::Small(names) if names.len() < SHARD_FROM || names.contains(&name) => {
                names.insert(name)
            }
            ChildSet::Small(names) => {
                let names = std::mem::take(names);
                *self = ChildSet::with_capacity(names.len() * 2, names.hasher().clone());
                self.extend(names);
                self.insert(name)
            }
            ChildSet::Sharded { shards, len } => {
                let shard = Self::shard_of(shards, &name);
                let added = shards[shard].insert(name);
                *len += usize::from(added);
                added
            }
        }
    }

    /// Adds every name.
    pub(crate) fn extend(&mut self, names: impl IntoIterator<Item = Box<str>>) {
        for name in names {
            self.insert(name);
        }
    }

    /// Removes `name`; false if it was not there.
    pub(crate) fn remove(&mut self, name: &str) -> bool {
        match self {
            ChildSet::Small(names) => names.remove(name),
            ChildSet::Sharded { shards, len } => {
                let shard = Self::shard_of(shards, name);
                let removed = shards[shard].remove(name);
                *len -= usize::from(removed);
                removed
            }
        }
    }

    /// How many names.
    pub(crate) fn len(&self) -> usize {
        match self {
            ChildSet::Small(names) => names.len(),
            ChildSet::Sharded { len, .. } => *len,
        }
    }

    /// Whether there is no name.
    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The names, in no particular order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &str> {
        let sets: &[Names] = match self {
            ChildSet::Small(names) => std::slice::from_ref(names),
            ChildSet::Sharded { shards, .. } => shards,
        };
        sets.iter()
            .flat_map(|names| names.iter().map(|name| &**name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sorted(set: &ChildSet) -> Vec<String> {
        let mut names: Vec<String> = set.iter().map(str::to_owned).collect();
        names.sort();
        names
    }

    #[test]
    fn a_set_splits_into_shards_when_large_and_keeps_every_name() {
        let state = PathHashState::with_seed(3);
        let mut set = ChildSet::with_capacity(4, state);
        let count = SHARD_FROM * 3;
        for i in 0..count {
            assert!(set.insert(format!("n{i}").into()), "n{i} is new");
            assert!(!set.insert(format!("n{i}").into()), "n{i} twice");
            if i + 1 == SHARD_FROM {
                assert!(matches!(set, ChildSet::Small(_)), "small up to the limit");
            }
        }
        let ChildSet::Sharded { shards, .. } = &set else {
            panic!("still one set at {count} names");
        };
        assert!(
            shards.iter().all(|shard| !shard.is_empty()),
            "every shard is used"
        );
        assert_eq!(set.len(), count);
        let mut expected: Vec<String> = (0..count).map(|i| format!("n{i}")).collect();
        expected.sort();
        assert_eq!(sorted(&set), expected);
        for i in (0..count).step_by(2) {
            assert!(set.remove(&format!("n{i}")));
            assert!(!set.remove(&format!("n{i}")));
        }
        assert_eq!(set.len(), count / 2);
        assert_eq!(set.iter().count(), count / 2);
        for i in (1..count).step_by(2) {
            assert!(set.remove(&format!("n{i}")));
        }
        assert!(set.is_empty());
    }

    #[test]
    fn a_set_made_large_is_sharded_from_the_start_and_answers_alike() {
        let state = PathHashState::with_seed(5);
        let mut large = ChildSet::with_capacity(SHARD_FROM, state.clone());
        let mut small = ChildSet::with_capacity(0, state);
        assert!(matches!(large, ChildSet::Sharded { .. }));
        let names = (0..1000).map(|i| Box::<str>::from(format!("c{i}")));
        large.extend(names.clone());
        small.extend(names);
        assert_eq!(sorted(&large), sorted(&small));
        assert_eq!((large.len(), small.len()), (1000, 1000));
    }
}
