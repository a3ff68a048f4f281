//! FastLeaderElection (electionAlg=3) as a pure state machine.
