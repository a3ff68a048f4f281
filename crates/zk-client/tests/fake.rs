//! The client and the election recipe against the in-test fake server (no real server
//! needed): pipelining, reconnection with the same session and SetWatches2, expiry, pings,
//! a lost create reply, and a suspension ending leadership.

mod common;

use std::time::Duration;

use common::fake::FakeServer;
use common::wait;
use zk_client::recipes::{ElectionEvent, LeaderElection, LossReason};
use zk_client::{Client, CreateMode, CreateOptions, Error, EventType, SessionState, Zxid};

async fn client_of(server: &FakeServer, timeout: Duration) -> Client {
    common::init_tracing();
    Client::builder(server.addr())
        .session_timeout(timeout)
        .connect()
        .await
        .unwrap()
}

#[tokio::test]
async fn pipelined_requests_are_all_answered_in_order() {
    let server = FakeServer::start().await;
    let client = client_of(&server, Duration::from_secs(30)).await;
    let options = CreateOptions::new(CreateMode::PersistentSequential);
    let creates = (0..200).map(|_| client.create("/n-", b"", &options));
    let paths: Vec<String> = futures_join(creates)
        .await
        .into_iter()
        .map(|r| r.unwrap().0)
        .collect();
    // Requests go out in submission order, so the sequence numbers come back in that order.
    let mut sorted = paths.clone();
    sorted.sort();
    assert_eq!(paths, sorted);
    assert_eq!(server.children("/").len(), 200);
}

/// Polls futures together, in order, until all are done (a dependency-free `join_all`).
async fn futures_join<F: std::future::Future>(futures: impl Iterator<Item = F>) -> Vec<F::Output> {
    let mut pending: Vec<std::pin::Pin<Box<F>>> = futures.map(Box::pin).collect();
    let mut out: Vec<Option<F::Output>> = pending.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut done = true;
        for (future, slot) in pending.iter_mut().zip(out.iter_mut()) {
            if slot.is_none() {
                match future.as_mut().poll(cx) {
                    std::task::Poll::Ready(value) => *slot = Some(value),
                    std::task::Poll::Pending => done = false,
                }
            }
        }
        if done {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    })
    .await;
    out.into_iter().map(Option::unwrap).collect()
}

#[tokio::test]
async fn reconnect_resumes_the_session_and_re_registers_watches_with_the_last_zxid() {
    let server = FakeServer::start().await;
    let client = client_of(&server, Duration::from_secs(30)).await;
    client
        .create("/a", b"", &CreateOptions::new(CreateMode::Persistent))
        .await
        .unwrap();
    let (_, _, data_watch) = client.get_data_and_watch("/a").await.unwrap();
    let (_, exist_watch) = client.exists_and_watch("/b").await.unwrap();
    let (_, _, child_watch) = client.get_children_and_watch("/").await.unwrap();
    let last_zxid = server.zxid();
    let session = client.session();
    let mut states = client.state_watcher();
    server.cut();
    assert_eq!(
        wait(states.changed()).await,
        Some(SessionState::Disconnected)
    );
    assert_eq!(wait(states.changed()).await, Some(SessionState::Connected));
    let requests = server.connect_requests();
    assert_eq!(requests.len(), 2);
    let again = &requests[1];
    assert_eq!(again.session_id, session.id);
    assert_eq!(again.password, session.password);
    assert_eq!(again.last_zxid_seen, Zxid(last_zxid));
    let set_watches = wait(async {
        loop {
            if let Some(sent) = server.set_watches().pop() {
                return sent;
            }
            tokio::task::yield_now().await;
        }
    })
    .await;
    assert_eq!(set_watches.relative_zxid, Zxid(last_zxid));
    assert_eq!(set_watches.data_watches, vec!["/a".to_owned()]);
    assert_eq!(set_watches.exist_watches, vec!["/b".to_owned()]);
    assert_eq!(set_watches.child_watches, vec!["/".to_owned()]);
    // The re-registered watches fire.
    let other = client_of(&server, Duration::from_secs(30)).await;
    other
        .create("/b", b"", &CreateOptions::new(CreateMode::Persistent))
        .await
        .unwrap();
    other.delete("/a", None).await.unwrap();
    assert_eq!(
        wait(exist_watch.changed()).await.event_type,
        EventType::NodeCreated
    );
    assert_eq!(
        wait(data_watch.changed()).await.event_type,
        EventType::NodeDeleted
    );
    assert_eq!(
        wait(child_watch.changed()).await.event_type,
        EventType::NodeChildrenChanged
    );
}

#[tokio::test]
async fn an_expired_session_fails_requests_and_ends_watches() {
    let server = FakeServer::start().await;
    let client = client_of(&server, Duration::from_secs(30)).await;
    let (_, watch) = client.exists_and_watch("/x").await.unwrap();
    server.expire_reconnects();
    server.cut();
    let event = wait(watch.changed()).await;
    assert_eq!(event.session_state, SessionState::Expired);
    assert_eq!(event.event_type, EventType::None);
    assert_eq!(client.exists("/").await, Err(Error::SessionExpired));
    assert_eq!(client.state(), SessionState::Expired);
}

#[tokio::test]
async fn an_idle_session_pings_and_keeps_its_connection() {
    let server = FakeServer::start().await;
    // The fake server grants what is asked: a short timeout makes pings frequent.
    let client = client_of(&server, Duration::from_millis(600)).await;
    wait(async {
        while server.pings() < 5 {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    assert_eq!(
        server.connect_requests().len(),
        1,
        "no reconnection while pinging"
    );
    client.exists("/").await.unwrap();
}

#[tokio::test]
async fn a_lost_create_reply_leaves_no_ghost_candidate() {
    let server = FakeServer::start().await;
    let client = client_of(&server, Duration::from_secs(30)).await;
    client
        .create(
            "/election",
            b"",
            &CreateOptions::new(CreateMode::Persistent),
        )
        .await
        .unwrap();
    server.lose_next_create_reply("/election/");
    let mut campaign = wait(LeaderElection::new(client.clone(), "/election").campaign("solo"))
        .await
        .unwrap();
    assert_eq!(server.lost_replies(), 1);
    assert_eq!(
        server.children("/election"),
        vec![campaign.first_node().to_owned()]
    );
    wait(campaign.wait_elected()).await.unwrap();
    assert_eq!(
        server.connect_requests().len(),
        2,
        "one reconnection, same session"
    );
    assert_eq!(server.connect_requests()[1].session_id, client.session_id());
}

#[tokio::test]
async fn a_suspended_connection_ends_leadership_at_once_and_the_successor_is_told_once() {
    let server = FakeServer::start().await;
    let leader = client_of(&server, Duration::from_secs(30)).await;
    let follower = client_of(&server, Duration::from_secs(30)).await;
    let mut leading = LeaderElection::new(leader.clone(), "/e")
        .campaign("l")
        .await
        .unwrap();
    let token = wait(leading.wait_elected()).await.unwrap();
    let mut following = LeaderElection::new(follower.clone(), "/e")
        .campaign("f")
        .await
        .unwrap();
    server.cut();
    let reason = loop {
        match wait(leading.next_event()).await.unwrap() {
            ElectionEvent::NotLeader { reason } => break reason,
            other => assert!(matches!(other, ElectionEvent::Joined { .. }), "{other:?}"),
        }
    };
    assert_eq!(reason, LossReason::Suspended);
    // Same session after the reconnect: the same node leads again with the same token.
    assert_eq!(wait(leading.wait_elected()).await.unwrap(), token);
    assert_eq!(following.leadership(), None);
    let sent = server.notifications_sent();
    leader.close().await.unwrap();
    let successor = wait(following.wait_elected()).await.unwrap();
    assert!(successor > token);
    assert_eq!(server.notifications_sent() - sent, 1);
}

#[tokio::test]
async fn a_campaign_on_a_client_that_does_not_renew_fails_with_the_expiry() {
    let server = FakeServer::start().await;
    let client = client_of(&server, Duration::from_secs(30)).await;
    let mut campaign = LeaderElection::new(client.clone(), "/e")
        .campaign("x")
        .await
        .unwrap();
    wait(campaign.wait_elected()).await.unwrap();
    server.expire_reconnects();
    server.cut();
    let mut reasons = Vec::new();
    let error = loop {
        match wait(campaign.next_event()).await {
            Some(ElectionEvent::NotLeader { reason }) => reasons.push(reason),
            Some(ElectionEvent::Failed(error)) => break error,
            other => panic!("unexpected {other:?}"),
        }
    };
    assert_eq!(error, Error::SessionExpired);
    assert_eq!(reasons, [LossReason::Suspended]);
    assert_eq!(
        wait(client.wait_connected()).await,
        Err(Error::SessionExpired)
    );
    assert_eq!(wait(campaign.next_event()).await, None);
}

#[tokio::test]
async fn a_renewing_client_re_enters_the_queue_at_the_back_after_expiry() {
    let server = FakeServer::start().await;
    let renewing = Client::builder(server.addr())
        .renew_expired_session(true)
        .connect()
        .await
        .unwrap();
    let mut first = LeaderElection::new(renewing.clone(), "/e")
        .campaign("first")
        .await
        .unwrap();
    wait(first.wait_elected()).await.unwrap();
    let other = client_of(&server, Duration::from_secs(30)).await;
    let mut second = LeaderElection::new(other.clone(), "/e")
        .campaign("second")
        .await
        .unwrap();
    let old_session = renewing.session_id();
    server.expire_reconnects();
    server.cut();
    // `other` is expired too by the fake (it expires every session), so build a third contender
    // after the expiry: the renewed `first` must queue behind it or at least behind its old node.
    let rejoined = loop {
        match wait(first.next_event()).await {
            Some(ElectionEvent::Joined { node }) => break node,
            Some(ElectionEvent::Failed(error)) => panic!("campaign failed: {error}"),
            Some(_) => {}
            None => panic!("campaign ended"),
        }
    };
    assert_ne!(renewing.session_id(), old_session);
    assert_ne!(rejoined, first.first_node());
    let sequence = |name: &str| zk_client::recipes::queue::parse_sequence(name).unwrap();
    assert!(sequence(&rejoined) > sequence(second.first_node()));
    // The non-renewing contender's campaign ends with the expiry.
    loop {
        match wait(second.next_event()).await {
            Some(ElectionEvent::Failed(error)) => {
                assert_eq!(error, Error::SessionExpired);
                break;
            }
            Some(_) => {}
            None => panic!("campaign ended without a reason"),
        }
    }
    // Alone in the queue now, the renewed contender leads again.
    wait(first.wait_elected()).await.unwrap();
}

#[tokio::test]
async fn an_observer_follows_every_change_of_leader() {
    let server = FakeServer::start().await;
    let watcher = client_of(&server, Duration::from_secs(30)).await;
    let mut observer = LeaderElection::new(watcher.clone(), "/e").observe();
    let a = client_of(&server, Duration::from_secs(30)).await;
    let b = client_of(&server, Duration::from_secs(30)).await;
    let mut campaign_a = LeaderElection::new(a.clone(), "/e")
        .campaign("a")
        .await
        .unwrap();
    let token_a = wait(campaign_a.wait_elected()).await.unwrap();
    let seen = loop {
        if let Some(leader) = wait(observer.changed()).await.unwrap() {
            break leader;
        }
    };
    assert_eq!((seen.id.as_str(), seen.fencing_token), ("a", token_a));
    let _campaign_b = LeaderElection::new(b.clone(), "/e")
        .campaign("b")
        .await
        .unwrap();
    a.close().await.unwrap();
    let next = wait(observer.changed()).await.unwrap().unwrap();
    assert_eq!(next.id, "b");
    assert!(next.fencing_token > token_a);
    b.close().await.unwrap();
    assert_eq!(wait(observer.changed()).await.unwrap(), None);
    watcher.close().await.unwrap();
    assert_eq!(wait(observer.changed()).await, Err(Error::Closed));
}
