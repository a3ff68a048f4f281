//! Zab in the simulator: FastLeaderElection decides, then zk-sync's [`zk_sync::Zab`] runs on
//! every server, with client writes, crashes and restarts from the durable state, partitions,
//! and the checkers of [`checkers`] (named after `Zab.tla`) after every step.
//!
//! [`run_zab_seed`] draws a world from a seed (cluster, observers, quorum system from
//! [`World::draw`](crate::World::draw), plus network, fsync and fault timings), runs a fault
//! phase and a quiet phase, and requires that an established leader exists at the end.
//! [`ZabCluster`] is also the bench for the hand-written scenario tests.

pub mod checkers;
pub mod cluster;
pub mod run;

pub use cluster::{ConfigFactory, Timing, ZabCluster};
pub use run::{run_zab_seed, ZabReport};
