//! Cluster mode: one server of a replicated ensemble (election, Zab, forwarding).

pub mod peer;
