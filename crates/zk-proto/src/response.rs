//! Response records (the body after a `ReplyHeader` whose err is 0) and [`Response`].
//!
//! A reply whose header carries a non-zero err has no body at all (reference 1.5), so a
//! [`Response`] is only decoded when the header says success; [`Reply::decode`] does that split.
//! Which body follows depends on the request's opcode, which the reply does not repeat, so
//! [`Response::decode`] takes it as an argument. Like Java, decoding ignores trailing bytes.

use crate::data::{Acl, OpCode, Stat};
use crate::field::{record, Field};
use crate::header::ReplyHeader;
use crate::jute::{DecodeError, Reader, Record};
use crate::multi::MultiResponse;

record! {
    /// `CreateResponse`: the reply to create (1), the path actually created.
    pub struct CreateResponse {
        /// The created path, including any sequence suffix.
        pub path: String,
    }
}

record! {
    /// `Create2Response`: the reply to create2 (15), createContainer (19) and createTTL (21).
    pub struct Create2Response {
        /// The created path, including any sequence suffix.
        pub path: String,
        /// The new node's Stat.
        pub stat: Stat,
    }
}

record! {
    /// `ExistsResponse`: the reply to exists (3) on an existing node.
    pub struct ExistsResponse {
        /// The node's Stat.
        pub stat: Stat,
    }
}

record! {
    /// `GetDataResponse`: the reply to getData (4), and to reconfig (16) with the new config.
    pub struct GetDataResponse {
        /// The node's data; `None` for a null buffer (length -1): a node created or set with
        /// null data.
        pub data: Option<Vec<u8>>,
        /// The node's Stat.
        pub stat: Stat,
    }
}

record! {
    /// `SetDataResponse`: the reply to setData (5), and to a standalone check (13).
    pub struct SetDataResponse {
        /// The node's Stat after the write.
        pub stat: Stat,
    }
}

record! {
    /// `GetACLResponse`: the reply to getACL (6).
    pub struct GetAclResponse {
        /// The node's ACL.
        pub acl: Vec<Acl>,
        /// The node's Stat.
        pub stat: Stat,
    }
}

record! {
    /// `SetACLResponse`: the reply to setACL (7).
    pub struct SetAclResponse {
        /// The node's Stat after the change.
        pub stat: Stat,
    }
}

record! {
    /// `GetChildrenResponse`: the reply to getChildren (8).
    pub struct GetChildrenResponse {
        /// The children's names (not paths), in no particular order.
        pub children: Vec<String>,
    }
}

record! {
    /// `GetChildren2Response`: the reply to getChildren2 (12).
    pub struct GetChildren2Response {
        /// The children's names.
        pub children: Vec<String>,
        /// The parent's Stat.
        pub stat: Stat,
    }
}

record! {
    /// `SyncResponse`: the reply to sync (9), echoing the path.
    pub struct SyncResponse {
        /// The synced path.
        pub path: String,
    }
}

record! {
    /// `SetSASLResponse`: the reply to sasl (102).
    pub struct SetSaslResponse {
        /// The server's SASL token.
        pub token: Vec<u8>,
    }
}

record! {
    /// `GetEphemeralsResponse`: the reply to getEphemerals (103).
    pub struct GetEphemeralsResponse {
        /// The session's ephemeral paths under the prefix.
        pub ephemerals: Vec<String>,
    }
}

record! {
    /// `GetAllChildrenNumberResponse`: the reply to getAllChildrenNumber (104).
    pub struct GetAllChildrenNumberResponse {
        /// The number of descendants.
        pub total_number: i32,
    }
}

record! {
    /// `ClientInfo`: one identity of the session, in a whoAmI reply.
    pub struct ClientInfo {
        /// The auth scheme.
        pub auth_scheme: String,
        /// The user within the scheme.
        pub user: String,
    }
}

impl Field for Vec<ClientInfo> {
    fn write_field(&self, out: &mut Vec<u8>) {
        crate::jute::Writer::write_i32(
            out,
            i32::try_from(self.len()).expect("client info list exceeds i32::MAX"),
        );
        for info in self {
            info.encode(out);
        }
    }
    fn read_field(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        // A ClientInfo is at least two string lengths.
        r.read_vec(8, ClientInfo::decode)
    }
}

record! {
    /// `WhoAmIResponse`: the reply to whoAmI (107).
    pub struct WhoAmIResponse {
        /// The session's identities.
        pub client_info: Vec<ClientInfo>,
    }
}

record! {
    /// `ErrorResponse`: the reply to addWatch (106) (err 0), and a failed op inside a multi.
    pub struct ErrorResponse {
        /// The error code.
        pub err: i32,
    }
}

/// A decoded success response body.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
#[non_exhaustive]
pub enum Response {
    /// create (1).
    Create(CreateResponse),
    /// create2 (15), createContainer (19), createTTL (21).
    Create2(Create2Response),
    /// exists (3).
    Exists(ExistsResponse),
    /// getData (4) and reconfig (16).
    GetData(GetDataResponse),
    /// setData (5) and a standalone check (13).
    SetData(SetDataResponse),
    /// getACL (6).
    GetAcl(GetAclResponse),
    /// setACL (7).
    SetAcl(SetAclResponse),
    /// getChildren (8).
    GetChildren(GetChildrenResponse),
    /// getChildren2 (12).
    GetChildren2(GetChildren2Response),
    /// sync (9).
    Sync(SyncResponse),
    /// multi (14) and multiRead (22).
    Multi(MultiResponse),
    /// sasl (102).
    Sasl(SetSaslResponse),
    /// getEphemerals (103).
    GetEphemerals(GetEphemeralsResponse),
    /// getAllChildrenNumber (104).
    GetAllChildrenNumber(GetAllChildrenNumberResponse),
    /// whoAmI (107).
    WhoAmI(WhoAmIResponse),
    /// addWatch (106): an `ErrorResponse` with err 0.
    AddWatch(ErrorResponse),
    /// No body: delete, ping, auth, setWatches, setWatches2, checkWatches, removeWatches,
    /// deleteContainer, closeSession.
    Empty,
}

impl Response {
    /// Decodes the success body of a reply to a request with opcode `op`. Trailing bytes are
    /// left in `r`. The opcodes no client sends (notification, createSession, error) are refused
    /// with [`DecodeError::BadValue`].
    pub fn decode(op: OpCode, r: &mut Reader<'_>) -> Result<Response, DecodeError> {
        Ok(match op {
            OpCode::Create => Response::Create(CreateResponse::decode(r)?),
            OpCode::Create2 | OpCode::CreateContainer | OpCode::CreateTtl => {
                Response::Create2(Create2Response::decode(r)?)
            }
            OpCode::Exists => Response::Exists(ExistsResponse::decode(r)?),
            OpCode::GetData | OpCode::Reconfig => Response::GetData(GetDataResponse::decode(r)?),
            OpCode::SetData | OpCode::Check => Response::SetData(SetDataResponse::decode(r)?),
            OpCode::GetAcl => Response::GetAcl(GetAclResponse::decode(r)?),
            OpCode::SetAcl => Response::SetAcl(SetAclResponse::decode(r)?),
            OpCode::GetChildren => Response::GetChildren(GetChildrenResponse::decode(r)?),
            OpCode::GetChildren2 => Response::GetChildren2(GetChildren2Response::decode(r)?),
            OpCode::Sync => Response::Sync(SyncResponse::decode(r)?),
            OpCode::Multi | OpCode::MultiRead => Response::Multi(MultiResponse::decode(r)?),
            OpCode::Sasl => Response::Sasl(SetSaslResponse::decode(r)?),
            OpCode::GetEphemerals => Response::GetEphemerals(GetEphemeralsResponse::decode(r)?),
            OpCode::GetAllChildrenNumber => {
                Response::GetAllChildrenNumber(GetAllChildrenNumberResponse::decode(r)?)
            }
            OpCode::WhoAmI => Response::WhoAmI(WhoAmIResponse::decode(r)?),
            OpCode::AddWatch => Response::AddWatch(ErrorResponse::decode(r)?),
            OpCode::Delete
            | OpCode::Ping
            | OpCode::Auth
            | OpCode::SetWatches
            | OpCode::SetWatches2
            | OpCode::CheckWatches
            | OpCode::RemoveWatches
            | OpCode::DeleteContainer
            | OpCode::CloseSession => Response::Empty,
            OpCode::Notification | OpCode::CreateSession | OpCode::Error => {
                return Err(DecodeError::BadValue {
                    field: "response opcode",
                    value: i64::from(op.code()),
                })
            }
        })
    }

    /// Appends the response body (without the `ReplyHeader`) to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Response::Create(r) => r.encode(out),
            Response::Create2(r) => r.encode(out),
            Response::Exists(r) => r.encode(out),
            Response::GetData(r) => r.encode(out),
            Response::SetData(r) => r.encode(out),
            Response::GetAcl(r) => r.encode(out),
            Response::SetAcl(r) => r.encode(out),
            Response::GetChildren(r) => r.encode(out),
            Response::GetChildren2(r) => r.encode(out),
            Response::Sync(r) => r.encode(out),
            Response::Multi(r) => r.encode(out),
            Response::Sasl(r) => r.encode(out),
            Response::GetEphemerals(r) => r.encode(out),
            Response::GetAllChildrenNumber(r) => r.encode(out),
            Response::WhoAmI(r) => r.encode(out),
            Response::AddWatch(r) => r.encode(out),
            Response::Empty => {}
        }
    }

    /// The response body as a fresh byte vector.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode(&mut out);
        out
    }
}

/// A whole reply payload (the frame without its length): the header and, when `err` is 0, the
/// body.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct Reply {
    /// The reply header.
    pub header: ReplyHeader,
    /// The body; `None` when the header carries an error.
    pub body: Option<Response>,
}

impl Reply {
    /// Decodes a reply to a request with opcode `op`. Notifications (xid -1) carry a
    /// `WatcherEvent` instead; decode those with [`crate::watcher::WatcherEvent`].
    pub fn decode(op: OpCode, r: &mut Reader<'_>) -> Result<Reply, DecodeError> {
        let header = ReplyHeader::decode(r)?;
        let body = if header.is_ok() {
            Some(Response::decode(op, r)?)
        } else {
            None
        };
        Ok(Reply { header, body })
    }

    /// Appends the header and, if present, the body.
    pub fn encode(&self, out: &mut Vec<u8>) {
        self.header.encode(out);
        if let Some(body) = &self.body {
            body.encode(out);
        }
    }
}
