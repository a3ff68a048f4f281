//! ZooKeeper's client wire protocol (jute, byte-compatible with ZooKeeper 3.8) and the ids that
//! every crate of the workspace shares.
//!
//! The crate knows nothing of sockets or async code: records encode into a `Vec<u8>` and decode
//! from a borrowed byte slice through [`jute::Reader`], which refuses any length that does not fit
//! in the bytes that are left, so decoding never panics and allocates at most a small multiple of
//! the frame's size (`tests/allocation.rs` measures it: at most 32 bytes per input byte).
//!
//! Byte compatibility is checked against ZooKeeper 3.8.0's own jute classes:
//! `tests/java/JuteVectors.java` serializes a record of every family with them, and
//! `tests/java_vectors.rs` checks that we write the same bytes and read them back.
//!
//! One module per record family:
//!
//! * [`frame`]: the 4-byte length prefix and `jute.maxbuffer`;
//! * [`connect`]: the handshake (`ConnectRequest`, `ConnectResponse`, session passwords);
//! * [`header`]: `RequestHeader`, `ReplyHeader`, `MultiHeader`;
//! * [`request`]: every request record and [`Request`], one variant per opcode;
//! * [`response`]: every response record, [`Response`] and [`Reply`];
//! * [`multi`]: multi and multiRead requests and results;
//! * [`watcher`]: notifications and the watch enums;
//! * [`four_letter`]: the admin commands that share the client port.
//!
//! A server reads a request like this:
//!
//! ```
//! use zk_proto::{decode_frame, Reader, Record, Request, RequestHeader, DEFAULT_MAX_BUFFER};
//!
//! let wire = [0, 0, 0, 8, 0xff, 0xff, 0xff, 0xfe, 0, 0, 0, 11]; // a ping
//! let (consumed, payload) = decode_frame(&wire, DEFAULT_MAX_BUFFER).unwrap().unwrap();
//! assert_eq!(consumed, wire.len());
//! let mut r = Reader::new(payload);
//! let header = RequestHeader::decode(&mut r).unwrap();
//! let request = Request::decode(header.op_code().unwrap(), &mut r).unwrap();
//! assert_eq!(request, Request::Ping);
//! ```
//!
//! Decoding follows Java (`BinaryInputArchive`) where Java is lenient:
//!
//! * a record ignores bytes after its last field ([`Record::from_bytes`] is the strict form
//!   that refuses them);
//! * a boolean is true for any non-zero byte;
//! * a string decodes invalid UTF-8 (including the CESU-8 surrogates Java's writer emits for
//!   characters outside the BMP) to U+FFFD;
//! * a vector count of -1 (null) or any other negative value reads as empty;
//! * a null string or buffer (length -1) reads as empty, except where null is meaningful:
//!   the reconfig strings and znode data (`CreateRequest`, `CreateTtlRequest`,
//!   `SetDataRequest`, `GetDataResponse`), which are `Option`s; other negative string or
//!   buffer lengths are errors, as in Java.
//!
//! A re-encoding can therefore differ from the bytes read only where one of these was
//! normalised (a null written back as empty, 2 written back as 1, U+FFFD).

pub mod connect;
pub mod data;
pub mod error_code;
mod field;
pub mod four_letter;
pub mod frame;
pub mod header;
pub mod ids;
pub mod jute;
pub mod multi;
pub mod request;
pub mod response;
pub mod watcher;

pub use connect::{session_password, ConnectRequest, ConnectResponse, PASSWORD_LEN};
pub use data::{read_acl_vec, write_acl_vec, Acl, CreateMode, Id, OpCode, Perms, Stat, STAT_LEN};
pub use error_code::ErrorCode;
pub use four_letter::FourLetterWord;
pub use frame::{decode_frame, encode_frame, write_frame, FrameError, DEFAULT_MAX_BUFFER};
pub use header::{MultiHeader, ReplyHeader, RequestHeader};
pub use ids::{Epoch, SessionId, Sid, Xid, Zxid};
pub use jute::{DecodeError, Reader, Record, Writer};
pub use multi::{MultiOp, MultiRequest, MultiResponse, MultiResult};
pub use request::{
    AddWatchRequest, AuthPacket, CheckVersionRequest, CheckWatchesRequest, CreateRequest,
    CreateTtlRequest, DeleteContainerRequest, DeleteRequest, ExistsRequest, GetAclRequest,
    GetAllChildrenNumberRequest, GetChildren2Request, GetChildrenRequest, GetDataRequest,
    GetEphemeralsRequest, GetSaslRequest, ReconfigRequest, RemoveWatchesRequest, Request,
    SetAclRequest, SetDataRequest, SetWatches, SetWatches2, SyncRequest,
};
pub use response::{
    ClientInfo, Create2Response, CreateResponse, ErrorResponse, ExistsResponse, GetAclResponse,
    GetAllChildrenNumberResponse, GetChildren2Response, GetChildrenResponse, GetDataResponse,
    GetEphemeralsResponse, Reply, Response, SetAclResponse, SetDataResponse, SetSaslResponse,
    SyncResponse, WhoAmIResponse,
};
pub use watcher::{
    encode_notification, AddWatchMode, EventType, KeeperState, WatcherEvent, WatcherType,
};
