//! The election transport: ZooKeeper's `QuorumCnxManager` for our FastLeaderElection.
//!
//! One TCP connection per pair of servers on the election port. Either side may dial, but only
//! the connection initiated by the larger sid survives: a server dialling a larger sid sends its
//! handshake and hangs up (the larger one dials back), and a server accepting a smaller sid hangs
//! up and dials back. The handshake is ZooKeeper's own (protocol version `-65536`, sid, election
//! address); frames are a big-endian `int` length and a [`zk_fle::Notification`] encoded by
//! [`zk_fle::Notification::encode`].
//!
//! Each peer has a bounded send queue ([`queue::SendQueue`], drop-oldest, since only the newest
//! vote matters) drained by one task that owns the connection's write half, reconnects with
//! exponential back-off, and, when a connection (re)starts with nothing queued, re-sends the last
//! message it sent (as `QuorumCnxManager` does, so that a vote lost with a connection is not lost
//! for good). [`driver::ElectionDriver`] steps a [`zk_fle::FastLeaderElection`] over the transport;
//! [`udp`] carries LeaderElection and AuthFastLeaderElection as datagrams;
//! [`runner::ElectionRunner`] runs any of the three algorithms for a server's lifetime, one
//! election at a time. The TCP transport does not authenticate peers: only
//! AuthFastLeaderElection with a secret checks a MAC on every message.

pub mod driver;
pub mod handshake;
pub mod queue;
pub mod runner;
mod stepper;
mod sync;
pub mod transport;
pub mod udp;

pub use driver::ElectionDriver;
pub use transport::{ElectionTransport, Inbound, TransportConfig};

#[cfg(test)]
mod tests;
