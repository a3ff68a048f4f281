//! The ZooKeeper-compatible server: the one crate that does IO (tokio).
