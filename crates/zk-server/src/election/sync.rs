//! The sync facade: std's primitives normally, loom's under `cfg(all(test, loom))`, so that the
//! loom models check the same code.

#[cfg(all(test, loom))]
pub(crate) use loom::sync::Mutex;
#[cfg(not(all(test, loom)))]
pub(crate) use std::sync::Mutex;
