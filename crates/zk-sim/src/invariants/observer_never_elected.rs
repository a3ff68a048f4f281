//! ObserverNeverElected: the decided leader is a voter that may lead (an observer, or a voter of
//! weight 0, never is), observers only ever decide OBSERVING and voters never do, and a server
//! decides LEADING exactly when it elected itself.

use zk_elect::{Outcome, ServerState};
use zk_proto::Sid;

use super::Violation;
use crate::world::World;

/// Checks one decision.
pub fn check(world: &World, decider: Sid, outcome: &Outcome) -> Result<(), Violation> {
    let violation = |detail: String| Violation {
        invariant: "ObserverNeverElected",
        detail: format!(
            "server {decider} decided {} as {}: {detail}",
            outcome.vote, outcome.state
        ),
    };
    let leader = outcome.vote.leader;
    if !world.quorum.can_lead(leader) {
        return Err(violation(format!("{leader} is not a voter that may lead")));
    }
    let expected = if world.is_observer(decider) {
        ServerState::Observing
    } else if leader == decider {
        ServerState::Leading
    } else {
        ServerState::Following
    };
    if outcome.state != expected {
        return Err(violation(format!("expected {expected}")));
    }
    Ok(())
}
