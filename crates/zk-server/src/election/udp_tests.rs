//! The UDP transport over loopback: three in-process servers elect a leader with each UDP
//! algorithm, and datagrams from unknown servers or of bad shape never reach the machine.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::UdpSocket;
use zk_auth_fle::{AuthFastLeaderElection, AuthFleConfig, AuthKey};
use zk_elect::{Election, QuorumVerifier, ServerState};
use zk_le::{LeConfig, LeMessage, LeaderElection, RequestId};
use zk_proto::{Epoch, Sid, Zxid};

use super::{DatagramMessage, UdpConfig, UdpElectionDriver, UdpTransport};

/// A guard against hangs, not a timing assertion: LeaderElection needs about a second.
const GUARD: Duration = Duration::from_secs(30);

async fn sockets(count: u64) -> (Vec<UdpSocket>, BTreeMap<Sid, SocketAddr>) {
    let mut sockets = Vec::new();
    let mut addresses = BTreeMap::new();
    for sid in 1..=count {
        let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        addresses.insert(Sid(sid), socket.local_addr().unwrap());
        sockets.push(socket);
    }
    (sockets, addresses)
}

/// Three servers with zxids 5, 9 and 7: server 2 must lead.
async fn elect<E>(build: impl Fn(Sid, &QuorumVerifier) -> E)
where
    E: Election + Send + 'static,
    E::Msg: DatagramMessage,
{
    let (sockets, addresses) = sockets(3).await;
    let voters: Vec<Sid> = addresses.keys().copied().collect();
    let quorum = QuorumVerifier::majority(voters.clone()).unwrap();
    let mut drivers = Vec::new();
    for (socket, ((&sid, _), zxid)) in sockets.into_iter().zip(addresses.iter().zip([5, 9, 7])) {
        let peers = addresses
            .iter()
            .filter(|(&p, _)| p != sid)
            .map(|(&p, &a)| (p, a))
            .collect();
        let (transport, inbound) = UdpTransport::start(socket, UdpConfig::new(sid, peers));
        let machine = build(sid, &quorum);
        drivers.push(UdpElectionDriver::spawn(
            transport,
            inbound,
            machine,
            voters.clone(),
            Zxid(zxid),
            Epoch(1),
        ));
    }
    for (i, driver) in drivers.iter_mut().enumerate() {
        let outcome = tokio::time::timeout(GUARD, driver.decided())
            .await
            .expect("decided");
        assert_eq!(outcome.vote.leader, Sid(2), "server {}", i + 1);
        let expected = if i == 1 {
            ServerState::Leading
        } else {
            ServerState::Following
        };
        assert_eq!(outcome.state, expected, "server {}", i + 1);
    }
}

#[tokio::test]
async fn three_servers_elect_with_leader_election_over_loopback() {
    elect(|sid, quorum| LeaderElection::new(LeConfig::new(sid, quorum.clone(), 31 * sid.0))).await;
}

#[tokio::test]
async fn three_servers_elect_with_keyed_auth_fast_leader_election_over_loopback() {
    let key = AuthKey::new(b"a secret shared by the three").unwrap();
    elect(|sid, quorum| {
        AuthFastLeaderElection::new(
            AuthFleConfig::new(sid, quorum.clone(), 17 * sid.0).with_key(key.clone()),
        )
    })
    .await;
}

#[tokio::test]
async fn only_well_formed_datagrams_from_known_servers_reach_the_machine() {
    let (mut sockets, addresses) = sockets(2).await;
    let second = sockets.pop().unwrap();
    let first = sockets.pop().unwrap();
    let peers = [(Sid(2), addresses[&Sid(2)])].into_iter().collect();
    let (_transport, mut inbound) =
        UdpTransport::<LeMessage>::start(first, UdpConfig::new(Sid(1), peers));
    let good = LeMessage::Request {
        id: RequestId { xid: 1, round: 1 },
    };
    let framed = |sid: u64, body: &[u8]| [sid.to_be_bytes().as_slice(), body].concat();
    let dropped = [
        framed(7, &good.encode()), // an unknown server
        framed(2, &[9, 9]),        // an undecodable body
        vec![0, 0, 2],             // shorter than a sid
        framed(2, &[0; 600]),      // longer than any message
    ];
    for datagram in dropped {
        second.send_to(&datagram, addresses[&Sid(1)]).await.unwrap();
    }
    second
        .send_to(&framed(2, &good.encode()), addresses[&Sid(1)])
        .await
        .unwrap();
    let received = tokio::time::timeout(GUARD, inbound.recv())
        .await
        .expect("a datagram")
        .expect("open");
    assert_eq!(
        (received.from, received.msg),
        (Sid(2), good),
        "only the well-formed datagram arrives"
    );
}
