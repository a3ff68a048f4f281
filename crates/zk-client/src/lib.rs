//! An async ZooKeeper 3.8 client on tokio, with recipes.
//!
//! * [`Client`] is a cheap, cloneable handle to one session task that owns the connection.
//!   Requests are pipelined in xid order; the session reconnects to another server of the
//!   connect string (`host:port,host:port/chroot`) with the same session id and password,
//!   re-sends its credentials and re-registers its watches (SetWatches2 with the last zxid
//!   seen).
//! * Session states ([`SessionState`]: connected, disconnected ("suspended"), expired,
//!   auth-failed, closed) come as a stream from [`Client::state_watcher`].
//! * Watches are typed receivers: [`OneshotWatcher`] for the standard one-shot watches
//!   (`exists_and_watch`, `get_data_and_watch`, `get_children_and_watch`) and
//!   [`PersistentWatcher`] for `addWatch`. There is no catch-all default watcher.
//! * [`recipes`]: leader election without the herd effect (and a naive variant kept as a
//!   baseline), and a distributed lock on the same queue.
//!
//! Also in this crate: the `zk-cli` binary (zkCli.sh-like commands plus `elect PATH --id NAME`)
//! and the `election_bench` example (notifications per leader change and handover time,
//! herd-free recipe against the naive variant).
//!
//! Tests: `cargo test -p zk-client` runs the unit tests and the tests against an in-test fake
//! server (`tests/fake.rs`, with fault injection). The tests against a real server are
//! ignored by default; run them with
//! `ZK_ADDR=127.0.0.1:2181 cargo test -p zk-client -- --ignored`.
//!
//! ```no_run
//! # async fn demo() -> zk_client::Result<()> {
//! use zk_client::{Client, CreateOptions, CreateMode};
//!
//! let client = Client::connect("127.0.0.1:2181/app").await?;
//! let (path, _stat) = client
//!     .create("/jobs-", b"payload", &CreateOptions::new(CreateMode::PersistentSequential))
//!     .await?;
//! let (data, _stat, watcher) = client.get_data_and_watch(&path).await?;
//! assert_eq!(data, b"payload");
//! client.set_data(&path, b"new", None).await?;
//! println!("{:?}", watcher.changed().await.event_type);
//! client.close().await
//! # }
//! ```

mod client;
pub mod connect_string;
mod error;
pub mod recipes;

mod session;
mod util;
mod watch;

pub use client::{
    Client, ClientBuilder, CreateOptions, Op, OpResult, ReadOp, ReadResult, DEFAULT_SESSION_TIMEOUT,
};
pub use connect_string::{ConnectString, ServerAddress};
pub use error::{Error, Result};
pub use session::SessionInfo;
pub use watch::{OneshotWatcher, PersistentWatcher, SessionState, StateWatcher, WatchedEvent};
pub use zk_proto::{
    Acl, AddWatchMode, ClientInfo, CreateMode, EventType, Id, Perms, SessionId, Stat, WatcherType,
    Zxid,
};
