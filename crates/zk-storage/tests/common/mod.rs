//! Shared helpers of the storage tests: a seeded workload that prepares and applies txns the way
//! the server does, remembering the tree after every zxid so a recovered state can be compared
//! exactly; and stores opened on a fault-injecting disk.

#![allow(dead_code, unreachable_pub)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use zk_proto::{Acl, CreateMode, SessionId, Zxid};
use zk_storage::fault::FaultyFileSystem;
use zk_storage::rng::SplitMix64;
use zk_storage::{DataStore, FileSystem, Recovered, StoreConfig};
use zk_tree::{DataTree, Op, RequestContext, TreeSnapshot, Txn, TxnHeader};

/// The data directory used on the in-memory disk.
pub fn data_dir() -> PathBuf {
    PathBuf::from("/zk/data")
}

/// A config for the in-memory disk: small preallocation so syncs stay cheap.
pub fn config() -> StoreConfig {
    let mut config = StoreConfig::new(data_dir(), data_dir());
    config.preallocate_bytes = 16 << 10;
    config.snap_count = 40;
    config
}

/// `<dataDir>/version-2`.
pub fn version_dir() -> PathBuf {
    data_dir().join("version-2")
}

/// Opens a store on `fs` with [`config`].
pub fn open(fs: &FaultyFileSystem) -> zk_storage::Result<(DataStore, Recovered)> {
    DataStore::open_with(Arc::new(fs.clone()) as Arc<dyn FileSystem>, config())
}

/// Opens a store on `fs` with [`config`] but without replaying the log (a Zab peer).
pub fn open_without_replay(fs: &FaultyFileSystem) -> zk_storage::Result<(DataStore, Recovered)> {
    let mut config = config();
    config.replay_log = false;
    DataStore::open_with(Arc::new(fs.clone()) as Arc<dyn FileSystem>, config)
}

/// The files of the version-2 directory with a given prefix, sorted by zxid.
pub fn files(fs: &FaultyFileSystem, prefix: &str) -> Vec<PathBuf> {
    let dir = version_dir();
    let mut found: Vec<(Zxid, PathBuf)> = fs
        .list(&dir)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|name| {
            Some((
                zk_storage::format::parse_name(&name, prefix)?,
                dir.join(name),
            ))
        })
        .collect();
    found.sort();
    found.into_iter().map(|(_, path)| path).collect()
}

/// A client population issuing random writes against a tree, as the server's core would.
pub struct Workload {
    pub tree: DataTree,
    rng: SplitMix64,
    next_zxid: u64,
    sessions: Vec<SessionId>,
    next_session: i64,
    next_name: u64,
    /// The tree after each zxid (index = zxid counter), for exact comparisons.
    pub states: BTreeMap<Zxid, TreeSnapshot>,
}

impl Workload {
    /// A workload over a fresh tree.
    pub fn new(seed: u64) -> Workload {
        Workload::resume(seed, DataTree::new())
    }

    /// A workload continuing from a recovered tree.
    pub fn resume(seed: u64, tree: DataTree) -> Workload {
        let next_zxid = tree.last_processed_zxid().0 + 1;
        let sessions = tree.sessions().keys().copied().collect();
        let mut states = BTreeMap::new();
        states.insert(tree.last_processed_zxid(), tree.to_snapshot());
        Workload {
            rng: SplitMix64::new(seed),
            next_zxid,
            sessions,
            next_session: 0x1000 + seed as i64 * 0x10000 + next_zxid as i64,
            next_name: next_zxid,
            tree,
            states,
        }
    }

    fn op(&mut self) -> (SessionId, Op) {
        let any_session = self.sessions.first().copied().unwrap_or(SessionId(0));
        let existing: Vec<String> = (0..4)
            .map(|_| format!("/n{}", self.rng.below(self.next_name.max(1))))
            .collect();
        match self.rng.below(100) {
            0..=39 => {
                self.next_name += 1;
                let ephemeral = !self.sessions.is_empty() && self.rng.below(4) == 0;
                let session = if ephemeral {
                    self.sessions[self.rng.below(self.sessions.len() as u64) as usize]
                } else {
                    any_session
                };
                (
                    session,
                    Op::Create {
                        path: format!("/n{}", self.next_name),
                        data: Some(format!("v{}", self.rng.next_u64()).into_bytes()),
                        acl: Acl::open_unsafe(),
                        mode: if ephemeral {
                            CreateMode::Ephemeral
                        } else {
                            CreateMode::Persistent
                        },
                        ttl_ms: None,
                    },
                )
            }
            40..=69 => (
                any_session,
                Op::SetData {
                    path: existing[0].clone(),
                    data: Some(format!("s{}", self.rng.next_u64()).into_bytes()),
                    version: -1,
                },
            ),
            70..=84 => (
                any_session,
                Op::Delete {
                    path: existing[1].clone(),
                    version: -1,
                },
            ),
            85..=94 => {
                self.next_session += 1;
                let session = SessionId(self.next_session);
                self.sessions.push(session);
                (
                    session,
                    Op::CreateSession {
                        timeout_ms: 4000 + self.rng.below(1000) as i32,
                    },
                )
            }
            _ if !self.sessions.is_empty() => {
                let index = self.rng.below(self.sessions.len() as u64) as usize;
                (self.sessions.remove(index), Op::CloseSession)
            }
            _ => (
                any_session,
                Op::Multi(vec![
                    Op::Check {
                        path: existing[2].clone(),
                        version: -1,
                    },
                    Op::SetData {
                        path: existing[3].clone(),
                        data: Some(b"multi".to_vec()),
                        version: -1,
                    },
                ]),
            ),
        }
    }

    /// A workload continuing from its own state at `zxid` (as after a truncation), with a new
    /// `seed` so that the txns after `zxid` differ from the first run's; it remembers the states
    /// up to `zxid`.
    pub fn rewind(&self, zxid: Zxid, seed: u64) -> Workload {
        let state = self
            .states
            .get(&zxid)
            .unwrap_or_else(|| panic!("zxid {zxid} was never reached"));
        let tree = DataTree::from_snapshot(state, zk_tree::TreeConfig::default())
            .expect("a remembered state loads");
        let mut rewound = Workload::resume(seed, tree);
        rewound
            .states
            .extend(self.states.range(..=zxid).map(|(k, v)| (*k, v.clone())));
        rewound
    }

    /// Prepares and applies `count` txns; returns them for the log.
    pub fn batch(&mut self, count: usize) -> Vec<(TxnHeader, Txn)> {
        (0..count)
            .map(|_| {
                let (session_id, op) = self.op();
                let ctx = RequestContext {
                    session_id,
                    auth: &[],
                    time_ms: 1_700_000_000_000 + self.next_zxid as i64,
                    zxid: Zxid(self.next_zxid),
                };
                let txn = self.tree.prepare(&ctx, &op);
                let header = ctx.header(self.next_zxid as i32);
                self.tree.apply(&header, &txn);
                self.states.insert(header.zxid, self.tree.to_snapshot());
                self.next_zxid += 1;
                (header, txn)
            })
            .collect()
    }

    /// The session list the server would snapshot with the tree.
    pub fn sessions(&self) -> Vec<(SessionId, i32)> {
        self.tree
            .sessions()
            .iter()
            .map(|(&id, &t)| (id, t))
            .collect()
    }

    /// Asserts that `recovered` is exactly the state after `recovered.last_zxid`.
    pub fn assert_matches(&self, recovered: &Recovered) {
        let expected = self
            .states
            .get(&recovered.last_zxid)
            .unwrap_or_else(|| panic!("recovered zxid {} was never reached", recovered.last_zxid));
        assert_eq!(
            &recovered.tree.to_snapshot(),
            expected,
            "tree at {}",
            recovered.last_zxid
        );
        let sessions: Vec<(SessionId, i32)> =
            recovered.sessions.iter().map(|(&id, &t)| (id, t)).collect();
        assert_eq!(
            sessions, expected.sessions,
            "sessions at {}",
            recovered.last_zxid
        );
    }
}

/// A unique directory under the target's temporary directory (real-disk tests).
pub fn real_temp_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("zk-storage")
        .join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create the test directory");
    dir
}

/// A store configuration on the real disk: a fresh `real_temp_dir(name)` as the data directory,
/// its `txnlog` as the log directory, and 1 MiB preallocation. Returns (data dir, log dir,
/// config).
pub fn real_disk_config(name: &str) -> (PathBuf, PathBuf, StoreConfig) {
    let data_dir = real_temp_dir(name);
    let log_dir = data_dir.join("txnlog");
    let mut config = StoreConfig::new(&data_dir, &log_dir);
    config.preallocate_bytes = 1 << 20;
    (data_dir, log_dir, config)
}

/// Runs the `zk-storage-inspect` binary on `data_dir` and `log_dir`: its exit status and stdout.
pub fn run_inspect_binary(data_dir: &Path, log_dir: &Path) -> (std::process::ExitStatus, String) {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_zk-storage-inspect"))
        .arg(data_dir)
        .arg(log_dir)
        .output()
        .expect("run zk-storage-inspect");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    (output.status, stdout)
}
