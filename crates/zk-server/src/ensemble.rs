//! The ensemble described by zoo.cfg: `server.N` lines, `myid`, quorum, election algorithm.
//!
//! `server.N=host:quorumPort:electionPort[:participant|observer][;[clientHost:]clientPort]` is
//! ZooKeeper 3.8's syntax; an IPv6 host is written in brackets (`[::1]:2888:3888`). The local
//! server's sid is the decimal number in `<dataDir>/myid`. `group.G=1:2:3` and `weight.N=w` make
//! the quorum hierarchical; without them it is a majority of the participants. Host names are
//! resolved once, at start-up, with std's blocking resolver.

use std::collections::{BTreeMap, BTreeSet};
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::Path;

use tracing::warn;
use zk_elect::{HierarchicalQuorum, QuorumVerifier};
use zk_proto::Sid;

use crate::config::{Config, ServerLine};
use crate::error::{ConfigError, ServerError};

/// The election algorithm (`electionAlg`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ElectionAlg {
    /// `electionAlg=1` (or 0): LeaderElection over UDP on the quorum port.
    LeaderElection,
    /// `electionAlg=2`: AuthFastLeaderElection over UDP on the election port.
    AuthFastLeaderElection,
    /// `electionAlg=3` (the default): FastLeaderElection over TCP on the election port.
    FastLeaderElection,
}

impl ElectionAlg {
    /// The algorithm of an `electionAlg` value (0 is LeaderElection's old number).
    pub fn from_number(number: u32) -> Option<ElectionAlg> {
        match number {
            0 | 1 => Some(ElectionAlg::LeaderElection),
            2 => Some(ElectionAlg::AuthFastLeaderElection),
            3 => Some(ElectionAlg::FastLeaderElection),
            _ => None,
        }
    }

    /// The `electionAlg` number.
    pub fn number(self) -> u32 {
        match self {
            ElectionAlg::LeaderElection => 1,
            ElectionAlg::AuthFastLeaderElection => 2,
            ElectionAlg::FastLeaderElection => 3,
        }
    }
}

/// One server of the ensemble, from its `server.N` line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    /// The `N` of `server.N`.
    pub sid: Sid,
    /// `host:quorumPort`: Zab over TCP, and LeaderElection's UDP.
    pub quorum_addr: SocketAddr,
    /// `host:electionPort`: FastLeaderElection over TCP, AuthFastLeaderElection over UDP.
    pub election_addr: SocketAddr,
    /// Whether it is an observer (never votes, never leads).
    pub observer: bool,
    /// The client address given after `;`, if any (`0.0.0.0:port` when only a port is given).
    pub client_addr: Option<SocketAddr>,
}

/// The ensemble this server belongs to.
#[derive(Clone, Debug)]
pub struct Ensemble {
    /// This server's sid (`myid`).
    pub my_sid: Sid,
    /// Every member, this server included.
    pub members: BTreeMap<Sid, Member>,
    /// Who votes and what a quorum is: a majority of the participants, or hierarchical.
    pub quorum: QuorumVerifier,
    /// The election algorithm.
    pub election_alg: ElectionAlg,
    /// AuthFastLeaderElection's secret (`authFleSecret`, or the key file's contents, trimmed).
    pub auth_secret: Option<Vec<u8>>,
    /// `tickTime`.
    pub tick_time_ms: u64,
    /// `initLimit`, in ticks.
    pub init_limit_ticks: u64,
    /// `syncLimit`, in ticks.
    pub sync_limit_ticks: u64,
}

impl Ensemble {
    /// The ensemble of `config`, or `None` when the config has no `server.N` lines
    /// (standalone). Reads `<dataDir>/myid` (ZooKeeper's format: the decimal sid, whitespace
    /// trimmed) and, for AuthFastLeaderElection, the key file.
    pub fn from_config(config: &Config) -> Result<Option<Ensemble>, ConfigError> {
        if config.servers.is_empty() {
            return Ok(None);
        }
        let my_sid = read_myid(&config.data_dir)?;
        Ensemble::from_config_with_myid(config, my_sid).map(Some)
    }

    /// As [`Ensemble::from_config`], with the sid given instead of read from `myid`.
    pub fn from_config_with_myid(config: &Config, my_sid: Sid) -> Result<Ensemble, ConfigError> {
        let election_alg =
            ElectionAlg::from_number(config.election_alg).ok_or_else(|| ConfigError::Invalid {
                key: "electionAlg".into(),
                line: 0,
                reason: format!("electionAlg {} is not supported", config.election_alg),
            })?;
        let Some(init_limit) = config.init_limit else {
            return Err(ConfigError::Missing { key: "initLimit" });
        };
        let Some(sync_limit) = config.sync_limit else {
            return Err(ConfigError::Missing { key: "syncLimit" });
        };
        let mut members = BTreeMap::new();
        let mut lines: BTreeMap<Sid, usize> = BTreeMap::new();
        for server in &config.servers {
            let member = parse_member(server)?;
            if let Some(first) = lines.insert(member.sid, server.line) {
                return Err(server_error(
                    server,
                    format!("server.{} is already defined at line {first}", member.sid),
                ));
            }
            members.insert(member.sid, member);
        }
        check_addresses(config, &members)?;
        let Some(me) = members.get_mut(&my_sid) else {
            return Err(ConfigError::Invalid {
                key: "myid".into(),
                line: 0,
                reason: format!("my id {my_sid} not in the peer list"),
            });
        };
        if config.peer_type.as_deref() == Some("observer") && !me.observer {
            warn!(sid = %my_sid, "peerType=observer: this server observes (its server.N line says participant)");
            me.observer = true;
        } else if config.peer_type.as_deref() == Some("participant") && me.observer {
            warn!(sid = %my_sid, "peerType=participant but the server.N line says observer: observing");
        }
        let participants: Vec<Sid> = members
            .values()
            .filter(|m| !m.observer)
            .map(|m| m.sid)
            .collect();
        if participants.is_empty() {
            return Err(ConfigError::Invalid {
                key: "server".into(),
                line: 0,
                reason: "no participant: at least one server.N must not be an observer".into(),
            });
        }
        let quorum = quorum_verifier(config, &members, &participants)?;
        let auth_secret = auth_secret(config, election_alg)?;
        Ok(Ensemble {
            my_sid,
            members,
            quorum,
            election_alg,
            auth_secret,
            tick_time_ms: u64::from(config.tick_time_ms),
            init_limit_ticks: u64::from(init_limit),
            sync_limit_ticks: u64::from(sync_limit),
        })
    }

    /// This server's member entry: always there in an `Ensemble` built by
    /// [`Ensemble::from_config`]; for one built by hand without it, an error naming the sid.
    pub fn me(&self) -> Result<&Member, ServerError> {
        self.members.get(&self.my_sid).ok_or_else(|| {
            ServerError::Unsupported(format!(
                "server {} is not among the ensemble's server.N lines",
                self.my_sid
            ))
        })
    }

    /// Whether this server is an observer.
    pub fn is_observer(&self) -> bool {
        !self.quorum.is_voter(self.my_sid)
    }

    /// The voting members, in sid order.
    pub fn voters(&self) -> Vec<Sid> {
        self.quorum.voters()
    }

    /// The observers, in sid order.
    pub fn observers(&self) -> Vec<Sid> {
        self.members
            .keys()
            .copied()
            .filter(|&sid| !self.quorum.is_voter(sid))
            .collect()
    }
}

/// Reads `<data_dir>/myid`.
pub fn read_myid(data_dir: &Path) -> Result<Sid, ConfigError> {
    let path = data_dir.join("myid");
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            return Err(ConfigError::Invalid {
                key: "myid".into(),
                line: 0,
                reason: format!("{} file is missing", path.display()),
            });
        }
        Err(source) => return Err(ConfigError::Read { path, source }),
    };
    let text = text.trim();
    text.parse::<u64>()
        .map(Sid)
        .map_err(|_| ConfigError::Invalid {
            key: "myid".into(),
            line: 0,
            reason: format!("serverid {text:?} is not a number (in {})", path.display()),
        })
}

fn server_error(server: &ServerLine, reason: String) -> ConfigError {
    ConfigError::Invalid {
        key: format!("server.{}", server.sid),
        line: server.line,
        reason,
    }
}

const SERVER_FORM: &str = "does not have the form server_config or server_config;client_config \
     where server_config is host:port:port or host:port:port:type and client_config is port or \
     host:port";

/// Splits `host:rest` where host may be `[v6]`; returns the host and the parts after it.
fn split_host(text: &str) -> Option<(String, Vec<&str>)> {
    if let Some(bracketed) = text.strip_prefix('[') {
        let (host, rest) = bracketed.split_once(']')?;
        if host.is_empty() {
            return None;
        }
        let rest = rest.strip_prefix(':')?;
        Some((host.to_owned(), rest.split(':').collect()))
    } else {
        let mut parts = text.split(':');
        let host = parts.next()?;
        if host.is_empty() {
            return None;
        }
        Some((host.to_owned(), parts.collect()))
    }
}

fn parse_port(server: &ServerLine, text: &str, what: &str) -> Result<u16, ConfigError> {
    match text.trim().parse::<u16>() {
        Ok(port) if port > 0 => Ok(port),
        _ => Err(server_error(
            server,
            format!("{text:?} is not a valid {what} port"),
        )),
    }
}

fn resolve(server: &ServerLine, host: &str, port: u16) -> Result<SocketAddr, ConfigError> {
    let mut addresses = (host, port)
        .to_socket_addrs()
        .map_err(|error| server_error(server, format!("cannot resolve {host:?}: {error}")))?;
    addresses
        .next()
        .ok_or_else(|| server_error(server, format!("{host:?} resolves to no address")))
}

fn parse_member(server: &ServerLine) -> Result<Member, ConfigError> {
    let spec = server.spec.trim();
    let bad = || server_error(server, format!("{spec:?} {SERVER_FORM}"));
    let mut halves = spec.split(';');
    let server_part = halves.next().unwrap_or_default().trim();
    let client_part = halves.next().map(str::trim);
    if halves.next().is_some() {
        return Err(bad());
    }
    let (host, parts) = split_host(server_part).ok_or_else(bad)?;
    if parts.len() != 2 && parts.len() != 3 {
        return Err(bad());
    }
    let quorum_port = parse_port(server, parts[0], "quorum")?;
    let election_port = parse_port(server, parts[1], "election")?;
    let observer = match parts.get(2).map(|t| t.trim().to_ascii_lowercase()) {
        None => false,
        Some(t) if t == "participant" => false,
        Some(t) if t == "observer" => true,
        Some(t) => {
            return Err(server_error(
                server,
                format!("unrecognised peer type {t:?}: expected participant or observer"),
            ))
        }
    };
    if quorum_port == election_port {
        return Err(server_error(
            server,
            format!("quorum port {quorum_port} and election port are the same"),
        ));
    }
    let quorum_addr = resolve(server, &host, quorum_port)?;
    let election_addr = resolve(server, &host, election_port)?;
    let client_addr = match client_part {
        None => None,
        Some("") => return Err(bad()),
        Some(client) => {
            let (client_host, port) = if client.starts_with('[') {
                let (host, parts) = split_host(client).ok_or_else(bad)?;
                if parts.len() != 1 {
                    return Err(bad());
                }
                (host, parts[0])
            } else {
                match client.rsplit_once(':') {
                    Some((host, _)) if host.is_empty() || host.contains(':') => return Err(bad()),
                    Some((host, port)) => (host.to_owned(), port),
                    None => ("0.0.0.0".to_owned(), client),
                }
            };
            let port = parse_port(server, port, "client")?;
            Some(resolve(server, &client_host, port)?)
        }
    };
    Ok(Member {
        sid: server.sid,
        quorum_addr,
        election_addr,
        observer,
        client_addr,
    })
}

/// No two members share an address, and no member's client address is another's peer port.
fn check_addresses(config: &Config, members: &BTreeMap<Sid, Member>) -> Result<(), ConfigError> {
    let mut used: BTreeMap<SocketAddr, (Sid, &'static str)> = BTreeMap::new();
    for member in members.values() {
        for (address, what) in [
            (member.quorum_addr, "quorum"),
            (member.election_addr, "election"),
        ] {
            if let Some((other, other_what)) = used.insert(address, (member.sid, what)) {
                let line = config
                    .servers
                    .iter()
                    .find(|s| s.sid == member.sid)
                    .map_or(0, |s| s.line);
                return Err(ConfigError::Invalid {
                    key: format!("server.{}", member.sid),
                    line,
                    reason: format!(
                        "{what} address {address} is already the {other_what} address of server.{other}"
                    ),
                });
            }
        }
    }
    for member in members.values() {
        if let Some(client) = member.client_addr {
            if let Some((other, what)) = used.get(&client) {
                return Err(ConfigError::Invalid {
                    key: format!("server.{}", member.sid),
                    line: 0,
                    reason: format!(
                        "client address {client} is the {what} address of server.{other}"
                    ),
                });
            }
        }
    }
    Ok(())
}

fn quorum_verifier(
    config: &Config,
    members: &BTreeMap<Sid, Member>,
    participants: &[Sid],
) -> Result<QuorumVerifier, ConfigError> {
    let quorum_error = |line: usize, key: &str, reason: String| ConfigError::Invalid {
        key: key.to_owned(),
        line,
        reason,
    };
    if config.quorum_keys.is_empty() {
        return QuorumVerifier::majority(participants.iter().copied())
            .map_err(|error| quorum_error(0, "server", error.to_string()));
    }
    // Each key alone first, so that an error names its line.
    for (line, key, value) in &config.quorum_keys {
        if let Some(number) = key.strip_prefix("group.") {
            if number.parse::<u64>().is_err() {
                return Err(quorum_error(*line, key, "not a group number".into()));
            }
            for part in value.split(':') {
                let sid = part.trim().parse::<u64>().map(Sid).map_err(|_| {
                    quorum_error(*line, key, format!("{part:?} is not a server id"))
                })?;
                match members.get(&sid) {
                    None => {
                        return Err(quorum_error(
                            *line,
                            key,
                            format!("server {sid} is not defined by a server.N line"),
                        ))
                    }
                    Some(member) if member.observer => {
                        return Err(quorum_error(
                            *line,
                            key,
                            format!("server {sid} is an observer and cannot be in a group"),
                        ))
                    }
                    Some(_) => {}
                }
            }
        } else if let Some(number) = key.strip_prefix("weight.") {
            if number.parse::<u64>().is_err() {
                return Err(quorum_error(*line, key, "not a server id".into()));
            }
            if value.trim().parse::<u64>().is_err() {
                return Err(quorum_error(
                    *line,
                    key,
                    format!("{value:?} is not a weight"),
                ));
            }
        }
    }
    let hierarchical = HierarchicalQuorum::from_properties(
        config
            .quorum_keys
            .iter()
            .map(|(_, key, value)| (key.as_str(), value.as_str())),
    )
    .map_err(|error| quorum_error(0, "group", error.to_string()))?;
    let verifier = QuorumVerifier::Hierarchical(hierarchical);
    let grouped: BTreeSet<Sid> = verifier.voters().into_iter().collect();
    if let Some(missing) = participants.iter().find(|sid| !grouped.contains(sid)) {
        return Err(quorum_error(
            0,
            "group",
            format!("server {missing} is a participant in no group"),
        ));
    }
    Ok(verifier)
}

fn auth_secret(config: &Config, alg: ElectionAlg) -> Result<Option<Vec<u8>>, ConfigError> {
    if alg != ElectionAlg::AuthFastLeaderElection {
        return Ok(None);
    }
    let (key, secret) = if let Some(secret) = &config.auth_fle_secret {
        ("authFleSecret", secret.as_bytes().to_vec())
    } else if let Some(path) = &config.auth_fle_key_file {
        let bytes = std::fs::read(path).map_err(|source| ConfigError::Read {
            path: path.clone(),
            source,
        })?;
        ("authFleKeyFile", bytes)
    } else {
        return Ok(None);
    };
    let secret = secret.trim_ascii().to_vec();
    zk_auth_fle::AuthKey::new(&secret).map_err(|error| ConfigError::Invalid {
        key: key.into(),
        line: 0,
        reason: error.to_string(),
    })?;
    Ok(Some(secret))
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;
    use std::sync::atomic::{AtomicU64, Ordering};

    use super::*;

    const BASE: &str = "tickTime=2000\ninitLimit=10\nsyncLimit=5\nclientPort=2181\n";

    fn config(extra: &str) -> Config {
        Config::parse(&format!("{BASE}dataDir=/nonexistent\n{extra}")).unwrap()
    }

    fn ensemble(extra: &str, myid: u64) -> Result<Ensemble, ConfigError> {
        Ensemble::from_config_with_myid(&config(extra), Sid(myid))
    }

    fn reason(error: ConfigError) -> (String, usize, String) {
        match error {
            ConfigError::Invalid { key, line, reason } => (key, line, reason),
            other => (String::new(), 0, other.to_string()),
        }
    }

    fn temp_dir() -> PathBuf {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let dir = std::env::temp_dir().join(format!(
            "zk-ensemble-test-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    const THREE: &str = "server.1=127.0.0.1:2888:3888\n\
                         server.2=127.0.0.1:2889:3889:participant;2182\n\
                         server.3=127.0.0.1:2890:3890:observer;127.0.0.1:2183\n";

    #[test]
    fn no_server_lines_is_standalone() {
        assert!(Ensemble::from_config(&config("")).unwrap().is_none());
    }

    #[test]
    fn server_lines_give_members_quorum_and_limits() {
        let e = ensemble(THREE, 2).unwrap();
        assert_eq!(e.my_sid, Sid(2));
        assert_eq!(e.members.len(), 3);
        let one = &e.members[&Sid(1)];
        assert_eq!(one.quorum_addr, "127.0.0.1:2888".parse().unwrap());
        assert_eq!(one.election_addr, "127.0.0.1:3888".parse().unwrap());
        assert!(!one.observer);
        assert_eq!(one.client_addr, None);
        assert_eq!(
            e.me().unwrap().client_addr,
            Some("0.0.0.0:2182".parse().unwrap())
        );
        let three = &e.members[&Sid(3)];
        assert!(three.observer);
        assert_eq!(three.client_addr, Some("127.0.0.1:2183".parse().unwrap()));
        assert_eq!(e.voters(), vec![Sid(1), Sid(2)]);
        assert_eq!(e.observers(), vec![Sid(3)]);
        assert!(!e.is_observer());
        assert!(ensemble(THREE, 3).unwrap().is_observer());
        // Built by hand without this server's line: an error that names it, not a placeholder.
        let mut stranger = ensemble(THREE, 2).unwrap();
        stranger.my_sid = Sid(9);
        let error = stranger.me().map(|m| m.sid).unwrap_err().to_string();
        assert!(error.contains("server 9"), "{error}");
        assert_eq!(e.election_alg, ElectionAlg::FastLeaderElection);
        assert_eq!(
            (e.tick_time_ms, e.init_limit_ticks, e.sync_limit_ticks),
            (2000, 10, 5)
        );
        assert!(matches!(e.quorum, QuorumVerifier::Majority(_)));
        assert_eq!(e.auth_secret, None);
    }

    #[test]
    fn ipv6_hosts_in_brackets_and_host_names_resolve() {
        let e = ensemble(
            "server.1=[::1]:2888:3888;[::1]:2181\nserver.2=localhost:2889:3889\n",
            1,
        )
        .unwrap();
        assert_eq!(e.me().unwrap().quorum_addr, "[::1]:2888".parse().unwrap());
        assert_eq!(
            e.me().unwrap().client_addr,
            Some("[::1]:2181".parse().unwrap())
        );
        assert!(e.members[&Sid(2)].election_addr.ip().is_loopback());
        assert_eq!(e.members[&Sid(2)].election_addr.port(), 3889);
    }

    #[test]
    fn peer_type_observer_makes_the_local_server_observe() {
        let e = ensemble(&format!("peerType=observer\n{THREE}"), 1).unwrap();
        assert!(e.is_observer());
        assert_eq!(e.voters(), vec![Sid(2)]);
    }

    #[test]
    fn bad_server_lines_are_refused_with_their_line() {
        // (server lines, why), the bad line is always line 6 (after BASE and dataDir).
        let table = [
            ("server.1=127.0.0.1:x:3888", "bad quorum port"),
            ("server.1=127.0.0.1:2888:99999", "bad election port"),
            ("server.1=127.0.0.1:2888:3888:leader", "unknown type"),
            ("server.1=127.0.0.1:2888:3888:observer:x", "too many parts"),
            ("server.1=[::1:2888:3888", "unclosed bracket"),
            ("server.1=127.0.0.1:2888:3888;", "empty client part"),
            ("server.1=127.0.0.1:2888:3888;a;b", "two client parts"),
            ("server.1=127.0.0.1:2888:3888;0", "client port 0"),
            (
                "server.1=127.0.0.1:2888:2888",
                "quorum port equals election port",
            ),
            (
                "server.1=no-such-host.invalid:2888:3888",
                "unresolvable host",
            ),
        ];
        for (line, why) in table {
            let error = ensemble(&format!("{line}\n"), 1).unwrap_err();
            let (key, line_no, text) = reason(error);
            assert_eq!((key.as_str(), line_no), ("server.1", 6), "{why}: {text}");
        }
    }

    #[test]
    fn duplicate_sids_and_addresses_are_refused() {
        let (_, line, text) = reason(
            ensemble(
                "server.1=127.0.0.1:2888:3888\nserver.1=127.0.0.1:2889:3889\n",
                1,
            )
            .unwrap_err(),
        );
        assert_eq!(line, 7);
        assert!(text.contains("already defined at line 6"), "{text}");
        let (key, _, text) = reason(
            ensemble(
                "server.1=127.0.0.1:2888:3888\nserver.2=127.0.0.1:3888:3889\n",
                1,
            )
            .unwrap_err(),
        );
        assert_eq!(key, "server.2");
        assert!(text.contains("election address of server.1"), "{text}");
        let (_, _, text) = reason(
            ensemble(
                "server.1=127.0.0.1:2888:3888;127.0.0.1:2889\nserver.2=127.0.0.1:2889:3889\n",
                1,
            )
            .unwrap_err(),
        );
        assert!(text.contains("client address"), "{text}");
    }

    #[test]
    fn myid_must_be_listed_and_limits_set_and_a_participant_exist() {
        let (key, _, text) = reason(ensemble(THREE, 9).unwrap_err());
        assert_eq!(key, "myid");
        assert!(text.contains("not in the peer list"), "{text}");
        let no_init = Config::parse(&format!(
            "tickTime=2000\nsyncLimit=5\nclientPort=1\ndataDir=/d\n{THREE}"
        ))
        .unwrap();
        let error = Ensemble::from_config_with_myid(&no_init, Sid(1)).unwrap_err();
        assert_eq!(error.to_string(), "initLimit is not set");
        let no_sync = Config::parse(&format!(
            "tickTime=2000\ninitLimit=5\nclientPort=1\ndataDir=/d\n{THREE}"
        ))
        .unwrap();
        let error = Ensemble::from_config_with_myid(&no_sync, Sid(1)).unwrap_err();
        assert_eq!(error.to_string(), "syncLimit is not set");
        let (_, _, text) =
            reason(ensemble("server.1=127.0.0.1:2888:3888:observer\n", 1).unwrap_err());
        assert!(text.contains("no participant"), "{text}");
    }

    #[test]
    fn myid_is_read_from_the_data_dir() {
        let dir = temp_dir();
        let mut config = config(THREE);
        config.data_dir = dir.clone();
        let (key, _, text) = reason(Ensemble::from_config(&config).unwrap_err());
        assert_eq!(key, "myid");
        assert!(text.contains("file is missing"), "{text}");
        std::fs::write(dir.join("myid"), "two\n").unwrap();
        let (_, _, text) = reason(Ensemble::from_config(&config).unwrap_err());
        assert!(text.contains("is not a number"), "{text}");
        std::fs::write(dir.join("myid"), " 2\n").unwrap();
        let e = Ensemble::from_config(&config).unwrap().unwrap();
        assert_eq!(e.my_sid, Sid(2));
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn groups_and_weights_make_a_hierarchical_quorum() {
        let servers = "server.1=127.0.0.1:2888:3888\nserver.2=127.0.0.1:2889:3889\n\
                       server.3=127.0.0.1:2890:3890\nserver.4=127.0.0.1:2891:3891\n";
        let e = ensemble(
            &format!("{servers}group.1=1:2\ngroup.2=3:4\nweight.1=2\nweight.4=0\n"),
            1,
        )
        .unwrap();
        assert!(matches!(e.quorum, QuorumVerifier::Hierarchical(_)));
        assert_eq!(e.quorum.weight(Sid(1)), 2);
        assert!(!e.quorum.can_lead(Sid(4)));
        assert!(e.quorum.contains_quorum([Sid(1), Sid(3)]));
        // (extra lines, why)
        let table = [
            ("group.1=1:2\n", "participants 3 and 4 in no group"),
            ("group.1=1:2\ngroup.2=3:4:9\n", "an undefined server"),
            ("group.1=1:2:x\ngroup.2=3:4\n", "a bad server id"),
            ("group.1=1:2\ngroup.2=2:3:4\n", "a server in two groups"),
            ("group.1=1:2\ngroup.2=3:4\nweight.1=x\n", "a bad weight"),
        ];
        for (extra, why) in table {
            assert!(ensemble(&format!("{servers}{extra}"), 1).is_err(), "{why}");
        }
    }

    #[test]
    fn the_auth_secret_comes_from_the_config_or_the_key_file() {
        let e = ensemble(
            &format!("electionAlg=2\nauthFleSecret=0123456789abcdef\n{THREE}"),
            1,
        )
        .unwrap();
        assert_eq!(e.election_alg, ElectionAlg::AuthFastLeaderElection);
        assert_eq!(
            e.auth_secret.as_deref(),
            Some(b"0123456789abcdef".as_slice())
        );
        let dir = temp_dir();
        let key_file = dir.join("key");
        std::fs::write(&key_file, "  a secret of enough bytes\n").unwrap();
        let e = ensemble(
            &format!(
                "electionAlg=2\nauthFleKeyFile={}\n{THREE}",
                key_file.display()
            ),
            1,
        )
        .unwrap();
        assert_eq!(
            e.auth_secret.as_deref(),
            Some(b"a secret of enough bytes".as_slice())
        );
        std::fs::write(&key_file, "short\n").unwrap();
        let error = ensemble(
            &format!(
                "electionAlg=2\nauthFleKeyFile={}\n{THREE}",
                key_file.display()
            ),
            1,
        )
        .unwrap_err();
        assert!(error.to_string().contains("authFleKeyFile"), "{error}");
        assert_eq!(
            ensemble(&format!("electionAlg=0\n{THREE}"), 1)
                .unwrap()
                .election_alg,
            ElectionAlg::LeaderElection
        );
        std::fs::remove_dir_all(dir).unwrap();
    }
}
