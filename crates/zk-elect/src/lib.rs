//! What every leader-election algorithm shares: votes, their order, quorum verifiers, the Election trait.
