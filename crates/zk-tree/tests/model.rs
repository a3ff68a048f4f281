//! A property test: random op sequences (some pipelined through `PendingChanges`, some in
//! multis) run against the tree and against a naive `BTreeMap` model of ZooKeeper's rules;
//! results, every node's Stat (versions, cversion, pzxid, numChildren), sequence numbers and
//! ephemerals must agree after every batch.

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;
use zk_proto::{Acl, CreateMode, ErrorCode, SessionId, Stat, Zxid};
use zk_tree::{DataTree, Op, PendingChanges, RequestContext, TxnResult};

const PATHS: [&str; 7] = ["/a", "/b", "/a/x", "/a/y", "/b/x", "/a/x/z", "/c/d"];

#[derive(Clone, Debug, PartialEq)]
struct MNode {
    /// `None` is null data.
    data: Option<Vec<u8>>,
    version: i32,
    cversion: i32,
    aversion: i32,
    children: BTreeSet<String>,
    czxid: u64,
    mzxid: u64,
    pzxid: u64,
    ctime: i64,
    mtime: i64,
    owner: i64,
}

impl MNode {
    fn new(zxid: u64, time: i64, owner: i64, data: Option<Vec<u8>>) -> MNode {
        MNode {
            data,
            version: 0,
            cversion: 0,
            aversion: 0,
            children: BTreeSet::new(),
            czxid: zxid,
            mzxid: zxid,
            pzxid: zxid,
            ctime: time,
            mtime: time,
            owner,
        }
    }

    fn stat(&self) -> Stat {
        let n = self.children.len() as i32;
        Stat {
            czxid: Zxid(self.czxid),
            mzxid: Zxid(self.mzxid),
            ctime: self.ctime,
            mtime: self.mtime,
            version: self.version,
            cversion: self.cversion * 2 - n,
            aversion: self.aversion,
            ephemeral_owner: SessionId(self.owner),
            data_length: self.data.as_ref().map_or(0, Vec::len) as i32,
            num_children: n,
            pzxid: Zxid(self.pzxid),
        }
    }
}

/// The model: ZooKeeper's rules written as plainly as possible.
#[derive(Clone, Debug)]
struct Model {
    nodes: BTreeMap<String, MNode>,
}

fn split(path: &str) -> (String, String) {
    let cut = path.rfind('/').unwrap_or(0);
    let parent = if cut == 0 { "/" } else { &path[..cut] };
    (parent.to_owned(), path[cut + 1..].to_owned())
}

/// The outcome of one op in the model: an error or a short description of the success.
type MResult = Result<String, ErrorCode>;

impl Model {
    fn new() -> Model {
        let mut nodes = BTreeMap::new();
        let mut root = MNode::new(0, 0, 0, Some(vec![]));
        root.children.insert("zookeeper".into());
        let mut zk = MNode::new(0, 0, 0, Some(vec![]));
        zk.children
            .extend(["quota".to_owned(), "config".to_owned()]);
        let mut config = MNode::new(0, 0, 0, Some(vec![]));
        config.aversion = -1;
        nodes.insert("/".to_owned(), root);
        nodes.insert("/zookeeper".to_owned(), zk);
        nodes.insert(
            "/zookeeper/quota".to_owned(),
            MNode::new(0, 0, 0, Some(vec![])),
        );
        nodes.insert("/zookeeper/config".to_owned(), config);
        Model { nodes }
    }

    fn apply(&mut self, op: &MOp, session: i64, zxid: u64, time: i64) -> MResult {
        match op {
            MOp::Create {
                path,
                sequential,
                ephemeral,
            } => {
                let (parent, _) = split(path);
                let parent_node = self.nodes.get(&parent).ok_or(ErrorCode::NoNode)?;
                let path = if *sequential {
                    format!("{path}{:010}", parent_node.cversion)
                } else {
                    path.clone()
                };
                if self.nodes.contains_key(&path) {
                    return Err(ErrorCode::NodeExists);
                }
                if parent_node.owner != 0 {
                    return Err(ErrorCode::NoChildrenForEphemerals);
                }
                let (_, name) = split(&path);
                let parent_node = self.nodes.get_mut(&parent).ok_or(ErrorCode::NoNode)?;
                parent_node.cversion += 1;
                parent_node.pzxid = zxid;
                parent_node.children.insert(name);
                let owner = if *ephemeral { session } else { 0 };
                self.nodes.insert(
                    path.clone(),
                    MNode::new(zxid, time, owner, Some(b"d".to_vec())),
                );
                Ok(format!("created {path}"))
            }
            MOp::Delete { path, version } => {
                let path = self.resolve(path);
                self.delete(&path, *version, zxid)?;
                Ok(format!("deleted {path}"))
            }
            MOp::SetData { path, version } => {
                let path = self.resolve(path);
                let node = self.nodes.get_mut(&path).ok_or(ErrorCode::NoNode)?;
                if *version != -1 && *version != node.version {
                    return Err(ErrorCode::BadVersion);
                }
                node.version += 1;
                node.mzxid = zxid;
                node.mtime = time;
                node.data = set_data_value(node.version);
                Ok(format!("set {path}"))
            }
            MOp::Check { path, version } => {
                let path = self.resolve(path);
                let node = self.nodes.get(&path).ok_or(ErrorCode::NoNode)?;
                if *version != -1 && *version != node.version {
                    return Err(ErrorCode::BadVersion);
                }
                Ok(format!("checked {path}"))
            }
            MOp::Close => {
                let owned: Vec<String> = self
                    .nodes
                    .iter()
                    .filter(|(_, n)| n.owner == session)
                    .map(|(p, _)| p.clone())
                    .collect();
                for path in &owned {
                    self.delete(path, -1, zxid)?;
                }
                Ok(format!("closed {owned:?}"))
            }
            MOp::Multi(ops) => {
                let mut scratch = self.clone();
                let mut done = Vec::new();
                for (i, op) in ops.iter().enumerate() {
                    match scratch.apply(op, session, zxid, time) {
                        Ok(text) => done.push(text),
                        Err(code) => {
                            let mut codes = vec!["Ok".to_owned(); i];
                            codes.push(format!("{code:?}"));
                            codes
                                .extend(vec!["RuntimeInconsistency".to_owned(); ops.len() - i - 1]);
                            return Ok(format!("multi failed {codes:?}"));
                        }
                    }
                }
                *self = scratch;
                Ok(format!("multi {done:?}"))
            }
        }
    }

    /// `#n` paths name the n-th child (mod count) of a parent, to reach sequential nodes.
    fn resolve(&self, path: &str) -> String {
        if let Some((parent, n)) = path.split_once('#') {
            let parent = if parent.is_empty() { "/" } else { parent };
            let children = self
                .nodes
                .get(parent)
                .map(|p| p.children.clone())
                .unwrap_or_default();
            if children.is_empty() {
                return format!("{parent}/none");
            }
            let n: usize = n.parse().unwrap_or(0);
            let name = children
                .iter()
                .nth(n % children.len())
                .cloned()
                .unwrap_or_default();
            return if parent == "/" {
                format!("/{name}")
            } else {
                format!("{parent}/{name}")
            };
        }
        path.to_owned()
    }

    fn delete(&mut self, path: &str, version: i32, zxid: u64) -> Result<(), ErrorCode> {
        if ["/", "/zookeeper", "/zookeeper/quota", "/zookeeper/config"].contains(&path) {
            return Err(ErrorCode::BadArguments);
        }
        let (parent, name) = split(path);
        if !self.nodes.contains_key(&parent) {
            return Err(ErrorCode::NoNode);
        }
        let node = self.nodes.get(path).ok_or(ErrorCode::NoNode)?;
        if version != -1 && version != node.version {
            return Err(ErrorCode::BadVersion);
        }
        if !node.children.is_empty() {
            return Err(ErrorCode::NotEmpty);
        }
        self.nodes.remove(path);
        if let Some(parent) = self.nodes.get_mut(&parent) {
            parent.children.remove(&name);
            parent.pzxid = parent.pzxid.max(zxid);
        }
        Ok(())
    }
}

#[derive(Clone, Debug)]
enum MOp {
    Create {
        path: String,
        sequential: bool,
        ephemeral: bool,
    },
    Delete {
        path: String,
        version: i32,
    },
    SetData {
        path: String,
        version: i32,
    },
    Check {
        path: String,
        version: i32,
    },
    Close,
    Multi(Vec<MOp>),
}

impl MOp {
    fn to_op(&self, model: &Model) -> Op {
        match self {
            MOp::Create {
                path,
                sequential,
                ephemeral,
            } => Op::Create {
                path: path.clone(),
                data: Some(b"d".to_vec()),
                acl: Acl::open_unsafe(),
                mode: match (sequential, ephemeral) {
                    (false, false) => CreateMode::Persistent,
                    (false, true) => CreateMode::Ephemeral,
                    (true, false) => CreateMode::PersistentSequential,
                    (true, true) => CreateMode::EphemeralSequential,
                },
                ttl_ms: None,
            },
            MOp::Delete { path, version } => Op::Delete {
                path: model.resolve(path),
                version: *version,
            },
            MOp::SetData { path, version } => {
                let path = model.resolve(path);
                let next = model.nodes.get(&path).map_or(0, |n| n.version + 1);
                Op::SetData {
                    path,
                    data: set_data_value(next),
                    version: *version,
                }
            }
            MOp::Check { path, version } => Op::Check {
                path: model.resolve(path),
                version: *version,
            },
            MOp::Close => Op::CloseSession,
            MOp::Multi(ops) => {
                // Sub-ops resolve against the model as it evolves inside the multi.
                let mut scratch = model.clone();
                let mut out = Vec::new();
                for op in ops {
                    out.push(op.to_op(&scratch));
                    let _ = scratch.apply(op, 0, 0, 0);
                }
                Op::Multi(out)
            }
        }
    }
}

/// The data a setData writes for a given new version: null, empty or a few bytes.
fn set_data_value(version: i32) -> Option<Vec<u8>> {
    match version.rem_euclid(4) as usize {
        1 => None,
        2 => Some(Vec::new()),
        n => Some(vec![b'x'; n + 1]),
    }
}

fn describe(result: &TxnResult) -> MResult {
    match result {
        TxnResult::Created { path, .. } => Ok(format!("created {path}")),
        TxnResult::Deleted { path } => Ok(format!("deleted {path}")),
        TxnResult::SetData { path, .. } => Ok(format!("set {path}")),
        TxnResult::Checked { path } => Ok(format!("checked {path}")),
        TxnResult::SessionClosed { deleted_ephemerals } => {
            Ok(format!("closed {deleted_ephemerals:?}"))
        }
        TxnResult::Multi(results) => {
            if results.iter().all(|r| matches!(r, TxnResult::Error(_))) && !results.is_empty() {
                let codes: Vec<String> = results
                    .iter()
                    .map(|r| format!("{:?}", r.error_code()))
                    .collect();
                Ok(format!("multi failed {codes:?}"))
            } else {
                let done: Vec<String> = results.iter().filter_map(|r| describe(r).ok()).collect();
                Ok(format!("multi {done:?}"))
            }
        }
        TxnResult::Error(code) => Err(*code),
        other => Ok(format!("{other:?}")),
    }
}

fn path_strategy() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => proptest::sample::select(&PATHS[..]).prop_map(str::to_owned),
        2 => proptest::sample::select(&["/a#", "/b#", "#", "/a/x#"][..])
            .prop_flat_map(|p| (0..4usize).prop_map(move |n| format!("{p}{n}"))),
    ]
}

fn version_strategy() -> impl Strategy<Value = i32> {
    prop_oneof![2 => Just(-1), 1 => 0..3i32]
}

fn simple_op() -> impl Strategy<Value = MOp> {
    prop_oneof![
        4 => (proptest::sample::select(&PATHS[..]), any::<bool>(), proptest::bool::weighted(0.3))
            .prop_map(|(p, sequential, ephemeral)| MOp::Create { path: p.to_owned(), sequential, ephemeral }),
        2 => (path_strategy(), version_strategy()).prop_map(|(path, version)| MOp::Delete { path, version }),
        2 => (path_strategy(), version_strategy()).prop_map(|(path, version)| MOp::SetData { path, version }),
        1 => (path_strategy(), version_strategy()).prop_map(|(path, version)| MOp::Check { path, version }),
    ]
}

fn step() -> impl Strategy<Value = (MOp, i64, bool)> {
    let op = prop_oneof![
        8 => simple_op(),
        1 => Just(MOp::Close),
        2 => proptest::collection::vec(simple_op(), 0..4).prop_map(MOp::Multi),
    ];
    // (op, session 1..=3, apply the pending batch after this op)
    (op, 1..=3i64, proptest::bool::weighted(0.6))
}

fn check_agreement(tree: &DataTree, model: &Model) -> Result<(), TestCaseError> {
    for (path, node) in &model.nodes {
        prop_assert_eq!(tree.exists(path), Some(node.stat()), "stat of {}", path);
        let data = tree
            .get_data(path, &[])
            .map(|(data, _)| data.map(<[u8]>::to_vec));
        prop_assert_eq!(data, Ok(node.data.clone()), "data of {}", path);
        let (children, _) = tree
            .get_children(path, &[])
            .map_err(|e| TestCaseError::fail(format!("{e}")))?;
        prop_assert_eq!(children, node.children.iter().cloned().collect::<Vec<_>>());
    }
    prop_assert_eq!(tree.node_count(), model.nodes.len() + 1);
    for session in 1..=3i64 {
        let expected: Vec<String> = model
            .nodes
            .iter()
            .filter(|(_, n)| n.owner == session)
            .map(|(p, _)| p.clone())
            .collect();
        prop_assert_eq!(tree.ephemerals(SessionId(session), "/"), expected);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn the_tree_agrees_with_a_naive_model(steps in proptest::collection::vec(step(), 1..60)) {
        let mut tree = DataTree::new();
        let mut model = Model::new();
        let mut pending = PendingChanges::new();
        let mut batch = Vec::new();
        let mut zxid = 1u64;
        for (op, session, flush) in steps {
            let time = zxid as i64 * 7;
            let concrete = op.to_op(&model);
            let ctx = RequestContext { session_id: SessionId(session), auth: &[], time_ms: time, zxid: Zxid(zxid) };
            let txn = tree.prepare_pending(&mut pending, &ctx, &concrete);
            let expected = model.apply(&op, session, zxid, time);
            batch.push((ctx.header(0), txn, expected, concrete));
            zxid += 1;
            // A pending closeSession keeps its parents' child counts until applied (as in
            // ZooKeeper), which the sequential model does not mimic: apply right after it.
            if flush || matches!(op, MOp::Close) {
                for (hdr, txn, expected, concrete) in batch.drain(..) {
                    let outcome = tree.apply(&hdr, &txn);
                    pending.applied(hdr.zxid);
                    prop_assert_eq!(describe(&outcome.result), expected, "op {:?}", concrete);
                }
                prop_assert!(pending.is_empty());
                check_agreement(&tree, &model)?;
            }
        }
        for (hdr, txn, expected, concrete) in batch.drain(..) {
            let outcome = tree.apply(&hdr, &txn);
            pending.applied(hdr.zxid);
            prop_assert_eq!(describe(&outcome.result), expected, "op {:?}", concrete);
        }
        check_agreement(&tree, &model)?;
        prop_assert_eq!(tree.last_processed_zxid(), Zxid(zxid - 1));
    }
}
