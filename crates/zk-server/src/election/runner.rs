//! One election round at a time over the configured algorithm and its transport.
//!
//! [`ElectionRunner::start`] binds the algorithm's socket for the server's lifetime and spawns
//! one task that owns the state machine: FastLeaderElection over TCP on the election port,
//! LeaderElection over UDP on the quorum port's address (UDP, so it shares the port number with
//! Zab's TCP listener), AuthFastLeaderElection over UDP on the election port, MAC-checked with
//! the ensemble's secret. [`ElectionRunner::elect`] starts a round ([`zk_elect::Input::Start`])
//! and waits for its outcome; between rounds the task keeps answering LOOKING peers with the
//! decided vote, so a restarted server finds the established leader without disturbing it.

use std::collections::BTreeMap;
use std::hash::{BuildHasher, Hasher};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, UdpSocket};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tracing::{info, warn, Instrument};
use zk_auth_fle::{AuthFastLeaderElection, AuthFleConfig, AuthKey, AuthMessage};
use zk_elect::Outcome;
use zk_fle::{FastLeaderElection, FleConfig};
use zk_le::{LeConfig, LeaderElection};
use zk_proto::{Epoch, Sid, Zxid};

use super::stepper::{self, stopped, Admit, AdmitAll, Command, Counters, Parts};
use super::transport::{ElectionTransport, TransportConfig};
use super::udp::{DatagramMessage, UdpConfig, UdpInbound, UdpTransport};
use crate::ensemble::{ElectionAlg, Ensemble};
use crate::error::ServerError;

/// How long [`ElectionRunner::start`] retries a port still held by a previous incarnation.
const BIND_RETRY_MS: u64 = 10_000;
/// Datagrams buffered for the machine: generous, so that a flood is refused, not dropped.
const UDP_INBOUND_CAPACITY: usize = 1024;

/// The election side of a cluster member, for its lifetime.
pub struct ElectionRunner {
    sid: Sid,
    election_alg: ElectionAlg,
    local_addr: SocketAddr,
    commands: mpsc::UnboundedSender<Command>,
    counters: Arc<Counters>,
    transport_rejected: Option<Arc<AtomicU64>>,
    task: JoinHandle<()>,
}

impl ElectionRunner {
    /// Binds the algorithm's transport for the server's lifetime (FLE: TCP election port; LE:
    /// UDP on the quorum port address; AuthFLE: UDP election port, with the secret if any) and
    /// starts the task that steps the machine.
    pub async fn start(ensemble: &Ensemble) -> Result<ElectionRunner, ServerError> {
        let me = ensemble.me()?.clone();
        let sid = ensemble.my_sid;
        let voters = ensemble.voters();
        let counters = Arc::new(Counters::default());
        let (commands, commands_rx) = mpsc::unbounded_channel();
        let alg = ensemble.election_alg;
        let seed = random_seed(sid);
        let span = tracing::info_span!("election", sid = %sid, alg = alg.number());
        let peers = |address: fn(&crate::ensemble::Member) -> SocketAddr| {
            ensemble
                .members
                .values()
                .filter(|m| m.sid != sid)
                .map(|m| (m.sid, address(m)))
                .collect::<BTreeMap<Sid, SocketAddr>>()
        };
        let (local_addr, transport_rejected, task) = match alg {
            ElectionAlg::FastLeaderElection => {
                let listener = bind_tcp(me.election_addr).await?;
                let local_addr = listener.local_addr().unwrap_or(me.election_addr);
                let config = TransportConfig::new(sid, peers(|m| m.election_addr));
                let (transport, inbound) =
                    ElectionTransport::start(listener, config).map_err(|source| {
                        ServerError::Bind {
                            addr: me.election_addr,
                            source,
                        }
                    })?;
                let machine = FastLeaderElection::new(FleConfig::new(sid, ensemble.quorum.clone()));
                let parts = Parts {
                    machine,
                    wire: Arc::new(transport),
                    inbound,
                    admit: AdmitAll,
                    voters,
                    counters: counters.clone(),
                };
                let task = tokio::spawn(stepper::run(parts, commands_rx).instrument(span));
                (local_addr, None, task)
            }
            ElectionAlg::LeaderElection => {
                let (local_addr, transport, inbound) =
                    start_udp(sid, me.quorum_addr, peers(|m| m.quorum_addr)).await?;
                let rejected = transport.rejected_counter();
                let machine =
                    LeaderElection::new(LeConfig::new(sid, ensemble.quorum.clone(), seed));
                let parts = Parts {
                    machine,
                    wire: transport,
                    inbound,
                    admit: AdmitAll,
                    voters,
                    counters: counters.clone(),
                };
                let task = tokio::spawn(stepper::run(parts, commands_rx).instrument(span));
                (local_addr, Some(rejected), task)
            }
            ElectionAlg::AuthFastLeaderElection => {
                let key = match &ensemble.auth_secret {
                    Some(secret) => Some(AuthKey::new(secret).map_err(|error| {
                        ServerError::Unsupported(format!("authFleSecret: {error}"))
                    })?),
                    None => None,
                };
                let (local_addr, transport, inbound) =
                    start_udp(sid, me.election_addr, peers(|m| m.election_addr)).await?;
                let rejected = transport.rejected_counter();
                let mut fle_config = AuthFleConfig::new(sid, ensemble.quorum.clone(), seed)
                    .with_observers(ensemble.observers());
                if let Some(key) = key.clone() {
                    fle_config = fle_config.with_key(key);
                }
                let machine = AuthFastLeaderElection::new(fle_config);
                let parts = Parts {
                    machine,
                    wire: transport,
                    inbound,
                    admit: MacCheck { key, me: sid },
                    voters,
                    counters: counters.clone(),
                };
                let task = tokio::spawn(stepper::run(parts, commands_rx).instrument(span));
                (local_addr, Some(rejected), task)
            }
        };
        info!(sid = %sid, alg = alg.number(), %local_addr, "election transport bound");
        Ok(ElectionRunner {
            sid,
            election_alg: alg,
            local_addr,
            commands,
            counters,
            transport_rejected,
            task,
        })
    }

    /// Runs one election from LOOKING with this server's vote (its last logged zxid and
    /// currentEpoch) and returns the outcome. Between elections the runner keeps answering
    /// LOOKING peers with the decided vote. Calling it again starts a new round.
    ///
    /// Dropping the future (in a `select!`) is safe: the round goes on answering peers, and the
    /// next call starts a new round. Should the election task have stopped (only when the
    /// runtime shuts down), the outcome is LOOKING with a vote for this server.
    pub async fn elect(&mut self, last_zxid: Zxid, current_epoch: Epoch) -> Outcome {
        let (reply, outcome) = oneshot::channel();
        let start = Command::Start {
            last_zxid,
            peer_epoch: current_epoch,
            reply,
        };
        if self.commands.send(start).is_err() {
            warn!(sid = %self.sid, "election task stopped");
            return stopped(self.sid);
        }
        match outcome.await {
            Ok(outcome) => {
                info!(sid = %self.sid, state = %outcome.state, vote = %outcome.vote, "election decided");
                outcome
            }
            Err(_) => {
                warn!(sid = %self.sid, "election task stopped before deciding");
                stopped(self.sid)
            }
        }
    }

    /// Messages (datagrams/frames) sent so far, for the benchmarks.
    pub fn messages_sent(&self) -> u64 {
        self.counters.sent.load(Ordering::Relaxed)
    }

    /// Messages refused before reaching the algorithm: datagrams of a bad shape or naming an
    /// unknown server, and (AuthFastLeaderElection with a secret) datagrams without a valid MAC.
    pub fn messages_rejected(&self) -> u64 {
        self.counters.rejected.load(Ordering::Relaxed)
            + self
                .transport_rejected
                .as_ref()
                .map_or(0, |rejected| rejected.load(Ordering::Relaxed))
    }

    /// This server's sid.
    pub fn sid(&self) -> Sid {
        self.sid
    }

    /// The algorithm this runner runs.
    pub fn election_alg(&self) -> ElectionAlg {
        self.election_alg
    }

    /// The address the election socket is bound to.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }
}

impl Drop for ElectionRunner {
    fn drop(&mut self) {
        self.task.abort();
    }
}

const _: () = {
    const fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<ElectionRunner>();
};

/// AuthFastLeaderElection with a secret: only datagrams with a valid MAC reach the machine.
struct MacCheck {
    key: Option<AuthKey>,
    me: Sid,
}

impl Admit<AuthMessage> for MacCheck {
    fn admit(&mut self, from: Sid, msg: &AuthMessage) -> bool {
        match &self.key {
            Some(key) => {
                let valid = msg.verify(key, from, self.me);
                if !valid {
                    warn!(sid = %self.me, %from, "election datagram without a valid MAC: rejected");
                }
                valid
            }
            None => true,
        }
    }
}

/// A seed that differs between incarnations (AuthFLE's tags and LE's request ids must).
fn random_seed(sid: Sid) -> u64 {
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(sid.0);
    if let Ok(elapsed) = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        hasher.write_u128(elapsed.as_nanos());
    }
    hasher.finish()
}

async fn bind_retrying<T, F, Fut>(addr: SocketAddr, bind: F) -> Result<T, ServerError>
where
    F: Fn(SocketAddr) -> Fut,
    Fut: std::future::Future<Output = std::io::Result<T>>,
{
    let give_up = tokio::time::Instant::now() + Duration::from_millis(BIND_RETRY_MS);
    loop {
        match bind(addr).await {
            Ok(bound) => return Ok(bound),
            Err(error)
                if error.kind() == std::io::ErrorKind::AddrInUse
                    && tokio::time::Instant::now() < give_up =>
            {
                // A previous incarnation's socket may still be closing.
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(source) => return Err(ServerError::Bind { addr, source }),
        }
    }
}

async fn bind_tcp(addr: SocketAddr) -> Result<TcpListener, ServerError> {
    bind_retrying(addr, TcpListener::bind).await
}

async fn bind_udp(addr: SocketAddr) -> Result<UdpSocket, ServerError> {
    bind_retrying(addr, UdpSocket::bind).await
}

/// Binds `addr` and starts a UDP transport to `peers` on it; returns the bound address, the
/// transport and its inbound queue.
async fn start_udp<M: DatagramMessage>(
    sid: Sid,
    addr: SocketAddr,
    peers: BTreeMap<Sid, SocketAddr>,
) -> Result<(SocketAddr, UdpTransport<M>, mpsc::Receiver<UdpInbound<M>>), ServerError> {
    let socket = bind_udp(addr).await?;
    let local_addr = socket.local_addr().unwrap_or(addr);
    let mut config = UdpConfig::new(sid, peers);
    config.inbound_capacity = UDP_INBOUND_CAPACITY;
    let (transport, inbound) = UdpTransport::start(socket, config);
    Ok((local_addr, transport, inbound))
}

#[cfg(test)]
mod tests {
    use zk_elect::{QuorumVerifier, ServerState};

    use super::*;
    use crate::ensemble::Member;

    const GUARD: Duration = Duration::from_secs(60);

    fn alone(alg: ElectionAlg, secret: Option<&[u8]>) -> Ensemble {
        let member = Member {
            sid: Sid(7),
            quorum_addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            election_addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            observer: false,
            client_addr: None,
        };
        Ensemble {
            my_sid: Sid(7),
            members: [(Sid(7), member)].into_iter().collect(),
            quorum: QuorumVerifier::majority([Sid(7)]).unwrap(),
            election_alg: alg,
            auth_secret: secret.map(<[u8]>::to_vec),
            tick_time_ms: 100,
            init_limit_ticks: 10,
            sync_limit_ticks: 5,
        }
    }

    #[tokio::test]
    async fn a_lone_participant_leads_with_every_algorithm_round_after_round() {
        let table = [
            (ElectionAlg::FastLeaderElection, None),
            (ElectionAlg::LeaderElection, None),
            (ElectionAlg::AuthFastLeaderElection, None),
            (
                ElectionAlg::AuthFastLeaderElection,
                Some(b"0123456789abcdef".as_slice()),
            ),
        ];
        for (alg, secret) in table {
            let mut runner = ElectionRunner::start(&alone(alg, secret)).await.unwrap();
            assert_eq!(runner.election_alg(), alg);
            assert_ne!(runner.local_addr().port(), 0, "{alg:?} bound a port");
            for (round, zxid) in [(1, 5), (2, 9)] {
                let outcome = tokio::time::timeout(GUARD, runner.elect(Zxid(zxid), Epoch(round)))
                    .await
                    .expect("decided");
                assert_eq!(outcome.state, ServerState::Leading, "{alg:?} round {round}");
                assert_eq!(
                    outcome.vote,
                    zk_elect::Vote::new(Sid(7), Zxid(zxid), Epoch(round)),
                    "{alg:?} round {round}"
                );
            }
            assert_eq!(runner.messages_rejected(), 0);
        }
    }

    #[tokio::test]
    async fn a_too_short_secret_is_refused_at_start() {
        let result = ElectionRunner::start(&alone(
            ElectionAlg::AuthFastLeaderElection,
            Some(b"short".as_slice()),
        ))
        .await;
        assert!(matches!(result, Err(ServerError::Unsupported(_))));
    }

    #[test]
    fn seeds_differ_between_incarnations() {
        assert_ne!(random_seed(Sid(1)), random_seed(Sid(1)));
    }
}
