//! Hand-written Zab scenarios on the simulator (TigerBeetle style: names are claims), one per
//! bug class. Each scenario runs twice: as built, where it must hold, and with the one
//! protection it exercises removed (a `zk_sync::Mutant`), where it must fail. Elections are
//! scripted with `ZabCluster::decide`, standing in for whatever an election could decide.

use std::collections::BTreeMap;

use zk_elect::QuorumVerifier;
use zk_proto::Sid;
use zk_sim::zab::run::sim_config;
use zk_sim::zab::{ConfigFactory, Timing, ZabCluster};
use zk_sync::Mutant;

const S1: Sid = Sid(1);
const S2: Sid = Sid(2);
const S3: Sid = Sid(3);

fn cluster(size: u64, commit_log_count: usize, mutant: Option<Mutant>) -> ZabCluster {
    let quorum = QuorumVerifier::majority((1..=size).map(Sid)).unwrap();
    let factory: ConfigFactory = Box::new(move |sid, quorum| {
        let mut config = sim_config(sid, quorum, commit_log_count);
        config.mutant = mutant;
        config
    });
    let timing = Timing {
        delay_ms_min: 1,
        delay_ms_max: 1,
        fsync_ms_min: 1,
        fsync_ms_max: 1,
    };
    let mut cluster = ZabCluster::new(7, quorum, &[], factory, timing, false);
    for sid in cluster.sids() {
        cluster.boot(sid);
    }
    cluster
}

/// Makes `leader` lead `followers` and waits until it is established.
fn establish(cluster: &mut ZabCluster, leader: Sid, followers: &[Sid]) -> bool {
    cluster.decide(leader, leader);
    for &follower in followers {
        cluster.decide(follower, leader);
    }
    let until = cluster.now_ms() + 3_000;
    cluster.run_until(until, |c| c.established_leader() == Some(leader))
}

/// Proposes `txn` and waits until the leader delivered it.
fn write(cluster: &mut ZabCluster, txn: &str) -> bool {
    let leader = cluster.established_leader().expect("an established leader");
    assert!(cluster.propose(txn.as_bytes().to_vec()));
    let until = cluster.now_ms() + 2_000;
    cluster.run_until(until, |c| delivered(c, leader, txn))
}

fn delivered(cluster: &ZabCluster, sid: Sid, txn: &str) -> bool {
    cluster
        .delivered(sid)
        .iter()
        .any(|e| e.txn == txn.as_bytes())
}

/// What a scenario ended with: the first broken invariant, or a claim that did not hold.
fn outcome(cluster: &ZabCluster, claim: Result<(), String>) -> Result<(), String> {
    if let Some(violation) = &cluster.violation {
        return Err(violation.to_string());
    }
    claim
}

/// Asserts that `result` (a scenario run with a mutant) failed, naming `violation` in its error.
fn assert_violation(result: Result<(), String>, violation: &str) {
    assert!(
        matches!(&result, Err(e) if e.contains(violation)),
        "{result:?}"
    );
}

/// Asserts that `scenario` holds as written and that `mutant` breaks it, naming `violation` in
/// its error ("" for any error).
fn assert_mutant_caught(
    scenario: fn(Option<Mutant>) -> Result<(), String>,
    mutant: Mutant,
    violation: &str,
) {
    assert_eq!(scenario(None), Ok(()));
    assert_violation(scenario(Some(mutant)), violation);
}

/// Epoch 1 (leader 1) commits w1 everywhere and w2 on 1 and 2 only (3 is cut off). Then 1 is
/// down and 3, which lacks w2, is made to lead 2, which has it.
fn new_leader_without_the_highest_zxid(mutant: Option<Mutant>) -> Result<(), String> {
    let mut c = cluster(3, 500, mutant);
    assert!(establish(&mut c, S1, &[S2, S3]));
    assert!(write(&mut c, "w1"));
    c.run_for(100);
    c.partition(&BTreeMap::from([(S3, 1)]));
    c.run_for(10);
    assert!(write(&mut c, "w2"));
    c.crash(S1);
    c.heal();
    c.run_for(100);
    c.decide(S3, S3);
    c.decide(S2, S3);
    c.run_for(5_000);
    let claim = if c.established_leader() == Some(S3) {
        Err("3 established without w2".to_owned())
    } else {
        Ok(())
    };
    outcome(&c, claim)
}

#[test]
fn a_new_leader_without_the_highest_zxid_steps_down_at_ackepoch() {
    assert_eq!(new_leader_without_the_highest_zxid(None), Ok(()));
}

#[test]
fn a_new_leader_without_the_highest_zxid_loses_a_commit_without_the_ackepoch_check() {
    assert_violation(
        new_leader_without_the_highest_zxid(Some(Mutant::LeaderIgnoresMoreRecentLearner)),
        "NoCommittedTransactionLost",
    );
}

/// Epoch 1 (leader 1) commits w1 everywhere and w2 on 1 and 2 only. Epoch 2: 2 leads 3 (1 is
/// down); 3's disk is stuck, so it never makes w2 durable; then 2 and 3 crash. 1 and 3 come
/// back and 3 is made to lead 1 (an election would pick 3 if its currentEpoch said 2).
fn crash_while_syncing(mutant: Option<Mutant>) -> Result<(), String> {
    let mut c = cluster(3, 500, mutant);
    assert!(establish(&mut c, S1, &[S2, S3]));
    assert!(write(&mut c, "w1"));
    c.run_for(100);
    c.partition(&BTreeMap::from([(S3, 1)]));
    c.run_for(10);
    assert!(write(&mut c, "w2"));
    c.run_for(100);
    c.crash(S1);
    c.heal();
    c.hold_disk(S3, true);
    c.decide(S2, S2);
    c.decide(S3, S2);
    c.run_for(1_000);
    c.crash(S2);
    c.crash(S3);
    c.hold_disk(S3, false);
    c.boot(S1);
    c.boot(S3);
    c.decide(S3, S3);
    c.decide(S1, S3);
    c.run_for(5_000);
    let claim = if c.established_leader() == Some(S3) {
        Err("3 established without w2".to_owned())
    } else {
        Ok(())
    };
    outcome(&c, claim)
}

#[test]
fn a_follower_records_accepted_epoch_at_leaderinfo_and_current_epoch_only_after_sync() {
    assert_mutant_caught(
        crash_while_syncing,
        Mutant::CurrentEpochAtLeaderInfo,
        "NoCommittedTransactionLost",
    );
}

#[test]
fn newleader_is_acked_only_once_the_synced_history_is_durable() {
    assert_mutant_caught(
        crash_while_syncing,
        Mutant::AckNewLeaderBeforeDurable,
        "NoCommittedTransactionLost",
    );
}

#[test]
fn a_follower_crashing_before_its_history_is_durable_keeps_its_old_current_epoch() {
    assert_mutant_caught(
        crash_while_syncing,
        Mutant::CurrentEpochBeforeDurable,
        "NoCommittedTransactionLost",
    );
}

/// 1 leads 2; 3 joins late with a slow disk, so it is still syncing while w1 and w2 commit.
fn proposals_committed_during_sync(mutant: Option<Mutant>) -> Result<(), String> {
    let mut c = cluster(3, 500, mutant);
    c.crash(S3);
    assert!(establish(&mut c, S1, &[S2]));
    assert!(write(&mut c, "w0"));
    c.boot(S3);
    c.hold_disk(S3, true);
    c.decide(S3, S1);
    c.run_for(100);
    assert!(write(&mut c, "w1"));
    assert!(write(&mut c, "w2"));
    c.hold_disk(S3, false);
    c.run_for(100);
    assert!(write(&mut c, "w3"));
    let until = c.now_ms() + 2_000;
    let all = c.run_until(until, |c| {
        ["w0", "w1", "w2", "w3"].iter().all(|t| delivered(c, S3, t))
    });
    outcome(
        &c,
        if all {
            Ok(())
        } else {
            Err("3 did not deliver w0..w3".to_owned())
        },
    )
}

#[test]
fn proposals_committed_during_another_followers_sync_reach_that_follower() {
    assert_mutant_caught(
        proposals_committed_during_sync,
        Mutant::NoForwardingDuringSync,
        "",
    );
}

/// Epoch 1: the PROPOSAL of w1 to 3 is lost; w1 and w2 commit on 1 and 2. 1 crashes and 3 is
/// made to lead 2.
fn follower_with_a_gap(mutant: Option<Mutant>) -> Result<(), String> {
    let mut c = cluster(3, 500, mutant);
    assert!(establish(&mut c, S1, &[S2, S3]));
    c.drop_next(S1, S3, "PROPOSAL");
    c.drop_next(S1, S3, "COMMIT");
    assert!(write(&mut c, "w1"));
    assert!(write(&mut c, "w2"));
    c.run_for(100);
    c.crash(S1);
    c.run_for(100);
    c.decide(S3, S3);
    c.decide(S2, S3);
    c.run_for(5_000);
    let claim = if c.established_leader() == Some(S3) {
        Err("3 established without w1".to_owned())
    } else {
        Ok(())
    };
    outcome(&c, claim)
}

#[test]
fn a_follower_with_a_gap_in_its_log_never_becomes_leader() {
    assert_mutant_caught(follower_with_a_gap, Mutant::FollowerAcceptsGaps, "");
}

/// ACKs are cumulative (an ACK of `z` counts for every proposal up to `z`). 2 is cut off, so
/// 1 commits only with 3's ACKs; 3 misses the PROPOSAL of w1 and then gets w2's. Counting 3's
/// ACK of w2 for w1 too would commit w1 on a "quorum" where only 1 has it.
fn cumulative_ack_over_a_gap(mutant: Option<Mutant>) -> Result<(), String> {
    let mut c = cluster(3, 500, mutant);
    assert!(establish(&mut c, S1, &[S2, S3]));
    c.partition(&BTreeMap::from([(S2, 1)]));
    c.run_for(10);
    c.drop_next(S1, S3, "PROPOSAL");
    assert!(c.propose(b"w1".to_vec()));
    assert!(c.propose(b"w2".to_vec()));
    c.run_for(200);
    let has = |c: &ZabCluster, sid, txn: &str| {
        c.durable_history(sid)
            .iter()
            .any(|e| e.txn == txn.as_bytes())
    };
    let claim = if delivered(&c, S1, "w1") && !has(&c, S2, "w1") && !has(&c, S3, "w1") {
        Err("1 committed w1, which no follower has".to_owned())
    } else {
        Ok(())
    };
    outcome(&c, claim)
}

#[test]
fn a_cumulative_ack_never_covers_a_proposal_the_follower_lacks() {
    assert_mutant_caught(cumulative_ack_over_a_gap, Mutant::FollowerAcceptsGaps, "");
}

/// 1 leads 2 and 3 with commitLogCount 2; 3 is down while w3..w6 commit, so it needs a SNAP.
/// It crashes after the first of its history writes completed, then rejoins.
fn interrupted_snap(mutant: Option<Mutant>) -> Result<(), String> {
    let mut c = cluster(3, 2, mutant);
    assert!(establish(&mut c, S1, &[S2, S3]));
    assert!(write(&mut c, "w1"));
    assert!(write(&mut c, "w2"));
    c.run_for(100);
    let before = c.durable_history(S3).to_vec();
    c.crash(S3);
    for txn in ["w3", "w4", "w5", "w6"] {
        assert!(write(&mut c, txn));
    }
    c.boot(S3);
    c.hold_disk(S3, true);
    c.decide(S3, S1);
    c.run_for(100);
    c.flush_one_write(S3);
    c.crash(S3);
    c.hold_disk(S3, false);
    let after = c.durable_history(S3).to_vec();
    if !after.starts_with(&before) && after.len() < 6 {
        return Err(format!(
            "3's durable history went from {} to {} transactions",
            before.len(),
            after.len()
        ));
    }
    c.boot(S3);
    c.decide(S3, S1);
    let until = c.now_ms() + 3_000;
    let synced = c.run_until(until, |c| {
        (1..=6).all(|i| delivered(c, S3, &format!("w{i}")))
    });
    outcome(
        &c,
        if synced {
            Ok(())
        } else {
            Err("3 did not catch up".to_owned())
        },
    )
}

#[test]
fn an_interrupted_snap_transfer_leaves_the_old_state_or_the_whole_snapshot() {
    assert_mutant_caught(
        interrupted_snap,
        Mutant::SnapClearsLogFirst,
        "durable history went from",
    );
}

/// Five servers; epoch 1 commits w1. Then leaders crash one after another with nothing new
/// proposed: 2 fixes epoch 2 with 3 and 4 and crashes before they sync; 5 leads 3 and 4 and
/// crashes once established; 3 leads 4 and a restarted 1. Every epoch must be above every
/// epoch accepted before, and the last leader must commit w2 on top of w1.
fn cascading_leader_crashes(mutant: Option<Mutant>) -> Result<(), String> {
    let mut c = cluster(5, 500, mutant);
    let [s1, s2, s3, s4, s5] = [Sid(1), Sid(2), Sid(3), Sid(4), Sid(5)];
    assert!(establish(&mut c, s1, &[s2, s3, s4, s5]));
    assert!(write(&mut c, "w1"));
    c.run_for(100);
    c.crash(s1);
    c.decide(s2, s2);
    c.decide(s3, s2);
    c.decide(s4, s2);
    let until = c.now_ms() + 1_000;
    let accepted = c.run_until(until, |c| {
        c.durable_epochs(s3).0 .0 == 2 && c.durable_epochs(s4).0 .0 == 2
    });
    assert!(accepted, "3 and 4 accept epoch 2");
    c.crash(s2);
    if !establish(&mut c, s5, &[s3, s4]) {
        return outcome(&c, Err("5 did not establish after 2 crashed".to_owned()));
    }
    let epoch_5 = c.durable_epochs(s5).0;
    c.crash(s5);
    c.boot(s1);
    if !establish(&mut c, s3, &[s4, s1]) {
        return outcome(&c, Err("3 did not establish after 5 crashed".to_owned()));
    }
    let epoch_3 = c.durable_epochs(s3).0;
    let claim = if epoch_5.0 <= 2 || epoch_3 <= epoch_5 {
        Err(format!("epochs 2, {epoch_5}, {epoch_3} do not increase"))
    } else if !write(&mut c, "w2") || !delivered(&c, s3, "w1") {
        Err("the last leader did not commit w2 after w1".to_owned())
    } else {
        Ok(())
    };
    outcome(&c, claim)
}

#[test]
fn cascading_leader_crashes_with_no_new_proposal_still_establish_a_higher_epoch() {
    assert_mutant_caught(cascading_leader_crashes, Mutant::EpochIgnoresLearners, "");
}
