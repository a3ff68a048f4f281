//! The node map: every znode by path, split into [`SHARDS`] shards that are shared
//! copy-on-write.
//!
//! [`NodeMap::share`] hands out the shards themselves (a reference count each), so capturing
//! the whole tree for a snapshot costs the same for ten nodes as for ten million. The tree then
//! goes on changing: the first change to a shard that a capture still holds copies that shard
//! (a 1/[`SHARDS`] part of the map, pointers to paths and values, no bytes), and the capture
//! keeps the old one. Where one capture used to copy every node at once, the copies are spread
//! over the changes that follow, a shard at a time, and a shard the tree does not change while
//! the capture is held is not copied at all.
//!
//! The split also bounds the pause of a growing map: a shard doubles its table on its own,
//! at 1/[`SHARDS`] of the size of a single map.

use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::Arc;

use crate::tree::{Node, PathHashState};

/// The number of shards (a power of two).
pub(crate) const SHARDS: usize = 256;

/// One shard: the nodes whose path hashes to it.
pub(crate) type Shard = HashMap<Arc<str>, Node, PathHashState>;

/// The shard of `key` among `shards` (a power of two, at most 2^24) hashing with `state`. A
/// hash table inside a shard uses the low bits of the same hash for its buckets and the top
/// seven for its tags, so the shard takes bits 32 and up, which the two leave alone (all keys of
/// one shard share them). Used by the node map and by large child sets.
pub(crate) fn shard_index(state: &PathHashState, key: &str, shards: usize) -> usize {
    debug_assert!(shards.is_power_of_two() && shards <= 1 << 24);
    (state.hash_one(key) >> 32) as usize & (shards - 1)
}

/// The nodes of a tree by path; see the module documentation.
#[derive(Clone, Debug)]
pub(crate) struct NodeMap {
    shards: Vec<Arc<Shard>>,
    state: PathHashState,
    len: usize,
}

impl NodeMap {
    /// An empty map hashing with `state`.
    pub(crate) fn new(state: PathHashState) -> NodeMap {
        NodeMap::with_capacity(0, state)
    }

    /// An empty map with room for about `nodes` nodes.
    pub(crate) fn with_capacity(nodes: usize, state: PathHashState) -> NodeMap {
        // A little over the even share, so that a shard's random excess does not double it.
        let per_shard = if nodes == 0 {
            0
        } else {
            nodes / SHARDS + nodes / SHARDS / 8 + 8
        };
        let shards = (0..SHARDS)
            .map(|_| Arc::new(HashMap::with_capacity_and_hasher(per_shard, state.clone())))
            .collect();
        NodeMap {
            shards,
            state,
            len: 0,
        }
    }

    /// The shard of `path`.
    fn shard_of(&self, path: &str) -> usize {
        shard_index(&self.state, path, SHARDS)
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn get(&self, path: &str) -> Option<&Node> {
        self.shards[self.shard_of(path)].get(path)
    }

    pub(crate) fn get_key_value(&self, path: &str) -> Option<(&Arc<str>, &Node)> {
        self.shards[self.shard_of(path)].get_key_value(path)
    }

    pub(crate) fn contains_key(&self, path: &str) -> bool {
        self.shards[self.shard_of(path)].contains_key(path)
    }

    /// The node at `path` to change; copies its shard first if a capture still holds it.
    pub(crate) fn get_mut(&mut self, path: &str) -> Option<&mut Node> {
        let index = self.shard_of(path);
        let shard = &mut self.shards[index];
        // No copy of a shared shard for a node that is not there.
        if Arc::get_mut(shard).is_none() && !shard.contains_key(path) {
            return None;
        }
        Arc::make_mut(shard).get_mut(path)
    }

    /// Inserts a node at a path that has none; gives the node back if the path is taken.
    pub(crate) fn insert_new(
        &mut self,
        path: Arc<str>,
        node: Node,
    ) -> Result<(), (Arc<str>, Node)> {
        let index = self.shard_of(&path);
        match Arc::make_mut(&mut self.shards[index]).entry(path) {
            Entry::Vacant(slot) => {
                slot.insert(node);
                self.len += 1;
                Ok(())
            }
            Entry::Occupied(slot) => Err((slot.key().clone(), node)),
        }
    }

    pub(crate) fn remove(&mut self, path: &str) -> Option<Node> {
        let index = self.shard_of(path);
        let shard = &mut self.shards[index];
        if Arc::get_mut(shard).is_none() && !shard.contains_key(path) {
            return None;
        }
        let node = Arc::make_mut(shard).remove(path)?;
        self.len -= 1;
        Some(node)
    }

    /// Every path with its node, shard by shard (in no meaningful order).
    #[cfg(test)]
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&Arc<str>, &Node)> {
        self.shards.iter().flat_map(|shard| shard.iter())
    }

    /// Every path, shard by shard (in no meaningful order).
    pub(crate) fn keys(&self) -> impl Iterator<Item = &Arc<str>> {
        self.shards.iter().flat_map(|shard| shard.keys())
    }

    /// The shards themselves, for a capture: later changes copy a shard before they touch it.
    pub(crate) fn share(&self) -> Vec<Arc<Shard>> {
        self.shards.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::acl::AclRef;
    use crate::tree::StatPersisted;

    fn node(version: i32) -> Node {
        Node {
            data: None,
            acl: AclRef(0),
            stat: StatPersisted {
                version,
                ..StatPersisted::default()
            },
            child_count: 0,
        }
    }

    fn filled(count: usize) -> NodeMap {
        let mut map = NodeMap::new(PathHashState::with_seed(7));
        for i in 0..count {
            assert!(map.insert_new(Arc::from(format!("/n{i}")), node(0)).is_ok());
        }
        map
    }

    #[test]
    fn a_change_copies_only_the_shard_it_touches() {
        let mut map = filled(5000);
        let shared = map.share();
        map.get_mut("/n17").expect("present").stat.version = 5;
        let changed = map.shard_of("/n17");
        for (index, (now, then)) in map.shards.iter().zip(&shared).enumerate() {
            assert_eq!(Arc::ptr_eq(now, then), index != changed, "shard {index}");
        }
        assert_eq!(
            shared[changed]["/n17"].stat.version, 0,
            "the shared shard changed"
        );
        assert_eq!(map.get("/n17").map(|n| n.stat.version), Some(5));
        // A path that is not there copies nothing.
        let before = map.share();
        assert!(map.get_mut("/missing").is_none());
        assert!(map.remove("/missing").is_none());
        assert!(map
            .shards
            .iter()
            .zip(&before)
            .all(|(a, b)| Arc::ptr_eq(a, b)));
    }

    #[test]
    fn the_map_counts_and_refuses_a_taken_path() {
        let mut map = filled(1000);
        assert_eq!(map.len(), 1000);
        assert_eq!(map.iter().count(), 1000);
        assert!(map.insert_new(Arc::from("/n5"), node(9)).is_err());
        assert_eq!(map.get("/n5").map(|n| n.stat.version), Some(0));
        assert!(map.remove("/n5").is_some());
        assert_eq!(map.len(), 999);
        assert!(!map.contains_key("/n5"));
        // The paths spread over the shards.
        let used = map.shards.iter().filter(|shard| !shard.is_empty()).count();
        assert!(used > SHARDS / 2, "{used} shards used");
    }
}
