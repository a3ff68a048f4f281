//! The three election algorithms under one fault model: which one a run uses, how its machines
//! are built, and how the simulated network carries its messages.
//!
//! FastLeaderElection runs over the TCP model (a lost message breaks the connection, which
//! re-sends its last message when re-established). LeaderElection and AuthFastLeaderElection
//! run over the datagram model: the same delays, loss, duplication, partitions, crashes and
//! restarts, but a lost datagram is simply lost. Each incarnation of a server gets its own seed
//! (request ids, tags and challenges), drawn from the world's seed. AuthFastLeaderElection runs
//! in one of three modes picked by the seed: without the challenge step, with ZooKeeper's
//! challenge, or with the challenge and HMAC keys.

use core::cell::Cell;
use core::fmt;

use zk_auth_fle::{AuthFastLeaderElection, AuthFleConfig, AuthKey};
use zk_elect::QuorumVerifier;
use zk_le::{LeConfig, LeaderElection};
use zk_proto::Sid;

use crate::rng::SplitMix64;
use crate::sim::{Report, SimOptions, Simulator};
use crate::world::World;

/// An election algorithm, numbered as zoo.cfg's `electionAlg`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Algorithm {
    /// `electionAlg=1` (and its alias 0): polls over UDP.
    LeaderElection,
    /// `electionAlg=2`: notifications, acks and challenges over UDP.
    AuthFastLeaderElection,
    /// `electionAlg=3`: notifications over TCP.
    FastLeaderElection,
}

impl Algorithm {
    /// All three, in `electionAlg` order.
    pub const ALL: [Algorithm; 3] = [
        Algorithm::LeaderElection,
        Algorithm::AuthFastLeaderElection,
        Algorithm::FastLeaderElection,
    ];

    /// The short name used on the command line: `le`, `auth-fle` or `fle`.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::LeaderElection => "le",
            Algorithm::AuthFastLeaderElection => "auth-fle",
            Algorithm::FastLeaderElection => "fle",
        }
    }

    /// The algorithm of a short name or an `electionAlg` number.
    pub fn parse(text: &str) -> Option<Algorithm> {
        match text {
            "le" | "0" | "1" => Some(Algorithm::LeaderElection),
            "auth-fle" | "2" => Some(Algorithm::AuthFastLeaderElection),
            "fle" | "3" => Some(Algorithm::FastLeaderElection),
            _ => None,
        }
    }

    /// The simulator settings for this algorithm's transport.
    pub fn options(self) -> SimOptions {
        SimOptions {
            datagram: self != Algorithm::FastLeaderElection,
            ..SimOptions::default()
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How AuthFastLeaderElection authenticates in a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthMode {
    /// No challenge step (ZooKeeper's `electionAlg=1`).
    Plain,
    /// ZooKeeper's challenge, no MAC.
    Challenge,
    /// The challenge and HMAC-SHA256 over every datagram.
    Keyed,
}

impl AuthMode {
    /// The mode a seed picks.
    pub fn of_seed(seed: u64) -> AuthMode {
        match seed % 3 {
            0 => AuthMode::Keyed,
            1 => AuthMode::Challenge,
            _ => AuthMode::Plain,
        }
    }
}

/// A fresh seed per machine built: the world's seed, the sid and the incarnation.
fn incarnation_seed(world_seed: u64, sid: Sid, built: &Cell<u64>) -> u64 {
    built.set(built.get() + 1);
    let mut rng = SplitMix64::new(world_seed ^ sid.0.rotate_left(32) ^ built.get().rotate_left(48));
    rng.next_u64()
}

/// Builds LeaderElection machines for `world`.
pub fn le_factory(world: &World) -> impl Fn(Sid, &QuorumVerifier) -> LeaderElection {
    let seed = world.seed;
    let built = Cell::new(0);
    move |sid, quorum| {
        LeaderElection::new(LeConfig::new(
            sid,
            quorum.clone(),
            incarnation_seed(seed, sid, &built),
        ))
    }
}

/// Builds AuthFastLeaderElection machines for `world`, authenticated as `mode` says.
pub fn auth_fle_factory(
    world: &World,
    mode: AuthMode,
) -> impl Fn(Sid, &QuorumVerifier) -> AuthFastLeaderElection {
    let seed = world.seed;
    let observers = world.observers();
    let key = AuthKey::new(b"the simulated ensemble's secret").expect("long enough");
    let built = Cell::new(0);
    move |sid, quorum| {
        let mut config =
            AuthFleConfig::new(sid, quorum.clone(), incarnation_seed(seed, sid, &built))
                .with_observers(observers.clone());
        config.challenge_response = mode != AuthMode::Plain;
        if mode == AuthMode::Keyed {
            config = config.with_key(key.clone());
        }
        AuthFastLeaderElection::new(config)
    }
}

/// Runs `algorithm` in the world of `seed` with `options` (see [`Algorithm::options`]).
pub fn run_algorithm_seed(algorithm: Algorithm, seed: u64, options: &SimOptions) -> Report {
    let world = World::draw(seed);
    match algorithm {
        Algorithm::LeaderElection => {
            let factory = le_factory(&world);
            Simulator::new(world, options.clone(), &factory).run()
        }
        Algorithm::AuthFastLeaderElection => {
            let factory = auth_fle_factory(&world, AuthMode::of_seed(seed));
            Simulator::new(world, options.clone(), &factory).run()
        }
        Algorithm::FastLeaderElection => {
            Simulator::new(world, options.clone(), &crate::fle_factory).run()
        }
    }
}
