//! The ZooKeeper data tree: znodes, Stat bookkeeping, ACLs, transactions; no IO, no clock.
