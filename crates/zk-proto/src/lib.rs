//! ZooKeeper's client wire protocol (jute, byte-compatible with ZooKeeper 3.8) and the ids that
//! every crate of the workspace shares.
//!
//! The crate knows nothing of sockets or async code: records encode into a `Vec<u8>` and decode
//! from a borrowed byte slice through [`jute::Reader`], which refuses any length that does not fit
//! in the bytes that are left, so decoding never panics and never allocates more than the frame
//! holds.

pub mod data;
pub mod error_code;
pub mod ids;
pub mod jute;

pub use data::{Acl, CreateMode, Id, OpCode, Perms, Stat};
pub use error_code::ErrorCode;
pub use ids::{Epoch, SessionId, Sid, Xid, Zxid};
pub use jute::{DecodeError, Reader, Record};
