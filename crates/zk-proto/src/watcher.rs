//! Watch notifications and the watch enums: `WatcherEvent`, event types, keeper states, the
//! watcher types of checkWatches/removeWatches and the modes of addWatch (reference 1.12).

use crate::header::ReplyHeader;
use crate::ids::{Xid, Zxid};
use crate::jute::{DecodeError, Reader, Record, Writer};

macro_rules! int_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident { $($(#[$vdoc:meta])* $variant:ident = $value:literal,)* }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
        pub enum $name {
            $($(#[$vdoc])* $variant,)*
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)*];

            /// The number on the wire.
            pub fn code(self) -> i32 {
                match self { $($name::$variant => $value,)* }
            }

            /// The value for a number, or `None` for an unknown one.
            pub fn from_code(code: i32) -> Option<$name> {
                match code { $($value => Some($name::$variant),)* _ => None }
            }
        }
    };
}

int_enum! {
    /// `Watcher.Event.EventType`.
    pub enum EventType {
        /// A state change, not about a node (client-local).
        None = -1,
        /// The node was created.
        NodeCreated = 1,
        /// The node was deleted.
        NodeDeleted = 2,
        /// The node's data changed.
        NodeDataChanged = 3,
        /// The node's children changed.
        NodeChildrenChanged = 4,
        /// A data watch was removed (client-local).
        DataWatchRemoved = 5,
        /// A child watch was removed (client-local).
        ChildWatchRemoved = 6,
        /// A persistent watch was removed (client-local).
        PersistentWatchRemoved = 7,
    }
}

int_enum! {
    /// `Watcher.Event.KeeperState`. Only `SyncConnected` travels on the wire.
    pub enum KeeperState {
        /// Deprecated.
        Unknown = -1,
        /// The client is disconnected.
        Disconnected = 0,
        /// Deprecated.
        NoSyncConnected = 1,
        /// The client is connected (every server-sent event carries this).
        SyncConnected = 3,
        /// Authentication failed.
        AuthFailed = 4,
        /// Connected to a read-only server.
        ConnectedReadOnly = 5,
        /// SASL authentication succeeded.
        SaslAuthenticated = 6,
        /// The session expired.
        Expired = -112,
        /// The client was closed.
        Closed = 7,
    }
}

int_enum! {
    /// `Watcher.WatcherType`: the `type` of checkWatches and removeWatches.
    pub enum WatcherType {
        /// Child watches.
        Children = 1,
        /// Data (and exist) watches.
        Data = 2,
        /// Every kind.
        Any = 3,
        /// Persistent watches.
        Persistent = 4,
        /// Persistent recursive watches.
        PersistentRecursive = 5,
    }
}

int_enum! {
    /// `AddWatchMode`: the `mode` of addWatch.
    pub enum AddWatchMode {
        /// A persistent watch on the node (data and children).
        Persistent = 0,
        /// A persistent watch on the node and its whole subtree.
        PersistentRecursive = 1,
    }
}

/// `WatcherEvent { int type; int state; ustring path; }`, the body of a notification.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct WatcherEvent {
    /// What happened.
    pub event_type: EventType,
    /// The connection state (SyncConnected for server-sent events).
    pub state: KeeperState,
    /// The full server path of the node (clients strip their chroot).
    pub path: String,
}

impl Record for WatcherEvent {
    fn encode(&self, out: &mut Vec<u8>) {
        out.write_i32(self.event_type.code());
        out.write_i32(self.state.code());
        out.write_str(&self.path);
    }

    /// Unknown event types or states are refused, as Java's client does when it converts them.
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let event_type = r.read_i32()?;
        let event_type = EventType::from_code(event_type).ok_or(DecodeError::BadValue {
            field: "event type",
            value: i64::from(event_type),
        })?;
        let state = r.read_i32()?;
        let state = KeeperState::from_code(state).ok_or(DecodeError::BadValue {
            field: "keeper state",
            value: i64::from(state),
        })?;
        Ok(WatcherEvent {
            event_type,
            state,
            path: r.read_string()?,
        })
    }
}

/// The zxid a 3.8 server puts in a notification's header.
pub const NOTIFICATION_ZXID: Zxid = Zxid(u64::MAX);

/// The header of a 3.8 notification: `ReplyHeader(-1, -1, 0)`.
pub const NOTIFICATION_HEADER: ReplyHeader = ReplyHeader {
    xid: Xid::NOTIFICATION,
    zxid: NOTIFICATION_ZXID,
    err: 0,
};

/// Appends a notification payload (without the frame length) to `out`:
/// `ReplyHeader(-1, -1, 0)` followed by a `WatcherEvent` in state SyncConnected.
pub fn encode_notification(event_type: EventType, path: &str, out: &mut Vec<u8>) {
    NOTIFICATION_HEADER.encode(out);
    out.write_i32(event_type.code());
    out.write_i32(KeeperState::SyncConnected.code());
    out.write_str(path);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notification_payload_matches_the_3_8_layout() {
        let mut out = Vec::new();
        encode_notification(EventType::NodeDataChanged, "/a", &mut out);
        #[rustfmt::skip]
        let expected: &[u8] = &[
            0xff, 0xff, 0xff, 0xff, // xid -1
            0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // zxid -1
            0, 0, 0, 0, // err 0
            0, 0, 0, 3, // NodeDataChanged
            0, 0, 0, 3, // SyncConnected
            0, 0, 0, 2, b'/', b'a',
        ];
        assert_eq!(out, expected);
        let mut r = Reader::new(&out);
        assert_eq!(ReplyHeader::decode(&mut r), Ok(NOTIFICATION_HEADER));
        let event = WatcherEvent::decode(&mut r).unwrap();
        assert_eq!(
            event,
            WatcherEvent {
                event_type: EventType::NodeDataChanged,
                state: KeeperState::SyncConnected,
                path: "/a".into(),
            }
        );
        assert!(r.is_empty());
    }

    #[test]
    fn enum_codes_round_trip() {
        for &t in EventType::ALL {
            assert_eq!(EventType::from_code(t.code()), Some(t));
        }
        for &s in KeeperState::ALL {
            assert_eq!(KeeperState::from_code(s.code()), Some(s));
        }
        for &w in WatcherType::ALL {
            assert_eq!(WatcherType::from_code(w.code()), Some(w));
        }
        for &m in AddWatchMode::ALL {
            assert_eq!(AddWatchMode::from_code(m.code()), Some(m));
        }
        assert_eq!(EventType::from_code(0), None);
        assert_eq!(KeeperState::from_code(2), None);
        assert_eq!(AddWatchMode::from_code(2), None);
    }
}
