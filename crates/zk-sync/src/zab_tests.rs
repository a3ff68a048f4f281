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
