//! Connect strings (`host:port,host:port/chroot`) and the chroot's path translation.

use crate::error::{Error, Result};

/// The default client port when a host omits it.
pub const DEFAULT_PORT: u16 = 2181;

/// One server address of a connect string.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerAddress {
    /// Host name or IP address (IPv6 without brackets).
    pub host: String,
    /// TCP port.
    pub port: u16,
}

impl std::fmt::Display for ServerAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

/// A parsed connect string: the servers in the order given, and the chroot if any.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnectString {
    /// The servers, in the order written.
    pub servers: Vec<ServerAddress>,
    /// The chroot, without a trailing slash; `None` for the server's root.
    pub chroot: Option<String>,
}

impl ConnectString {
    /// Parses `host[:port][,host[:port]...][/chroot]`; IPv6 hosts go in brackets.
    pub fn parse(text: &str) -> Result<ConnectString> {
        let bad = |why: &str| Error::InvalidConnectString(format!("{text:?}: {why}"));
        let (hosts, chroot) = match text.find('/') {
            Some(at) => (&text[..at], Some(&text[at..])),
            None => (text, None),
        };
        let chroot = match chroot {
            None | Some("/") => None,
            Some(root) => {
                validate_path(root).map_err(|_| bad("the chroot is not a valid path"))?;
                Some(root.to_owned())
            }
        };
        let mut servers = Vec::new();
        for part in hosts.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (host, port) = if let Some(rest) = part.strip_prefix('[') {
                let (host, after) = rest.split_once(']').ok_or_else(|| bad("unclosed '['"))?;
                let port = match after.strip_prefix(':') {
                    Some(port) => Some(port),
                    None if after.is_empty() => None,
                    None => return Err(bad("junk after ']'")),
                };
                (host, port)
            } else {
                match part.rsplit_once(':') {
                    Some((host, port)) => (host, Some(port)),
                    None => (part, None),
                }
            };
            let port = match port {
                Some(port) => port.parse().map_err(|_| bad("invalid port"))?,
                None => DEFAULT_PORT,
            };
            if host.is_empty() {
                return Err(bad("empty host"));
            }
            servers.push(ServerAddress {
                host: host.to_owned(),
                port,
            });
        }
        if servers.is_empty() {
            return Err(bad("no server"));
        }
        Ok(ConnectString { servers, chroot })
    }

    /// The server-side path of a client path.
    pub fn server_path(&self, client_path: &str) -> String {
        match &self.chroot {
            None => client_path.to_owned(),
            Some(root) if client_path == "/" => root.clone(),
            Some(root) => format!("{root}{client_path}"),
        }
    }

    /// The client path of a server path; paths outside the chroot pass unchanged.
    pub fn client_path(&self, server_path: &str) -> String {
        match &self.chroot {
            None => server_path.to_owned(),
            Some(root) => match server_path.strip_prefix(root.as_str()) {
                Some("") => "/".to_owned(),
                Some(rest) if rest.starts_with('/') => rest.to_owned(),
                _ => server_path.to_owned(),
            },
        }
    }
}

/// Checks a path the way ZooKeeper's `PathUtils.validatePath` does (without sequence suffix).
pub fn validate_path(path: &str) -> Result<()> {
    let bad = |why: &str| Error::BadArguments(format!("invalid path {path:?}: {why}"));
    if !path.starts_with('/') {
        return Err(bad("must start with '/'"));
    }
    if path == "/" {
        return Ok(());
    }
    if path.ends_with('/') {
        return Err(bad("must not end with '/'"));
    }
    for component in path[1..].split('/') {
        match component {
            "" => return Err(bad("empty component")),
            "." | ".." => return Err(bad("relative component")),
            _ => {}
        }
    }
    let forbidden = |c: char| matches!(c, '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}' | '\u{e000}'..='\u{f8ff}' | '\u{fff0}'..='\u{ffff}');
    if path.chars().any(forbidden) {
        return Err(bad("forbidden character"));
    }
    Ok(())
}

/// The parent of a path (`/` for top-level nodes and for `/` itself).
pub fn parent_path(path: &str) -> &str {
    match path.rfind('/') {
        Some(0) | None => "/",
        Some(at) => &path[..at],
    }
}

/// Joins a parent path and a child name.
pub fn join_path(parent: &str, child: &str) -> String {
    if parent == "/" {
        format!("/{child}")
    } else {
        format!("{parent}/{child}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_hosts_ports_and_chroot() {
        let cs = ConnectString::parse("a:1,b,[::1]:3/app/x").unwrap();
        assert_eq!(cs.servers.len(), 3);
        assert_eq!(cs.servers[0].to_string(), "a:1");
        assert_eq!(cs.servers[1].port, DEFAULT_PORT);
        assert_eq!(cs.servers[2].host, "::1");
        assert_eq!(cs.servers[2].to_string(), "[::1]:3");
        assert_eq!(cs.chroot.as_deref(), Some("/app/x"));
        assert_eq!(cs.server_path("/"), "/app/x");
        assert_eq!(cs.server_path("/n"), "/app/x/n");
        assert_eq!(cs.client_path("/app/x/n"), "/n");
        assert_eq!(cs.client_path("/app/x"), "/");
        assert_eq!(cs.client_path("/app/xy"), "/app/xy");
        assert_eq!(cs.client_path("/zookeeper/config"), "/zookeeper/config");
    }

    #[test]
    fn refuses_bad_connect_strings() {
        assert!(ConnectString::parse("").is_err());
        assert!(ConnectString::parse("a:x").is_err());
        assert!(ConnectString::parse("a:1/bad/").is_err());
        assert!(ConnectString::parse("[::1").is_err());
        assert_eq!(ConnectString::parse("a:1/").unwrap().chroot, None);
    }

    #[test]
    fn validates_paths_like_zookeeper() {
        assert!(validate_path("/").is_ok());
        assert!(validate_path("/a/b").is_ok());
        for bad in ["", "a", "/a/", "//a", "/a/./b", "/a/../b", "/a\u{0}"] {
            assert!(validate_path(bad).is_err(), "{bad:?}");
        }
        assert_eq!(parent_path("/a/b"), "/a");
        assert_eq!(parent_path("/a"), "/");
        assert_eq!(join_path("/", "a"), "/a");
        assert_eq!(join_path("/a", "b"), "/a/b");
    }
}
