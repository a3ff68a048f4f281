//! The `ephemeralOwner` encoding of ZooKeeper's `EphemeralType`: 0 for persistent nodes, a
//! session id for ephemerals, `i64::MIN` for containers, and (with extended types enabled) a top
//! byte of `0xFF` with type code 0 in bits 40-55 and the TTL in the low 40 bits for TTL nodes.

use zk_proto::SessionId;

/// The owner of a container node.
pub const CONTAINER_OWNER: i64 = i64::MIN;

/// The top byte marking an extended type.
const EXTENDED_MASK: i64 = 0xff00_0000_0000_0000_u64 as i64;

/// Bits 40-55: the extended type code.
const EXTENDED_BIT_MASK: i64 = 0x00ff_ff00_0000_0000;

/// The type code of TTL nodes.
const EXTENDED_BIT_TTL: i64 = 0;

/// The largest TTL (the low 40 bits): about 34 years.
pub const MAX_TTL_MS: i64 = 0x0000_00ff_ffff_ffff;

/// What kind of node an `ephemeralOwner` value describes.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum EphemeralType {
    /// A persistent node (owner 0).
    Void,
    /// A session-owned ephemeral.
    Normal(SessionId),
    /// A container.
    Container,
    /// A persistent node with a TTL in milliseconds.
    Ttl(i64),
}

impl EphemeralType {
    /// Decodes an owner value; TTL owners are recognised only when extended types are enabled
    /// (otherwise they read as session-owned ephemerals, as in ZooKeeper).
    pub fn of(owner: i64, extended_types_enabled: bool) -> EphemeralType {
        if extended_types_enabled && owner & EXTENDED_MASK == EXTENDED_MASK {
            let code = (owner & EXTENDED_BIT_MASK) >> 40;
            if code == EXTENDED_BIT_TTL {
                return EphemeralType::Ttl(owner & MAX_TTL_MS);
            }
        }
        if owner == CONTAINER_OWNER {
            EphemeralType::Container
        } else if owner == 0 {
            EphemeralType::Void
        } else {
            EphemeralType::Normal(SessionId(owner))
        }
    }

    /// The owner value of a TTL node, or `None` when the TTL is out of `1..=MAX_TTL_MS`.
    pub fn ttl_owner(ttl_ms: i64) -> Option<i64> {
        if ttl_ms <= 0 || ttl_ms > MAX_TTL_MS {
            return None;
        }
        Some(EXTENDED_MASK | (EXTENDED_BIT_TTL << 40) | ttl_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owners_decode_to_their_types() {
        let ttl = EphemeralType::ttl_owner(1000).unwrap_or_default();
        assert_eq!(ttl as u64, 0xff00_0000_0000_03e8);
        let cases = [
            (0, true, EphemeralType::Void),
            (5, true, EphemeralType::Normal(SessionId(5))),
            (CONTAINER_OWNER, true, EphemeralType::Container),
            (ttl, true, EphemeralType::Ttl(1000)),
            (ttl, false, EphemeralType::Normal(SessionId(ttl))),
        ];
        for (owner, extended, expected) in cases {
            assert_eq!(EphemeralType::of(owner, extended), expected, "{owner:x}");
        }
    }

    #[test]
    fn ttl_owner_refuses_out_of_range_ttls() {
        assert_eq!(EphemeralType::ttl_owner(0), None);
        assert_eq!(EphemeralType::ttl_owner(-1), None);
        assert_eq!(EphemeralType::ttl_owner(MAX_TTL_MS + 1), None);
        assert!(EphemeralType::ttl_owner(MAX_TTL_MS).is_some());
    }
}
