//! A distributed lock on the same queue as the election: the lowest node holds the lock, every
//! other waiter watches only its predecessor, and a lost create reply is recovered by the
//! waiter's unique prefix.
//!
//! A lock held by a session whose connection is suspended may be lost without the holder
//! hearing of it in time; [`LockGuard::is_valid`] turns false at the suspension, and code that
//! writes elsewhere under the lock should pass [`LockGuard::fencing_token`] along.

use tracing::debug;

use super::election::FencingToken;
use super::queue::{Position, Queue};
use crate::connect_string::join_path;
use crate::error::{Error, Result};
use crate::watch::SessionState;
use crate::Client;

/// A lock at one path.
#[derive(Clone, Debug)]
pub struct DistributedLock {
    client: Client,
    path: String,
}

impl DistributedLock {
    /// The lock whose queue lives under `path` (created if missing).
    pub fn new(client: Client, path: impl Into<String>) -> DistributedLock {
        DistributedLock {
            client,
            path: path.into(),
        }
    }

    /// Waits until the lock is ours. Connection losses are ridden out; an expired session
    /// fails the attempt (our place in the queue is gone with it).
    pub async fn acquire(&self) -> Result<LockGuard> {
        let queue = Queue::new(self.client.clone(), self.path.clone());
        let (name, stat) = queue.join(b"").await?;
        let session = self.client.session_id();
        let result = async {
            loop {
                self.client.wait_connected().await?;
                if self.client.session_id() != session {
                    return Err(Error::SessionExpired);
                }
                let position = match queue.position(&name).await {
                    Ok(position) => position,
                    Err(Error::ConnectionLoss) => continue,
                    Err(error) => return Err(error),
                };
                match position {
                    Position::Head => return Ok(()),
                    Position::Missing => return Err(Error::NoNode),
                    Position::Behind { predecessor, .. } => {
                        let watched = join_path(&self.path, &predecessor);
                        match self.client.get_data_and_watch(&watched).await {
                            Ok((_, _, watcher)) => {
                                debug!(node = %name, waiting_for = %predecessor, "lock busy");
                                let event = watcher.changed().await;
                                if event.session_state == SessionState::Expired {
                                    return Err(Error::SessionExpired);
                                }
                            }
                            Err(Error::NoNode) | Err(Error::ConnectionLoss) => {}
                            Err(error) => return Err(error),
                        }
                    }
                }
            }
        }
        .await;
        match result {
            Ok(()) => Ok(LockGuard {
                queue,
                name,
                fencing_token: FencingToken(stat.czxid),
                states: self.client.state_watcher(),
                valid: true,
            }),
            Err(error) => {
                let _ = queue.leave(&name).await;
                Err(error)
            }
        }
    }
}

/// A held lock; release it with [`LockGuard::release`] (dropping it keeps the node until the
/// session ends).
#[derive(Debug)]
pub struct LockGuard {
    queue: Queue,
    name: String,
    fencing_token: FencingToken,
    states: crate::StateWatcher,
    valid: bool,
}

impl LockGuard {
    /// The lock node's czxid, increasing with every holder.
    pub fn fencing_token(&self) -> FencingToken {
        self.fencing_token
    }

    /// The lock node's name.
    pub fn node(&self) -> &str {
        &self.name
    }

    /// False once the connection has been suspended since the lock was taken.
    pub fn is_valid(&mut self) -> bool {
        while let Ok(state) = self.states.events.try_recv() {
            if state != SessionState::Connected {
                self.valid = false;
            }
        }
        self.valid && self.queue.client.state() == SessionState::Connected
    }

    /// Releases the lock (deletes our node).
    pub async fn release(self) -> Result<()> {
        self.queue.leave(&self.name).await
    }
}
