//! ACLs: the permission check of `ZooKeeperServer.checkACL`, the normalisation of
//! `PrepRequestProcessor.fixupACL`, the digest masking of getACL, and an interning cache that
//! lets every node with the same ACL list share one copy (ZooKeeper's
//! `ReferenceCountedACLCache`).
//!
//! Only the schemes of ZooKeeper's default provider registry are known: `world` (only
//! `anyone`), `digest` and `ip` (IPv4, as ZooKeeper 3.8's provider), plus the `super` identity
//! that bypasses every check.

use std::collections::BTreeMap;
use std::sync::Arc;

use zk_proto::{Acl, ErrorCode, Id, Perms};

/// An ACL list shared between nodes.
pub type SharedAcl = Arc<[Acl]>;

/// Whether the identities `auth` hold permission `perm` on a node with ACL `acl`:
/// NOAUTH otherwise. Any bit of `perm` suffices (getACL asks for READ|ADMIN).
pub fn check_acl(acl: &[Acl], perm: Perms, auth: &[Id]) -> Result<(), ErrorCode> {
    if acl.is_empty() || auth.iter().any(|id| id.scheme == "super") {
        return Ok(());
    }
    for entry in acl {
        if entry.perms.0 & perm.0 == 0 {
            continue;
        }
        let id = &entry.id;
        if id.scheme == "world" && id.id == "anyone" {
            return Ok(());
        }
        let matches: fn(&str, &str) -> bool = match id.scheme.as_str() {
            "digest" => |held, expr| held == expr,
            "ip" => ip_matches,
            _ => continue,
        };
        if auth
            .iter()
            .any(|held| held.scheme == id.scheme && matches(&held.id, &id.id))
        {
            return Ok(());
        }
    }
    Err(ErrorCode::NoAuth)
}

/// `fixupACL`: removes duplicates, keeps `world:anyone`, replaces `auth:` by every
/// authenticated id of the connection (digest ids; ip and super do not count), and checks the
/// other ids against their scheme. INVALIDACL for an empty list, an `auth:` entry on a
/// connection without authenticated ids, or an unknown or malformed id.
pub fn fixup_acl(acl: &[Acl], auth: &[Id]) -> Result<Vec<Acl>, ErrorCode> {
    let mut unique: Vec<&Acl> = Vec::with_capacity(acl.len());
    for entry in acl {
        if !unique.contains(&entry) {
            unique.push(entry);
        }
    }
    if unique.is_empty() {
        return Err(ErrorCode::InvalidAcl);
    }
    let mut out = Vec::with_capacity(unique.len());
    for entry in unique {
        let id = &entry.id;
        if id.scheme == "world" && id.id == "anyone" {
            out.push(entry.clone());
        } else if id.scheme == "auth" {
            let mut any = false;
            for held in auth
                .iter()
                .filter(|held| is_authenticated_scheme(&held.scheme))
            {
                any = true;
                out.push(Acl {
                    perms: entry.perms,
                    id: held.clone(),
                });
            }
            if !any {
                return Err(ErrorCode::InvalidAcl);
            }
        } else if is_valid_id(id) {
            out.push(entry.clone());
        } else {
            return Err(ErrorCode::InvalidAcl);
        }
    }
    Ok(out)
}

/// The ACL getACL returns to a connection without ADMIN: every `digest` id's hash replaced by
/// `x` (`user:x`), as ZooKeeper 3.8's FinalRequestProcessor does.
pub fn mask_digests(acl: &[Acl]) -> Vec<Acl> {
    acl.iter()
        .map(|entry| {
            if entry.id.scheme != "digest" {
                return entry.clone();
            }
            let user = entry.id.id.split(':').next().unwrap_or("");
            let masked = if entry.id.id.contains(':') {
                format!("{user}:x")
            } else {
                entry.id.id.clone()
            };
            Acl {
                perms: entry.perms,
                id: Id::new("digest", masked),
            }
        })
        .collect()
}

/// Whether ids of this scheme count as authenticated for `auth:` expansion.
fn is_authenticated_scheme(scheme: &str) -> bool {
    scheme == "digest"
}

/// A provider's `isValid` for the known schemes.
fn is_valid_id(id: &Id) -> bool {
    match id.scheme.as_str() {
        // Java's `split(":")` drops trailing empty parts; exactly two parts must remain.
        "digest" => java_split_len(&id.id, ':') == 2,
        "ip" => parse_ip_expr(&id.id).is_some(),
        _ => false,
    }
}

/// The number of parts Java's `String.split(regex)` returns for a one-character separator.
fn java_split_len(text: &str, separator: char) -> usize {
    if !text.contains(separator) {
        return 1;
    }
    let mut parts: Vec<&str> = text.split(separator).collect();
    while parts.last().is_some_and(|part| part.is_empty()) {
        parts.pop();
    }
    parts.len()
}

/// An IPv4 address as ZooKeeper 3.8's `v4addr2Bytes` reads it.
fn parse_ipv4(text: &str) -> Option<[u8; 4]> {
    let mut out = [0u8; 4];
    let mut parts = text.split('.');
    for slot in &mut out {
        let value: i32 = parts.next()?.parse().ok()?;
        *slot = u8::try_from(value).ok()?;
    }
    if parts.next().is_some() {
        return None;
    }
    Some(out)
}

/// `addr[/bits]` of an ip ACL entry.
fn parse_ip_expr(expr: &str) -> Option<([u8; 4], u32)> {
    let (addr, bits) = match expr.split_once('/') {
        Some((addr, bits)) => (addr, Some(bits)),
        None => (expr, None),
    };
    let addr = parse_ipv4(addr)?;
    let bits = match bits {
        None => 32,
        Some(bits) => {
            let bits: i32 = bits.parse().ok()?;
            u32::try_from(bits).ok().filter(|&bits| bits <= 32)?
        }
    };
    Some((addr, bits))
}

/// `IPAuthenticationProvider.matches`: the client address equals the ACL address in its first
/// `bits` bits.
fn ip_matches(client: &str, expr: &str) -> bool {
    let Some((acl_addr, bits)) = parse_ip_expr(expr) else {
        return false;
    };
    let Some(client_addr) = parse_ipv4(client) else {
        return false;
    };
    let mask = if bits == 0 {
        0
    } else {
        u32::MAX << (32 - bits)
    };
    u32::from_be_bytes(acl_addr) & mask == u32::from_be_bytes(client_addr) & mask
}

/// Interned ACL lists with reference counts; nodes hold a small [`AclRef`].
#[derive(Clone, Debug, Default)]
pub(crate) struct AclCache {
    slots: Vec<Option<(SharedAcl, u64)>>,
    index: BTreeMap<SharedAcl, u32>,
    free: Vec<u32>,
}

/// An index into the [`AclCache`].
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct AclRef(pub(crate) u32);

impl AclCache {
    /// Interns a list and counts one more user of it.
    pub(crate) fn intern(&mut self, acl: &[Acl]) -> AclRef {
        self.intern_n(acl, 1)
    }

    /// Interns a list and counts `users` more users of it (`users` > 0).
    pub(crate) fn intern_n(&mut self, acl: &[Acl], users: u64) -> AclRef {
        if let Some(&slot) = self.index.get(acl) {
            if let Some(Some((_, count))) = self.slots.get_mut(slot as usize) {
                *count += users;
            }
            return AclRef(slot);
        }
        let shared: SharedAcl = Arc::from(acl);
        let slot = match self.free.pop() {
            Some(slot) => {
                self.slots[slot as usize] = Some((shared.clone(), users));
                slot
            }
            None => {
                let slot = u32::try_from(self.slots.len()).unwrap_or(u32::MAX);
                self.slots.push(Some((shared.clone(), users)));
                slot
            }
        };
        self.index.insert(shared, slot);
        AclRef(slot)
    }

    /// Counts one user less, dropping the list when none is left.
    pub(crate) fn release(&mut self, acl: AclRef) {
        let Some(entry) = self.slots.get_mut(acl.0 as usize) else {
            return;
        };
        let Some((shared, count)) = entry else {
            return;
        };
        *count -= 1;
        if *count == 0 {
            let shared = shared.clone();
            *entry = None;
            self.index.remove(&shared);
            self.free.push(acl.0);
        }
    }

    /// The list behind a reference (empty for a dangling one, which never happens).
    pub(crate) fn get(&self, acl: AclRef) -> &SharedAcl {
        static EMPTY: std::sync::OnceLock<SharedAcl> = std::sync::OnceLock::new();
        match self.slots.get(acl.0 as usize) {
            Some(Some((shared, _))) => shared,
            _ => EMPTY.get_or_init(|| Arc::from(Vec::new())),
        }
    }

    /// One more than the highest [`AclRef`] in use (the size of a table indexed by them).
    pub(crate) fn slot_count(&self) -> usize {
        self.slots.len()
    }

    /// The number of distinct lists.
    pub(crate) fn len(&self) -> usize {
        self.index.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn acl(perms: Perms, scheme: &str, id: &str) -> Acl {
        Acl {
            perms,
            id: Id::new(scheme, id),
        }
    }

    #[test]
    fn check_acl_grants_by_scheme() {
        let digest = Id::new("digest", "bob:hash");
        let ip = Id::new("ip", "10.1.2.3");
        let cases: Vec<(Vec<Acl>, Perms, Vec<Id>, bool)> = vec![
            (vec![], Perms::ADMIN, vec![], true),
            (Acl::open_unsafe(), Perms::WRITE, vec![], true),
            (Acl::read_unsafe(), Perms::WRITE, vec![], false),
            (Acl::read_unsafe(), Perms::READ, vec![], true),
            (
                vec![acl(Perms::ALL, "digest", "bob:hash")],
                Perms::READ,
                vec![digest.clone()],
                true,
            ),
            (
                vec![acl(Perms::ALL, "digest", "bob:other")],
                Perms::READ,
                vec![digest.clone()],
                false,
            ),
            (
                vec![acl(Perms::READ, "digest", "bob:hash")],
                Perms::WRITE,
                vec![digest.clone()],
                false,
            ),
            (
                vec![acl(Perms::ALL, "ip", "10.1.2.3")],
                Perms::READ,
                vec![ip.clone()],
                true,
            ),
            (
                vec![acl(Perms::ALL, "ip", "10.1.0.0/16")],
                Perms::READ,
                vec![ip.clone()],
                true,
            ),
            (
                vec![acl(Perms::ALL, "ip", "10.2.0.0/16")],
                Perms::READ,
                vec![ip.clone()],
                false,
            ),
            (
                vec![acl(Perms::ALL, "ip", "0.0.0.0/0")],
                Perms::READ,
                vec![ip.clone()],
                true,
            ),
            (
                vec![acl(Perms::ALL, "ip", "10.1.2.3")],
                Perms::READ,
                vec![Id::new("digest", "10.1.2.3")],
                false,
            ),
            (
                vec![acl(Perms::READ, "digest", "x:y")],
                Perms::ADMIN,
                vec![Id::new("super", "")],
                true,
            ),
            (
                vec![acl(Perms::READ, "digest", "x:y")],
                Perms(Perms::READ.0 | Perms::ADMIN.0),
                vec![Id::new("digest", "x:y")],
                true,
            ),
        ];
        for (acl, perm, auth, allowed) in cases {
            assert_eq!(
                check_acl(&acl, perm, &auth).is_ok(),
                allowed,
                "{acl:?} {perm:?} {auth:?}"
            );
        }
    }

    #[test]
    fn fixup_acl_expands_auth_and_checks_ids() {
        let digest = Id::new("digest", "bob:hash");
        let ip = Id::new("ip", "127.0.0.1");
        let auth_acl = vec![acl(Perms::ALL, "auth", "")];
        assert_eq!(
            fixup_acl(&auth_acl, &[ip.clone(), digest.clone()]),
            Ok(vec![Acl {
                perms: Perms::ALL,
                id: digest.clone()
            }])
        );
        assert_eq!(fixup_acl(&auth_acl, &[ip]), Err(ErrorCode::InvalidAcl));
        assert_eq!(
            fixup_acl(&auth_acl, &[Id::new("super", "")]),
            Err(ErrorCode::InvalidAcl)
        );
        assert_eq!(fixup_acl(&[], &[]), Err(ErrorCode::InvalidAcl));
        let doubled = [Acl::open_unsafe(), Acl::open_unsafe()].concat();
        assert_eq!(fixup_acl(&doubled, &[]), Ok(Acl::open_unsafe()));
        let cases = [
            ("world", "anyone", true),
            ("world", "someone", false),
            ("digest", "bob:hash", true),
            ("digest", "bob:hash:", true),
            ("digest", "bob", false),
            ("digest", "a:b:c", false),
            ("ip", "10.0.0.1", true),
            ("ip", "10.0.0.0/8", true),
            ("ip", "10.0.0.0/33", false),
            ("ip", "10.0.0", false),
            ("ip", "::1", false),
            ("sasl", "bob", false),
            ("super", "", false),
        ];
        for (scheme, id, valid) in cases {
            let result = fixup_acl(&[acl(Perms::READ, scheme, id)], &[]);
            assert_eq!(result.is_ok(), valid, "{scheme}:{id}");
        }
    }

    #[test]
    fn mask_digests_hides_hashes_only() {
        let masked = mask_digests(&[
            acl(Perms::ALL, "digest", "bob:hash"),
            acl(Perms::READ, "ip", "10.0.0.1"),
        ]);
        assert_eq!(
            masked,
            vec![
                acl(Perms::ALL, "digest", "bob:x"),
                acl(Perms::READ, "ip", "10.0.0.1")
            ]
        );
    }

    #[test]
    fn acl_cache_shares_and_frees_lists() {
        let mut cache = AclCache::default();
        let a = cache.intern(&Acl::open_unsafe());
        let b = cache.intern(&Acl::open_unsafe());
        assert_eq!(a, b);
        let c = cache.intern(&Acl::read_unsafe());
        assert_ne!(a, c);
        assert_eq!(cache.len(), 2);
        cache.release(a);
        assert_eq!(cache.len(), 2);
        cache.release(b);
        assert_eq!(cache.len(), 1);
        let d = cache.intern(&Acl::open_unsafe());
        assert_eq!(&**cache.get(d), &Acl::open_unsafe()[..]);
        assert_eq!(&**cache.get(c), &Acl::read_unsafe()[..]);
    }
}
