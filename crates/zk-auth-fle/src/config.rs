//! AuthFastLeaderElection's settings, with ZooKeeper's timings, and the shared secret.

use core::fmt;
use std::collections::BTreeSet;

use zk_elect::QuorumVerifier;
use zk_proto::Sid;

use crate::error::KeyError;

/// ZooKeeper's `finalizeWait` (100 ms in AuthFastLeaderElection), also its base `ackWait`.
pub const FINALIZE_WAIT_MS: u64 = 100;
/// ZooKeeper's `maxAttempts` per notification before it is re-queued or discarded.
pub const MAX_ATTEMPTS: u32 = 3;
/// ZooKeeper polls its receive queue for `2 * finalizeWait`: the first re-send timeout.
pub const MIN_RESEND_INTERVAL_MS: u64 = 200;
/// Cap of the doubling re-send timeout (FastLeaderElection's `maxNotificationInterval`).
pub const MAX_RESEND_INTERVAL_MS: u64 = 60_000;

/// The shared secret (`authFleSecret`, or the contents of `authFleKeyFile`): the HMAC-SHA256 key.
#[derive(Clone, PartialEq, Eq)]
pub struct AuthKey(Vec<u8>);

impl AuthKey {
    /// The shortest secret accepted, in bytes.
    pub const LEN_MIN: usize = 16;

    /// A key from the secret's bytes; surrounding ASCII whitespace (a key file's newline) is
    /// trimmed.
    pub fn new(secret: &[u8]) -> Result<AuthKey, KeyError> {
        let secret = secret.trim_ascii();
        if secret.len() < AuthKey::LEN_MIN {
            return Err(KeyError::TooShort {
                len: secret.len(),
                min: AuthKey::LEN_MIN,
            });
        }
        Ok(AuthKey(secret.to_vec()))
    }

    pub(crate) fn bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for AuthKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AuthKey(<{} bytes redacted>)", self.0.len())
    }
}

/// How one server runs AuthFastLeaderElection.
#[derive(Clone, Debug)]
pub struct AuthFleConfig {
    /// This server's id (`myid`).
    pub sid: Sid,
    /// The ensemble's voters and what a quorum is.
    pub quorum: QuorumVerifier,
    /// The ensemble's observers: they may talk to us, and are never counted or elected.
    pub observers: BTreeSet<Sid>,
    /// With a key, every message carries an HMAC-SHA256 over its contents, sender and
    /// recipient, and messages without a valid one are dropped (this implies the challenge).
    pub key: Option<AuthKey>,
    /// The challenge/response step (ZooKeeper's `electionAlg=2`; off is its `electionAlg=1`).
    pub challenge_response: bool,
    /// Seed of tags and challenges; must differ between incarnations (the runtime passes a
    /// random one).
    pub seed: u64,
    /// Quiet time required after a quorum agrees before deciding.
    pub finalize_wait_ms: u64,
    /// Base wait for a challenge (doubling per attempt) and for an ack (times ten per attempt).
    pub ack_wait_ms: u64,
    /// Attempts per notification before it is re-queued (same round) or discarded.
    pub max_attempts: u32,
    /// First re-send timeout when nothing arrives.
    pub min_resend_interval_ms: u64,
    /// Cap of the doubling re-send timeout.
    pub max_resend_interval_ms: u64,
    /// Challenges remembered per peer; the oldest is forgotten first.
    pub challenges_per_peer_max: usize,
}

impl AuthFleConfig {
    /// ZooKeeper's timings for server `sid` in `quorum`, with the challenge step and no key.
    pub fn new(sid: Sid, quorum: QuorumVerifier, seed: u64) -> AuthFleConfig {
        AuthFleConfig {
            sid,
            quorum,
            observers: BTreeSet::new(),
            key: None,
            challenge_response: true,
            seed,
            finalize_wait_ms: FINALIZE_WAIT_MS,
            ack_wait_ms: FINALIZE_WAIT_MS,
            max_attempts: MAX_ATTEMPTS,
            min_resend_interval_ms: MIN_RESEND_INTERVAL_MS,
            max_resend_interval_ms: MAX_RESEND_INTERVAL_MS,
            challenges_per_peer_max: 8,
        }
    }

    /// The same settings, authenticated with `key`.
    pub fn with_key(mut self, key: AuthKey) -> AuthFleConfig {
        self.key = Some(key);
        self
    }

    /// The same settings, with the ensemble's observers.
    pub fn with_observers(mut self, observers: impl IntoIterator<Item = Sid>) -> AuthFleConfig {
        self.observers = observers.into_iter().collect();
        self
    }
}
