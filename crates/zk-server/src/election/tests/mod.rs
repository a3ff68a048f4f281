//! Tests of the election transport: handshake and queue units, TCP scenarios, loom models.

#[cfg(loom)]
mod loom_queue;
#[cfg(not(loom))]
mod transport;
