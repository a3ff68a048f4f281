//! The four server states of a quorum peer and the two learner types.

use core::fmt;

use serde::{Deserialize, Serialize};

/// What a quorum peer is doing. The discriminants are ZooKeeper's ordinals, used on the wire.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
pub enum ServerState {
    /// Running an election.
    Looking = 0,
    /// Following the elected leader.
    Following = 1,
    /// Leading the ensemble.
    Leading = 2,
    /// Observing the elected leader (observers never vote).
    Observing = 3,
}

impl ServerState {
    /// The ordinal ZooKeeper puts on the wire.
    pub fn ordinal(self) -> u32 {
        self as u32
    }

    /// The state for a wire ordinal, or `None` outside 0..=3.
    pub fn from_ordinal(ordinal: u32) -> Option<ServerState> {
        match ordinal {
            0 => Some(ServerState::Looking),
            1 => Some(ServerState::Following),
            2 => Some(ServerState::Leading),
            3 => Some(ServerState::Observing),
            _ => None,
        }
    }
}

impl fmt::Display for ServerState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ServerState::Looking => "LOOKING",
            ServerState::Following => "FOLLOWING",
            ServerState::Leading => "LEADING",
            ServerState::Observing => "OBSERVING",
        })
    }
}

/// Whether a server votes (`participant` in `server.N`) or only learns (`observer`).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
pub enum LearnerType {
    /// A voting member.
    Participant = 0,
    /// A non-voting member: never elected, never counted in a quorum.
    Observer = 1,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_state_ordinals_match_zookeeper() {
        let table = [
            (ServerState::Looking, 0, "LOOKING"),
            (ServerState::Following, 1, "FOLLOWING"),
            (ServerState::Leading, 2, "LEADING"),
            (ServerState::Observing, 3, "OBSERVING"),
        ];
        for (state, ordinal, text) in table {
            assert_eq!(state.ordinal(), ordinal);
            assert_eq!(ServerState::from_ordinal(ordinal), Some(state));
            assert_eq!(state.to_string(), text);
        }
        assert_eq!(ServerState::from_ordinal(4), None);
    }
}
