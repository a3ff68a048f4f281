//! The records shared by many requests and responses: `Stat`, `Id`, `ACL`, permissions, create
//! modes and opcodes.

use serde::{Deserialize, Serialize};

use crate::ids::{SessionId, Zxid};
use crate::jute::{DecodeError, Reader, Record, Writer};

/// A znode's metadata, exactly as jute's `Stat` (68 bytes on the wire).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default, Serialize, Deserialize)]
pub struct Stat {
    /// The zxid of the transaction that created the node.
    pub czxid: Zxid,
    /// The zxid of the last setData (or the create).
    pub mzxid: Zxid,
    /// Creation time, milliseconds since the epoch (leader's clock).
    pub ctime: i64,
    /// Last modification time, milliseconds since the epoch.
    pub mtime: i64,
    /// Number of setData on the node.
    pub version: i32,
    /// Child version as clients see it (creates plus deletes of children).
    pub cversion: i32,
    /// Number of setACL on the node.
    pub aversion: i32,
    /// Owning session of an ephemeral, 0 otherwise.
    pub ephemeral_owner: SessionId,
    /// Length of the data.
    pub data_length: i32,
    /// Number of children.
    pub num_children: i32,
    /// The zxid of the last child create or delete.
    pub pzxid: Zxid,
}

/// The size of an encoded [`Stat`].
pub const STAT_LEN: usize = 68;

impl Record for Stat {
    fn encode(&self, out: &mut Vec<u8>) {
        out.write_i64(self.czxid.as_i64());
        out.write_i64(self.mzxid.as_i64());
        out.write_i64(self.ctime);
        out.write_i64(self.mtime);
        out.write_i32(self.version);
        out.write_i32(self.cversion);
        out.write_i32(self.aversion);
        out.write_i64(self.ephemeral_owner.0);
        out.write_i32(self.data_length);
        out.write_i32(self.num_children);
        out.write_i64(self.pzxid.as_i64());
    }

    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Stat {
            czxid: Zxid::from_i64(r.read_i64()?),
            mzxid: Zxid::from_i64(r.read_i64()?),
            ctime: r.read_i64()?,
            mtime: r.read_i64()?,
            version: r.read_i32()?,
            cversion: r.read_i32()?,
            aversion: r.read_i32()?,
            ephemeral_owner: SessionId(r.read_i64()?),
            data_length: r.read_i32()?,
            num_children: r.read_i32()?,
            pzxid: Zxid::from_i64(r.read_i64()?),
        })
    }
}

/// An identity: an auth scheme and an id within it (`world:anyone`, `digest:user:hash`, ...).
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
pub struct Id {
    /// The scheme: world, auth, digest, ip, super, ...
    pub scheme: String,
    /// The id within the scheme.
    pub id: String,
}

impl Id {
    /// An id from its two parts.
    pub fn new(scheme: impl Into<String>, id: impl Into<String>) -> Id {
        Id {
            scheme: scheme.into(),
            id: id.into(),
        }
    }

    /// `world:anyone`.
    pub fn anyone() -> Id {
        Id::new("world", "anyone")
    }
}

impl Record for Id {
    fn encode(&self, out: &mut Vec<u8>) {
        out.write_str(&self.scheme);
        out.write_str(&self.id);
    }

    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Id {
            scheme: r.read_string()?,
            id: r.read_string()?,
        })
    }
}

/// Permission bits of an ACL entry.
#[derive(
    Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Default, Serialize, Deserialize,
)]
pub struct Perms(pub i32);

impl Perms {
    /// Read data and list children.
    pub const READ: Perms = Perms(1);
    /// Set data.
    pub const WRITE: Perms = Perms(2);
    /// Create children.
    pub const CREATE: Perms = Perms(4);
    /// Delete children.
    pub const DELETE: Perms = Perms(8);
    /// Set the ACL.
    pub const ADMIN: Perms = Perms(16);
    /// Every permission.
    pub const ALL: Perms = Perms(31);

    /// Whether every bit of `other` is set in `self`.
    pub fn contains(self, other: Perms) -> bool {
        self.0 & other.0 == other.0
    }
}

/// One ACL entry: permissions granted to an id.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
pub struct Acl {
    /// The permissions granted.
    pub perms: Perms,
    /// Who they are granted to.
    pub id: Id,
}

impl Acl {
    /// `world:anyone` with every permission (ZooKeeper's `OPEN_ACL_UNSAFE`).
    pub fn open_unsafe() -> Vec<Acl> {
        vec![Acl {
            perms: Perms::ALL,
            id: Id::anyone(),
        }]
    }

    /// `world:anyone` with READ (ZooKeeper's `READ_ACL_UNSAFE`).
    pub fn read_unsafe() -> Vec<Acl> {
        vec![Acl {
            perms: Perms::READ,
            id: Id::anyone(),
        }]
    }
}

impl Record for Acl {
    fn encode(&self, out: &mut Vec<u8>) {
        out.write_i32(self.perms.0);
        self.id.encode(out);
    }

    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Acl {
            perms: Perms(r.read_i32()?),
            id: Id::decode(r)?,
        })
    }
}

/// Writes a jute `vector<ACL>`.
pub fn write_acl_vec(out: &mut Vec<u8>, acl: &[Acl]) {
    out.write_i32(i32::try_from(acl.len()).expect("ACL list exceeds i32::MAX"));
    for entry in acl {
        entry.encode(out);
    }
}

/// Reads a jute `vector<ACL>` (null is read as empty).
pub fn read_acl_vec(r: &mut Reader<'_>) -> Result<Vec<Acl>, DecodeError> {
    // An ACL is at least 12 bytes: perms plus two string lengths.
    r.read_vec(12, Acl::decode)
}

/// The kind of node a create asks for (the `flags` field of CreateRequest).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub enum CreateMode {
    /// A persistent node.
    Persistent,
    /// A node deleted when its session ends.
    Ephemeral,
    /// A persistent node with a sequence suffix.
    PersistentSequential,
    /// An ephemeral node with a sequence suffix.
    EphemeralSequential,
    /// A node deleted once its last child is deleted.
    Container,
    /// A persistent node deleted after a TTL without children or changes.
    PersistentWithTtl,
    /// A sequential persistent node with a TTL.
    PersistentSequentialWithTtl,
}

impl CreateMode {
    /// The mode for a `flags` value, or `None` (BADARGUMENTS) for an unknown one.
    pub fn from_flags(flags: i32) -> Option<CreateMode> {
        Some(match flags {
            0 => CreateMode::Persistent,
            1 => CreateMode::Ephemeral,
            2 => CreateMode::PersistentSequential,
            3 => CreateMode::EphemeralSequential,
            4 => CreateMode::Container,
            5 => CreateMode::PersistentWithTtl,
            6 => CreateMode::PersistentSequentialWithTtl,
            _ => return None,
        })
    }

    /// The `flags` value of this mode.
    pub fn flags(self) -> i32 {
        match self {
            CreateMode::Persistent => 0,
            CreateMode::Ephemeral => 1,
            CreateMode::PersistentSequential => 2,
            CreateMode::EphemeralSequential => 3,
            CreateMode::Container => 4,
            CreateMode::PersistentWithTtl => 5,
            CreateMode::PersistentSequentialWithTtl => 6,
        }
    }

    /// Whether the node gets a sequence suffix.
    pub fn is_sequential(self) -> bool {
        matches!(
            self,
            CreateMode::PersistentSequential
                | CreateMode::EphemeralSequential
                | CreateMode::PersistentSequentialWithTtl
        )
    }

    /// Whether the node belongs to a session.
    pub fn is_ephemeral(self) -> bool {
        matches!(
            self,
            CreateMode::Ephemeral | CreateMode::EphemeralSequential
        )
    }

    /// Whether the node is a container.
    pub fn is_container(self) -> bool {
        self == CreateMode::Container
    }

    /// Whether the node has a TTL.
    pub fn is_ttl(self) -> bool {
        matches!(
            self,
            CreateMode::PersistentWithTtl | CreateMode::PersistentSequentialWithTtl
        )
    }
}

macro_rules! opcodes {
    ($($(#[$doc:meta])* $name:ident = $value:literal;)*) => {
        /// A request type (`ZooDefs.OpCode`).
        #[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
        #[non_exhaustive]
        pub enum OpCode {
            $($(#[$doc])* $name,)*
        }

        impl OpCode {
            /// Every opcode of ZooKeeper 3.8.
            pub const ALL: &'static [OpCode] = &[$(OpCode::$name,)*];

            /// The number on the wire.
            pub fn code(self) -> i32 {
                match self { $(OpCode::$name => $value,)* }
            }

            /// The opcode for a number, or `None` for an unknown one.
            pub fn from_code(code: i32) -> Option<OpCode> {
                match code { $($value => Some(OpCode::$name),)* _ => None }
            }
        }
    };
}

opcodes! {
    /// A watch notification (never sent by clients).
    Notification = 0;
    /// create.
    Create = 1;
    /// delete.
    Delete = 2;
    /// exists.
    Exists = 3;
    /// getData.
    GetData = 4;
    /// setData.
    SetData = 5;
    /// getACL.
    GetAcl = 6;
    /// setACL.
    SetAcl = 7;
    /// getChildren.
    GetChildren = 8;
    /// sync.
    Sync = 9;
    /// ping.
    Ping = 11;
    /// getChildren2 (children and Stat).
    GetChildren2 = 12;
    /// check (version check, normally inside multi).
    Check = 13;
    /// multi (atomic writes).
    Multi = 14;
    /// create2 (path and Stat).
    Create2 = 15;
    /// reconfig.
    Reconfig = 16;
    /// checkWatches.
    CheckWatches = 17;
    /// removeWatches.
    RemoveWatches = 18;
    /// createContainer.
    CreateContainer = 19;
    /// deleteContainer (server-internal).
    DeleteContainer = 20;
    /// createTTL.
    CreateTtl = 21;
    /// multiRead.
    MultiRead = 22;
    /// auth.
    Auth = 100;
    /// setWatches.
    SetWatches = 101;
    /// sasl.
    Sasl = 102;
    /// getEphemerals.
    GetEphemerals = 103;
    /// getAllChildrenNumber.
    GetAllChildrenNumber = 104;
    /// setWatches2.
    SetWatches2 = 105;
    /// addWatch.
    AddWatch = 106;
    /// whoAmI.
    WhoAmI = 107;
    /// createSession (server-internal).
    CreateSession = -10;
    /// closeSession.
    CloseSession = -11;
    /// error (a txn type only).
    Error = -1;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_is_68_bytes_and_round_trips() {
        let stat = Stat {
            czxid: Zxid(1),
            mzxid: Zxid(2),
            ctime: 3,
            mtime: 4,
            version: 5,
            cversion: 6,
            aversion: 7,
            ephemeral_owner: SessionId(8),
            data_length: 9,
            num_children: 10,
            pzxid: Zxid(11),
        };
        let bytes = stat.to_bytes();
        assert_eq!(bytes.len(), STAT_LEN);
        assert_eq!(Stat::from_bytes(&bytes), Ok(stat));
    }

    #[test]
    fn create_flags_map_to_modes_and_back() {
        for flags in 0..=6 {
            assert_eq!(
                CreateMode::from_flags(flags).map(CreateMode::flags),
                Some(flags)
            );
        }
        assert_eq!(CreateMode::from_flags(7), None);
        assert_eq!(CreateMode::from_flags(-1), None);
    }

    #[test]
    fn opcodes_round_trip() {
        for &op in OpCode::ALL {
            assert_eq!(OpCode::from_code(op.code()), Some(op));
        }
        assert_eq!(OpCode::from_code(10), None);
    }
}
