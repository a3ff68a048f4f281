//! Quorum verifiers: which sets of servers form a quorum, and who may lead.
//!
//! [`MajorityQuorum`] is ZooKeeper's `QuorumMaj`: more than half of the voters.
//! [`HierarchicalQuorum`] is `QuorumHierarchical`, configured by zoo.cfg `group.G=1:2:3` and
//! `weight.N=w` lines: a set is a quorum when, in more than half of the groups whose total weight
//! is non-zero, its members carry more than half of that group's weight. A server without a
//! `weight.N` line weighs 1. A server of weight 0 votes but can never be elected.
//! Servers that are not voters (observers) are ignored by both verifiers.

use std::collections::{BTreeMap, BTreeSet};

use zk_proto::Sid;

use crate::error::QuorumConfigError;

/// "More than half of the voters", ZooKeeper's default.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MajorityQuorum {
    voters: BTreeSet<Sid>,
}

impl MajorityQuorum {
    /// A majority verifier over `voters` (the `participant` servers).
    pub fn new(voters: impl IntoIterator<Item = Sid>) -> Result<MajorityQuorum, QuorumConfigError> {
        let voters: BTreeSet<Sid> = voters.into_iter().collect();
        if voters.is_empty() {
            return Err(QuorumConfigError::NoVoters);
        }
        Ok(MajorityQuorum { voters })
    }
}

/// ZooKeeper's hierarchical quorums: groups of servers, each server with a weight.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HierarchicalQuorum {
    group_of: BTreeMap<Sid, u64>,
    weight_of: BTreeMap<Sid, u64>,
    group_weight: BTreeMap<u64, u64>,
    weighted_group_count: usize,
}

impl HierarchicalQuorum {
    /// A hierarchical verifier from groups (group id to member sids) and explicit weights.
    /// Members without an explicit weight weigh 1.
    pub fn new(
        groups: &BTreeMap<u64, Vec<Sid>>,
        weights: &BTreeMap<Sid, u64>,
    ) -> Result<HierarchicalQuorum, QuorumConfigError> {
        let mut group_of = BTreeMap::new();
        for (&group, members) in groups {
            for &sid in members {
                if let Some(first) = group_of.insert(sid, group) {
                    if first != group {
                        return Err(QuorumConfigError::ServerInTwoGroups {
                            sid,
                            first,
                            second: group,
                        });
                    }
                }
            }
        }
        for &sid in weights.keys() {
            if !group_of.contains_key(&sid) {
                return Err(QuorumConfigError::WeightWithoutGroup { sid });
            }
        }
        let weight_of: BTreeMap<Sid, u64> = group_of
            .keys()
            .map(|&sid| (sid, weights.get(&sid).copied().unwrap_or(1)))
            .collect();
        let mut group_weight: BTreeMap<u64, u64> = groups.keys().map(|&g| (g, 0)).collect();
        for (&sid, &group) in &group_of {
            *group_weight.entry(group).or_insert(0) += weight_of[&sid];
        }
        let weighted_group_count = group_weight.values().filter(|&&w| w > 0).count();
        if weighted_group_count == 0 {
            return Err(QuorumConfigError::NoVoters);
        }
        Ok(HierarchicalQuorum {
            group_of,
            weight_of,
            group_weight,
            weighted_group_count,
        })
    }

    /// Parses zoo.cfg lines `group.G=sid:sid:...` and `weight.N=w`; other keys are skipped.
    pub fn from_properties<'a>(
        properties: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<HierarchicalQuorum, QuorumConfigError> {
        let mut groups: BTreeMap<u64, Vec<Sid>> = BTreeMap::new();
        let mut weights = BTreeMap::new();
        for (key, value) in properties {
            let key = key.trim();
            let value = value.trim();
            let bad_value = || QuorumConfigError::BadValue {
                key: key.to_owned(),
                value: value.to_owned(),
            };
            if let Some(number) = key.strip_prefix("group.") {
                let group = parse_number(key, number)?;
                let mut members = Vec::new();
                for part in value.split(':') {
                    members.push(Sid(part.trim().parse().map_err(|_| bad_value())?));
                }
                groups.entry(group).or_default().extend(members);
            } else if let Some(number) = key.strip_prefix("weight.") {
                let sid = Sid(parse_number(key, number)?);
                weights.insert(sid, value.parse().map_err(|_| bad_value())?);
            }
        }
        HierarchicalQuorum::new(&groups, &weights)
    }
}

fn parse_number(key: &str, number: &str) -> Result<u64, QuorumConfigError> {
    number.parse().map_err(|_| QuorumConfigError::BadKey {
        key: key.to_owned(),
    })
}

/// Decides whether a set of servers is a quorum; shared by every election algorithm.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum QuorumVerifier {
    /// More than half of the voters.
    Majority(MajorityQuorum),
    /// Groups and weights.
    Hierarchical(HierarchicalQuorum),
}

impl QuorumVerifier {
    /// A majority verifier over `voters`.
    pub fn majority(
        voters: impl IntoIterator<Item = Sid>,
    ) -> Result<QuorumVerifier, QuorumConfigError> {
        MajorityQuorum::new(voters).map(QuorumVerifier::Majority)
    }

    /// Whether `sid` is a voting member (a participant; weight 0 still votes).
    pub fn is_voter(&self, sid: Sid) -> bool {
        match self {
            QuorumVerifier::Majority(majority) => majority.voters.contains(&sid),
            QuorumVerifier::Hierarchical(hierarchical) => hierarchical.group_of.contains_key(&sid),
        }
    }

    /// The voting weight of `sid`: 0 for a non-voter.
    pub fn weight(&self, sid: Sid) -> u64 {
        match self {
            QuorumVerifier::Majority(majority) => u64::from(majority.voters.contains(&sid)),
            QuorumVerifier::Hierarchical(hierarchical) => {
                hierarchical.weight_of.get(&sid).copied().unwrap_or(0)
            }
        }
    }

    /// Whether `sid` may be elected: only voters of non-zero weight (`totalOrderPredicate`'s
    /// first test).
    pub fn can_lead(&self, sid: Sid) -> bool {
        self.weight(sid) > 0
    }

    /// Every voting member, in sid order.
    pub fn voters(&self) -> Vec<Sid> {
        match self {
            QuorumVerifier::Majority(majority) => majority.voters.iter().copied().collect(),
            QuorumVerifier::Hierarchical(hierarchical) => {
                hierarchical.group_of.keys().copied().collect()
            }
        }
    }

    /// Whether `sids` (duplicates and non-voters are ignored) contain a quorum.
    pub fn contains_quorum(&self, sids: impl IntoIterator<Item = Sid>) -> bool {
        let sids: BTreeSet<Sid> = sids.into_iter().filter(|&sid| self.is_voter(sid)).collect();
        match self {
            QuorumVerifier::Majority(majority) => sids.len() > majority.voters.len() / 2,
            QuorumVerifier::Hierarchical(hierarchical) => {
                let mut weight_in_group: BTreeMap<u64, u64> = BTreeMap::new();
                for sid in sids {
                    *weight_in_group
                        .entry(hierarchical.group_of[&sid])
                        .or_insert(0) += hierarchical.weight_of[&sid];
                }
                let groups_with_majority = weight_in_group
                    .iter()
                    .filter(|(group, &weight)| weight > hierarchical.group_weight[group] / 2)
                    .count();
                groups_with_majority > hierarchical.weighted_group_count / 2
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sids(list: &[u64]) -> Vec<Sid> {
        list.iter().copied().map(Sid).collect()
    }

    #[test]
    fn majority_needs_more_than_half_of_the_voters() {
        // (voters, set, quorum?)
        let table: &[(&[u64], &[u64], bool)] = &[
            (&[1], &[1], true),
            (&[1], &[], false),
            (&[1, 2, 3], &[1, 2], true),
            (&[1, 2, 3], &[3], false),
            (&[1, 2, 3, 4], &[1, 2], false),
            (&[1, 2, 3, 4], &[1, 2, 4], true),
            (&[1, 2, 3], &[1, 7, 8, 9], false), // 7, 8, 9 are observers: not counted
            (&[1, 2, 3, 4, 5], &[5, 4, 3], true),
        ];
        for &(voters, set, expected) in table {
            let verifier = QuorumVerifier::majority(sids(voters)).unwrap();
            assert_eq!(
                verifier.contains_quorum(sids(set)),
                expected,
                "voters {voters:?}, set {set:?}"
            );
        }
    }

    #[test]
    fn majority_weights_and_leadership() {
        let verifier = QuorumVerifier::majority(sids(&[1, 2, 3])).unwrap();
        assert_eq!(verifier.weight(Sid(2)), 1);
        assert_eq!(verifier.weight(Sid(4)), 0);
        assert!(verifier.can_lead(Sid(1)));
        assert!(!verifier.can_lead(Sid(4)));
        assert!(verifier.is_voter(Sid(3)));
        assert!(!verifier.is_voter(Sid(4)));
        assert_eq!(verifier.voters(), sids(&[1, 2, 3]));
        assert_eq!(
            QuorumVerifier::majority([]),
            Err(QuorumConfigError::NoVoters)
        );
    }

    fn nine_in_three_groups(extra: &[(&'static str, &'static str)]) -> QuorumVerifier {
        let mut lines = vec![
            ("group.1", "1:2:3"),
            ("group.2", "4:5:6"),
            ("group.3", "7:8:9"),
            ("tickTime", "2000"),
        ];
        lines.extend_from_slice(extra);
        QuorumVerifier::Hierarchical(HierarchicalQuorum::from_properties(lines).unwrap())
    }

    #[test]
    fn hierarchical_needs_a_majority_of_weight_in_a_majority_of_groups() {
        // (extra zoo.cfg lines, set, quorum?, why)
        type Case = (
            &'static [(&'static str, &'static str)],
            &'static [u64],
            bool,
            &'static str,
        );
        let table: &[Case] = &[
            (
                &[],
                &[1, 2, 4, 5],
                true,
                "two servers in each of two groups",
            ),
            (&[], &[1, 2, 3, 4], false, "only one group has a majority"),
            (
                &[],
                &[1, 4, 7],
                false,
                "one server per group is no group majority",
            ),
            (&[], &[1, 2, 4, 5, 7, 8], true, "three group majorities"),
            (
                &[("weight.1", "3")],
                &[1, 4, 5],
                true,
                "server 1 alone outweighs its group (3 > 5/2)",
            ),
            (
                &[("weight.7", "0"), ("weight.8", "0"), ("weight.9", "0")],
                &[1, 2, 3],
                false,
                "group 3 weighs nothing: 2 groups count, 1 is not more than half",
            ),
            (
                &[("weight.7", "0"), ("weight.8", "0"), ("weight.9", "0")],
                &[1, 2, 4, 5],
                true,
                "a majority of the two weighted groups",
            ),
            (
                &[("weight.7", "0"), ("weight.8", "0"), ("weight.9", "0")],
                &[7, 8, 9, 1, 2],
                false,
                "zero-weight votes add nothing",
            ),
            (&[], &[10, 11, 12, 1, 2, 4], false, "non-voters are ignored"),
        ];
        for &(extra, set, expected, why) in table {
            let verifier = nine_in_three_groups(extra);
            assert_eq!(verifier.contains_quorum(sids(set)), expected, "{why}");
        }
    }

    #[test]
    fn hierarchical_zero_weight_votes_but_cannot_lead() {
        let verifier = nine_in_three_groups(&[("weight.4", "0")]);
        assert!(verifier.is_voter(Sid(4)));
        assert!(!verifier.can_lead(Sid(4)));
        assert!(verifier.can_lead(Sid(5)));
        assert_eq!(verifier.weight(Sid(1)), 1);
        assert!(!verifier.is_voter(Sid(10)));
    }

    #[test]
    fn hierarchical_rejects_bad_configurations() {
        let table: &[(&[(&str, &str)], QuorumConfigError)] = &[
            (
                &[("group.x", "1:2")],
                QuorumConfigError::BadKey {
                    key: "group.x".into(),
                },
            ),
            (
                &[("group.1", "1:b")],
                QuorumConfigError::BadValue {
                    key: "group.1".into(),
                    value: "1:b".into(),
                },
            ),
            (
                &[("group.1", "1:2"), ("group.2", "2:3")],
                QuorumConfigError::ServerInTwoGroups {
                    sid: Sid(2),
                    first: 1,
                    second: 2,
                },
            ),
            (
                &[("group.1", "1:2"), ("weight.3", "1")],
                QuorumConfigError::WeightWithoutGroup { sid: Sid(3) },
            ),
            (
                &[("group.1", "1:2"), ("weight.1", "0"), ("weight.2", "0")],
                QuorumConfigError::NoVoters,
            ),
            (
                &[("group.1", "1"), ("weight.1", "-1")],
                QuorumConfigError::BadValue {
                    key: "weight.1".into(),
                    value: "-1".into(),
                },
            ),
        ];
        for (lines, expected) in table {
            assert_eq!(
                HierarchicalQuorum::from_properties(lines.iter().copied()).unwrap_err(),
                *expected
            );
        }
    }
}
