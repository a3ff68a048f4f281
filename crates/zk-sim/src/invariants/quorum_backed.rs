//! QuorumBacked: every decision rests on a quorum, by the ensemble's quorum verifier, of votes
//! for the decided leader in the decider's own view (FastLeaderElection.tla's `recvVotes`
//! quorum condition at `HandleNotmsg`'s decision).

use zk_elect::Outcome;
use zk_proto::Sid;

use super::Violation;
use crate::world::World;

/// Checks one decision.
pub fn check(world: &World, decider: Sid, outcome: &Outcome) -> Result<(), Violation> {
    let violation = |detail: String| Violation {
        invariant: "QuorumBacked",
        detail: format!("server {decider} decided {}: {detail}", outcome.vote),
    };
    for (sid, backer) in &outcome.backing {
        if backer.vote.leader != outcome.vote.leader {
            return Err(violation(format!(
                "the vote of {sid} backing it names {}",
                backer.vote.leader
            )));
        }
    }
    if !world
        .quorum
        .contains_quorum(outcome.backing.keys().copied())
    {
        let backers: Vec<u64> = outcome.backing.keys().map(|sid| sid.0).collect();
        return Err(violation(format!(
            "its backers {backers:?} are not a quorum"
        )));
    }
    Ok(())
}
