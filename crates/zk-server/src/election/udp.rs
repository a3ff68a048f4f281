//! The UDP transport of LeaderElection (quorum port) and AuthFastLeaderElection (election port),
//! and a driver that steps either machine over it on tokio's clock.
//!
//! One tokio `UdpSocket` per algorithm. A datagram is the sender's sid (big-endian `u64`)
//! followed by the algorithm's own encoding ([`zk_le::LeMessage::encode`],
//! [`zk_auth_fle::AuthMessage::encode`]); for AuthFastLeaderElection the MAC binds that sid. A
//! receive task decodes datagrams from known peers into a bounded inbound queue, and a send task
//! drains a bounded send queue; both drop (and count) what does not fit, as a datagram network
//! may, and the algorithms retransmit. No connection, no handshake, no reconnection.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tracing::{debug, warn, Instrument};
use zk_auth_fle::AuthMessage;
use zk_elect::{Election, Input, Outcome};
use zk_le::LeMessage;
use zk_proto::{Epoch, Sid, Zxid};

use super::stepper::{AdmitAll, Counters, IntoInput, Parts, SingleRound, Wire};

/// The largest datagram sent or accepted (ours are well under 200 bytes).
pub const DATAGRAM_LEN_MAX: usize = 512;

/// A message that travels as one datagram body.
pub trait DatagramMessage: Sized + Send + 'static {
    /// The datagram body.
    fn encode_datagram(&self) -> Vec<u8>;
    /// The message of a datagram body, or why not.
    fn decode_datagram(bytes: &[u8]) -> Result<Self, String>;
}

impl DatagramMessage for LeMessage {
    fn encode_datagram(&self) -> Vec<u8> {
        self.encode()
    }
    fn decode_datagram(bytes: &[u8]) -> Result<LeMessage, String> {
        LeMessage::decode(bytes).map_err(|error| error.to_string())
    }
}

impl DatagramMessage for AuthMessage {
    fn encode_datagram(&self) -> Vec<u8> {
        self.encode()
    }
    fn decode_datagram(bytes: &[u8]) -> Result<AuthMessage, String> {
        AuthMessage::decode(bytes).map_err(|error| error.to_string())
    }
}

/// How the UDP transport behaves.
#[derive(Clone, Debug)]
pub struct UdpConfig {
    /// This server's sid.
    pub sid: Sid,
    /// The address of every other server on this algorithm's port.
    pub peers: BTreeMap<Sid, SocketAddr>,
    /// Datagrams queued for sending before new ones are dropped.
    pub send_queue_capacity: usize,
    /// Received messages buffered for the driver before new ones are dropped.
    pub inbound_capacity: usize,
}

impl UdpConfig {
    /// Queues of `2 * (peers + 1)` datagrams, ZooKeeper's AuthFastLeaderElection sizing.
    pub fn new(sid: Sid, peers: BTreeMap<Sid, SocketAddr>) -> UdpConfig {
        let capacity = 2 * (peers.len() + 1);
        UdpConfig {
            sid,
            peers,
            send_queue_capacity: capacity.max(16),
            inbound_capacity: capacity.max(16),
        }
    }
}

/// A received message and its sender.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UdpInbound<M> {
    /// The sid the datagram names (AuthFastLeaderElection's MAC checks it).
    pub from: Sid,
    /// The message.
    pub msg: M,
}

/// The sending half of the transport, shared with the driver.
pub struct UdpTransport<M> {
    sid: Sid,
    outbound: mpsc::Sender<(SocketAddr, Vec<u8>)>,
    peers: BTreeMap<Sid, SocketAddr>,
    dropped: Arc<AtomicU64>,
    rejected: Arc<AtomicU64>,
    tasks: Vec<JoinHandle<()>>,
    _message: core::marker::PhantomData<fn(M)>,
}

impl<M: DatagramMessage> UdpTransport<M> {
    /// Starts the receive and send tasks on `socket`; returns the transport and its inbound
    /// queue.
    pub fn start(
        socket: UdpSocket,
        config: UdpConfig,
    ) -> (UdpTransport<M>, mpsc::Receiver<UdpInbound<M>>) {
        let socket = Arc::new(socket);
        let dropped = Arc::new(AtomicU64::new(0));
        let rejected = Arc::new(AtomicU64::new(0));
        let (inbound_tx, inbound) = mpsc::channel(config.inbound_capacity.max(1));
        let (outbound, mut outbound_rx) =
            mpsc::channel::<(SocketAddr, Vec<u8>)>(config.send_queue_capacity.max(1));
        let by_sid = config.peers.clone();
        let span = tracing::info_span!("election_udp", sid = %config.sid);
        let receiver = {
            let socket = socket.clone();
            let dropped = dropped.clone();
            let rejected = rejected.clone();
            let me = config.sid;
            tokio::spawn(
                async move {
                    let mut buffer = vec![0u8; DATAGRAM_LEN_MAX + 1];
                    loop {
                        let (len, source) = match socket.recv_from(&mut buffer).await {
                            Ok(received) => received,
                            Err(error) => {
                                // ICMP errors from a peer that is down surface here on some systems.
                                debug!(sid = %me, %error, "udp receive error");
                                continue;
                            }
                        };
                        let Some(inbound) = parse::<M>(&buffer[..len], &by_sid, source, me) else {
                            rejected.fetch_add(1, Ordering::Relaxed);
                            continue;
                        };
                        if inbound_tx.try_send(inbound).is_err() {
                            dropped.fetch_add(1, Ordering::Relaxed);
                            if inbound_tx.is_closed() {
                                return;
                            }
                        }
                    }
                }
                .instrument(span.clone()),
            )
        };
        let sender = {
            let me = config.sid;
            tokio::spawn(
                async move {
                    while let Some((to, bytes)) = outbound_rx.recv().await {
                        if let Err(error) = socket.send_to(&bytes, to).await {
                            debug!(sid = %me, %to, %error, "udp send error");
                        }
                    }
                }
                .instrument(span),
            )
        };
        let transport = UdpTransport {
            sid: config.sid,
            outbound,
            peers: config.peers,
            dropped,
            rejected,
            tasks: vec![receiver, sender],
            _message: core::marker::PhantomData,
        };
        (transport, inbound)
    }

    /// This server's sid.
    pub fn sid(&self) -> Sid {
        self.sid
    }

    /// Queues `msg` for `to`; dropped (and counted) when the queue is full or `to` is unknown.
    pub fn send(&self, to: Sid, msg: &M) {
        let Some(&address) = self.peers.get(&to) else {
            warn!(sid = %self.sid, %to, "no address for peer: datagram dropped");
            return;
        };
        let mut bytes = self.sid.0.to_be_bytes().to_vec();
        bytes.extend_from_slice(&msg.encode_datagram());
        if self.outbound.try_send((address, bytes)).is_err() {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Datagrams dropped because a queue was full.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Datagrams refused on receipt: of a bad length, naming an unknown server, or undecodable.
    pub fn rejected(&self) -> u64 {
        self.rejected.load(Ordering::Relaxed)
    }

    /// The shared count behind [`UdpTransport::rejected`].
    pub(crate) fn rejected_counter(&self) -> Arc<AtomicU64> {
        self.rejected.clone()
    }
}

impl<M> Drop for UdpTransport<M> {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// A datagram from a known peer, decoded; `None` (logged) for anything else.
fn parse<M: DatagramMessage>(
    bytes: &[u8],
    peers: &BTreeMap<Sid, SocketAddr>,
    source: SocketAddr,
    me: Sid,
) -> Option<UdpInbound<M>> {
    if bytes.len() > DATAGRAM_LEN_MAX || bytes.len() < 8 {
        debug!(sid = %me, %source, len = bytes.len(), "datagram of a bad length: dropped");
        return None;
    }
    let (sid_bytes, body) = bytes.split_at(8);
    let from = Sid(u64::from_be_bytes(
        sid_bytes.try_into().expect("eight bytes"),
    ));
    if !peers.contains_key(&from) {
        debug!(sid = %me, %source, %from, "datagram naming an unknown server: dropped");
        return None;
    }
    match M::decode_datagram(body) {
        Ok(msg) => Some(UdpInbound { from, msg }),
        Err(error) => {
            debug!(sid = %me, %source, %from, %error, "undecodable datagram: dropped");
            None
        }
    }
}

impl<M: DatagramMessage> Wire<M> for UdpTransport<M> {
    fn sid(&self) -> Sid {
        UdpTransport::sid(self)
    }
    fn send(&self, to: Sid, msg: &M) {
        UdpTransport::send(self, to, msg)
    }
}

impl<M: Send + 'static> IntoInput<M> for UdpInbound<M> {
    fn into_input(self) -> Input<M> {
        Input::Recv {
            from: self.from,
            msg: self.msg,
        }
    }
}

/// A running election over UDP for one server.
pub struct UdpElectionDriver {
    round: SingleRound,
}

impl UdpElectionDriver {
    /// Starts looking for a leader with `machine`; `voters` receive broadcasts. The loop keeps
    /// running after the decision, answering peers still LOOKING.
    pub fn spawn<E>(
        transport: UdpTransport<E::Msg>,
        inbound: mpsc::Receiver<UdpInbound<E::Msg>>,
        machine: E,
        voters: Vec<Sid>,
        last_zxid: Zxid,
        peer_epoch: Epoch,
    ) -> UdpElectionDriver
    where
        E: Election + Send + 'static,
        E::Msg: DatagramMessage,
    {
        let span = tracing::info_span!("election", sid = %transport.sid(), transport = "udp");
        let parts = Parts {
            machine,
            wire: transport,
            inbound,
            admit: AdmitAll,
            voters,
            counters: Arc::new(Counters::default()),
        };
        UdpElectionDriver {
            round: SingleRound::spawn(parts, last_zxid, peer_epoch, span),
        }
    }

    /// Waits for the decision. Should the loop stop first, the outcome is LOOKING with a vote
    /// for this server.
    pub async fn decided(&mut self) -> Outcome {
        self.round.decided().await
    }
}

#[cfg(test)]
#[path = "udp_tests.rs"]
mod tests;
