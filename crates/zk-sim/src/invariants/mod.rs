//! Invariant checkers, one file per invariant, run after every step (decision checks whenever
//! a step decides) and, for liveness, after the fault phase.
//!
//! They state exactly what an election guarantees on its own. That at most one leader is
//! established per epoch is Zab's job, not checked here.

pub mod leader_not_behind;
pub mod observer_never_elected;
pub mod quorum_backed;
pub mod settles;

use core::fmt;

use zk_elect::Outcome;
use zk_proto::Sid;

use crate::world::World;

/// A broken invariant: which one, and what was seen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// The invariant's name.
    pub invariant: &'static str,
    /// What broke it.
    pub detail: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.invariant, self.detail)
    }
}

/// Runs every check that concerns one decision by `decider`.
pub fn check_decision(world: &World, decider: Sid, outcome: &Outcome) -> Result<(), Violation> {
    quorum_backed::check(world, decider, outcome)?;
    leader_not_behind::check(world, decider, outcome)?;
    observer_never_elected::check(world, decider, outcome)?;
    Ok(())
}
