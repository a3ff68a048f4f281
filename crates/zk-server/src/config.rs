//! zoo.cfg parsing: ZooKeeper's own Java-properties format and keys (`tickTime`, `dataDir`,
//! `clientPort`, ...), with ZooKeeper's defaults.
//!
//! The ensemble keys (`server.N`, `initLimit`, `syncLimit`, `peerType`, `group.N`, `weight.N`)
//! are kept as written here and interpreted by `crate::ensemble`. Unknown keys are collected as warnings
//! (ZooKeeper turns them into system properties); a bad value is an error naming the key and
//! the line.

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use zk_proto::Sid;

use crate::ensemble::ElectionAlg;
use crate::error::ConfigError;

/// ZooKeeper's default `jute.maxbuffer`: the largest frame and the largest single field.
pub const DEFAULT_JUTE_MAX_BUFFER: usize = 0xfffff;

/// Which four-letter words may run (`4lw.commands.whitelist`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FourLetterWhitelist {
    /// `*`: every command.
    All,
    /// The listed commands (lower case). `srvr` is always allowed, as in ZooKeeper.
    Only(BTreeSet<String>),
}

impl FourLetterWhitelist {
    /// Whether `word` may run.
    pub fn allows(&self, word: &str) -> bool {
        match self {
            FourLetterWhitelist::All => true,
            FourLetterWhitelist::Only(set) => word == "srvr" || set.contains(word),
        }
    }
}

impl Default for FourLetterWhitelist {
    fn default() -> Self {
        FourLetterWhitelist::Only(BTreeSet::from(["srvr".to_owned()]))
    }
}

/// One `server.N` line as written (cluster mode parses it in `crate::ensemble`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerLine {
    /// The `N` of `server.N`.
    pub sid: Sid,
    /// The value as written (`host:quorumPort:electionPort[:type][;clientAddr]`).
    pub spec: String,
    /// The line of zoo.cfg it came from.
    pub line: usize,
}

/// A parsed zoo.cfg.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// `tickTime`, the base time unit.
    pub tick_time_ms: u32,
    /// `dataDir`.
    pub data_dir: PathBuf,
    /// `dataLogDir` (defaults to `dataDir`).
    pub data_log_dir: PathBuf,
    /// `clientPort`; 0 asks the OS for a free port (tests).
    pub client_port: u16,
    /// `clientPortAddress`; `None` binds every address.
    pub client_port_address: Option<IpAddr>,
    /// `maxClientCnxns`: concurrent connections per client IP, 0 = unlimited.
    pub max_client_cnxns: u32,
    /// `minSessionTimeout` as configured (`None` = 2 x tickTime).
    pub min_session_timeout_ms: Option<u32>,
    /// `maxSessionTimeout` as configured (`None` = 20 x tickTime).
    pub max_session_timeout_ms: Option<u32>,
    /// `4lw.commands.whitelist`.
    pub four_letter_whitelist: FourLetterWhitelist,
    /// `jute.maxbuffer`.
    pub jute_max_buffer: usize,
    /// `globalOutstandingLimit`: requests in flight across all connections before reading stops.
    pub global_outstanding_limit: u32,
    /// `zookeeper.DigestAuthenticationProvider.superDigest` (`super:<base64 sha1>`), also read
    /// from the environment variable `ZK_SUPER_DIGEST` by [`Config::from_file`].
    pub super_digest: Option<String>,
    /// `extendedTypesEnabled` (TTL nodes).
    pub extended_types_enabled: bool,
    /// `nio.sessionlessCnxnTimeout`: how long a connection may stay without a ConnectRequest.
    pub sessionless_cnxn_timeout_ms: u32,
    /// `znode.container.checkIntervalMs`: how often empty containers and expired TTL nodes are
    /// looked for.
    pub container_check_interval_ms: u32,
    /// `reconfigEnabled` (kept; reconfig is refused in standalone mode anyway).
    pub reconfig_enabled: bool,
    /// `standaloneEnabled`.
    pub standalone_enabled: bool,
    /// `initLimit` (cluster mode).
    pub init_limit: Option<u32>,
    /// `syncLimit` (cluster mode).
    pub sync_limit: Option<u32>,
    /// `electionAlg`: 1 = LeaderElection (0 is accepted as its alias), 2 =
    /// AuthFastLeaderElection, 3 = FastLeaderElection (the default). See docs/configuration.md.
    pub election_alg: u32,
    /// `authFleSecret`: the shared secret that authenticates AuthFastLeaderElection messages.
    pub auth_fle_secret: Option<String>,
    /// `authFleKeyFile`: a file holding that secret (exclusive with `authFleSecret`).
    pub auth_fle_key_file: Option<PathBuf>,
    /// `peerType` (cluster mode).
    pub peer_type: Option<String>,
    /// `server.N` lines (cluster mode).
    pub servers: Vec<ServerLine>,
    /// `group.N` and `weight.N` lines (hierarchical quorums), as `(line, key, value)`.
    pub quorum_keys: Vec<(usize, String, String)>,
    /// `autopurge.snapRetainCount` (storage).
    pub autopurge_snap_retain_count: u32,
    /// `autopurge.purgeInterval` in hours, 0 = off (storage).
    pub autopurge_purge_interval_hours: u32,
    /// `snapCount` (storage).
    pub snap_count: u32,
    /// Unknown keys, as `(line, key)`: worth a warning, never an error.
    pub unknown_keys: Vec<(usize, String)>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            tick_time_ms: 3000,
            data_dir: PathBuf::from("zk-data"),
            data_log_dir: PathBuf::from("zk-data"),
            client_port: 2181,
            client_port_address: None,
            max_client_cnxns: 60,
            min_session_timeout_ms: None,
            max_session_timeout_ms: None,
            four_letter_whitelist: FourLetterWhitelist::default(),
            jute_max_buffer: DEFAULT_JUTE_MAX_BUFFER,
            global_outstanding_limit: 1000,
            super_digest: None,
            extended_types_enabled: false,
            sessionless_cnxn_timeout_ms: 10_000,
            container_check_interval_ms: 60_000,
            reconfig_enabled: false,
            standalone_enabled: true,
            init_limit: None,
            sync_limit: None,
            election_alg: 3,
            auth_fle_secret: None,
            auth_fle_key_file: None,
            peer_type: None,
            servers: Vec::new(),
            quorum_keys: Vec::new(),
            autopurge_snap_retain_count: 3,
            autopurge_purge_interval_hours: 0,
            snap_count: 100_000,
            unknown_keys: Vec::new(),
        }
    }
}

impl Config {
    /// The data tree settings: `zookeeper.extendedTypesEnabled`, and a hash key drawn at random
    /// (from the standard library's randomly keyed hasher) for every tree the server builds.
    pub(crate) fn tree_config(&self) -> zk_tree::TreeConfig {
        use std::hash::BuildHasher;
        zk_tree::TreeConfig {
            extended_types_enabled: self.extended_types_enabled,
            hash_seed: std::collections::hash_map::RandomState::new().hash_one(0x7a6b_u64),
        }
    }

    /// The configuration a bare `zk-server` runs with: port 2181 on every address, data under
    /// `./zk-data`, tickTime 3000.
    pub fn standalone_default() -> Config {
        Config::default()
    }

    /// A configuration for in-process tests: 127.0.0.1, a free port, every 4lw allowed, no
    /// connection limit, and the given tickTime.
    pub fn for_tests(tick_time_ms: u32) -> Config {
        Config {
            tick_time_ms,
            client_port: 0,
            client_port_address: Some(IpAddr::from([127, 0, 0, 1])),
            max_client_cnxns: 0,
            four_letter_whitelist: FourLetterWhitelist::All,
            ..Config::default()
        }
    }

    /// The effective minimum session timeout (`minSessionTimeout`, or 2 x tickTime).
    pub fn min_session_timeout_ms(&self) -> u32 {
        self.min_session_timeout_ms
            .unwrap_or(self.tick_time_ms.saturating_mul(2))
    }

    /// The effective maximum session timeout (`maxSessionTimeout`, or 20 x tickTime).
    pub fn max_session_timeout_ms(&self) -> u32 {
        self.max_session_timeout_ms
            .unwrap_or(self.tick_time_ms.saturating_mul(20))
    }

    /// Reads and parses a zoo.cfg, then applies `ZK_SUPER_DIGEST` from the environment when
    /// the file sets no super digest.
    pub fn from_file(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        let mut config = Config::parse(&text)?;
        if config.super_digest.is_none() {
            config.super_digest = std::env::var("ZK_SUPER_DIGEST")
                .ok()
                .filter(|v| !v.is_empty());
        }
        Ok(config)
    }

    /// Parses zoo.cfg text (Java-properties syntax: `key=value`, `key: value` or `key value`,
    /// `#`/`!` comments, `\` continuation lines).
    pub fn parse(text: &str) -> Result<Config, ConfigError> {
        let mut config = Config::default();
        let mut data_dir = None;
        let mut data_log_dir = None;
        let mut client_port = None;
        for (line_no, key, value) in logical_lines(text) {
            config.apply(
                line_no,
                &key,
                &value,
                &mut data_dir,
                &mut data_log_dir,
                &mut client_port,
            )?;
        }
        let Some(data_dir) = data_dir else {
            return Err(ConfigError::Missing { key: "dataDir" });
        };
        config.data_log_dir = data_log_dir.unwrap_or_else(|| data_dir.clone());
        config.data_dir = data_dir;
        config.client_port = client_port.ok_or(ConfigError::Missing { key: "clientPort" })?;
        if config.tick_time_ms == 0 {
            return Err(ConfigError::Invalid {
                key: "tickTime".into(),
                line: 0,
                reason: "tickTime must be positive".into(),
            });
        }
        if config.auth_fle_secret.is_some() && config.auth_fle_key_file.is_some() {
            return Err(ConfigError::Invalid {
                key: "authFleKeyFile".into(),
                line: 0,
                reason: "authFleSecret and authFleKeyFile are mutually exclusive".into(),
            });
        }
        if (config.auth_fle_secret.is_some() || config.auth_fle_key_file.is_some())
            && config.election_alg != ElectionAlg::AuthFastLeaderElection.number()
        {
            return Err(ConfigError::Invalid {
                key: "electionAlg".into(),
                line: 0,
                reason: "authFleSecret/authFleKeyFile need electionAlg=2 (AuthFastLeaderElection)"
                    .into(),
            });
        }
        if config.min_session_timeout_ms() > config.max_session_timeout_ms() {
            return Err(ConfigError::Invalid {
                key: "minSessionTimeout".into(),
                line: 0,
                reason: format!(
                    "minSessionTimeout {} must not be larger than maxSessionTimeout {}",
                    config.min_session_timeout_ms(),
                    config.max_session_timeout_ms()
                ),
            });
        }
        Ok(config)
    }

    fn apply(
        &mut self,
        line: usize,
        key: &str,
        value: &str,
        data_dir: &mut Option<PathBuf>,
        data_log_dir: &mut Option<PathBuf>,
        client_port: &mut Option<u16>,
    ) -> Result<(), ConfigError> {
        let invalid = |reason: String| ConfigError::Invalid {
            key: key.to_owned(),
            line,
            reason,
        };
        match key {
            "tickTime" => self.tick_time_ms = number(key, line, value)?,
            "dataDir" => *data_dir = Some(path_value(key, line, value)?),
            "dataLogDir" => *data_log_dir = Some(path_value(key, line, value)?),
            "clientPort" => *client_port = Some(number(key, line, value)?),
            "clientPortAddress" => {
                self.client_port_address = Some(
                    value
                        .parse()
                        .map_err(|_| invalid(format!("{value:?} is not an IP address")))?,
                )
            }
            "maxClientCnxns" => self.max_client_cnxns = number(key, line, value)?,
            "minSessionTimeout" => self.min_session_timeout_ms = non_negative(key, line, value)?,
            "maxSessionTimeout" => self.max_session_timeout_ms = non_negative(key, line, value)?,
            "4lw.commands.whitelist" | "zookeeper.4lw.commands.whitelist" => {
                self.four_letter_whitelist = parse_whitelist(value)
            }
            "jute.maxbuffer" => {
                let n: usize = number(key, line, value)?;
                if n == 0 {
                    return Err(invalid("jute.maxbuffer must be positive".into()));
                }
                self.jute_max_buffer = n;
            }
            "globalOutstandingLimit" | "zookeeper.globalOutstandingLimit" => {
                self.global_outstanding_limit = number(key, line, value)?
            }
            "zookeeper.DigestAuthenticationProvider.superDigest"
            | "DigestAuthenticationProvider.superDigest" => {
                if value
                    .split_once(':')
                    .is_none_or(|(user, _)| user.is_empty())
                {
                    return Err(invalid("expected user:base64hash".into()));
                }
                self.super_digest = Some(value.to_owned())
            }
            "extendedTypesEnabled" | "zookeeper.extendedTypesEnabled" => {
                self.extended_types_enabled = boolean(key, line, value)?
            }
            "nio.sessionlessCnxnTimeout" | "zookeeper.nio.sessionlessCnxnTimeout" => {
                self.sessionless_cnxn_timeout_ms = number(key, line, value)?
            }
            "znode.container.checkIntervalMs" | "zookeeper.znode.container.checkIntervalMs" => {
                self.container_check_interval_ms = number(key, line, value)?
            }
            "reconfigEnabled" => self.reconfig_enabled = boolean(key, line, value)?,
            "standaloneEnabled" => self.standalone_enabled = boolean(key, line, value)?,
            "initLimit" => self.init_limit = Some(number(key, line, value)?),
            "syncLimit" => self.sync_limit = Some(number(key, line, value)?),
            "electionAlg" => {
                let alg: u32 = number(key, line, value)?;
                // ZooKeeper 3.3/3.4 numbered LeaderElection 0; here it is 1.
                self.election_alg = match ElectionAlg::from_number(alg) {
                    Some(election_alg) => election_alg.number(),
                    None => {
                        return Err(invalid(format!(
                            "electionAlg {alg} is not supported: 1 (or 0) = LeaderElection, \
                             2 = AuthFastLeaderElection, 3 = FastLeaderElection"
                        )))
                    }
                };
            }
            "authFleSecret" => {
                if value.is_empty() {
                    return Err(invalid("the secret is empty".into()));
                }
                self.auth_fle_secret = Some(value.to_owned());
            }
            "authFleKeyFile" => {
                self.auth_fle_key_file = Some(path_value(key, line, value)?);
            }
            "peerType" => {
                if value != "observer" && value != "participant" {
                    return Err(invalid(format!(
                        "{value:?} is neither \"observer\" nor \"participant\""
                    )));
                }
                self.peer_type = Some(value.to_owned());
            }
            "autopurge.snapRetainCount" => {
                // ZooKeeper raises values below 3 to 3.
                self.autopurge_snap_retain_count = number::<u32>(key, line, value)?.max(3)
            }
            "autopurge.purgeInterval" => {
                self.autopurge_purge_interval_hours = number(key, line, value)?
            }
            "snapCount" | "zookeeper.snapCount" => {
                let n: u32 = number(key, line, value)?;
                if n < 2 {
                    return Err(invalid("snapCount must be at least 2".into()));
                }
                self.snap_count = n;
            }
            // Accepted and ignored: ZooKeeper's HTTP admin server and other JVM-only knobs.
            "admin.enableServer"
            | "admin.serverPort"
            | "admin.serverAddress"
            | "metricsProvider.className"
            | "preAllocSize"
            | "clientPortListenBacklog"
            | "syncEnabled"
            | "quorumListenOnAllIPs" => {}
            _ => {
                if let Some(n) = key.strip_prefix("server.") {
                    let sid: u64 = n.parse().map_err(|_| ConfigError::Invalid {
                        key: key.to_owned(),
                        line,
                        reason: format!("{n:?} is not a server id"),
                    })?;
                    if value.split(':').count() < 3 {
                        return Err(invalid(format!(
                            "{value:?} is not host:quorumPort:electionPort[:type][;clientAddr]"
                        )));
                    }
                    self.servers.push(ServerLine {
                        sid: Sid(sid),
                        spec: value.to_owned(),
                        line,
                    });
                } else if key.starts_with("group.") || key.starts_with("weight.") {
                    // Hierarchical quorums: checked with the ensemble.
                    self.quorum_keys
                        .push((line, key.to_owned(), value.to_owned()));
                } else {
                    self.unknown_keys.push((line, key.to_owned()));
                }
            }
        }
        Ok(())
    }
}

fn parse_whitelist(value: &str) -> FourLetterWhitelist {
    let words: BTreeSet<String> = value
        .split(',')
        .map(|w| w.trim().to_ascii_lowercase())
        .filter(|w| !w.is_empty())
        .collect();
    if words.contains("*") {
        FourLetterWhitelist::All
    } else {
        FourLetterWhitelist::Only(words)
    }
}

fn number<T: std::str::FromStr>(key: &str, line: usize, value: &str) -> Result<T, ConfigError> {
    value.parse().map_err(|_| ConfigError::Invalid {
        key: key.to_owned(),
        line,
        reason: format!("{value:?} is not a valid number"),
    })
}

/// ZooKeeper treats a negative session timeout as "use the default".
fn non_negative(key: &str, line: usize, value: &str) -> Result<Option<u32>, ConfigError> {
    let n: i64 = number(key, line, value)?;
    if n < 0 {
        return Ok(None);
    }
    u32::try_from(n)
        .map(Some)
        .map_err(|_| ConfigError::Invalid {
            key: key.to_owned(),
            line,
            reason: format!("{value:?} is too large"),
        })
}

fn boolean(key: &str, line: usize, value: &str) -> Result<bool, ConfigError> {
    match value.to_ascii_lowercase().as_str() {
        "true" | "yes" => Ok(true),
        "false" | "no" => Ok(false),
        _ => Err(ConfigError::Invalid {
            key: key.to_owned(),
            line,
            reason: format!("{value:?} is neither true nor false"),
        }),
    }
}

fn path_value(key: &str, line: usize, value: &str) -> Result<PathBuf, ConfigError> {
    if value.is_empty() {
        return Err(ConfigError::Invalid {
            key: key.to_owned(),
            line,
            reason: "empty path".into(),
        });
    }
    Ok(PathBuf::from(value))
}

/// Splits Java-properties text into `(first line number, key, value)`, joining `\`
/// continuations and dropping comments and blank lines.
fn logical_lines(text: &str) -> Vec<(usize, String, String)> {
    let mut out = Vec::new();
    let mut pending: Option<(usize, String)> = None;
    for (index, raw) in text.lines().enumerate() {
        let line_no = index + 1;
        let trimmed = raw.trim_start();
        let (start, mut acc) = match pending.take() {
            Some(p) => p,
            None => {
                if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with('!') {
                    continue;
                }
                (line_no, String::new())
            }
        };
        let continued = trimmed.ends_with('\\') && !trimmed.ends_with("\\\\");
        acc.push_str(if continued {
            &trimmed[..trimmed.len() - 1]
        } else {
            trimmed
        });
        if continued {
            pending = Some((start, acc));
            continue;
        }
        out.push(split_key_value(start, &acc));
    }
    if let Some((start, acc)) = pending {
        out.push(split_key_value(start, &acc));
    }
    out
}

fn split_key_value(line: usize, text: &str) -> (usize, String, String) {
    let sep = text.find(['=', ':', ' ', '\t']).unwrap_or(text.len());
    let key = text[..sep].trim().to_owned();
    let mut rest = text[sep..].trim_start();
    if let Some(r) = rest.strip_prefix(['=', ':']) {
        rest = r;
    }
    (line, key, rest.trim().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "\
# a comment
tickTime=2000
dataDir=/var/lib/zk
clientPort = 2182
clientPortAddress=127.0.0.1
maxClientCnxns=0
minSessionTimeout=5000
4lw.commands.whitelist=ruok, stat,MNTR
jute.maxbuffer=2048
autopurge.purgeInterval=1
autopurge.snapRetainCount=1
snapCount=5000
someUnknownKey=1
";

    #[test]
    fn a_good_file_parses_with_defaults_filled_in() {
        let config = Config::parse(GOOD).unwrap();
        assert_eq!(config.tick_time_ms, 2000);
        assert_eq!(config.data_dir, PathBuf::from("/var/lib/zk"));
        assert_eq!(config.data_log_dir, PathBuf::from("/var/lib/zk"));
        assert_eq!(config.client_port, 2182);
        assert_eq!(
            config.client_port_address,
            Some(IpAddr::from([127, 0, 0, 1]))
        );
        assert_eq!(config.max_client_cnxns, 0);
        assert_eq!(config.min_session_timeout_ms(), 5000);
        assert_eq!(config.max_session_timeout_ms(), 40_000);
        assert!(config.four_letter_whitelist.allows("mntr"));
        assert!(config.four_letter_whitelist.allows("srvr"));
        assert!(!config.four_letter_whitelist.allows("dump"));
        assert_eq!(config.jute_max_buffer, 2048);
        assert_eq!(config.autopurge_purge_interval_hours, 1);
        assert_eq!(config.autopurge_snap_retain_count, 3);
        assert_eq!(config.snap_count, 5000);
        assert_eq!(config.unknown_keys, vec![(13, "someUnknownKey".to_owned())]);
    }

    #[test]
    fn election_algorithms_are_numbered_one_to_three_with_zero_as_an_alias() {
        let parse = |alg: &str| Config::parse(&format!("dataDir=/d\nclientPort=1\n{alg}\n"));
        assert_eq!(parse("").unwrap().election_alg, 3);
        assert_eq!(parse("electionAlg=0").unwrap().election_alg, 1);
        assert_eq!(parse("electionAlg=1").unwrap().election_alg, 1);
        assert_eq!(parse("electionAlg=2").unwrap().election_alg, 2);
        assert_eq!(parse("electionAlg=3").unwrap().election_alg, 3);
        let error = parse("electionAlg=4").unwrap_err().to_string();
        assert!(
            error.contains("electionAlg") && error.contains("not supported"),
            "{error}"
        );
    }

    #[test]
    fn an_auth_fle_secret_needs_election_alg_two_and_only_one_source() {
        let parse = |extra: &str| Config::parse(&format!("dataDir=/d\nclientPort=1\n{extra}"));
        let config = parse("electionAlg=2\nauthFleSecret=0123456789abcdef\n").unwrap();
        assert_eq!(config.auth_fle_secret.as_deref(), Some("0123456789abcdef"));
        assert!(parse("authFleSecret=0123456789abcdef\n").is_err());
        assert!(
            parse("electionAlg=2\nauthFleSecret=0123456789abcdef\nauthFleKeyFile=/k\n").is_err()
        );
        assert!(parse("electionAlg=2\nauthFleSecret=\n").is_err());
    }

    #[test]
    fn defaults_match_zookeeper() {
        let config = Config::parse("dataDir=/d\nclientPort=2181\n").unwrap();
        assert_eq!(config.tick_time_ms, 3000);
        assert_eq!(config.max_client_cnxns, 60);
        assert_eq!(config.min_session_timeout_ms(), 6000);
        assert_eq!(config.max_session_timeout_ms(), 60_000);
        assert_eq!(config.jute_max_buffer, 0xfffff);
        assert_eq!(config.four_letter_whitelist, FourLetterWhitelist::default());
        assert!(!config.four_letter_whitelist.allows("ruok"));
        assert_eq!(config.client_port_address, None);
    }

    #[test]
    fn star_whitelists_everything() {
        let config = Config::parse("dataDir=/d\nclientPort=1\n4lw.commands.whitelist=*\n").unwrap();
        assert_eq!(config.four_letter_whitelist, FourLetterWhitelist::All);
    }

    #[test]
    fn a_bad_number_names_the_key_and_line() {
        let err = Config::parse("dataDir=/d\nclientPort=2181\ntickTime=abc\n").unwrap_err();
        let text = err.to_string();
        assert!(text.contains("tickTime"), "{text}");
        assert!(text.contains("line 3"), "{text}");
    }

    #[test]
    fn a_bad_address_is_an_error() {
        let err =
            Config::parse("dataDir=/d\nclientPort=1\nclientPortAddress=nowhere\n").unwrap_err();
        assert!(
            matches!(err, ConfigError::Invalid { ref key, line: 3, .. } if key == "clientPortAddress")
        );
    }

    #[test]
    fn missing_data_dir_is_an_error() {
        assert!(matches!(
            Config::parse("clientPort=2181\n"),
            Err(ConfigError::Missing { key: "dataDir" })
        ));
    }

    #[test]
    fn min_above_max_session_timeout_is_an_error() {
        let err = Config::parse(
            "dataDir=/d\nclientPort=1\nminSessionTimeout=9000\nmaxSessionTimeout=8000\n",
        )
        .unwrap_err();
        assert!(err.to_string().contains("minSessionTimeout"));
    }

    #[test]
    fn server_lines_are_kept_for_cluster_mode() {
        let config = Config::parse(
            "dataDir=/d\nclientPort=1\ninitLimit=5\nsyncLimit=2\nserver.1=a:2888:3888\nserver.2=b:2888:3888:observer;2181\n",
        )
        .unwrap();
        assert_eq!(config.servers.len(), 2);
        assert_eq!(config.servers[1].sid, Sid(2));
        assert_eq!(config.init_limit, Some(5));
        assert!(matches!(
            Config::parse("dataDir=/d\nclientPort=1\nserver.x=a:1:2\n"),
            Err(ConfigError::Invalid { line: 3, .. })
        ));
        assert!(matches!(
            Config::parse("dataDir=/d\nclientPort=1\nserver.1=a\n"),
            Err(ConfigError::Invalid { line: 3, .. })
        ));
    }

    #[test]
    fn continuation_lines_and_colon_separators_are_joined() {
        let config = Config::parse("dataDir: /d\nclientPort=21\\\n  81\n").unwrap();
        assert_eq!(config.client_port, 2181);
        assert_eq!(config.data_dir, PathBuf::from("/d"));
    }

    #[test]
    fn a_bad_boolean_is_an_error() {
        assert!(Config::parse("dataDir=/d\nclientPort=1\nreconfigEnabled=maybe\n").is_err());
    }
}
