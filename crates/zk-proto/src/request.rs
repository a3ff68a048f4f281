//! Request records (the body after a `RequestHeader`) and [`Request`], one variant per opcode.
//!
//! Decoding follows Java: a record reads its fields and ignores anything after them, so
//! [`Request::decode`] leaves trailing bytes unread in the [`Reader`] rather than failing.
//! Requests with an empty body (ping, whoAmI, closeSession) decode from zero bytes.

use crate::data::{Acl, CreateMode, OpCode};
use crate::field::record;
use crate::ids::Zxid;
use crate::jute::{DecodeError, Reader, Record};
use crate::multi::MultiRequest;
use crate::watcher::{AddWatchMode, WatcherType};

record! {
    /// `CreateRequest`: the body of create (1), create2 (15) and createContainer (19).
    pub struct CreateRequest {
        /// The path to create (the parent's path plus the name, before any sequence suffix).
        pub path: String,
        /// The node's data; `None` for a null buffer (length -1), which the node keeps.
        pub data: Option<Vec<u8>>,
        /// The node's ACL.
        pub acl: Vec<Acl>,
        /// The create mode as sent; see [`CreateRequest::mode`].
        pub flags: i32,
    }
}

impl CreateRequest {
    /// The create mode, or `None` (BADARGUMENTS) for unknown flags.
    pub fn mode(&self) -> Option<CreateMode> {
        CreateMode::from_flags(self.flags)
    }
}

record! {
    /// `CreateTTLRequest`: the body of createTTL (21).
    pub struct CreateTtlRequest {
        /// The path to create.
        pub path: String,
        /// The node's data; `None` for a null buffer (length -1), which the node keeps.
        pub data: Option<Vec<u8>>,
        /// The node's ACL.
        pub acl: Vec<Acl>,
        /// The create mode as sent (5 or 6 are the valid ones).
        pub flags: i32,
        /// The time to live in milliseconds.
        pub ttl: i64,
    }
}

impl CreateTtlRequest {
    /// The create mode, or `None` (BADARGUMENTS) for unknown flags.
    pub fn mode(&self) -> Option<CreateMode> {
        CreateMode::from_flags(self.flags)
    }
}

record! {
    /// `DeleteRequest`: the body of delete (2).
    pub struct DeleteRequest {
        /// The node to delete.
        pub path: String,
        /// The expected version, -1 for any.
        pub version: i32,
    }
}

record! {
    /// `ExistsRequest`: the body of exists (3).
    pub struct ExistsRequest {
        /// The node to look at.
        pub path: String,
        /// Whether to leave a data (or exist) watch.
        pub watch: bool,
    }
}

record! {
    /// `GetDataRequest`: the body of getData (4).
    pub struct GetDataRequest {
        /// The node to read.
        pub path: String,
        /// Whether to leave a data watch.
        pub watch: bool,
    }
}

record! {
    /// `SetDataRequest`: the body of setData (5).
    pub struct SetDataRequest {
        /// The node to write.
        pub path: String,
        /// The new data; `None` for a null buffer (length -1), which the node keeps.
        pub data: Option<Vec<u8>>,
        /// The expected version, -1 for any.
        pub version: i32,
    }
}

record! {
    /// `GetACLRequest`: the body of getACL (6).
    pub struct GetAclRequest {
        /// The node to read.
        pub path: String,
    }
}

record! {
    /// `SetACLRequest`: the body of setACL (7).
    pub struct SetAclRequest {
        /// The node to change.
        pub path: String,
        /// The new ACL.
        pub acl: Vec<Acl>,
        /// The expected aversion, -1 for any.
        pub version: i32,
    }
}

record! {
    /// `GetChildrenRequest`: the body of getChildren (8).
    pub struct GetChildrenRequest {
        /// The node to list.
        pub path: String,
        /// Whether to leave a child watch.
        pub watch: bool,
    }
}

record! {
    /// `SyncRequest`: the body of sync (9).
    pub struct SyncRequest {
        /// The path to sync (echoed back).
        pub path: String,
    }
}

record! {
    /// `GetChildren2Request`: the body of getChildren2 (12).
    pub struct GetChildren2Request {
        /// The node to list.
        pub path: String,
        /// Whether to leave a child watch.
        pub watch: bool,
    }
}

record! {
    /// `CheckVersionRequest`: the body of check (13), normally inside a multi.
    pub struct CheckVersionRequest {
        /// The node to check.
        pub path: String,
        /// The expected version, -1 for any.
        pub version: i32,
    }
}

record! {
    /// `ReconfigRequest`: the body of reconfig (16). A null string (`None`) differs from an
    /// empty one: Java tests `newMembers != null` to choose a non-incremental reconfig.
    pub struct ReconfigRequest {
        /// Servers to add (incremental mode).
        pub joining_servers: Option<String>,
        /// Servers to remove (incremental mode).
        pub leaving_servers: Option<String>,
        /// The whole new membership (non-incremental mode).
        pub new_members: Option<String>,
        /// The config version the change applies to, -1 for any.
        pub cur_config_id: i64,
    }
}

record! {
    /// `CheckWatchesRequest`: the body of checkWatches (17).
    pub struct CheckWatchesRequest {
        /// The watched path.
        pub path: String,
        /// The watcher type as sent; see [`CheckWatchesRequest::watcher_type`].
        pub watcher_type: i32,
    }
}

impl CheckWatchesRequest {
    /// The watcher type, or `None` for an unknown one.
    pub fn watcher_type(&self) -> Option<WatcherType> {
        WatcherType::from_code(self.watcher_type)
    }
}

record! {
    /// `RemoveWatchesRequest`: the body of removeWatches (18).
    pub struct RemoveWatchesRequest {
        /// The watched path.
        pub path: String,
        /// The watcher type as sent; see [`RemoveWatchesRequest::watcher_type`].
        pub watcher_type: i32,
    }
}

impl RemoveWatchesRequest {
    /// The watcher type, or `None` for an unknown one.
    pub fn watcher_type(&self) -> Option<WatcherType> {
        WatcherType::from_code(self.watcher_type)
    }
}

record! {
    /// `DeleteContainerRequest`: the body of deleteContainer (20), which only the server itself
    /// issues; a server may refuse it from clients.
    pub struct DeleteContainerRequest {
        /// The container to delete.
        pub path: String,
    }
}

record! {
    /// `AuthPacket`: the body of auth (100), sent with xid -4 by Java clients.
    pub struct AuthPacket {
        /// Always 0.
        pub auth_type: i32,
        /// The auth scheme (`digest`, `ip`, ...).
        pub scheme: String,
        /// The credentials, scheme-specific.
        pub auth: Vec<u8>,
    }
}

record! {
    /// `SetWatches`: the body of setWatches (101), re-registering watches after a reconnect.
    pub struct SetWatches {
        /// The last zxid the client saw; changes after it fire at once.
        pub relative_zxid: Zxid,
        /// Data watches.
        pub data_watches: Vec<String>,
        /// Exist watches.
        pub exist_watches: Vec<String>,
        /// Child watches.
        pub child_watches: Vec<String>,
    }
}

record! {
    /// `GetSASLRequest`: the body of sasl (102).
    pub struct GetSaslRequest {
        /// The SASL token.
        pub token: Vec<u8>,
    }
}

record! {
    /// `GetEphemeralsRequest`: the body of getEphemerals (103).
    pub struct GetEphemeralsRequest {
        /// Only ephemerals whose path starts with this prefix ("" or "/" = all).
        pub prefix_path: String,
    }
}

record! {
    /// `GetAllChildrenNumberRequest`: the body of getAllChildrenNumber (104).
    pub struct GetAllChildrenNumberRequest {
        /// The subtree to count.
        pub path: String,
    }
}

record! {
    /// `SetWatches2`: the body of setWatches2 (105), which adds persistent watches.
    pub struct SetWatches2 {
        /// The last zxid the client saw; changes after it fire at once.
        pub relative_zxid: Zxid,
        /// Data watches.
        pub data_watches: Vec<String>,
        /// Exist watches.
        pub exist_watches: Vec<String>,
        /// Child watches.
        pub child_watches: Vec<String>,
        /// Persistent watches.
        pub persistent_watches: Vec<String>,
        /// Persistent recursive watches.
        pub persistent_recursive_watches: Vec<String>,
    }
}

record! {
    /// `AddWatchRequest`: the body of addWatch (106).
    pub struct AddWatchRequest {
        /// The path to watch.
        pub path: String,
        /// The mode as sent; see [`AddWatchRequest::mode`].
        pub mode: i32,
    }
}

impl AddWatchRequest {
    /// The watch mode, or `None` for an unknown one.
    pub fn mode(&self) -> Option<AddWatchMode> {
        AddWatchMode::from_code(self.mode)
    }
}

/// A decoded client request body, one variant per opcode a client may send.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
#[non_exhaustive]
pub enum Request {
    /// create (1).
    Create(CreateRequest),
    /// delete (2).
    Delete(DeleteRequest),
    /// exists (3).
    Exists(ExistsRequest),
    /// getData (4).
    GetData(GetDataRequest),
    /// setData (5).
    SetData(SetDataRequest),
    /// getACL (6).
    GetAcl(GetAclRequest),
    /// setACL (7).
    SetAcl(SetAclRequest),
    /// getChildren (8).
    GetChildren(GetChildrenRequest),
    /// sync (9).
    Sync(SyncRequest),
    /// ping (11), empty body.
    Ping,
    /// getChildren2 (12).
    GetChildren2(GetChildren2Request),
    /// check (13).
    Check(CheckVersionRequest),
    /// multi (14).
    Multi(MultiRequest),
    /// create2 (15).
    Create2(CreateRequest),
    /// reconfig (16).
    Reconfig(ReconfigRequest),
    /// checkWatches (17).
    CheckWatches(CheckWatchesRequest),
    /// removeWatches (18).
    RemoveWatches(RemoveWatchesRequest),
    /// createContainer (19).
    CreateContainer(CreateRequest),
    /// deleteContainer (20), server-internal.
    DeleteContainer(DeleteContainerRequest),
    /// createTTL (21).
    CreateTtl(CreateTtlRequest),
    /// multiRead (22).
    MultiRead(MultiRequest),
    /// auth (100).
    Auth(AuthPacket),
    /// setWatches (101).
    SetWatches(SetWatches),
    /// sasl (102).
    Sasl(GetSaslRequest),
    /// getEphemerals (103).
    GetEphemerals(GetEphemeralsRequest),
    /// getAllChildrenNumber (104).
    GetAllChildrenNumber(GetAllChildrenNumberRequest),
    /// setWatches2 (105).
    SetWatches2(SetWatches2),
    /// addWatch (106).
    AddWatch(AddWatchRequest),
    /// whoAmI (107), empty body.
    WhoAmI,
    /// closeSession (-11), empty body.
    CloseSession,
}

impl Request {
    /// Decodes the body of a request whose header carried `op`. Trailing bytes are left in `r`
    /// (Java ignores them). The opcodes no client sends (notification, createSession, error)
    /// are refused with [`DecodeError::BadValue`].
    pub fn decode(op: OpCode, r: &mut Reader<'_>) -> Result<Request, DecodeError> {
        Ok(match op {
            OpCode::Create => Request::Create(CreateRequest::decode(r)?),
            OpCode::Delete => Request::Delete(DeleteRequest::decode(r)?),
            OpCode::Exists => Request::Exists(ExistsRequest::decode(r)?),
            OpCode::GetData => Request::GetData(GetDataRequest::decode(r)?),
            OpCode::SetData => Request::SetData(SetDataRequest::decode(r)?),
            OpCode::GetAcl => Request::GetAcl(GetAclRequest::decode(r)?),
            OpCode::SetAcl => Request::SetAcl(SetAclRequest::decode(r)?),
            OpCode::GetChildren => Request::GetChildren(GetChildrenRequest::decode(r)?),
            OpCode::Sync => Request::Sync(SyncRequest::decode(r)?),
            OpCode::Ping => Request::Ping,
            OpCode::GetChildren2 => Request::GetChildren2(GetChildren2Request::decode(r)?),
            OpCode::Check => Request::Check(CheckVersionRequest::decode(r)?),
            OpCode::Multi => Request::Multi(MultiRequest::decode(r)?),
            OpCode::Create2 => Request::Create2(CreateRequest::decode(r)?),
            OpCode::Reconfig => Request::Reconfig(ReconfigRequest::decode(r)?),
            OpCode::CheckWatches => Request::CheckWatches(CheckWatchesRequest::decode(r)?),
            OpCode::RemoveWatches => Request::RemoveWatches(RemoveWatchesRequest::decode(r)?),
            OpCode::CreateContainer => Request::CreateContainer(CreateRequest::decode(r)?),
            OpCode::DeleteContainer => Request::DeleteContainer(DeleteContainerRequest::decode(r)?),
            OpCode::CreateTtl => Request::CreateTtl(CreateTtlRequest::decode(r)?),
            OpCode::MultiRead => Request::MultiRead(MultiRequest::decode(r)?),
            OpCode::Auth => Request::Auth(AuthPacket::decode(r)?),
            OpCode::SetWatches => Request::SetWatches(SetWatches::decode(r)?),
            OpCode::Sasl => Request::Sasl(GetSaslRequest::decode(r)?),
            OpCode::GetEphemerals => Request::GetEphemerals(GetEphemeralsRequest::decode(r)?),
            OpCode::GetAllChildrenNumber => {
                Request::GetAllChildrenNumber(GetAllChildrenNumberRequest::decode(r)?)
            }
            OpCode::SetWatches2 => Request::SetWatches2(SetWatches2::decode(r)?),
            OpCode::AddWatch => Request::AddWatch(AddWatchRequest::decode(r)?),
            OpCode::WhoAmI => Request::WhoAmI,
            OpCode::CloseSession => Request::CloseSession,
            OpCode::Notification | OpCode::CreateSession | OpCode::Error => {
                return Err(DecodeError::BadValue {
                    field: "request opcode",
                    value: i64::from(op.code()),
                })
            }
        })
    }

    /// The opcode this request travels under.
    pub fn op(&self) -> OpCode {
        match self {
            Request::Create(_) => OpCode::Create,
            Request::Delete(_) => OpCode::Delete,
            Request::Exists(_) => OpCode::Exists,
            Request::GetData(_) => OpCode::GetData,
            Request::SetData(_) => OpCode::SetData,
            Request::GetAcl(_) => OpCode::GetAcl,
            Request::SetAcl(_) => OpCode::SetAcl,
            Request::GetChildren(_) => OpCode::GetChildren,
            Request::Sync(_) => OpCode::Sync,
            Request::Ping => OpCode::Ping,
            Request::GetChildren2(_) => OpCode::GetChildren2,
            Request::Check(_) => OpCode::Check,
            Request::Multi(_) => OpCode::Multi,
            Request::Create2(_) => OpCode::Create2,
            Request::Reconfig(_) => OpCode::Reconfig,
            Request::CheckWatches(_) => OpCode::CheckWatches,
            Request::RemoveWatches(_) => OpCode::RemoveWatches,
            Request::CreateContainer(_) => OpCode::CreateContainer,
            Request::DeleteContainer(_) => OpCode::DeleteContainer,
            Request::CreateTtl(_) => OpCode::CreateTtl,
            Request::MultiRead(_) => OpCode::MultiRead,
            Request::Auth(_) => OpCode::Auth,
            Request::SetWatches(_) => OpCode::SetWatches,
            Request::Sasl(_) => OpCode::Sasl,
            Request::GetEphemerals(_) => OpCode::GetEphemerals,
            Request::GetAllChildrenNumber(_) => OpCode::GetAllChildrenNumber,
            Request::SetWatches2(_) => OpCode::SetWatches2,
            Request::AddWatch(_) => OpCode::AddWatch,
            Request::WhoAmI => OpCode::WhoAmI,
            Request::CloseSession => OpCode::CloseSession,
        }
    }

    /// Appends the request body (without the `RequestHeader`) to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Request::Create(r) | Request::Create2(r) | Request::CreateContainer(r) => r.encode(out),
            Request::Delete(r) => r.encode(out),
            Request::Exists(r) => r.encode(out),
            Request::GetData(r) => r.encode(out),
            Request::SetData(r) => r.encode(out),
            Request::GetAcl(r) => r.encode(out),
            Request::SetAcl(r) => r.encode(out),
            Request::GetChildren(r) => r.encode(out),
            Request::Sync(r) => r.encode(out),
            Request::GetChildren2(r) => r.encode(out),
            Request::Check(r) => r.encode(out),
            Request::Multi(r) | Request::MultiRead(r) => r.encode(out),
            Request::Reconfig(r) => r.encode(out),
            Request::CheckWatches(r) => r.encode(out),
            Request::RemoveWatches(r) => r.encode(out),
            Request::DeleteContainer(r) => r.encode(out),
            Request::CreateTtl(r) => r.encode(out),
            Request::Auth(r) => r.encode(out),
            Request::SetWatches(r) => r.encode(out),
            Request::Sasl(r) => r.encode(out),
            Request::GetEphemerals(r) => r.encode(out),
            Request::GetAllChildrenNumber(r) => r.encode(out),
            Request::SetWatches2(r) => r.encode(out),
            Request::AddWatch(r) => r.encode(out),
            Request::Ping | Request::WhoAmI | Request::CloseSession => {}
        }
    }

    /// The request body as a fresh byte vector.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode(&mut out);
        out
    }

    /// The path the request names, if it names one.
    pub fn path(&self) -> Option<&str> {
        Some(match self {
            Request::Create(r) | Request::Create2(r) | Request::CreateContainer(r) => &r.path,
            Request::Delete(r) => &r.path,
            Request::Exists(r) => &r.path,
            Request::GetData(r) => &r.path,
            Request::SetData(r) => &r.path,
            Request::GetAcl(r) => &r.path,
            Request::SetAcl(r) => &r.path,
            Request::GetChildren(r) => &r.path,
            Request::Sync(r) => &r.path,
            Request::GetChildren2(r) => &r.path,
            Request::Check(r) => &r.path,
            Request::CheckWatches(r) => &r.path,
            Request::RemoveWatches(r) => &r.path,
            Request::DeleteContainer(r) => &r.path,
            Request::CreateTtl(r) => &r.path,
            Request::GetEphemerals(r) => &r.prefix_path,
            Request::GetAllChildrenNumber(r) => &r.path,
            Request::AddWatch(r) => &r.path,
            Request::Ping
            | Request::Multi(_)
            | Request::Reconfig(_)
            | Request::MultiRead(_)
            | Request::Auth(_)
            | Request::SetWatches(_)
            | Request::Sasl(_)
            | Request::SetWatches2(_)
            | Request::WhoAmI
            | Request::CloseSession => return None,
        })
    }
}
