//! LeaderNotBehind: the decided vote is the leader's real (peer epoch, zxid), and it is not
//! behind that of any server whose LOOKING vote backs the decision (the vote order of
//! FastLeaderElection.tla's `TotalOrderPredicate`: a LOOKING server only ever moves its vote
//! up from its own).
//!
//! Votes from FOLLOWING or LEADING servers back a leader that an earlier decision chose; their
//! own databases are Zab's business (a follower truncates to its leader), so only the vote's
//! integrity is checked for them.

use zk_elect::{Outcome, ServerState};
use zk_proto::Sid;

use super::Violation;
use crate::world::World;

/// Checks one decision.
pub fn check(world: &World, decider: Sid, outcome: &Outcome) -> Result<(), Violation> {
    let violation = |detail: String| Violation {
        invariant: "LeaderNotBehind",
        detail: format!("server {decider} decided {}: {detail}", outcome.vote),
    };
    let leader = outcome.vote.leader;
    let Some(spec) = world.servers.get(&leader) else {
        return Err(violation(
            "the leader is not a server of the ensemble".to_owned(),
        ));
    };
    if (spec.peer_epoch, spec.last_zxid) != (outcome.vote.peer_epoch, outcome.vote.zxid) {
        return Err(violation(format!(
            "the leader's real peer epoch and zxid are {} and {}",
            spec.peer_epoch, spec.last_zxid
        )));
    }
    for (sid, backer) in &outcome.backing {
        if backer.state != ServerState::Looking {
            continue;
        }
        let own = &world.servers[sid];
        if (own.peer_epoch, own.last_zxid) > (spec.peer_epoch, spec.last_zxid) {
            return Err(violation(format!(
                "backer {sid} is ahead: peer epoch {}, zxid {}",
                own.peer_epoch, own.last_zxid
            )));
        }
    }
    Ok(())
}
