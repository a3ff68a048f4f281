//! Session table rules: timeout negotiation, session ids, tick-bucket expiry.

use zk_proto::{SessionId, Sid};
use zk_watch::{SessionConfig, SessionTable};

fn table(tick_time_ms: i32) -> SessionTable {
    SessionTable::new(SessionConfig {
        tick_time_ms,
        min_session_timeout_ms: None,
        max_session_timeout_ms: None,
    })
}

#[test]
fn timeouts_are_clamped_to_the_configured_bounds() {
    let derived = table(2000);
    let explicit = SessionTable::new(SessionConfig {
        tick_time_ms: 2000,
        min_session_timeout_ms: Some(1000),
        max_session_timeout_ms: Some(9000),
    });
    let cases = [
        (&derived, 1000, 4000),
        (&derived, 4000, 4000),
        (&derived, 10_000, 10_000),
        (&derived, 40_000, 40_000),
        (&derived, 50_000, 40_000),
        (&derived, -5, 4000),
        (&explicit, 500, 1000),
        (&explicit, 5000, 5000),
        (&explicit, 30_000, 9000),
    ];
    for (table, requested, negotiated) in cases {
        assert_eq!(
            table.negotiate_timeout_ms(requested),
            negotiated,
            "{requested}"
        );
    }
}

#[test]
fn initial_session_ids_follow_initialize_next_session_id() {
    let now_ms: i64 = 1_700_000_000_123;
    let low_40_bits = now_ms & 0xff_ffff_ffff;
    let cases = [
        (Sid(0), 0, 0),
        (Sid(1), 0, 1 << 56),
        (Sid(3), now_ms, (3 << 56) | (low_40_bits << 16)),
        (Sid(0), 0x12_3456, 0x12_3456 << 16),
        // myid 128 at clock 0 would be the container marker; ZooKeeper bumps it by one.
        (Sid(128), 0, i64::MIN + 1),
    ];
    for (sid, now, expected) in cases {
        assert_eq!(
            SessionTable::initial_session_id(sid, now),
            SessionId(expected),
            "{sid:?} {now}"
        );
    }
}

#[test]
fn session_ids_increase_from_the_seed() {
    let mut t = table(2000);
    t.initialize_session_ids(Sid(2), 5);
    let first = t.next_session_id();
    assert_eq!(first, SessionId((2 << 56) | (5 << 16)));
    assert_eq!(t.next_session_id(), SessionId(first.0 + 1));
}

#[test]
fn sessions_expire_at_the_end_of_the_tick_bucket_after_their_timeout() {
    let cases = [
        // (tick, timeout, touched at, bucket end)
        (2000, 5000, 1000, 8000),
        (2000, 4000, 0, 6000),
        (2000, 4000, 1999, 6000),
        (2000, 4000, 2000, 8000),
        (1000, 3000, 500, 4000),
    ];
    for (tick, timeout, at, bucket) in cases {
        let mut t = table(tick);
        assert_eq!(t.expiry_bucket_ms(at, timeout), bucket);
        assert!(t.add(SessionId(1), timeout, at));
        assert_eq!(t.next_expiry_ms(), Some(bucket));
        assert!(t.expired(bucket - 1).is_empty(), "{tick} {timeout} {at}");
        assert_eq!(t.expired(bucket), vec![SessionId(1)]);
        assert!(t.is_closing(SessionId(1)));
        assert!(t.expired(bucket + 100_000).is_empty(), "reported only once");
        assert!(t.contains(SessionId(1)), "kept until removed");
    }
}

#[test]
fn touching_moves_a_session_to_a_later_bucket() {
    let mut t = table(2000);
    t.add(SessionId(7), 4000, 0);
    assert!(t.touch(SessionId(7), 3000));
    assert!(t.expired(6000).is_empty());
    assert_eq!(t.expired(8000), vec![SessionId(7)]);
}

#[test]
fn closing_unknown_and_removed_sessions_cannot_be_touched() {
    let mut t = table(2000);
    assert!(!t.touch(SessionId(1), 0));
    t.add(SessionId(1), 4000, 0);
    t.add(SessionId(2), 4000, 0);
    assert!(t.set_closing(SessionId(1)));
    assert!(!t.touch(SessionId(1), 10));
    assert!(t.touch(SessionId(2), 10));
    assert_eq!(
        t.expired(1_000_000),
        vec![SessionId(2)],
        "closing sessions are not expired again"
    );
    assert!(t.remove(SessionId(1)));
    assert!(!t.remove(SessionId(1)));
    assert!(!t.contains(SessionId(1)));
    assert!(!t.set_closing(SessionId(1)));
    assert_eq!(t.timeout_ms(SessionId(2)), Some(4000));
    assert_eq!(t.timeout_ms(SessionId(1)), None);
}

#[test]
fn re_adding_a_session_keeps_its_timeout_and_refreshes_it() {
    let mut t = table(2000);
    assert!(t.add(SessionId(1), 4000, 0));
    assert!(!t.add(SessionId(1), 30_000, 2000));
    assert_eq!(t.timeout_ms(SessionId(1)), Some(4000));
    assert_eq!(t.next_expiry_ms(), Some(8000));
}

#[test]
fn expiry_and_listings_are_sorted() {
    let mut t = table(1000);
    t.add(SessionId(9), 2000, 0);
    t.add(SessionId(3), 2000, 0);
    t.add(SessionId(5), 1000, 0);
    let listed: Vec<_> = t.iter().map(|s| (s.session_id.0, s.expiry_ms)).collect();
    assert_eq!(listed, vec![(3, 3000), (5, 2000), (9, 3000)]);
    let buckets: Vec<_> = t.buckets().collect();
    assert_eq!(
        buckets,
        vec![
            (2000, vec![SessionId(5)]),
            (3000, vec![SessionId(3), SessionId(9)])
        ]
    );
    assert_eq!(
        t.expired(5000),
        vec![SessionId(5), SessionId(3), SessionId(9)]
    );
    assert_eq!(t.len(), 3);
    assert!(!t.is_empty());
    assert!(t.iter().all(|s| s.closing && s.expiry_ms == 0));
}

#[test]
fn extreme_clocks_and_ticks_do_not_overflow() {
    let mut t = table(1);
    assert_eq!(t.expiry_bucket_ms(i64::MAX, i32::MAX), i64::MAX);
    assert!(t.add(SessionId(1), i32::MAX, i64::MAX - 5));
    assert!(t.expired(i64::MAX - 1).is_empty());
    let zero_tick = table(0);
    assert_eq!(zero_tick.expiry_bucket_ms(10, 5), 16);
    assert_eq!(zero_tick.negotiate_timeout_ms(5), 0);
    assert_eq!(
        SessionTable::initial_session_id(Sid(u64::MAX), i64::MIN),
        SessionId(-1 << 56)
    );
}
