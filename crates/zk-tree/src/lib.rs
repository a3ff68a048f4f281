//! The ZooKeeper data tree with ZooKeeper 3.8's semantics: znodes, Stat bookkeeping, ACLs,
//! ephemerals, containers and TTL nodes, and the transactions that change them. No IO, no clock:
//! time comes in with each request and each txn header.
//!
//! The write path has two stages, as in ZooKeeper:
//!
//! 1. [`DataTree::prepare`] (the leader's `PrepRequestProcessor`) checks an [`Op`] against the
//!    tree (plus [`PendingChanges`] not yet applied) and produces a [`Txn`], an error txn when
//!    a check fails;
//! 2. [`DataTree::apply`] (every replica's `DataTree.processTxn`) applies a logged [`Txn`] and
//!    returns the result for the reply and the [`TreeEvent`]s for the watch registry.
//!
//! ```
//! use zk_proto::{Acl, CreateMode, SessionId, Zxid};
//! use zk_tree::{DataTree, Op, RequestContext, TxnResult};
//!
//! let mut tree = DataTree::new();
//! let ctx = RequestContext { session_id: SessionId(1), auth: &[], time_ms: 1000, zxid: Zxid(1) };
//! let op = Op::Create {
//!     path: "/app".into(),
//!     data: Some(b"hello".to_vec()),
//!     acl: Acl::open_unsafe(),
//!     mode: CreateMode::Persistent,
//!     ttl_ms: None,
//! };
//! let txn = tree.prepare(&ctx, &op);
//! let outcome = tree.apply(&ctx.header(1), &txn);
//! assert!(matches!(outcome.result, TxnResult::Created { .. }));
//! let read = tree.get_data("/app", &[]).map(|(data, _)| data.map(<[u8]>::to_vec));
//! assert_eq!(read, Ok(Some(b"hello".to_vec())));
//! ```

//! # Where this tree differs from ZooKeeper 3.8, on purpose
//!
//! * Quotas (`/zookeeper/quota/.../zookeeper_stats` bookkeeping) and the tree digest are not
//!   kept.
//! * Only the default auth providers exist: `world:anyone`, `digest`, `ip` (IPv4, as 3.8's
//!   provider) and the `super` identity; `sasl`/`x509` ids are refused as INVALIDACL.
//! * Applying a delete of a node that still has children (possible only on a corrupt replay)
//!   reports NOTEMPTY instead of orphaning the children.
//! * Children are listed sorted (ZooKeeper lists them in hash order).
//! * TTL nodes are enabled by default ([`TreeConfig::extended_types_enabled`]).

pub mod acl;
pub mod auth;
mod bytes;
mod children;
pub mod ephemeral;
mod image;
mod nodes;
pub mod path;
pub mod prepare;
pub mod tree;
pub mod txn;

pub use acl::{check_acl, fixup_acl, mask_digests, SharedAcl};
pub use auth::{authenticate, digest_id, generate_digest, AuthFailed};
pub use ephemeral::{EphemeralType, CONTAINER_OWNER, MAX_TTL_MS};
pub use image::{SortedCapture, TreeImage};
pub use path::validate_path;
pub use prepare::{PendingChanges, RequestContext};
pub use tree::{
    DataTree, SnapshotError, SnapshotNode, StatPersisted, TreeCapture, TreeConfig, TreeSnapshot,
};
pub use txn::{ApplyOutcome, Op, TreeEvent, TreeEventKind, Txn, TxnHeader, TxnResult};
