//! Tests of rules that span both roles (`zab.rs`): the liveness limits.

use zk_proto::{Sid, Zxid};

use crate::io::Input;
use crate::message::ZabMsg;
use crate::test_support::*;

#[test]
fn silent_leaders_and_lost_quorums_end_the_role() {
    // A follower gives up after initLimit while syncing, syncLimit once up to date.
    let (mut zab, _) = follower_at_new_leader();
    let limit = zab.config.init_limit_ms();
    assert!(!is_looking(&step(&mut zab, 3 + limit, Input::Tick)));
    assert!(is_looking(&step(&mut zab, 4 + limit, Input::Tick)));
    // A leader that hears from no follower for syncLimit steps down.
    let (mut leader, _) = leader_syncing(&[], Zxid::ZERO, 500);
    recv(&mut leader, 3, 2, ZabMsg::Ack { zxid: z(3, 0) });
    let sync_limit = leader.config.sync_limit_ms();
    let out = step(&mut leader, 3 + sync_limit, Input::Tick);
    assert!(!is_looking(&out));
    assert!(sent(&out).contains(&(Sid(2), ZabMsg::Ping { zxid: Zxid::ZERO })));
    assert!(is_looking(&step(&mut leader, 4 + sync_limit, Input::Tick)));
    // A leader that never gathers a quorum gives up after initLimit.
    let mut alone = machine(1, &[1, 2, 3], &[], 0, 0);
    lead(&mut alone);
    let init_limit = alone.config.init_limit_ms();
    assert!(is_looking(&step(&mut alone, init_limit + 1, Input::Tick)));
}

#[test]
fn compact_keeps_the_diff_window_and_uncommitted_entries() {
    use crate::{Durable, Entry, Zab, ZabConfig};
    use zk_elect::QuorumVerifier;
    use zk_proto::{Epoch, Sid, Zxid};
    let quorum = QuorumVerifier::majority([Sid(1)]).unwrap();
    let mut config = ZabConfig::new(Sid(1), quorum);
    config.commit_log_count = 3;
    let log: Vec<Entry> = (1..=10)
        .map(|n| Entry {
            zxid: Zxid::new(Epoch(1), n),
            txn: vec![n as u8],
        })
        .collect();
    let durable = Durable {
        snapshot_zxid: Zxid::ZERO,
        log,
        accepted_epoch: Epoch(1),
        current_epoch: Epoch(1),
    };
    let mut zab = Zab::new(config, durable);
    // Nothing is committed after a restart: nothing may be dropped.
    assert_eq!(zab.compact(Zxid::new(Epoch(1), 10)), 0);
    let mut out = Vec::new();
    zab.step(
        zk_elect::Millis(0),
        crate::Input::ElectionDecided {
            leader: Sid(1),
            state: zk_elect::ServerState::Leading,
        },
        &mut out,
    );
    assert_eq!(zab.committed_zxid(), Zxid::new(Epoch(1), 10));
    // Up to the snapshot at 5 only.
    assert_eq!(zab.compact(Zxid::new(Epoch(1), 5)), 5);
    assert_eq!(
        zab.entries_after(Zxid::ZERO)[0].zxid,
        Zxid::new(Epoch(1), 6)
    );
    // The last three stay for DIFF.
    assert_eq!(zab.compact(Zxid::new(Epoch(1), 10)), 2);
    assert_eq!(zab.entries_after(Zxid::ZERO).len(), 3);
    assert_eq!(zab.last_logged_zxid(), Zxid::new(Epoch(1), 10));
}

#[test]
fn one_persisted_reports_several_writes_made_durable_together() {
    let (mut leader, _) = leader_syncing(&[], Zxid::ZERO, 500);
    recv(&mut leader, 3, 2, ZabMsg::Ack { zxid: z(3, 0) });
    for txn in [b"a", b"b", b"c"] {
        step(&mut leader, 4, Input::Propose(txn.to_vec()));
    }
    // Before: whatever the sync itself wrote; the three appends come after it.
    let before = leader.pending_writes.len() - 3;
    assert_eq!(leader.persist_point_after(before + 2), Some(z(3, 2)));
    assert_eq!(leader.persist_point_after(before + 4), None);
    assert_eq!(leader.persist_point_after(0), None);
    step(&mut leader, 5, Input::Persisted { up_to: z(3, 2) });
    assert_eq!(
        leader.persisted,
        z(3, 2),
        "durable through the second append"
    );
    assert_eq!(
        leader.persist_point_after(1),
        Some(z(3, 3)),
        "the third is still owed"
    );
    // The follower's cumulative ACK of the third counts for all three: the two durable at
    // the leader commit with one COMMIT, the third once the leader's log has it too.
    let out = recv(&mut leader, 6, 2, ZabMsg::Ack { zxid: z(3, 3) });
    assert_eq!(
        sent(&out),
        vec![(Sid(2), ZabMsg::Commit { zxid: z(3, 2) })],
        "one COMMIT for two proposals"
    );
    assert_eq!(leader.committed_zxid(), z(3, 2));
    let out = step(&mut leader, 7, Input::Persisted { up_to: z(3, 3) });
    assert_eq!(sent(&out), vec![(Sid(2), ZabMsg::Commit { zxid: z(3, 3) })]);
    assert_eq!(leader.committed_zxid(), z(3, 3));
}
