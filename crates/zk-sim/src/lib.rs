//! A deterministic simulator for leader elections, and the invariant checkers it runs.
//!
//! A seed draws a [`World`] (cluster size 1 to 9, observers, majority or hierarchical quorums,
//! each server's database, network delay, loss, duplication and reordering, clock-rate skew, and
//! a fault phase of crashes, restarts, partitions and heals). The [`Simulator`] then steps the
//! real election state machines (generic over [`zk_elect::Election`]) on a virtual clock, checks
//! the [`invariants`] after every step, and reports a trace hash: the same seed always produces
//! the same hash.
//!
//! The crate is pure: no sockets, clocks, threads or global randomness; everything comes from
//! the seed through [`SplitMix64`].
//!
//! `cargo xtask sim --seeds 0..2000` sweeps seeds (CI's budget), `cargo xtask sim --seed N`
//! replays one twice and compares trace hashes, and `cargo run -p zk-sim --release -- bench`
//! prints the virtual-time election benchmarks of [`bench`](mod@bench). `README.md` lists what the
//! simulator found in FastLeaderElection.

pub mod algorithms;
pub mod bench;
pub mod bench_algorithms;
pub mod invariants;
pub mod rng;
pub mod sim;
pub mod world;
pub mod zab;

use zk_elect::QuorumVerifier;
use zk_fle::{FastLeaderElection, FleConfig};
use zk_proto::Sid;

pub use rng::SplitMix64;
pub use sim::{Report, Role, SimOptions, Simulator};
pub use world::World;

/// Builds the FastLeaderElection machine of server `sid` with ZooKeeper's default settings.
pub fn fle_factory(sid: Sid, quorum: &QuorumVerifier) -> FastLeaderElection {
    FastLeaderElection::new(FleConfig::new(sid, quorum.clone()))
}

/// Runs FastLeaderElection in the world of `seed`.
pub fn run_fle_seed(seed: u64, options: &SimOptions) -> Report {
    run_seed(seed, options, &fle_factory)
}

/// Runs any election algorithm in the world of `seed`.
pub fn run_seed<E: zk_elect::Election>(
    seed: u64,
    options: &SimOptions,
    factory: &sim::Factory<'_, E>,
) -> Report {
    Simulator::new(World::draw(seed), options.clone(), factory).run()
}
