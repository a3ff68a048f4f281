//! The quorum-port transport between a leader and its learners.
