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

pub mod sessions;
pub mod watches;

pub use sessions::{SessionConfig, SessionInfo, SessionTable};
pub use watches::{
    EventKind, NoWatcher, NodeView, NodeZxids, RemoveKind, SetWatchLists, WatchKind, WatchRegistry,
    WatcherId,
};
