//! A test harness: a tree, a zxid counter and a clock, with helpers that prepare and apply.

#![allow(dead_code)]

use zk_proto::{Acl, CreateMode, ErrorCode, Id, SessionId, Stat, Zxid};
use zk_tree::{ApplyOutcome, DataTree, Op, PendingChanges, RequestContext, Txn, TxnResult};

/// A tree driven like a leader: every write consumes a zxid.
pub(crate) struct Harness {
    pub(crate) tree: DataTree,
    pub(crate) next_zxid: u64,
    pub(crate) time_ms: i64,
}

impl Harness {
    pub(crate) fn new() -> Harness {
        Harness::with_tree(DataTree::new())
    }

    pub(crate) fn with_tree(tree: DataTree) -> Harness {
        Harness {
            tree,
            next_zxid: 1,
            time_ms: 1_000,
        }
    }

    /// The zxid the next write gets.
    pub(crate) fn zxid(&self) -> Zxid {
        Zxid(self.next_zxid)
    }

    /// Prepares an op (without applying it) for `session` with `auth`.
    pub(crate) fn prepare(&self, session: i64, auth: &[Id], op: &Op) -> Txn {
        let ctx = RequestContext {
            session_id: SessionId(session),
            auth,
            time_ms: self.time_ms,
            zxid: self.zxid(),
        };
        self.tree.prepare(&ctx, op)
    }

    /// Prepares and applies an op as `session` with `auth`, consuming a zxid.
    pub(crate) fn run_as(&mut self, session: i64, auth: &[Id], op: &Op) -> ApplyOutcome {
        let ctx = RequestContext {
            session_id: SessionId(session),
            auth,
            time_ms: self.time_ms,
            zxid: self.zxid(),
        };
        let txn = self.tree.prepare(&ctx, op);
        let hdr = ctx.header(0);
        self.next_zxid += 1;
        self.time_ms += 10;
        self.tree.apply(&hdr, &txn)
    }

    /// Prepares several ops ahead of applying them (a pipelined leader), then applies them.
    pub(crate) fn run_pipelined(
        &mut self,
        session: i64,
        auth: &[Id],
        ops: &[Op],
    ) -> Vec<ApplyOutcome> {
        let mut pending = PendingChanges::new();
        let mut prepared = Vec::new();
        for op in ops {
            let ctx = RequestContext {
                session_id: SessionId(session),
                auth,
                time_ms: self.time_ms,
                zxid: self.zxid(),
            };
            let txn = self.tree.prepare_pending(&mut pending, &ctx, op);
            prepared.push((ctx.header(0), txn));
            self.next_zxid += 1;
            self.time_ms += 10;
        }
        let mut outcomes = Vec::new();
        for (hdr, txn) in prepared {
            outcomes.push(self.tree.apply(&hdr, &txn));
            pending.applied(hdr.zxid);
        }
        assert!(
            pending.is_empty(),
            "every pending change is forgotten once applied"
        );
        outcomes
    }

    /// Runs an op as session 1 without auth and returns the result.
    pub(crate) fn run(&mut self, op: &Op) -> TxnResult {
        self.run_as(1, &[], op).result
    }

    /// The error code of running an op (Ok on success).
    pub(crate) fn code(&mut self, op: &Op) -> ErrorCode {
        self.run(op).error_code()
    }

    /// Creates a persistent node with open ACL, asserting success.
    pub(crate) fn mk(&mut self, path: &str) -> Stat {
        match self.run(&create(path, CreateMode::Persistent)) {
            TxnResult::Created { stat, .. } => stat,
            other => panic!("creating {path} failed: {other:?}"),
        }
    }

    pub(crate) fn stat(&self, path: &str) -> Stat {
        self.tree
            .exists(path)
            .unwrap_or_else(|| panic!("{path} should exist"))
    }
}

pub(crate) fn create(path: &str, mode: CreateMode) -> Op {
    Op::Create {
        path: path.to_owned(),
        data: Some(b"data".to_vec()),
        acl: Acl::open_unsafe(),
        mode,
        ttl_ms: None,
    }
}

pub(crate) fn create_acl(path: &str, acl: Vec<Acl>) -> Op {
    Op::Create {
        path: path.to_owned(),
        data: Some(Vec::new()),
        acl,
        mode: CreateMode::Persistent,
        ttl_ms: None,
    }
}

pub(crate) fn create_ttl(path: &str, mode: CreateMode, ttl_ms: Option<i64>) -> Op {
    Op::Create {
        path: path.to_owned(),
        data: Some(Vec::new()),
        acl: Acl::open_unsafe(),
        mode,
        ttl_ms,
    }
}

pub(crate) fn delete(path: &str, version: i32) -> Op {
    Op::Delete {
        path: path.to_owned(),
        version,
    }
}

pub(crate) fn set_data(path: &str, data: &[u8], version: i32) -> Op {
    Op::SetData {
        path: path.to_owned(),
        data: Some(data.to_vec()),
        version,
    }
}

pub(crate) fn set_acl(path: &str, acl: Vec<Acl>, version: i32) -> Op {
    Op::SetAcl {
        path: path.to_owned(),
        acl,
        version,
    }
}

pub(crate) fn check(path: &str, version: i32) -> Op {
    Op::Check {
        path: path.to_owned(),
        version,
    }
}

pub(crate) fn acl(perms: zk_proto::Perms, scheme: &str, id: &str) -> Acl {
    Acl {
        perms,
        id: Id::new(scheme, id),
    }
}
