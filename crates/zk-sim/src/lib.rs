//! Deterministic cluster simulator and invariant checkers.
