//! The session table: negotiated timeouts, session id allocation and expiry in tick buckets,
//! following ZooKeeper's `SessionTrackerImpl` and `ExpiryQueue`.
//!
//! A session touched at `now_ms` with timeout `t` expires at the end of the bucket
//! `(floor((now_ms + t) / tick_time_ms) + 1) * tick_time_ms`, so it lives between `t` and
//! `t + tick_time_ms` after its last touch. The caller reads the clock and passes it in.

use std::collections::{BTreeMap, BTreeSet};

use zk_proto::{SessionId, Sid};

/// The session settings of `zoo.cfg`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct SessionConfig {
    /// `tickTime`: the length of an expiry bucket in milliseconds.
    pub tick_time_ms: i32,
    /// `minSessionTimeout`; `None` means `2 * tickTime`.
    pub min_session_timeout_ms: Option<i32>,
    /// `maxSessionTimeout`; `None` means `20 * tickTime`.
    pub max_session_timeout_ms: Option<i32>,
}

impl Default for SessionConfig {
    /// ZooKeeper's sample configuration: `tickTime=2000` and derived bounds.
    fn default() -> SessionConfig {
        SessionConfig {
            tick_time_ms: 2000,
            min_session_timeout_ms: None,
            max_session_timeout_ms: None,
        }
    }
}

impl SessionConfig {
    /// The effective `minSessionTimeout` (`2 * tickTime` when not configured).
    pub fn min_timeout_ms(&self) -> i32 {
        self.min_session_timeout_ms
            .unwrap_or_else(|| self.tick_time_ms.saturating_mul(2))
    }

    /// The effective `maxSessionTimeout` (`20 * tickTime` when not configured).
    pub fn max_timeout_ms(&self) -> i32 {
        self.max_session_timeout_ms
            .unwrap_or_else(|| self.tick_time_ms.saturating_mul(20))
    }
}

/// One session as listed by `cons` and `dump`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct SessionInfo {
    /// The session id.
    pub session_id: SessionId,
    /// The negotiated timeout.
    pub timeout_ms: i32,
    /// The end of the bucket the session expires in (0 once it is closing).
    pub expiry_ms: i64,
    /// Whether the session is being closed (further requests get SESSIONEXPIRED).
    pub closing: bool,
}

#[derive(Clone, Copy, Debug)]
struct Entry {
    timeout_ms: i32,
    /// The bucket the session is in, or `None` once it was taken out by [`SessionTable::expired`].
    expiry_ms: Option<i64>,
    closing: bool,
}

/// Every live session with its timeout and expiry bucket.
#[derive(Clone, Debug)]
pub struct SessionTable {
    config: SessionConfig,
    next_session_id: i64,
    sessions: BTreeMap<SessionId, Entry>,
    buckets: BTreeMap<i64, BTreeSet<SessionId>>,
}

impl SessionTable {
    /// An empty table. Session ids start at 0 until [`SessionTable::initialize_session_ids`].
    pub fn new(config: SessionConfig) -> SessionTable {
        SessionTable {
            config,
            next_session_id: 0,
            sessions: BTreeMap::new(),
            buckets: BTreeMap::new(),
        }
    }

    /// The configuration the table was built with.
    pub fn config(&self) -> &SessionConfig {
        &self.config
    }

    /// Clamps a requested timeout into `[minSessionTimeout, maxSessionTimeout]`.
    pub fn negotiate_timeout_ms(&self, requested_ms: i32) -> i32 {
        let min = self.config.min_timeout_ms();
        let max = self.config.max_timeout_ms();
        if requested_ms < min {
            min
        } else if requested_ms > max {
            max
        } else {
            requested_ms
        }
    }

    /// The first session id of a server, as ZooKeeper's `initializeNextSessionId`: the server id
    /// in the top byte, the low 40 bits of `now_ms` below it, 16 zero bits at the bottom; bumped
    /// by one if that equals the container marker `i64::MIN`.
    pub fn initial_session_id(sid: Sid, now_ms: i64) -> SessionId {
        // `(now << 24) >>> 8` keeps the low 40 bits of the clock in bits 16..56.
        let clock = ((now_ms << 24) as u64 >> 8) as i64;
        let mut next = clock | ((sid.0 as i64) << 56);
        if next == i64::MIN {
            next += 1;
        }
        SessionId(next)
    }

    /// Seeds the id allocator with [`SessionTable::initial_session_id`].
    pub fn initialize_session_ids(&mut self, sid: Sid, now_ms: i64) {
        self.next_session_id = Self::initial_session_id(sid, now_ms).0;
    }

    /// Allocates the next session id (ids of one server increase by one).
    pub fn next_session_id(&mut self) -> SessionId {
        let id = self.next_session_id;
        self.next_session_id = self.next_session_id.wrapping_add(1);
        SessionId(id)
    }

    /// The end of the bucket a session touched at `now_ms` with `timeout_ms` expires in.
    pub fn expiry_bucket_ms(&self, now_ms: i64, timeout_ms: i32) -> i64 {
        let tick = i64::from(self.config.tick_time_ms.max(1));
        let deadline = now_ms.saturating_add(i64::from(timeout_ms));
        deadline
            .div_euclid(tick)
            .saturating_add(1)
            .saturating_mul(tick)
    }

    /// Tracks a session (or refreshes the expiry of a known one, keeping its timeout), as
    /// `trackSession`. Returns whether it was new.
    pub fn add(&mut self, session: SessionId, timeout_ms: i32, now_ms: i64) -> bool {
        let added = !self.sessions.contains_key(&session);
        let timeout_ms = match self.sessions.get(&session) {
            Some(entry) => entry.timeout_ms,
            None => timeout_ms,
        };
        self.sessions.entry(session).or_insert(Entry {
            timeout_ms,
            expiry_ms: None,
            closing: false,
        });
        self.move_to_bucket(session, timeout_ms, now_ms);
        added
    }

    /// Moves a live session into the bucket for `now_ms`. Returns false (and does nothing) if the
    /// session is unknown or closing, as `touchSession`.
    pub fn touch(&mut self, session: SessionId, now_ms: i64) -> bool {
        let timeout_ms = match self.sessions.get(&session) {
            Some(entry) if !entry.closing => entry.timeout_ms,
            _ => return false,
        };
        self.move_to_bucket(session, timeout_ms, now_ms);
        true
    }

    /// Marks a session as closing: it is no longer touched and is not reported by
    /// [`SessionTable::expired`] again. Returns false if the session is unknown.
    pub fn set_closing(&mut self, session: SessionId) -> bool {
        let Some(entry) = self.sessions.get_mut(&session) else {
            return false;
        };
        entry.closing = true;
        let old = entry.expiry_ms.take();
        if let Some(bucket) = old {
            self.leave_bucket(session, bucket);
        }
        true
    }

    /// Whether the session is known and closing.
    pub fn is_closing(&self, session: SessionId) -> bool {
        self.sessions
            .get(&session)
            .is_some_and(|entry| entry.closing)
    }

    /// Forgets a session. Returns whether it was known.
    pub fn remove(&mut self, session: SessionId) -> bool {
        let Some(entry) = self.sessions.remove(&session) else {
            return false;
        };
        if let Some(bucket) = entry.expiry_ms {
            self.leave_bucket(session, bucket);
        }
        true
    }

    /// Whether the session is known (closing or not).
    pub fn contains(&self, session: SessionId) -> bool {
        self.sessions.contains_key(&session)
    }

    /// The negotiated timeout of a known session.
    pub fn timeout_ms(&self, session: SessionId) -> Option<i32> {
        self.sessions.get(&session).map(|entry| entry.timeout_ms)
    }

    /// Takes every session whose bucket ended at or before `now_ms` out of its bucket, marks it
    /// closing and returns it (sorted by bucket, then id). The caller submits a closeSession for
    /// each and calls [`SessionTable::remove`] once it is applied.
    pub fn expired(&mut self, now_ms: i64) -> Vec<SessionId> {
        let mut out = Vec::new();
        while let Some(entry) = self.buckets.first_entry() {
            if *entry.key() > now_ms {
                break;
            }
            let sessions = entry.remove();
            for session in sessions {
                if let Some(entry) = self.sessions.get_mut(&session) {
                    entry.expiry_ms = None;
                    entry.closing = true;
                }
                out.push(session);
            }
        }
        out
    }

    /// The end of the earliest non-empty bucket: when the driver should call
    /// [`SessionTable::expired`] next.
    pub fn next_expiry_ms(&self) -> Option<i64> {
        self.buckets.keys().next().copied()
    }

    /// The number of known sessions (closing ones included).
    pub fn len(&self) -> usize {
        self.sessions.len()
    }

    /// Whether no session is known.
    pub fn is_empty(&self) -> bool {
        self.sessions.is_empty()
    }

    /// Every session sorted by id.
    pub fn iter(&self) -> impl Iterator<Item = SessionInfo> + '_ {
        self.sessions
            .iter()
            .map(|(&session_id, entry)| SessionInfo {
                session_id,
                timeout_ms: entry.timeout_ms,
                expiry_ms: entry.expiry_ms.unwrap_or(0),
                closing: entry.closing,
            })
    }

    /// The expiry buckets, earliest first, with their sessions sorted (the `dump` listing).
    pub fn buckets(&self) -> impl Iterator<Item = (i64, Vec<SessionId>)> + '_ {
        self.buckets
            .iter()
            .map(|(&expiry_ms, sessions)| (expiry_ms, sessions.iter().copied().collect()))
    }

    fn move_to_bucket(&mut self, session: SessionId, timeout_ms: i32, now_ms: i64) {
        let bucket = self.expiry_bucket_ms(now_ms, timeout_ms);
        let Some(entry) = self.sessions.get_mut(&session) else {
            return;
        };
        let old = entry.expiry_ms.replace(bucket);
        if old == Some(bucket) {
            return;
        }
        if let Some(old) = old {
            self.leave_bucket(session, old);
        }
        self.buckets.entry(bucket).or_default().insert(session);
    }

    fn leave_bucket(&mut self, session: SessionId, bucket: i64) {
        if let Some(sessions) = self.buckets.get_mut(&bucket) {
            sessions.remove(&session);
            if sessions.is_empty() {
                self.buckets.remove(&bucket);
            }
        }
    }
}
