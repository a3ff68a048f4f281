//! A captured tree in snapshot order, borrowed: [`TreeCapture::sorted`] sorts references to the
//! captured nodes instead of copies of them, and [`SortedCapture`] serialises to exactly the
//! bytes of the [`TreeSnapshot`] that [`TreeCapture::into_snapshot`] would build, without
//! building it.
//!
//! On a tree of half a million nodes, copying every node out (two reference counts and the
//! Stat each) and sorting the copies (128 bytes each) took as long as encoding them; sorting
//! 32-byte references moves a quarter of the bytes and touches no reference count.

use std::sync::Arc;

use serde::ser::{SerializeSeq, Serializer};
use serde::Serialize;
use zk_proto::{Acl, SessionId, Zxid};

use crate::tree::{Node, StatPersisted, TreeCapture, TreeSnapshot};

/// A tree in the form a snapshot file holds: a [`TreeSnapshot`], or a [`SortedCapture`] that
/// serialises the same way.
pub trait TreeImage: Serialize {
    /// The zxid of the last txn applied to the tree.
    fn last_processed_zxid(&self) -> Zxid;
    /// The number of nodes.
    fn node_count(&self) -> usize;
}

impl TreeImage for TreeSnapshot {
    fn last_processed_zxid(&self) -> Zxid {
        self.last_processed_zxid
    }

    fn node_count(&self) -> usize {
        self.nodes.len()
    }
}

/// A [`TreeCapture`] sorted by path, borrowing its nodes; see the module documentation.
#[derive(Debug)]
pub struct SortedCapture<'a> {
    last_processed_zxid: Zxid,
    sessions: &'a [(SessionId, i32)],
    /// The ACL lists in order of first use.
    acls: Vec<&'a [Acl]>,
    /// The snapshot's ACL index of each of the tree's ACL cache slots (`u32::MAX` if unused).
    acl_index: Vec<u32>,
    /// Every node with its path, sorted by path (so parents come first).
    nodes: Vec<(&'a Arc<str>, &'a Node)>,
}

impl TreeCapture {
    /// The captured nodes sorted by path (so parents come first), with the ACL lists numbered
    /// in order of first use, so equal trees give equal snapshots whatever their history.
    pub fn sorted(&self) -> SortedCapture<'_> {
        // Each comparison starts with the path's first 16 bytes as a big-endian number
        // (zero-padded, so it orders as the bytes do: a path holds no NUL); most end there,
        // without following the pointers to the paths. (8 bytes were too few: "/bench/s" is
        // the start of every path of a benchmark's nodes.)
        let prefix = |path: &str| {
            let mut word = [0u8; 16];
            let len = path.len().min(16);
            word[..len].copy_from_slice(&path.as_bytes()[..len]);
            u128::from_be_bytes(word)
        };
        let shards = self.shards();
        let count = shards.iter().map(|shard| shard.len()).sum();
        let mut keyed: Vec<(u128, &Arc<str>, &Node)> = Vec::with_capacity(count);
        for shard in shards {
            keyed.extend(shard.iter().map(|(path, node)| (prefix(path), path, node)));
        }
        keyed.sort_unstable_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(b.1)));
        let nodes: Vec<(&Arc<str>, &Node)> = keyed
            .into_iter()
            .map(|(_, path, node)| (path, node))
            .collect();
        let slots = self.acl_slots();
        let mut acl_index = vec![u32::MAX; slots.len()];
        let mut acls: Vec<&[Acl]> = Vec::new();
        for (_, node) in &nodes {
            let slot = node.acl.0 as usize;
            if slot >= acl_index.len() {
                // A slot the cache never handed out: an empty list (as for a freed slot).
                acl_index.resize(slot + 1, u32::MAX);
            }
            if acl_index[slot] == u32::MAX {
                acls.push(slots.get(slot).map_or(&[][..], |list| &list[..]));
                acl_index[slot] = u32::try_from(acls.len() - 1).unwrap_or(u32::MAX);
            }
        }
        SortedCapture {
            last_processed_zxid: self.last_processed_zxid(),
            sessions: self.sessions(),
            acls,
            acl_index,
            nodes,
        }
    }
}

impl<'a> SortedCapture<'a> {
    /// The snapshot's ACL index of `node` (every node's slot was numbered by
    /// [`TreeCapture::sorted`]).
    fn acl_of(&self, node: &Node) -> u32 {
        self.acl_index
            .get(node.acl.0 as usize)
            .copied()
            .unwrap_or(u32::MAX)
    }

    /// The nodes in snapshot order, each as its [`crate::SnapshotNode`] fields: path, data,
    /// ACL index and Stat.
    pub fn nodes(
        &self,
    ) -> impl Iterator<Item = (&'a Arc<str>, &'a Option<Arc<[u8]>>, u32, StatPersisted)> + '_ {
        self.nodes
            .iter()
            .map(|&(path, node)| (path, &node.data, self.acl_of(node), node.stat))
    }

    /// The ACL lists, indexed as [`SortedCapture::nodes`] gives them.
    pub fn acls(&self) -> &[&'a [Acl]] {
        &self.acls
    }

    /// The live sessions with their timeouts.
    pub fn sessions(&self) -> &'a [(SessionId, i32)] {
        self.sessions
    }
}

impl TreeImage for SortedCapture<'_> {
    fn last_processed_zxid(&self) -> Zxid {
        self.last_processed_zxid
    }

    fn node_count(&self) -> usize {
        self.nodes.len()
    }
}

/// [`TreeSnapshot`]'s fields, borrowed (serde names them the same, so the encodings agree).
#[derive(Serialize)]
#[serde(rename = "TreeSnapshot")]
struct TreeSnapshotRef<'a> {
    last_processed_zxid: Zxid,
    sessions: &'a [(SessionId, i32)],
    acls: &'a [&'a [Acl]],
    nodes: NodesRef<'a, 'a>,
}

/// The `nodes` field of a [`TreeSnapshotRef`].
struct NodesRef<'s, 'a>(&'s SortedCapture<'a>);

/// [`crate::SnapshotNode`]'s fields, borrowed.
#[derive(Serialize)]
#[serde(rename = "SnapshotNode")]
struct SnapshotNodeRef<'a> {
    path: &'a str,
    #[serde(serialize_with = "crate::bytes::option::serialize")]
    data: Option<&'a [u8]>,
    acl: u32,
    stat: StatPersisted,
}

impl Serialize for NodesRef<'_, '_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let sorted = self.0;
        let mut seq = serializer.serialize_seq(Some(sorted.nodes.len()))?;
        // The nodes lie in the order of the map's shards, so reading them in path order misses
        // the cache at every node. A short loop that only copies the fields out of a chunk of
        // nodes lets the processor wait for many of those misses at once; the encoder then
        // reads the copies in order.
        let mut chunk = Vec::with_capacity(GATHER_CHUNK);
        for nodes in sorted.nodes.chunks(GATHER_CHUNK) {
            chunk.clear();
            let mut touched = 0u8;
            chunk.extend(nodes.iter().map(|&(path, node)| {
                let data = node.data.as_deref();
                // Read the first and last byte of the path and the data, so that their cache
                // lines are on their way while the loop goes on (the encoder copies them).
                for bytes in [path.as_bytes(), data.unwrap_or_default()] {
                    if let (Some(first), Some(last)) = (bytes.first(), bytes.last()) {
                        touched ^= first ^ last;
                    }
                }
                SnapshotNodeRef {
                    path,
                    data,
                    acl: sorted.acl_of(node),
                    stat: node.stat,
                }
            }));
            std::hint::black_box(touched);
            for node in &chunk {
                seq.serialize_element(node)?;
            }
        }
        seq.end()
    }
}

/// How many nodes [`NodesRef`] copies out at a time.
const GATHER_CHUNK: usize = 1024;

impl Serialize for SortedCapture<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        TreeSnapshotRef {
            last_processed_zxid: self.last_processed_zxid,
            sessions: self.sessions,
            acls: &self.acls,
            nodes: NodesRef(self),
        }
        .serialize(serializer)
    }
}

#[cfg(test)]
mod tests {
    use zk_proto::{Id, Perms};

    use crate::tree::DataTree;
    use crate::txn::{Txn, TxnHeader};

    fn acl(scheme: &str, id: &str, perms: i32) -> Vec<zk_proto::Acl> {
        vec![zk_proto::Acl {
            perms: Perms(perms),
            id: Id {
                scheme: scheme.to_owned(),
                id: id.to_owned(),
            },
        }]
    }

    /// A tree whose ACL lists were interned in another order than their first use in path
    /// order, with a freed cache slot, null and empty data, and paths that share more than the
    /// 16 bytes the sort compares first.
    fn varied_tree() -> DataTree {
        let mut tree = DataTree::new();
        let mut zxid = 0;
        let mut apply = |tree: &mut DataTree, txn: Txn| {
            zxid += 1;
            let header = TxnHeader {
                session_id: zk_proto::SessionId(0),
                cxid: 0,
                zxid: zk_proto::Zxid(zxid),
                time_ms: zxid as i64,
            };
            assert!(tree.apply(&header, &txn).result.error_code().is_ok());
        };
        let lists = [
            acl("digest", "user:hash", 1),
            acl("ip", "10.0.0.1", 31),
            acl("world", "anyone", 3),
            acl("ip", "10.0.0.2", 1),
        ];
        for (index, list) in lists.iter().enumerate() {
            for name in (0..4).rev() {
                let data = match name {
                    0 => None,
                    1 => Some(Vec::new()),
                    _ => Some(vec![name as u8; 40 * name]),
                };
                apply(
                    &mut tree,
                    Txn::Create {
                        path: format!("/a-long-shared-start-of-paths-{}-{name}", 3 - index),
                        data,
                        acl: list.clone(),
                        ephemeral_owner: 0,
                        parent_cversion: -1,
                    },
                );
            }
        }
        // The last list's nodes go, which frees its cache slot.
        for name in 0..4 {
            apply(
                &mut tree,
                Txn::Delete {
                    path: format!("/a-long-shared-start-of-paths-0-{name}"),
                },
            );
        }
        tree
    }

    #[test]
    fn a_capture_is_sorted_by_path_with_acls_numbered_in_order_of_first_use() {
        let tree = varied_tree();
        let auth = [
            Id {
                scheme: "digest".to_owned(),
                id: "user:hash".to_owned(),
            },
            Id {
                scheme: "ip".to_owned(),
                id: "10.0.0.1".to_owned(),
            },
        ];
        let snapshot = tree.capture().into_snapshot();
        assert_eq!(
            snapshot.nodes.len() + 1,
            tree.node_count(),
            "node_count counts the root twice"
        );
        assert!(snapshot.nodes.windows(2).all(|w| w[0].path < w[1].path));
        let mut next_index = 0;
        for node in &snapshot.nodes {
            assert!(
                node.acl <= next_index,
                "{}: index {} out of order",
                node.path,
                node.acl
            );
            if node.acl == next_index {
                next_index += 1;
            }
            let list = &snapshot.acls[node.acl as usize];
            assert_eq!(tree.acl(&node.path), Some(&list[..]), "{}", node.path);
            assert_eq!(tree.stat_persisted(&node.path), Some(node.stat));
            let (data, _) = tree.get_data(&node.path, &auth).expect("readable");
            assert_eq!(data, node.data.as_deref(), "{}", node.path);
        }
        assert_eq!(
            snapshot.acls.len(),
            next_index as usize,
            "every list is used"
        );
        assert!(
            !snapshot.acls.contains(&acl("ip", "10.0.0.2", 1)),
            "a freed list"
        );
    }
}
