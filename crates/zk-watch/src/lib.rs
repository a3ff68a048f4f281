//! Sessions (timeouts, expiry buckets) and the watch registry of a ZooKeeper-compatible server;
//! time is always an argument and nothing here touches a socket, a clock or a thread.
//!
//! [`SessionTable`] follows ZooKeeper's `SessionTrackerImpl` and `ExpiryQueue`: timeouts are
//! negotiated into `[min, max]`, session ids are seeded from the server id and a start time, and
//! each session sits in an expiry bucket that is a multiple of `tickTime`.
//!
//! [`WatchRegistry`] follows ZooKeeper 3.8's `WatchManager`: a data table and a child table that
//! map a path to the watchers on it with their mode (standard, persistent, persistent recursive).
//! The crate does not know the data tree; the server turns tree changes into
//! [`WatchRegistry::trigger`] calls and reads node metadata through [`NodeView`].

//! # Fidelity notes
//!
//! * As in 3.8, addWatch PERSISTENT_RECURSIVE registers in both tables, a one-shot watch added
//!   on a path where the same watcher holds a persistent one replaces its mode, checkWatches
//!   answers yes when any watcher watches the path, and `wchc`/`wchp`/`wchs` list the data
//!   table only.
//! * Watcher types 4 and 5 of checkWatches/removeWatches are 3.9 numbers; 3.8 refuses them
//!   ([`RemoveKind::from_code`]).
//! * Notifications are returned sorted by watcher (ZooKeeper delivers in hash-set order).

pub mod sessions;
pub mod watches;

pub use sessions::{SessionConfig, SessionInfo, SessionTable};
pub use watches::{
    EventKind, NoWatcher, NodeView, NodeZxids, RemoveKind, SetWatchLists, WatchKind, WatchRegistry,
    WatcherId,
};
