//! The prep stage (`PrepRequestProcessor.pRequest2Txn` of ZooKeeper 3.8): checks a client's
//! write against the tree as it will be once every txn already prepared is applied, and turns it
//! into a [`Txn`].
//!
//! Txns prepared but not yet applied are remembered in [`PendingChanges`] (ZooKeeper's
//! `outstandingChanges`), so that a leader can prepare the next request before the previous one
//! is committed. A multi prepares its ops against the same overlay, so later ops see earlier
//! ones, and rolls the overlay back when an op fails.
//!
//! The order of the checks, and so which error a request with several faults gets, is
//! ZooKeeper's. Session checks (SESSIONEXPIRED, SESSIONMOVED, local sessions) belong to the
//! server and happen before [`DataTree::prepare`].

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use zk_proto::{Acl, CreateMode, ErrorCode, Id, Perms, SessionId, Zxid};

use crate::acl::{check_acl, fixup_acl, SharedAcl};
use crate::ephemeral::{EphemeralType, CONTAINER_OWNER};
use crate::path::{is_special_path, split_path, validate_path};
use crate::tree::{DataTree, StatPersisted};
use crate::txn::{Op, Txn, TxnHeader};

/// Who asks, and when: what the prep stage needs besides the op.
#[derive(Clone, Copy, Debug)]
pub struct RequestContext<'a> {
    /// The session that sent the request (the new session for createSession).
    pub session_id: SessionId,
    /// The connection's identities: `ip:<addr>`, `digest:user:hash`, `super:` ...
    pub auth: &'a [Id],
    /// The leader's wall-clock time in milliseconds (becomes ctime/mtime).
    pub time_ms: i64,
    /// The zxid the txn will get.
    pub zxid: Zxid,
}

impl RequestContext<'_> {
    /// The header to log and apply the prepared txn with.
    pub fn header(&self, cxid: i32) -> TxnHeader {
        TxnHeader {
            session_id: self.session_id,
            cxid,
            zxid: self.zxid,
            time_ms: self.time_ms,
        }
    }
}

/// A node as the prep stage sees it (`ChangeRecord` with a Stat).
#[derive(Clone, Debug)]
struct NodeRecord {
    stat: StatPersisted,
    child_count: i32,
    acl: SharedAcl,
}

/// The latest prepared state of one path (`None`: deleted).
#[derive(Clone, Debug)]
struct ChangeRecord {
    zxid: Zxid,
    node: Option<NodeRecord>,
}

/// Changes prepared but not yet applied (ZooKeeper's `outstandingChanges`).
#[derive(Clone, Debug, Default)]
pub struct PendingChanges {
    by_path: BTreeMap<String, ChangeRecord>,
    by_zxid: BTreeMap<Zxid, BTreeSet<String>>,
}

impl PendingChanges {
    /// No pending change.
    pub fn new() -> PendingChanges {
        PendingChanges::default()
    }

    /// Forgets the changes of every txn up to `zxid`, once it is applied to the tree (as
    /// FinalRequestProcessor does).
    pub fn applied(&mut self, zxid: Zxid) {
        while let Some(entry) = self.by_zxid.first_entry() {
            if *entry.key() > zxid {
                break;
            }
            let (record_zxid, paths) = entry.remove_entry();
            for path in paths {
                if self
                    .by_path
                    .get(&path)
                    .is_some_and(|record| record.zxid == record_zxid)
                {
                    self.by_path.remove(&path);
                }
            }
        }
    }

    /// Forgets everything (a new leader, or a follower dropping its prepared state).
    pub fn clear(&mut self) {
        self.by_path.clear();
        self.by_zxid.clear();
    }

    /// The number of paths with a pending change.
    pub fn len(&self) -> usize {
        self.by_path.len()
    }

    /// Whether no change is pending.
    pub fn is_empty(&self) -> bool {
        self.by_path.is_empty()
    }

    /// Replaces the record of a path, keeping the zxid index right; returns the old record.
    fn set(&mut self, path: &str, record: Option<ChangeRecord>) -> Option<ChangeRecord> {
        let old = match record {
            Some(record) => {
                self.by_zxid
                    .entry(record.zxid)
                    .or_default()
                    .insert(path.to_owned());
                self.by_path.insert(path.to_owned(), record)
            }
            None => self.by_path.remove(path),
        };
        if let Some(old) = &old {
            let still_used = self
                .by_path
                .get(path)
                .is_some_and(|record| record.zxid == old.zxid);
            if !still_used {
                if let Some(paths) = self.by_zxid.get_mut(&old.zxid) {
                    paths.remove(path);
                    if paths.is_empty() {
                        self.by_zxid.remove(&old.zxid);
                    }
                }
            }
        }
        old
    }
}

/// One prep pass: the tree, the overlay, and an undo log while inside a multi.
struct Prep<'t, 'p, 'a> {
    tree: &'t DataTree,
    pending: &'p mut PendingChanges,
    /// Whether the op's changes go into `pending`: not for a lone op prepared against the tree
    /// alone ([`DataTree::prepare`]), whose overlay nothing reads after it.
    keep_changes: bool,
    ctx: RequestContext<'a>,
    undo: Option<Vec<(String, Option<ChangeRecord>)>>,
}

impl Prep<'_, '_, '_> {
    /// `getRecordForPath`: the pending state if any, else the tree; NONODE when absent.
    fn record(&self, path: &str) -> Result<NodeRecord, ErrorCode> {
        if let Some(change) = self.pending.by_path.get(path) {
            return change.node.clone().ok_or(ErrorCode::NoNode);
        }
        let node = self.tree.node(path).ok_or(ErrorCode::NoNode)?;
        Ok(NodeRecord {
            stat: node.stat,
            child_count: i32::try_from(node.child_count).unwrap_or(i32::MAX),
            acl: self.tree.acl_of(node).clone(),
        })
    }

    /// Whether `path` exists once the pending changes are applied ([`Prep::record`] without
    /// building the record).
    fn exists(&self, path: &str) -> bool {
        match self.pending.by_path.get(path) {
            Some(change) => change.node.is_some(),
            None => self.tree.node(path).is_some(),
        }
    }

    /// `addChangeRecord`.
    fn add(&mut self, path: &str, node: Option<NodeRecord>) {
        if !self.keep_changes {
            return;
        }
        let record = ChangeRecord {
            zxid: self.ctx.zxid,
            node,
        };
        let old = self.pending.set(path, Some(record));
        if let Some(undo) = &mut self.undo {
            undo.push((path.to_owned(), old));
        }
    }

    fn rollback(&mut self) {
        if let Some(undo) = self.undo.take() {
            for (path, old) in undo.into_iter().rev() {
                self.pending.set(&path, old);
            }
        }
        self.undo = Some(Vec::new());
    }

    fn ephemeral_type(&self, owner: i64) -> EphemeralType {
        self.tree.ephemeral_type(owner)
    }

    fn op(&mut self, op: &Op) -> Result<Txn, ErrorCode> {
        match op {
            Op::Create {
                path,
                data,
                acl,
                mode,
                ttl_ms,
            } => self.create(path, data.as_deref(), acl, *mode, *ttl_ms),
            Op::Delete { path, version } => self.delete(path, *version),
            Op::SetData {
                path,
                data,
                version,
            } => self.set_data(path, data.as_deref(), *version),
            Op::SetAcl { path, acl, version } => self.set_acl(path, acl, *version),
            Op::Check { path, version } => self.check(path, *version),
            Op::DeleteContainer { path } => self.delete_container(path),
            Op::CreateSession { timeout_ms } => Ok(Txn::CreateSession {
                timeout_ms: *timeout_ms,
            }),
            Op::CloseSession => Ok(self.close_session()),
            Op::Multi(ops) => Ok(self.multi(ops)),
        }
    }

    fn create(
        &mut self,
        path: &str,
        data: Option<&[u8]>,
        acl: &[Acl],
        mode: CreateMode,
        ttl_ms: Option<i64>,
    ) -> Result<Txn, ErrorCode> {
        // validateCreateRequest.
        if mode.is_ttl() && !self.tree.config().extended_types_enabled {
            return Err(ErrorCode::Unimplemented);
        }
        let ttl_ms = ttl_ms.unwrap_or(-1);
        let ephemeral_owner = if mode.is_ttl() {
            EphemeralType::ttl_owner(ttl_ms).ok_or(ErrorCode::BadArguments)?
        } else if ttl_ms >= 0 {
            return Err(ErrorCode::BadArguments);
        } else if mode.is_container() {
            CONTAINER_OWNER
        } else if mode.is_ephemeral() {
            self.ctx.session_id.0
        } else {
            0
        };
        // validatePathForCreate.
        if path.contains('\0') {
            return Err(ErrorCode::BadArguments);
        }
        let (parent_path, _) = split_path(path).ok_or(ErrorCode::BadArguments)?;
        let acl = fixup_acl(acl, self.ctx.auth)?;
        let mut parent = self.record(parent_path)?;
        check_acl(&parent.acl, Perms::CREATE, self.ctx.auth)?;
        let path = if mode.is_sequential() {
            format!("{path}{:010}", parent.stat.cversion)
        } else {
            path.to_owned()
        };
        if !validate_path(&path) {
            return Err(ErrorCode::BadArguments);
        }
        if self.exists(&path) {
            return Err(ErrorCode::NodeExists);
        }
        if matches!(
            self.ephemeral_type(parent.stat.ephemeral_owner),
            EphemeralType::Normal(_)
        ) {
            return Err(ErrorCode::NoChildrenForEphemerals);
        }
        let parent_cversion = parent.stat.cversion.wrapping_add(1);
        parent.child_count = parent.child_count.saturating_add(1);
        parent.stat.cversion = parent_cversion;
        parent.stat.pzxid = self.ctx.zxid;
        self.add(parent_path, Some(parent));
        if self.keep_changes {
            // (Built only when kept: the ACL list is copied into it.)
            let node = NodeRecord {
                stat: StatPersisted::created(self.ctx.zxid, self.ctx.time_ms, ephemeral_owner),
                child_count: 0,
                acl: Arc::from(&acl[..]),
            };
            self.add(&path, Some(node));
        }
        Ok(Txn::Create {
            path,
            data: data.map(<[u8]>::to_vec),
            acl,
            ephemeral_owner,
            parent_cversion,
        })
    }

    /// `getParentPathAndValidate`.
    fn parent_for_delete(path: &str) -> Result<&str, ErrorCode> {
        if path.contains('\0') || is_special_path(path) {
            return Err(ErrorCode::BadArguments);
        }
        split_path(path)
            .map(|(parent, _)| parent)
            .ok_or(ErrorCode::BadArguments)
    }

    fn remove_child(&mut self, parent_path: &str, mut parent: NodeRecord, path: &str) {
        parent.child_count = parent.child_count.saturating_sub(1);
        parent.stat.pzxid = self.ctx.zxid;
        self.add(parent_path, Some(parent));
        self.add(path, None);
    }

    fn delete(&mut self, path: &str, version: i32) -> Result<Txn, ErrorCode> {
        let parent_path = Self::parent_for_delete(path)?;
        let parent = self.record(parent_path)?;
        check_acl(&parent.acl, Perms::DELETE, self.ctx.auth)?;
        let node = self.record(path)?;
        check_version(node.stat.version, version)?;
        if node.child_count > 0 {
            return Err(ErrorCode::NotEmpty);
        }
        self.remove_child(parent_path, parent, path);
        Ok(Txn::Delete {
            path: path.to_owned(),
        })
    }

    fn delete_container(&mut self, path: &str) -> Result<Txn, ErrorCode> {
        let parent_path = Self::parent_for_delete(path)?;
        let node = self.record(path)?;
        if node.child_count > 0 {
            return Err(ErrorCode::NotEmpty);
        }
        if matches!(
            self.ephemeral_type(node.stat.ephemeral_owner),
            EphemeralType::Normal(_)
        ) {
            return Err(ErrorCode::BadVersion);
        }
        let parent = self.record(parent_path)?;
        self.remove_child(parent_path, parent, path);
        Ok(Txn::DeleteContainer {
            path: path.to_owned(),
        })
    }

    fn set_data(
        &mut self,
        path: &str,
        data: Option<&[u8]>,
        version: i32,
    ) -> Result<Txn, ErrorCode> {
        if !validate_path(path) {
            return Err(ErrorCode::BadArguments);
        }
        let mut node = self.record(path)?;
        check_acl(&node.acl, Perms::WRITE, self.ctx.auth)?;
        let new_version = check_version(node.stat.version, version)?;
        node.stat.version = new_version;
        node.stat.mtime = self.ctx.time_ms;
        node.stat.mzxid = self.ctx.zxid;
        self.add(path, Some(node));
        Ok(Txn::SetData {
            path: path.to_owned(),
            data: data.map(<[u8]>::to_vec),
            version: new_version,
        })
    }

    fn set_acl(&mut self, path: &str, acl: &[Acl], version: i32) -> Result<Txn, ErrorCode> {
        if !validate_path(path) {
            return Err(ErrorCode::BadArguments);
        }
        let acl = fixup_acl(acl, self.ctx.auth)?;
        let mut node = self.record(path)?;
        check_acl(&node.acl, Perms::ADMIN, self.ctx.auth)?;
        let new_version = check_version(node.stat.aversion, version)?;
        node.stat.aversion = new_version;
        node.acl = Arc::from(&acl[..]);
        self.add(path, Some(node));
        Ok(Txn::SetAcl {
            path: path.to_owned(),
            acl,
            version: new_version,
        })
    }

    fn check(&mut self, path: &str, version: i32) -> Result<Txn, ErrorCode> {
        if !validate_path(path) {
            return Err(ErrorCode::BadArguments);
        }
        let node = self.record(path)?;
        check_acl(&node.acl, Perms::READ, self.ctx.auth)?;
        let version = check_version(node.stat.version, version)?;
        Ok(Txn::Check {
            path: path.to_owned(),
            version,
        })
    }

    /// closeSession: the session's ephemerals in the tree, corrected by pending changes.
    fn close_session(&mut self) -> Txn {
        let session = self.ctx.session_id;
        let mut paths: BTreeSet<String> = self
            .tree
            .ephemerals
            .get(&session)
            .cloned()
            .unwrap_or_default();
        for (path, change) in &self.pending.by_path {
            match &change.node {
                Some(node) if node.stat.ephemeral_owner == session.0 => {
                    paths.insert(path.clone());
                }
                // A delete, or a node another session re-created after a delete.
                _ => {
                    paths.remove(path);
                }
            }
        }
        for path in &paths {
            if let Some((parent_path, _)) = split_path(path) {
                // As ZooKeeper (with digests on): the parent record gets the new pzxid but
                // keeps its child count until the txn is applied.
                if let Ok(mut parent) = self.record(parent_path) {
                    parent.stat.pzxid = self.ctx.zxid;
                    self.add(parent_path, Some(parent));
                }
            }
            self.add(path, None);
        }
        Txn::CloseSession {
            paths_to_delete: paths.into_iter().collect(),
        }
    }

    /// multi: every op against the same overlay; on the first failure the overlay is rolled
    /// back, the failing op becomes its error and the later ops RUNTIMEINCONSISTENCY.
    fn multi(&mut self, ops: &[Op]) -> Txn {
        let mut txns = Vec::with_capacity(ops.len());
        let mut failed = false;
        self.undo = Some(Vec::new());
        for op in ops {
            if failed {
                txns.push(Txn::Error(ErrorCode::RuntimeInconsistency));
                continue;
            }
            match self.op(op) {
                Ok(txn) => txns.push(txn),
                Err(code) => {
                    failed = true;
                    self.rollback();
                    txns.push(Txn::Error(code));
                }
            }
        }
        self.undo = None;
        Txn::Multi(txns)
    }
}

/// `checkAndIncVersion`: BADVERSION unless `expected` is -1 or the current version.
fn check_version(current: i32, expected: i32) -> Result<i32, ErrorCode> {
    if expected != -1 && expected != current {
        return Err(ErrorCode::BadVersion);
    }
    Ok(current.wrapping_add(1))
}

/// Whether an op may appear inside a multi.
fn allowed_in_multi(op: &Op) -> bool {
    matches!(
        op,
        Op::Create { .. }
            | Op::Delete { .. }
            | Op::SetData { .. }
            | Op::Check { .. }
            | Op::DeleteContainer { .. }
    )
}

impl DataTree {
    /// Prepares an op against the tree alone (no other txn pending): the txn to log, replicate
    /// and apply. A failed check yields [`Txn::Error`]; a failed multi yields a [`Txn::Multi`]
    /// holding the error. Either way the txn consumes `ctx.zxid`, as in ZooKeeper 3.8.
    ///
    /// A lone op records no changes (nothing would read them: the overlay is dropped with the
    /// call), which spares the standalone server two map entries and two path copies per
    /// changed node; a multi records them, since its later ops read what earlier ones changed.
    pub fn prepare(&self, ctx: &RequestContext<'_>, op: &Op) -> Txn {
        let keep_changes = matches!(op, Op::Multi(_));
        self.prepare_with(&mut PendingChanges::new(), keep_changes, ctx, op)
    }

    /// Prepares an op against the tree plus the changes of txns prepared before and not yet
    /// applied, and records this txn's changes in `pending`. Call
    /// [`PendingChanges::applied`] after applying each txn.
    ///
    /// A multi holding an op that cannot be in a multi (a session op or a nested multi) is
    /// refused as a whole with MARSHALLINGERROR, as ZooKeeper refuses to decode it.
    pub fn prepare_pending(
        &self,
        pending: &mut PendingChanges,
        ctx: &RequestContext<'_>,
        op: &Op,
    ) -> Txn {
        self.prepare_with(pending, true, ctx, op)
    }

    fn prepare_with(
        &self,
        pending: &mut PendingChanges,
        keep_changes: bool,
        ctx: &RequestContext<'_>,
        op: &Op,
    ) -> Txn {
        if let Op::Multi(ops) = op {
            if !ops.iter().all(allowed_in_multi) {
                return Txn::Error(ErrorCode::MarshallingError);
            }
        }
        let mut prep = Prep {
            tree: self,
            pending,
            keep_changes,
            ctx: *ctx,
            undo: None,
        };
        prep.op(op).unwrap_or_else(Txn::Error)
    }
}
