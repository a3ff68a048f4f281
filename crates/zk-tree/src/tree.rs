//! The data tree: znodes with their persisted Stat, the ephemeral/container/TTL indexes, the
//! session table snapshot, the apply stage (`DataTree.processTxn` of ZooKeeper 3.8) and the
//! reads with their ACL checks (`FinalRequestProcessor`).
//!
//! Nodes live in a hash map from full path to node, split into copy-on-write shards (the
//! crate's private `nodes` module) so that a snapshot's capture copies nothing up front. The
//! hasher is keyed by [`TreeConfig::hash_seed`], never by global randomness, and every listing
//! is sorted before it leaves the tree. Each node keeps its child count and a reference into an
//! ACL cache shared by all nodes; the names of a node's children are in a second map, kept only
//! for nodes that have children.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use zk_proto::{Acl, ErrorCode, Id, Perms, SessionId, Stat, Zxid};

use crate::acl::{check_acl, mask_digests, AclCache, AclRef, SharedAcl};
use crate::children::ChildSet;
use crate::ephemeral::EphemeralType;
use crate::nodes::{NodeMap, Shard};
use crate::path::split_path;
use crate::txn::{ApplyOutcome, TreeEvent, TreeEventKind, Txn, TxnHeader, TxnResult};

/// Settings of the tree.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct TreeConfig {
    /// ZooKeeper's `zookeeper.extendedTypesEnabled`: whether TTL nodes may be created (and TTL
    /// owners are recognised). ZooKeeper defaults to false; this server defaults to true.
    pub extended_types_enabled: bool,
    /// The key of the hash function of the node map and the child sets. The default (0) makes
    /// every tree hash alike, for tests and the simulator; a server draws it at random when it
    /// starts, so that clients do not know which paths fall in one bucket.
    pub hash_seed: u64,
}

impl TreeConfig {
    /// The hasher state keyed by `hash_seed`.
    fn hash_state(&self) -> PathHashState {
        PathHashState::with_seed(self.hash_seed)
    }
}

impl Default for TreeConfig {
    fn default() -> TreeConfig {
        TreeConfig {
            extended_types_enabled: true,
            hash_seed: 0,
        }
    }
}

/// The Stat fields a node stores (`StatPersisted`); the client view adds the data length and
/// child count and translates cversion and the owner.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
pub struct StatPersisted {
    /// The creating zxid.
    pub czxid: Zxid,
    /// The zxid of the last setData (or the create).
    pub mzxid: Zxid,
    /// Creation time in milliseconds.
    pub ctime: i64,
    /// Last modification time in milliseconds.
    pub mtime: i64,
    /// Number of setData.
    pub version: i32,
    /// Number of child creates (not the client-visible cversion).
    pub cversion: i32,
    /// Number of setACL.
    pub aversion: i32,
    /// 0, a session, the container marker or a TTL encoding.
    pub ephemeral_owner: i64,
    /// The zxid of the last child create or delete.
    pub pzxid: Zxid,
}

impl StatPersisted {
    /// The Stat of a node created by `zxid` at `time_ms` (`DataTree.createStat`).
    pub fn created(zxid: Zxid, time_ms: i64, ephemeral_owner: i64) -> StatPersisted {
        StatPersisted {
            czxid: zxid,
            mzxid: zxid,
            ctime: time_ms,
            mtime: time_ms,
            version: 0,
            cversion: 0,
            aversion: 0,
            ephemeral_owner,
            pzxid: zxid,
        }
    }

    /// The Stat clients see (`DataNode.copyStat`): cversion is `2 * cversion - numChildren`
    /// and containers/TTL nodes show owner 0.
    pub fn to_client(&self, data_length: usize, num_children: usize, extended: bool) -> Stat {
        let num_children = i32::try_from(num_children).unwrap_or(i32::MAX);
        let owner = match EphemeralType::of(self.ephemeral_owner, extended) {
            EphemeralType::Normal(session) => session,
            _ => SessionId(0),
        };
        Stat {
            czxid: self.czxid,
            mzxid: self.mzxid,
            ctime: self.ctime,
            mtime: self.mtime,
            version: self.version,
            cversion: self.cversion.wrapping_mul(2).wrapping_sub(num_children),
            aversion: self.aversion,
            ephemeral_owner: owner,
            data_length: i32::try_from(data_length).unwrap_or(i32::MAX),
            num_children,
            pzxid: self.pzxid,
        }
    }
}

#[derive(Clone, Debug)]
pub(crate) struct Node {
    /// `None` is null data (as a null `byte[]` in ZooKeeper's `DataNode`), `Some` of an empty
    /// slice is empty data. The option costs nothing: it uses the pointer's non-null niche.
    /// Shared (`Arc`) so that [`DataTree::capture`] copies a pointer, not the bytes.
    pub(crate) data: Option<Arc<[u8]>>,
    pub(crate) acl: AclRef,
    pub(crate) stat: StatPersisted,
    /// The number of names in the node's [`ChildSet`] (`numChildren`).
    pub(crate) child_count: u32,
}

const _: () = assert!(
    std::mem::size_of::<Option<Arc<[u8]>>>() == std::mem::size_of::<Arc<[u8]>>(),
    "null data must not make a node bigger"
);

/// The hasher state of the node map and of the child sets: foldhash, keyed by
/// [`TreeConfig::hash_seed`]. The tree takes no randomness of its own; a server that seeds it at
/// random makes which paths collide depend on a key its clients do not know.
pub(crate) type PathHashState = foldhash::fast::FixedState;

/// One node of a [`TreeSnapshot`].
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct SnapshotNode {
    /// The full path (shared with the tree it was taken from or is loaded into).
    #[serde(with = "crate::bytes::shared_str")]
    pub path: Arc<str>,
    /// The data; `None` for null data (shared as the path is).
    #[serde(with = "crate::bytes::option")]
    pub data: Option<Arc<[u8]>>,
    /// The index of the node's ACL in [`TreeSnapshot::acls`].
    pub acl: u32,
    /// The persisted Stat.
    pub stat: StatPersisted,
}

/// A serialisable copy of the whole tree (nodes sorted by path, so parents come first).
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct TreeSnapshot {
    /// The zxid of the last txn applied.
    pub last_processed_zxid: Zxid,
    /// Live sessions with their timeouts.
    pub sessions: Vec<(SessionId, i32)>,
    /// The distinct ACL lists.
    pub acls: Vec<Vec<Acl>>,
    /// Every node, sorted by path.
    pub nodes: Vec<SnapshotNode>,
}

/// A tree's state taken by [`DataTree::capture`]: the node map's shards as they were (shared
/// with the tree until it changes them), each node's `acl` still the tree's cache slot. Sort it
/// into snapshot order with [`TreeCapture::sorted`] (which borrows the nodes and serialises as a
/// [`TreeSnapshot`] does), or copy it into one with [`TreeCapture::into_snapshot`] (or `into`).
#[derive(Clone, Debug)]
pub struct TreeCapture {
    last_processed_zxid: Zxid,
    sessions: Vec<(SessionId, i32)>,
    /// The ACL list of each cache slot (empty for a free one).
    acls: Vec<SharedAcl>,
    shards: Vec<Arc<Shard>>,
}

impl TreeCapture {
    /// The zxid of the last txn applied to the captured tree.
    pub fn last_processed_zxid(&self) -> Zxid {
        self.last_processed_zxid
    }

    /// The captured shards.
    pub(crate) fn shards(&self) -> &[Arc<Shard>] {
        &self.shards
    }

    /// The ACL list of each of the tree's ACL cache slots (empty for a free one).
    pub(crate) fn acl_slots(&self) -> &[SharedAcl] {
        &self.acls
    }

    /// The live sessions with their timeouts.
    pub(crate) fn sessions(&self) -> &[(SessionId, i32)] {
        &self.sessions
    }

    /// Copies the nodes out in the order of [`TreeCapture::sorted`], which serialises to the
    /// same bytes without the copy.
    pub fn into_snapshot(self) -> TreeSnapshot {
        let sorted = self.sorted();
        let nodes = sorted
            .nodes()
            .map(|(path, data, acl, stat)| SnapshotNode {
                path: path.clone(),
                data: data.clone(),
                acl,
                stat,
            })
            .collect();
        TreeSnapshot {
            last_processed_zxid: self.last_processed_zxid,
            sessions: sorted.sessions().to_vec(),
            acls: sorted.acls().iter().map(|list| list.to_vec()).collect(),
            nodes,
        }
    }
}

impl From<TreeCapture> for TreeSnapshot {
    fn from(capture: TreeCapture) -> TreeSnapshot {
        capture.into_snapshot()
    }
}

/// Why a snapshot could not be loaded.
#[derive(Clone, PartialEq, Eq, Debug, thiserror::Error)]
pub enum SnapshotError {
    /// A node's parent is missing or comes after it.
    #[error("snapshot node {0:?} has no parent before it")]
    MissingParent(String),
    /// A node refers to an ACL index that does not exist.
    #[error("snapshot node {0:?} refers to a missing ACL")]
    MissingAcl(String),
    /// The root is missing.
    #[error("snapshot has no root node")]
    MissingRoot,
    /// A path appears twice.
    #[error("snapshot node {0:?} appears twice")]
    DuplicatePath(String),
}

/// The ZooKeeper data tree.
#[derive(Clone, Debug)]
pub struct DataTree {
    pub(crate) config: TreeConfig,
    pub(crate) nodes: NodeMap,
    /// The child names of each node that has children (keyed by the node's own path).
    children: HashMap<Arc<str>, ChildSet, PathHashState>,
    pub(crate) acls: AclCache,
    pub(crate) ephemerals: BTreeMap<SessionId, BTreeSet<String>>,
    containers: BTreeSet<String>,
    ttls: BTreeSet<String>,
    sessions: BTreeMap<SessionId, i32>,
    last_processed_zxid: Zxid,
    data_size: u64,
}

impl Default for DataTree {
    fn default() -> DataTree {
        DataTree::new()
    }
}

/// `path.length() + data.length`, as `DataTree.getNodeSize` (the path in UTF-16 units, as
/// Java's `String.length`; null data counts 0).
fn node_size(path: &str, data: Option<&[u8]>) -> u64 {
    let path_units = if path.is_ascii() {
        path.len()
    } else {
        path.encode_utf16().count()
    };
    (path_units + data_len(data)) as u64
}

/// The length of a node's data, 0 for null data (`DataNode.copyStat`).
fn data_len(data: Option<&[u8]>) -> usize {
    data.map_or(0, <[u8]>::len)
}

impl DataTree {
    /// The initial tree with the default [`TreeConfig`].
    pub fn new() -> DataTree {
        DataTree::with_config(TreeConfig::default())
    }

    /// The initial tree of ZooKeeper 3.8: `/`, `/zookeeper`, `/zookeeper/quota` (all-zero
    /// stats, open ACL) and `/zookeeper/config` (empty, `world:anyone` READ, aversion -1).
    pub fn with_config(config: TreeConfig) -> DataTree {
        let mut tree = DataTree {
            config,
            nodes: NodeMap::new(config.hash_state()),
            children: HashMap::with_hasher(config.hash_state()),
            acls: AclCache::default(),
            ephemerals: BTreeMap::new(),
            containers: BTreeSet::new(),
            ttls: BTreeSet::new(),
            sessions: BTreeMap::new(),
            last_processed_zxid: Zxid::ZERO,
            data_size: 0,
        };
        let open = Acl::open_unsafe();
        for (path, children) in [
            ("/", &["zookeeper"][..]),
            ("/zookeeper", &["config", "quota"][..]),
            ("/zookeeper/quota", &[][..]),
        ] {
            let acl = tree.acls.intern(&open);
            tree.insert_raw(
                path,
                Some(Arc::from(&[][..])),
                acl,
                StatPersisted::default(),
            );
            tree.add_children(path, children.iter().map(|&name| Box::from(name)));
        }
        let acl = tree.acls.intern(&Acl::read_unsafe());
        let stat = StatPersisted {
            aversion: -1,
            ..StatPersisted::default()
        };
        tree.insert_raw("/zookeeper/config", Some(Arc::from(&[][..])), acl, stat);
        tree
    }

    fn insert_raw(
        &mut self,
        path: &str,
        data: Option<Arc<[u8]>>,
        acl: AclRef,
        stat: StatPersisted,
    ) {
        self.data_size += node_size(path, data.as_deref());
        let node = Node {
            data,
            acl,
            stat,
            child_count: 0,
        };
        let inserted = self.nodes.insert_new(Arc::from(path), node);
        debug_assert!(inserted.is_ok(), "{path} inserted twice");
    }

    /// The tree's settings.
    pub fn config(&self) -> &TreeConfig {
        &self.config
    }

    pub(crate) fn node(&self, path: &str) -> Option<&Node> {
        self.nodes.get(path)
    }

    pub(crate) fn client_stat(&self, node: &Node) -> Stat {
        node.stat.to_client(
            data_len(node.data.as_deref()),
            node.child_count as usize,
            self.config.extended_types_enabled,
        )
    }

    pub(crate) fn acl_of(&self, node: &Node) -> &SharedAcl {
        self.acls.get(node.acl)
    }

    pub(crate) fn ephemeral_type(&self, owner: i64) -> EphemeralType {
        EphemeralType::of(owner, self.config.extended_types_enabled)
    }

    // ----- Reads -----

    /// The Stat of a node, without any ACL check.
    pub fn exists(&self, path: &str) -> Option<Stat> {
        self.node(path).map(|node| self.client_stat(node))
    }

    /// exists as the server answers it: READ is checked only when the node exists.
    pub fn exists_checked(&self, path: &str, auth: &[Id]) -> Result<Option<Stat>, ErrorCode> {
        match self.node(path) {
            None => Ok(None),
            Some(node) => {
                check_acl(self.acl_of(node), Perms::READ, auth)?;
                Ok(Some(self.client_stat(node)))
            }
        }
    }

    /// The persisted Stat of a node (snapshots, tests).
    pub fn stat_persisted(&self, path: &str) -> Option<StatPersisted> {
        self.node(path).map(|node| node.stat)
    }

    /// The czxid, mzxid and pzxid of a node (what SetWatches needs).
    pub fn node_zxids(&self, path: &str) -> Option<(Zxid, Zxid, Zxid)> {
        self.node(path)
            .map(|node| (node.stat.czxid, node.stat.mzxid, node.stat.pzxid))
    }

    /// getData: NONODE, then READ. The data is `None` for a node created or last set with null
    /// data (its Stat's `dataLength` is then 0), as ZooKeeper returns a null `byte[]`.
    pub fn get_data(&self, path: &str, auth: &[Id]) -> Result<(Option<&[u8]>, Stat), ErrorCode> {
        let node = self.node(path).ok_or(ErrorCode::NoNode)?;
        check_acl(self.acl_of(node), Perms::READ, auth)?;
        Ok((node.data.as_deref(), self.client_stat(node)))
    }

    /// getChildren/getChildren2: NONODE, then READ; names sorted (ZooKeeper gives no order;
    /// sorted is one of its orders, and the same on every server).
    pub fn get_children(&self, path: &str, auth: &[Id]) -> Result<(Vec<String>, Stat), ErrorCode> {
        let node = self.node(path).ok_or(ErrorCode::NoNode)?;
        check_acl(self.acl_of(node), Perms::READ, auth)?;
        let mut children: Vec<String> = self
            .children
            .get(path)
            .into_iter()
            .flat_map(|names| names.iter().map(str::to_owned))
            .collect();
        children.sort_unstable();
        Ok((children, self.client_stat(node)))
    }

    /// getACL: NONODE, then READ or ADMIN; without ADMIN the digest hashes are masked.
    pub fn get_acl(&self, path: &str, auth: &[Id]) -> Result<(Vec<Acl>, Stat), ErrorCode> {
        let node = self.node(path).ok_or(ErrorCode::NoNode)?;
        let acl = self.acl_of(node);
        check_acl(acl, Perms(Perms::READ.0 | Perms::ADMIN.0), auth)?;
        let visible = if check_acl(acl, Perms::ADMIN, auth).is_ok() {
            acl.to_vec()
        } else {
            mask_digests(acl)
        };
        Ok((visible, self.client_stat(node)))
    }

    /// The ACL of a node without any check.
    pub fn acl(&self, path: &str) -> Option<&[Acl]> {
        self.node(path).map(|node| &**self.acl_of(node))
    }

    /// Whether `auth` holds `perm` on the node: NONODE or NOAUTH otherwise.
    pub fn check_acl(&self, path: &str, perm: Perms, auth: &[Id]) -> Result<(), ErrorCode> {
        let node = self.node(path).ok_or(ErrorCode::NoNode)?;
        check_acl(self.acl_of(node), perm, auth)
    }

    /// getEphemerals: the session's ephemerals under `prefix` (all for "" or "/"), sorted.
    pub fn ephemerals(&self, session: SessionId, prefix: &str) -> Vec<String> {
        let Some(paths) = self.ephemerals.get(&session) else {
            return Vec::new();
        };
        // As FinalRequestProcessor: the trimmed prefix decides "all", the raw one filters.
        let all = matches!(prefix.trim(), "" | "/");
        paths
            .iter()
            .filter(|path| all || path.starts_with(prefix))
            .cloned()
            .collect()
    }

    /// Every session's ephemerals, sorted (the `dump` listing).
    pub fn ephemerals_by_session(&self) -> impl Iterator<Item = (SessionId, &BTreeSet<String>)> {
        self.ephemerals
            .iter()
            .filter(|(_, paths)| !paths.is_empty())
            .map(|(&session, paths)| (session, paths))
    }

    /// The number of descendants of a node (for `/`, every node but the root), without checks.
    pub fn all_children_number(&self, path: &str) -> usize {
        if path == "/" {
            return self.nodes.len().saturating_sub(1);
        }
        // A scan of every node, as ZooKeeper does.
        let prefix = format!("{path}/");
        self.nodes
            .keys()
            .filter(|key| key.starts_with(&prefix))
            .count()
    }

    /// getAllChildrenNumber: NONODE, then READ, then [`DataTree::all_children_number`].
    pub fn get_all_children_number(&self, path: &str, auth: &[Id]) -> Result<i32, ErrorCode> {
        self.check_acl(path, Perms::READ, auth)?;
        Ok(i32::try_from(self.all_children_number(path)).unwrap_or(i32::MAX))
    }

    /// `zk_znode_count`: ZooKeeper's node map holds the root twice (as "" and "/"), so this is
    /// the number of nodes plus one, as 3.8 reports it (5 for a fresh tree).
    pub fn node_count(&self) -> usize {
        self.nodes.len() + 1
    }

    /// `zk_approximate_data_size`: the sum of path lengths and data lengths.
    pub fn approximate_data_size(&self) -> u64 {
        self.data_size
    }

    /// `zk_ephemerals_count`: the number of session-owned ephemerals.
    pub fn ephemeral_count(&self) -> usize {
        self.ephemerals.values().map(BTreeSet::len).sum()
    }

    /// The number of distinct ACL lists in the cache.
    pub fn acl_list_count(&self) -> usize {
        self.acls.len()
    }

    /// The container and TTL paths (sorted).
    pub fn containers(&self) -> &BTreeSet<String> {
        &self.containers
    }

    /// The TTL node paths (sorted).
    pub fn ttl_nodes(&self) -> &BTreeSet<String> {
        &self.ttls
    }

    /// ContainerManager's container candidates: containers without children that have had a
    /// child (persisted cversion > 0), and, when `max_never_used_interval_ms` > 0, childless
    /// never-used containers whose `now_ms - mtime` exceeds it. Sorted.
    pub fn containers_to_delete(
        &self,
        now_ms: i64,
        max_never_used_interval_ms: i64,
    ) -> Vec<String> {
        self.containers
            .iter()
            .filter(|path| {
                self.node(path).is_some_and(|node| {
                    node.child_count == 0
                        && (node.stat.cversion > 0
                            || (max_never_used_interval_ms != 0
                                && now_ms.saturating_sub(node.stat.mtime)
                                    > max_never_used_interval_ms))
                })
            })
            .cloned()
            .collect()
    }

    /// ContainerManager's TTL candidates: TTL nodes without children whose `now_ms - mtime`
    /// exceeds their TTL. Sorted.
    pub fn expired_ttl_nodes(&self, now_ms: i64) -> Vec<String> {
        self.ttls
            .iter()
            .filter(|path| {
                self.node(path).is_some_and(|node| {
                    node.child_count == 0
                        && match self.ephemeral_type(node.stat.ephemeral_owner) {
                            EphemeralType::Ttl(ttl_ms) => {
                                ttl_ms != 0 && now_ms.saturating_sub(node.stat.mtime) > ttl_ms
                            }
                            _ => false,
                        }
                })
            })
            .cloned()
            .collect()
    }

    /// The zxid of the last txn applied.
    pub fn last_processed_zxid(&self) -> Zxid {
        self.last_processed_zxid
    }

    /// Sets the last processed zxid (after loading a snapshot and replaying a log).
    pub fn set_last_processed_zxid(&mut self, zxid: Zxid) {
        self.last_processed_zxid = zxid;
    }

    /// The sessions created and not closed by applied txns, with their timeouts.
    pub fn sessions(&self) -> &BTreeMap<SessionId, i32> {
        &self.sessions
    }

    // ----- Apply -----

    /// Applies a txn (`DataTree.processTxn`). Total: a txn that does not fit the tree (possible
    /// only on replay) yields an error result and changes what ZooKeeper would change.
    pub fn apply(&mut self, hdr: &TxnHeader, txn: &Txn) -> ApplyOutcome {
        let mut events = Vec::new();
        let result = match txn {
            Txn::Create {
                path,
                parent_cversion,
                ..
            } => {
                let result = self.apply_one(hdr, txn, &mut events);
                if result == TxnResult::Error(ErrorCode::NodeExists) {
                    // Replay fix-up: the parent still advances to the txn's cversion and zxid.
                    if let Some((parent, _)) = split_path(path) {
                        if let Err(code) =
                            self.set_cversion_pzxid(parent, *parent_cversion, hdr.zxid)
                        {
                            return self.finish(hdr, TxnResult::Error(code), events);
                        }
                    }
                }
                result
            }
            Txn::Multi(txns) => self.apply_multi(hdr, txns, &mut events),
            _ => self.apply_one(hdr, txn, &mut events),
        };
        self.finish(hdr, result, events)
    }

    fn finish(
        &mut self,
        hdr: &TxnHeader,
        result: TxnResult,
        events: Vec<TreeEvent>,
    ) -> ApplyOutcome {
        if hdr.zxid > self.last_processed_zxid {
            self.last_processed_zxid = hdr.zxid;
        }
        ApplyOutcome { result, events }
    }

    fn apply_multi(
        &mut self,
        hdr: &TxnHeader,
        txns: &[Txn],
        events: &mut Vec<TreeEvent>,
    ) -> TxnResult {
        let failed = txns.iter().any(|txn| matches!(txn, Txn::Error(_)));
        if failed {
            let mut after_failure = false;
            let results = txns
                .iter()
                .map(|txn| match txn {
                    Txn::Error(code) => {
                        after_failure = true;
                        TxnResult::Error(*code)
                    }
                    _ if after_failure => TxnResult::Error(ErrorCode::RuntimeInconsistency),
                    _ => TxnResult::Error(ErrorCode::Ok),
                })
                .collect();
            return TxnResult::Multi(results);
        }
        let results = txns
            .iter()
            .map(|txn| match txn {
                Txn::Create { .. }
                | Txn::Delete { .. }
                | Txn::DeleteContainer { .. }
                | Txn::SetData { .. }
                | Txn::Check { .. } => self.apply_one(hdr, txn, events),
                // ZooKeeper's multi refuses other sub-txn types ("Invalid type of op").
                _ => TxnResult::Error(ErrorCode::MarshallingError),
            })
            .collect();
        TxnResult::Multi(results)
    }

    fn apply_one(&mut self, hdr: &TxnHeader, txn: &Txn, events: &mut Vec<TreeEvent>) -> TxnResult {
        let outcome = match txn {
            Txn::CreateSession { timeout_ms } => {
                self.sessions.insert(hdr.session_id, *timeout_ms);
                Ok(TxnResult::SessionCreated)
            }
            Txn::CloseSession { paths_to_delete } => {
                let deleted_ephemerals =
                    self.kill_session(hdr.session_id, hdr.zxid, paths_to_delete, events);
                self.sessions.remove(&hdr.session_id);
                Ok(TxnResult::SessionClosed { deleted_ephemerals })
            }
            Txn::Create {
                path,
                data,
                acl,
                ephemeral_owner,
                parent_cversion,
            } => self
                .create_node(
                    path,
                    data.as_deref(),
                    acl,
                    *ephemeral_owner,
                    *parent_cversion,
                    hdr.zxid,
                    hdr.time_ms,
                    events,
                )
                .map(|stat| TxnResult::Created {
                    path: path.clone(),
                    stat,
                }),
            Txn::Delete { path } | Txn::DeleteContainer { path } => self
                .delete_node(path, hdr.zxid, events)
                .map(|()| TxnResult::Deleted { path: path.clone() }),
            Txn::SetData {
                path,
                data,
                version,
            } => self
                .set_data(
                    path,
                    data.as_deref(),
                    *version,
                    hdr.zxid,
                    hdr.time_ms,
                    events,
                )
                .map(|stat| TxnResult::SetData {
                    path: path.clone(),
                    stat,
                }),
            Txn::SetAcl { path, acl, version } => {
                self.set_acl(path, acl, *version)
                    .map(|stat| TxnResult::SetAcl {
                        path: path.clone(),
                        stat,
                    })
            }
            Txn::Check { path, .. } => Ok(TxnResult::Checked { path: path.clone() }),
            Txn::Multi(_) => Err(ErrorCode::MarshallingError),
            Txn::Error(code) => Err(*code),
        };
        outcome.unwrap_or_else(TxnResult::Error)
    }

    #[allow(clippy::too_many_arguments)]
    fn create_node(
        &mut self,
        path: &str,
        data: Option<&[u8]>,
        acl: &[Acl],
        ephemeral_owner: i64,
        parent_cversion: i32,
        zxid: Zxid,
        time_ms: i64,
        events: &mut Vec<TreeEvent>,
    ) -> Result<Stat, ErrorCode> {
        let (parent_path, name) = split_path(path).ok_or(ErrorCode::NoNode)?;
        if name.is_empty() || !self.nodes.contains_key(parent_path) {
            return Err(ErrorCode::NoNode);
        }
        let acl_ref = self.acls.intern(acl);
        if let Some(existing) = self.nodes.get_mut(path) {
            // As ZooKeeper, a replayed create that finds the node installs the txn's ACL.
            let old = std::mem::replace(&mut existing.acl, acl_ref);
            self.acls.release(old);
            return Err(ErrorCode::NodeExists);
        }
        if !self.add_children(parent_path, std::iter::once(Box::from(name))) {
            self.acls.release(acl_ref);
            return Err(ErrorCode::NoNode);
        }
        let Some(parent) = self.nodes.get_mut(parent_path) else {
            self.acls.release(acl_ref);
            return Err(ErrorCode::NoNode);
        };
        let parent_cversion = if parent_cversion == -1 {
            parent.stat.cversion.wrapping_add(1)
        } else {
            parent_cversion
        };
        if parent_cversion > parent.stat.cversion {
            parent.stat.cversion = parent_cversion;
            parent.stat.pzxid = zxid;
        }
        let parent_acl = parent.acl;
        let stat = StatPersisted::created(zxid, time_ms, ephemeral_owner);
        self.insert_raw(path, data.map(Arc::from), acl_ref, stat);
        match self.ephemeral_type(ephemeral_owner) {
            EphemeralType::Container => {
                self.containers.insert(path.to_owned());
            }
            EphemeralType::Ttl(_) => {
                self.ttls.insert(path.to_owned());
            }
            EphemeralType::Normal(session) => {
                self.ephemerals
                    .entry(session)
                    .or_default()
                    .insert(path.to_owned());
            }
            EphemeralType::Void => {}
        }
        events.push(TreeEvent {
            path: path.to_owned(),
            kind: TreeEventKind::NodeCreated,
            acl: self.acls.get(acl_ref).clone(),
        });
        events.push(TreeEvent {
            path: parent_path.to_owned(),
            kind: TreeEventKind::NodeChildrenChanged,
            acl: self.acls.get(parent_acl).clone(),
        });
        Ok(stat.to_client(data_len(data), 0, self.config.extended_types_enabled))
    }

    fn delete_node(
        &mut self,
        path: &str,
        zxid: Zxid,
        events: &mut Vec<TreeEvent>,
    ) -> Result<(), ErrorCode> {
        let (parent_path, name) = split_path(path).ok_or(ErrorCode::NoNode)?;
        if name.is_empty() {
            return Err(ErrorCode::BadArguments);
        }
        // Deviation kept deliberately: ZooKeeper would orphan the children of a node deleted by
        // a replayed txn; this tree refuses instead and stays a tree.
        if self
            .nodes
            .get(path)
            .is_some_and(|node| node.child_count > 0)
        {
            return Err(ErrorCode::NotEmpty);
        }
        let removed = match self.children.get_mut(parent_path) {
            Some(names) => {
                let removed = names.remove(name);
                if names.is_empty() {
                    self.children.remove(parent_path);
                }
                removed
            }
            None => false,
        };
        let parent = self.nodes.get_mut(parent_path).ok_or(ErrorCode::NoNode)?;
        if removed {
            parent.child_count -= 1;
        }
        if zxid > parent.stat.pzxid {
            parent.stat.pzxid = zxid;
        }
        let parent_acl = parent.acl;
        let node = self.nodes.remove(path).ok_or(ErrorCode::NoNode)?;
        self.data_size = self
            .data_size
            .saturating_sub(node_size(path, node.data.as_deref()));
        match self.ephemeral_type(node.stat.ephemeral_owner) {
            EphemeralType::Container => {
                self.containers.remove(path);
            }
            EphemeralType::Ttl(_) => {
                self.ttls.remove(path);
            }
            EphemeralType::Normal(session) => {
                if let Some(paths) = self.ephemerals.get_mut(&session) {
                    paths.remove(path);
                    if paths.is_empty() {
                        self.ephemerals.remove(&session);
                    }
                }
            }
            EphemeralType::Void => {}
        }
        events.push(TreeEvent {
            path: path.to_owned(),
            kind: TreeEventKind::NodeDeleted,
            acl: self.acls.get(node.acl).clone(),
        });
        events.push(TreeEvent {
            path: parent_path.to_owned(),
            kind: TreeEventKind::NodeChildrenChanged,
            acl: self.acls.get(parent_acl).clone(),
        });
        self.acls.release(node.acl);
        Ok(())
    }

    fn set_data(
        &mut self,
        path: &str,
        data: Option<&[u8]>,
        version: i32,
        zxid: Zxid,
        time_ms: i64,
        events: &mut Vec<TreeEvent>,
    ) -> Result<Stat, ErrorCode> {
        let extended = self.config.extended_types_enabled;
        let node = self.nodes.get_mut(path).ok_or(ErrorCode::NoNode)?;
        let old_size = node_size(path, node.data.as_deref());
        node.data = data.map(Arc::from);
        node.stat.mtime = time_ms;
        node.stat.mzxid = zxid;
        node.stat.version = version;
        let stat = node.stat.to_client(
            data_len(node.data.as_deref()),
            node.child_count as usize,
            extended,
        );
        let acl = node.acl;
        self.data_size = self.data_size.saturating_sub(old_size) + node_size(path, data);
        events.push(TreeEvent {
            path: path.to_owned(),
            kind: TreeEventKind::NodeDataChanged,
            acl: self.acls.get(acl).clone(),
        });
        Ok(stat)
    }

    fn set_acl(&mut self, path: &str, acl: &[Acl], version: i32) -> Result<Stat, ErrorCode> {
        let extended = self.config.extended_types_enabled;
        let Some(node) = self.nodes.get_mut(path) else {
            return Err(ErrorCode::NoNode);
        };
        let new_ref = self.acls.intern(acl);
        let old = std::mem::replace(&mut node.acl, new_ref);
        node.stat.aversion = version;
        let stat = node.stat.to_client(
            data_len(node.data.as_deref()),
            node.child_count as usize,
            extended,
        );
        self.acls.release(old);
        Ok(stat)
    }

    /// `setCversionPzxid`: raises a node's persisted cversion (and pzxid) when larger.
    fn set_cversion_pzxid(
        &mut self,
        path: &str,
        cversion: i32,
        zxid: Zxid,
    ) -> Result<(), ErrorCode> {
        let node = self.nodes.get_mut(path).ok_or(ErrorCode::NoNode)?;
        let cversion = if cversion == -1 {
            node.stat.cversion.wrapping_add(1)
        } else {
            cversion
        };
        if cversion > node.stat.cversion {
            node.stat.cversion = cversion;
            node.stat.pzxid = zxid;
        }
        Ok(())
    }

    /// `killSession`: deletes the txn's paths, then whatever ephemerals of the session remain.
    fn kill_session(
        &mut self,
        session: SessionId,
        zxid: Zxid,
        paths_to_delete: &[String],
        events: &mut Vec<TreeEvent>,
    ) -> Vec<String> {
        let mut local = self.ephemerals.remove(&session).unwrap_or_default();
        let mut deleted = Vec::new();
        for path in paths_to_delete {
            local.remove(path);
            if self.delete_node(path, zxid, events).is_ok() {
                deleted.push(path.clone());
            }
        }
        for path in local {
            if self.delete_node(&path, zxid, events).is_ok() {
                deleted.push(path);
            }
        }
        deleted
    }

    // ----- Snapshots -----

    /// A serialisable copy of the tree: [`DataTree::capture`] sorted and numbered at once.
    pub fn to_snapshot(&self) -> TreeSnapshot {
        self.capture().into_snapshot()
    }

    /// The tree's state now: the part of taking a snapshot that must run where the tree lives,
    /// and whose cost does not grow with the tree (the node map's shards are shared, and the
    /// tree copies a shard only when it next changes it, see zk-tree's `nodes` module).
    /// [`TreeCapture::into_snapshot`] (copying out the nodes, sorting them by path and
    /// numbering the ACLs, the costly part on big trees) can then run on another thread while
    /// the tree goes on changing.
    pub fn capture(&self) -> TreeCapture {
        let acls = (0..self.acls.slot_count())
            .map(|slot| self.acls.get(AclRef(slot as u32)).clone())
            .collect();
        TreeCapture {
            last_processed_zxid: self.last_processed_zxid,
            sessions: self.sessions.iter().map(|(&s, &t)| (s, t)).collect(),
            acls,
            shards: self.nodes.share(),
        }
    }

    /// Rebuilds a tree from a snapshot (children, ephemeral, container and TTL indexes are
    /// derived from the nodes). Copies the snapshot; [`DataTree::from_snapshot_owned`] moves
    /// it instead.
    pub fn from_snapshot(
        snapshot: &TreeSnapshot,
        config: TreeConfig,
    ) -> Result<DataTree, SnapshotError> {
        DataTree::from_snapshot_owned(snapshot.clone(), config)
    }

    /// Rebuilds a tree from a snapshot it consumes: paths and data move into the tree.
    ///
    /// One pass in snapshot order (sorted by path, so a parent comes before its children and
    /// the children of one parent come in name order): each ACL index is resolved once, the
    /// node map is sized up front, and consecutive siblings are gathered and added to their
    /// parent with one lookup (a parent is looked up again only when the parent changes).
    pub fn from_snapshot_owned(
        snapshot: TreeSnapshot,
        config: TreeConfig,
    ) -> Result<DataTree, SnapshotError> {
        let TreeSnapshot {
            last_processed_zxid,
            sessions,
            acls,
            nodes,
        } = snapshot;
        let mut tree = DataTree {
            config,
            nodes: NodeMap::with_capacity(nodes.len(), config.hash_state()),
            children: HashMap::with_hasher(config.hash_state()),
            acls: AclCache::default(),
            ephemerals: BTreeMap::new(),
            containers: BTreeSet::new(),
            ttls: BTreeSet::new(),
            sessions: sessions.into_iter().collect(),
            last_processed_zxid,
            data_size: 0,
        };
        // Each ACL list is interned once, with the number of nodes that use it.
        let mut users = vec![0u64; acls.len()];
        for node in &nodes {
            match users.get_mut(node.acl as usize) {
                Some(count) => *count += 1,
                None => return Err(SnapshotError::MissingAcl(node.path.to_string())),
            }
        }
        let acl_refs: Vec<Option<AclRef>> = acls
            .iter()
            .zip(&users)
            .map(|(acl, &count)| (count > 0).then(|| tree.acls.intern_n(acl, count)))
            .collect();
        drop(acls);
        // The parent whose children are being gathered, and those children (in name order).
        let mut parent_path = String::new();
        let mut siblings: Vec<Box<str>> = Vec::new();
        for node in nodes {
            let SnapshotNode {
                path,
                data,
                acl,
                stat,
            } = node;
            if &*path != "/" {
                let (parent, name) = split_path(&path)
                    .ok_or_else(|| SnapshotError::MissingParent(path.to_string()))?;
                if parent != parent_path || siblings.is_empty() {
                    tree.add_children(&parent_path, siblings.drain(..));
                    if !tree.nodes.contains_key(parent) {
                        return Err(SnapshotError::MissingParent(path.to_string()));
                    }
                    parent_path.clear();
                    parent_path.push_str(parent);
                }
                siblings.push(Box::from(name));
            }
            let acl_ref = acl_refs
                .get(acl as usize)
                .copied()
                .flatten()
                .ok_or_else(|| SnapshotError::MissingAcl(path.to_string()))?;
            match tree.ephemeral_type(stat.ephemeral_owner) {
                EphemeralType::Container => {
                    tree.containers.insert(path.to_string());
                }
                EphemeralType::Ttl(_) => {
                    tree.ttls.insert(path.to_string());
                }
                EphemeralType::Normal(session) => {
                    tree.ephemerals
                        .entry(session)
                        .or_default()
                        .insert(path.to_string());
                }
                EphemeralType::Void => {}
            }
            tree.data_size += node_size(&path, data.as_deref());
            let node = Node {
                data,
                acl: acl_ref,
                stat,
                child_count: 0,
            };
            if let Err((path, _)) = tree.nodes.insert_new(path, node) {
                return Err(SnapshotError::DuplicatePath(path.to_string()));
            }
        }
        tree.add_children(&parent_path, siblings.drain(..));
        if !tree.nodes.contains_key("/") {
            return Err(SnapshotError::MissingRoot);
        }
        Ok(tree)
    }

    /// Adds `names` to the children of `parent` and sets its child count: the one place where
    /// a child set grows. False, changing nothing, if `parent` is not in the tree.
    fn add_children(
        &mut self,
        parent: &str,
        names: impl ExactSizeIterator<Item = Box<str>>,
    ) -> bool {
        if names.len() == 0 {
            return self.nodes.contains_key(parent);
        }
        if !self.children.contains_key(parent) {
            let Some((key, _)) = self.nodes.get_key_value(parent) else {
                return false;
            };
            let set = ChildSet::with_capacity(names.len(), self.config.hash_state());
            self.children.insert(key.clone(), set);
        }
        let Some(set) = self.children.get_mut(parent) else {
            return false;
        };
        set.extend(names);
        let count = u32::try_from(set.len()).unwrap_or(u32::MAX);
        match self.nodes.get_mut(parent) {
            Some(node) => {
                node.child_count = count;
                true
            }
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(zxid: u64) -> TxnHeader {
        TxnHeader {
            session_id: SessionId(0),
            cxid: 0,
            zxid: Zxid(zxid),
            time_ms: zxid as i64,
        }
    }

    fn create(path: &str) -> Txn {
        Txn::Create {
            path: path.to_owned(),
            data: Some(path.as_bytes().to_vec()),
            acl: Acl::open_unsafe(),
            ephemeral_owner: 0,
            parent_cversion: -1,
        }
    }

    /// A tree of `parents` parents under the root with `children` children each.
    fn grown(parents: usize, children: usize) -> (DataTree, u64) {
        let mut tree = DataTree::new();
        let mut zxid = 0;
        for p in 0..parents {
            zxid += 1;
            assert!(tree
                .apply(&header(zxid), &create(&format!("/p{p}")))
                .result
                .error_code()
                .is_ok());
            for c in 0..children {
                zxid += 1;
                let txn = create(&format!("/p{p}/c{c}"));
                assert!(tree.apply(&header(zxid), &txn).result.error_code().is_ok());
            }
        }
        (tree, zxid)
    }

    /// Every node's child count is the size of its child set, and no set is empty.
    fn assert_child_counts(tree: &DataTree) {
        for (path, node) in tree.nodes.iter() {
            let names = tree.children.get(path).map_or(0, ChildSet::len);
            assert_eq!(node.child_count as usize, names, "{path}");
        }
        for (path, names) in &tree.children {
            assert!(!names.is_empty(), "{path} keeps an empty child set");
            assert!(
                tree.nodes.contains_key(path),
                "{path} has children but no node"
            );
        }
    }

    #[test]
    fn child_counts_follow_the_child_sets_through_creates_and_deletes() {
        let (mut tree, mut zxid) = grown(5, 30);
        assert_child_counts(&tree);
        for p in 0..5 {
            for c in 0..30 {
                zxid += 1;
                let txn = Txn::Delete {
                    path: format!("/p{p}/c{c}"),
                };
                assert!(tree.apply(&header(zxid), &txn).result.error_code().is_ok());
            }
            // A parent whose last child went has no child set and can go too.
            assert_eq!(
                tree.exists(&format!("/p{p}")).map(|stat| stat.num_children),
                Some(0)
            );
        }
        assert_child_counts(&tree);
        zxid += 1;
        let refused = tree.apply(
            &header(zxid),
            &Txn::Delete {
                path: "/zookeeper".to_owned(),
            },
        );
        assert_eq!(refused.result.error_code(), ErrorCode::NotEmpty);
        let reloaded = DataTree::from_snapshot(&tree.to_snapshot(), TreeConfig::default())
            .expect("the snapshot loads");
        assert_child_counts(&reloaded);
        assert_eq!(reloaded.to_snapshot(), tree.to_snapshot());
    }

    #[test]
    fn a_parent_of_thousands_lists_counts_deletes_and_reloads_its_children() {
        // Past 4,096 names a child set is split into shards (children.rs).
        let (mut tree, mut zxid) = grown(1, 5_000);
        let (names, stat) = tree.get_children("/p0", &[]).expect("readable");
        let mut expected: Vec<String> = (0..5_000).map(|c| format!("c{c}")).collect();
        expected.sort();
        assert_eq!((names, stat.num_children), (expected, 5_000));
        for c in (0..5_000).step_by(2) {
            zxid += 1;
            let txn = Txn::Delete {
                path: format!("/p0/c{c}"),
            };
            assert!(tree.apply(&header(zxid), &txn).result.error_code().is_ok());
        }
        let (names, stat) = tree.get_children("/p0", &[]).expect("readable");
        assert_eq!((names.len(), stat.num_children), (2_500, 2_500));
        assert!(names.iter().all(|name| {
            let n: usize = name[1..].parse().expect("c<n>");
            n % 2 == 1
        }));
        assert_child_counts(&tree);
        let reloaded = DataTree::from_snapshot(&tree.to_snapshot(), TreeConfig::default())
            .expect("the snapshot loads");
        assert_child_counts(&reloaded);
        assert_eq!(
            reloaded.get_children("/p0", &[]),
            tree.get_children("/p0", &[])
        );
    }

    #[test]
    fn a_capture_and_its_snapshot_share_paths_and_values_with_the_tree() {
        let mut tree = DataTree::new();
        for (zxid, path, data) in [(1, "/a", Some(&b"value"[..])), (2, "/a/null", None)] {
            let txn = Txn::Create {
                path: path.to_owned(),
                data: data.map(<[u8]>::to_vec),
                acl: Acl::open_unsafe(),
                ephemeral_owner: 0,
                parent_cversion: 1,
            };
            tree.apply(&header(zxid), &txn);
        }
        let snapshot = tree.capture().into_snapshot();
        assert_eq!(snapshot.nodes.len(), tree.nodes.len());
        for captured in &snapshot.nodes {
            let Some((path, node)) = tree.nodes.get_key_value(&captured.path) else {
                panic!("{} is not in the tree", captured.path);
            };
            assert!(Arc::ptr_eq(path, &captured.path), "{path} was copied");
            match (&node.data, &captured.data) {
                (Some(ours), Some(theirs)) => {
                    assert!(Arc::ptr_eq(ours, theirs), "{path}'s value was copied")
                }
                (None, None) => {}
                (ours, theirs) => panic!("{path}: {ours:?} in the tree, {theirs:?} captured"),
            }
        }
    }
}
