//! Settles: once faults stop and every server is up and connected, all of them settle on one
//! leader (it LEADING, every other voter FOLLOWING it, every observer OBSERVING it) within a
//! bounded virtual time, and stay there.

use std::collections::BTreeMap;

use zk_proto::Sid;

use crate::sim::Role;

/// The leader every server agrees on, if they all do.
pub fn settled_leader(roles: &BTreeMap<Sid, Role>) -> Option<Sid> {
    let leader = roles
        .iter()
        .find_map(|(&sid, role)| (*role == Role::Leading).then_some(sid))?;
    let agreed = roles.iter().all(|(&sid, role)| match role {
        Role::Leading => sid == leader,
        Role::Following(of) | Role::Observing(of) => *of == leader,
        Role::Looking | Role::Down => false,
    });
    agreed.then_some(leader)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_one_leader_followed_by_everyone_is_settled() {
        // (roles by sid, the leader they settled on)
        type Case = (&'static [(u64, Role)], Option<u64>);
        let table: &[Case] = &[
            (
                &[
                    (1, Role::Following(Sid(3))),
                    (2, Role::Observing(Sid(3))),
                    (3, Role::Leading),
                ],
                Some(3),
            ),
            (
                &[
                    (1, Role::Following(Sid(3))),
                    (2, Role::Looking),
                    (3, Role::Leading),
                ],
                None,
            ),
            (
                &[
                    (1, Role::Following(Sid(2))),
                    (2, Role::Following(Sid(3))),
                    (3, Role::Leading),
                ],
                None,
            ),
            (&[(1, Role::Leading), (2, Role::Leading)], None),
            (&[(1, Role::Following(Sid(2))), (2, Role::Down)], None),
            (&[(1, Role::Leading)], Some(1)),
        ];
        for (roles, expected) in table {
            let roles: BTreeMap<Sid, Role> =
                roles.iter().map(|&(sid, role)| (Sid(sid), role)).collect();
            assert_eq!(settled_leader(&roles), expected.map(Sid), "{roles:?}");
        }
    }
}
