//! The ZooKeeper-compatible server: the one crate that does IO (tokio).
//!
//! A client speaks ZooKeeper 3.8's wire protocol to a [`Server`]. Each connection has a reader
//! task (framing, decoding, four-letter words, backpressure) and a writer task that flushes
//! what the socket did not take at once. Every decoded request goes through one channel to the
//! core task, which alone owns the data tree, the session table and the watch registry: per
//! batch of messages it assigns zxids, prepares and applies transactions, triggers watches and
//! stages replies and notifications per connection in order; then it hands the batch's
//! transactions to the [`TxnLog`] seam and, once they are durable, writes each connection's
//! staged bytes with one syscall.
//!
//! The binary runs on [`DurableTxnLog`] (zk-storage: group-commit log, snapshots, recovery of
//! `dataDir` at start, see [`InitialState`]); in-process servers default to [`MemoryTxnLog`].
//!
//! An in-process server for tests:
//!
//! ```no_run
//! # async fn demo() -> Result<(), zk_server::ServerError> {
//! let handle = zk_server::Server::start(zk_server::Config::for_tests(100)).await?;
//! let addr = handle.local_addr(); // 127.0.0.1:<free port>
//! # let _ = addr;
//! handle.shutdown().await;
//! # Ok(())
//! # }
//! ```
//!
//! Or, outside async code, on its own thread and runtime:
//!
//! ```no_run
//! let server = zk_server::Server::start_background(zk_server::Config::for_tests(100)).unwrap();
//! let addr = server.local_addr();
//! # let _ = addr;
//! drop(server); // stops it
//! ```
//!
//! Compatibility notes (where ZooKeeper 3.8 releases differ, the choice made here):
//!
//! * `check` (13) outside a multi answers UNIMPLEMENTED and closes the connection, as 3.8.5+
//!   (ZOOKEEPER-2623; earlier releases processed it as a write).
//! * `exists` checks no ACL, as 3.8.0 (the Debian build the conformance suite compares with;
//!   3.8.4 added a READ check, ZOOKEEPER-2590). Watch notifications do require READ, as 3.8.4+.
//! * Unknown opcodes answer UNIMPLEMENTED (zxid -1) and close; undecodable bodies answer
//!   MARSHALLINGERROR (a multi also takes a zxid); undecodable auth packets close.
//! * Null znode data (a -1 length buffer in create, createTTL or setData, what the Java client
//!   sends for a null `byte[]`) stays null, as in every 3.8 release: getData (and a multiRead's
//!   getData) answers a -1 length buffer and the Stat's `dataLength` is 0; empty data stays
//!   empty (length 0).
//! * A connection whose unwritten output passes 64 MiB is closed, and a connection's reader
//!   waits while 1000 of its replies or 4 MiB are unwritten (ZooKeeper has no such bound).

pub mod cluster;
pub mod config;
mod connection;
mod core;
pub mod durable;
pub mod election;
pub mod ensemble;
pub mod error;
mod four_letter;
mod outbox;
mod server;
mod stats;
pub mod txn_log;

pub use config::Config;
pub use durable::DurableTxnLog;
pub use error::{ConfigError, ServerError, StorageError};
pub use server::{BackgroundServer, InitialState, Server, ServerHandle};
pub use txn_log::{CommittedState, MemoryTxnLog, TxnLog};
