//! The queue of EPHEMERAL_SEQUENTIAL nodes that the election and the lock stand in.
//!
//! Every member's node is `<dir>/<prefix>-n_<sequence>`, where the prefix is unique to one
//! contender. If the reply to the create is lost with the connection, the contender lists the
//! directory and finds its node again by that prefix instead of creating a second one (which
//! would stay behind as a ghost candidate until the session ends). Members are ordered by the
//! numeric value of the sequence, never by string order.

use crate::connect_string::join_path;
use crate::error::{Error, Result};
use crate::util::random_u64;
use crate::{Client, CreateMode, CreateOptions, Stat};

/// Separates a member's prefix from the sequence number the server appends.
pub const SEQUENCE_MARK: &str = "-n_";

/// A member of the queue: its node name and sequence number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    /// The node name (without the directory).
    pub name: String,
    /// The server-assigned sequence number.
    pub sequence: i32,
}

/// The sequence number of a member name, if it has our shape.
pub fn parse_sequence(name: &str) -> Option<i32> {
    let (_, suffix) = name.rsplit_once(SEQUENCE_MARK)?;
    if suffix.len() < 10 {
        return None;
    }
    suffix.parse().ok()
}

/// Members sorted by sequence number (names of another shape are ignored).
pub fn sorted_members(children: Vec<String>) -> Vec<Member> {
    let mut members: Vec<Member> = children
        .into_iter()
        .filter_map(|name| parse_sequence(&name).map(|sequence| Member { name, sequence }))
        .collect();
    members.sort_by(|a, b| {
        a.sequence
            .cmp(&b.sequence)
            .then_with(|| a.name.cmp(&b.name))
    });
    members
}

/// A fresh prefix for one contender: a letter and 16 random hex digits.
pub(crate) fn unique_prefix() -> String {
    format!("c{:016x}", random_u64())
}

/// Creates `path` and its missing ancestors as persistent nodes.
pub(crate) async fn ensure_path(client: &Client, path: &str) -> Result<()> {
    let persistent = CreateOptions::new(CreateMode::Persistent);
    let mut at = 0;
    while let Some(next) = path[at + 1..].find('/').map(|i| i + at + 1) {
        match client.create(&path[..next], b"", &persistent).await {
            Ok(_) | Err(Error::NodeExists) => {}
            Err(error) => return Err(error),
        }
        at = next;
    }
    match client.create(path, b"", &persistent).await {
        Ok(_) | Err(Error::NodeExists) => Ok(()),
        Err(error) => Err(error),
    }
}

/// Where a member stands in the queue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Position {
    /// First in line.
    Head,
    /// Behind others: the member just before us and the head.
    Behind { predecessor: String, head: String },
    /// Our node is not in the directory (any more).
    Missing,
}

/// One contender's place in a queue directory.
#[derive(Clone, Debug)]
pub(crate) struct Queue {
    pub(crate) client: Client,
    pub(crate) dir: String,
    pub(crate) prefix: String,
}

impl Queue {
    pub(crate) fn new(client: Client, dir: String) -> Queue {
        Queue {
            client,
            dir,
            prefix: unique_prefix(),
        }
    }

    fn our_prefix(&self) -> String {
        format!("{}{SEQUENCE_MARK}", self.prefix)
    }

    /// Our node if the directory already holds one (after a lost create reply).
    pub(crate) async fn find_ours(&self) -> Result<Option<(String, Stat)>> {
        let children = match self.client.get_children(&self.dir).await {
            Ok(children) => children,
            Err(Error::NoNode) => return Ok(None),
            Err(error) => return Err(error),
        };
        let ours = self.our_prefix();
        for name in children.into_iter().filter(|n| n.starts_with(&ours)) {
            if let Some(stat) = self.client.exists(&join_path(&self.dir, &name)).await? {
                return Ok(Some((name, stat)));
            }
        }
        Ok(None)
    }

    /// Joins the queue: creates our node, or finds it again when the reply was lost.
    /// Returns the node name and its stat. Connection losses are retried once the session is
    /// back; a session expiry is returned to the caller.
    pub(crate) async fn join(&self, data: &[u8]) -> Result<(String, Stat)> {
        let options = CreateOptions::new(CreateMode::EphemeralSequential);
        let path = join_path(&self.dir, &self.our_prefix());
        let mut look_first = false;
        loop {
            if look_first {
                self.client.wait_connected().await?;
                match self.find_ours().await {
                    Ok(Some(found)) => {
                        tracing::info!(node = %found.0, "found our node after a lost create reply");
                        return Ok(found);
                    }
                    Ok(None) => {}
                    Err(Error::ConnectionLoss) => continue,
                    Err(error) => return Err(error),
                }
            }
            match self.client.create(&path, data, &options).await {
                Ok((created, stat)) => {
                    let name = created.rsplit('/').next().unwrap_or_default().to_owned();
                    return Ok((name, stat));
                }
                Err(Error::ConnectionLoss) => look_first = true,
                Err(Error::NoNode) => ensure_path(&self.client, &self.dir).await?,
                Err(error) => return Err(error),
            }
        }
    }

    /// Where `name` stands now.
    pub(crate) async fn position(&self, name: &str) -> Result<Position> {
        let members = match self.client.get_children(&self.dir).await {
            Ok(children) => sorted_members(children),
            Err(Error::NoNode) => return Ok(Position::Missing),
            Err(error) => return Err(error),
        };
        let Some(index) = members.iter().position(|m| m.name == name) else {
            return Ok(Position::Missing);
        };
        if index == 0 {
            return Ok(Position::Head);
        }
        Ok(Position::Behind {
            predecessor: members[index - 1].name.clone(),
            head: members[0].name.clone(),
        })
    }

    /// Deletes our node, whatever its version; a node already gone is fine.
    pub(crate) async fn leave(&self, name: &str) -> Result<()> {
        match self.client.delete(&join_path(&self.dir, name), None).await {
            Ok(()) | Err(Error::NoNode) => Ok(()),
            Err(error) => Err(error),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequence_order_is_numeric_not_lexicographic() {
        let members = sorted_members(vec![
            "cb-n_0000000010".into(),
            "ca-n_0000000009".into(),
            "cc-n_-2147483648".into(),
            "stray".into(),
            "cd-n_12".into(),
            "ce-n_0000000100".into(),
        ]);
        let names: Vec<&str> = members.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "cc-n_-2147483648",
                "ca-n_0000000009",
                "cb-n_0000000010",
                "ce-n_0000000100"
            ]
        );
    }

    #[test]
    fn prefixes_are_unique_and_prefix_free() {
        let a = unique_prefix();
        let b = unique_prefix();
        assert_ne!(a, b);
        assert_eq!(a.len(), 17);
        assert_eq!(
            parse_sequence(&format!("{a}{SEQUENCE_MARK}0000000007")),
            Some(7)
        );
        // "-n_" cannot occur inside a prefix, so a prefix never matches another's node.
        assert!(!a.contains(SEQUENCE_MARK));
    }
}
