//! The transport over real sockets on 127.0.0.1, plus handshake and queue units.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::mpsc;
use zk_elect::{ElectionEpoch, QuorumVerifier, ServerState};
use zk_fle::{FastLeaderElection, FleConfig, Notification, NOTIFICATION_VERSION};
use zk_proto::{Epoch, Sid, Zxid};

use crate::election::handshake::{self, HandshakeError, Hello};
use crate::election::queue::SendQueue;
use crate::election::{ElectionDriver, ElectionTransport, Inbound, TransportConfig};

/// A guard against hangs, not a timing assertion: these scenarios take milliseconds.
const GUARD: Duration = Duration::from_secs(30);

fn note(leader: u64, round: u64) -> Notification {
    Notification {
        state: ServerState::Looking,
        leader: Sid(leader),
        zxid: Zxid(0),
        election_epoch: ElectionEpoch(round),
        peer_epoch: Epoch(0),
        version: NOTIFICATION_VERSION,
    }
}

async fn listeners(count: u64) -> (Vec<TcpListener>, BTreeMap<Sid, SocketAddr>) {
    let mut listeners = Vec::new();
    let mut addresses = BTreeMap::new();
    for sid in 1..=count {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        addresses.insert(Sid(sid), listener.local_addr().unwrap());
        listeners.push(listener);
    }
    (listeners, addresses)
}

async fn cluster(count: u64) -> Vec<(Arc<ElectionTransport>, mpsc::Receiver<Inbound>)> {
    let (listeners, addresses) = listeners(count).await;
    listeners
        .into_iter()
        .enumerate()
        .map(|(i, listener)| {
            let sid = Sid(i as u64 + 1);
            let peers = addresses
                .iter()
                .filter(|(&p, _)| p != sid)
                .map(|(&p, &a)| (p, a))
                .collect();
            let (transport, inbound) =
                ElectionTransport::start(listener, TransportConfig::new(sid, peers)).unwrap();
            (Arc::new(transport), inbound)
        })
        .collect()
}

async fn next_message(inbound: &mut mpsc::Receiver<Inbound>) -> (Sid, Notification) {
    tokio::time::timeout(GUARD, async {
        loop {
            match inbound.recv().await.expect("transport alive") {
                Inbound::Message { from, msg } => return (from, msg),
                Inbound::PeerDown(_) => continue,
            }
        }
    })
    .await
    .expect("a message arrives")
}

#[test]
fn handshake_is_zookeepers_v1_layout() {
    let bytes = handshake::encode(Sid(3), "10.0.0.3:3888");
    assert_eq!(&bytes[..8], &(-65536i64).to_be_bytes());
    assert_eq!(&bytes[8..16], &3i64.to_be_bytes());
    assert_eq!(&bytes[16..20], &13i32.to_be_bytes());
    assert_eq!(&bytes[20..], b"10.0.0.3:3888");
}

#[tokio::test]
async fn handshakes_are_read_or_refused() {
    let read = |bytes: Vec<u8>| async move { handshake::read(&mut bytes.as_slice()).await };
    let hello = read(handshake::encode(Sid(7), "h:1")).await.unwrap();
    assert_eq!(
        hello,
        Hello {
            sid: Sid(7),
            address: Some("h:1".into())
        }
    );
    let old = read(5i64.to_be_bytes().to_vec()).await.unwrap();
    assert_eq!(
        old,
        Hello {
            sid: Sid(5),
            address: None
        },
        "a pre-3.5 peer sends its sid alone"
    );
    assert!(matches!(
        read((-7i64).to_be_bytes().to_vec()).await,
        Err(HandshakeError::UnknownVersion(-7))
    ));
    let mut long = handshake::encode(Sid(1), "x");
    long[16..20].copy_from_slice(&4096i32.to_be_bytes());
    assert!(matches!(
        read(long).await,
        Err(HandshakeError::BadAddressLength(4096))
    ));
    let short = handshake::encode(Sid(1), "host:1")[..22].to_vec();
    assert!(matches!(read(short).await, Err(HandshakeError::Io(_))));
}

#[test]
fn the_send_queue_keeps_the_newest_and_remembers_the_last_sent() {
    let queue = SendQueue::new(2);
    assert_eq!(queue.resend_on_restart(), None, "nothing sent yet");
    assert!(!queue.push(vec![1]));
    assert!(!queue.push(vec![2]));
    assert!(queue.push(vec![3]), "full: the oldest goes");
    assert_eq!((queue.len(), queue.dropped()), (2, 1));
    assert_eq!(queue.resend_on_restart(), None, "messages are waiting");
    assert_eq!(queue.pop(), Some(vec![2]));
    assert_eq!(queue.pop(), Some(vec![3]));
    assert_eq!(queue.pop(), None);
    assert!(queue.is_empty());
    assert_eq!(queue.resend_on_restart(), Some(vec![3]));
}

#[tokio::test]
async fn messages_flow_both_ways_and_only_the_larger_sids_connection_survives() {
    let mut nodes = cluster(3).await;
    // Every server sends to every other at once, so both sides of each pair dial.
    for (transport, _) in &nodes {
        for to in 1..=3 {
            if Sid(to) != transport.sid() {
                transport.send(Sid(to), &note(transport.sid().0, to));
            }
        }
    }
    for (transport, inbound) in nodes.iter_mut() {
        let mut senders = Vec::new();
        for _ in 0..2 {
            let (from, msg) = next_message(inbound).await;
            assert_eq!(
                msg,
                note(from.0, transport.sid().0),
                "the frame arrives intact"
            );
            senders.push(from.0);
        }
        senders.sort();
        let expected: Vec<u64> = (1..=3).filter(|&s| s != transport.sid().0).collect();
        assert_eq!(senders, expected);
    }
    // Both directions now share one connection per pair, dialled by the larger sid.
    for (transport, _) in &nodes {
        for peer in (1..=3).map(Sid).filter(|&p| p != transport.sid()) {
            let initiator = tokio::time::timeout(GUARD, async {
                loop {
                    if let Some(initiator) = transport.connection_initiator(peer) {
                        return initiator;
                    }
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            })
            .await
            .expect("connected");
            assert_eq!(
                initiator,
                transport.sid().max(peer),
                "{} to {peer}",
                transport.sid()
            );
        }
    }
}

#[tokio::test]
async fn a_message_to_ourselves_is_received_at_once() {
    let mut nodes = cluster(2).await;
    let (transport, inbound) = &mut nodes[0];
    transport.send(Sid(1), &note(1, 1));
    assert_eq!(next_message(inbound).await, (Sid(1), note(1, 1)));
}

#[tokio::test]
async fn a_restarted_peer_is_reached_again_and_gets_the_last_vote() {
    let (mut listeners, addresses) = listeners(2).await;
    let second = listeners.pop().unwrap();
    let first = listeners.pop().unwrap();
    let config = |sid: u64| {
        let peers = addresses
            .iter()
            .filter(|(&p, _)| p != Sid(sid))
            .map(|(&p, &a)| (p, a))
            .collect();
        TransportConfig::new(Sid(sid), peers)
    };
    let (one, mut one_inbound) = ElectionTransport::start(first, config(1)).unwrap();
    let (two, mut two_inbound) = ElectionTransport::start(second, config(2)).unwrap();
    one.send(Sid(2), &note(1, 1));
    assert_eq!(next_message(&mut two_inbound).await, (Sid(1), note(1, 1)));
    two.send(Sid(1), &note(2, 1));
    assert_eq!(next_message(&mut one_inbound).await, (Sid(2), note(2, 1)));
    // Server 2 restarts on the same port.
    drop(two);
    drop(two_inbound);
    let listener = tokio::time::timeout(GUARD, async {
        loop {
            match TcpListener::bind(addresses[&Sid(2)]).await {
                Ok(listener) => return listener,
                Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            }
        }
    })
    .await
    .expect("the port frees up");
    let (two, mut two_inbound) = ElectionTransport::start(listener, config(2)).unwrap();
    // The restarted server speaks first; server 1's send task restarts with nothing queued and
    // re-sends the last vote it had sent to 2, as ZooKeeper does.
    two.send(Sid(1), &note(2, 2));
    assert_eq!(next_message(&mut one_inbound).await, (Sid(2), note(2, 2)));
    assert_eq!(next_message(&mut two_inbound).await, (Sid(1), note(1, 1)));
    one.send(Sid(2), &note(1, 3));
    assert_eq!(next_message(&mut two_inbound).await, (Sid(1), note(1, 3)));
}

#[tokio::test]
async fn three_servers_elect_the_largest_sid_over_tcp() {
    let nodes = cluster(3).await;
    let voters: Vec<Sid> = (1..=3).map(Sid).collect();
    let quorum = QuorumVerifier::majority(voters.clone()).unwrap();
    let mut drivers = Vec::new();
    for (transport, inbound) in nodes {
        let fle = FastLeaderElection::new(FleConfig::new(transport.sid(), quorum.clone()));
        drivers.push(ElectionDriver::spawn(
            transport,
            inbound,
            fle,
            voters.clone(),
            Zxid(0),
            Epoch(0),
        ));
    }
    for (i, driver) in drivers.iter_mut().enumerate() {
        let outcome = tokio::time::timeout(GUARD, driver.decided())
            .await
            .expect("decided");
        assert_eq!(outcome.vote.leader, Sid(3));
        let expected = if i == 2 {
            ServerState::Leading
        } else {
            ServerState::Following
        };
        assert_eq!(outcome.state, expected);
    }
}
