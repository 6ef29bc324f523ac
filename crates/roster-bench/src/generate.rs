//! The deterministic dataset: studio-pack accounts with studios and pickaxes, members in
//! every role, external consultants, a group, resource grants to members and to the
//! group, owners; and a mix of questions, allowed and denied, shallow and deep. Same
//! seed, same data. Every engine in the run (Roster and its peers) is built from the
//! same [`Tenant`] records.

use roster_core::engine::MembershipStatus;
use roster_core::{Change, Subject};

/// The time every check runs at.
pub(crate) const NOW: i64 = 1_800_000_000;

pub(crate) const STUDIOS: usize = 5;
pub(crate) const PICKAXES_PER_STUDIO: usize = 20;
const MEMBERS: usize = 50;
const GRANTS: usize = 48;
const GROUP_GRANTS: usize = 2;
const GROUP_MEMBERS: usize = 6;
/// Memberships plus grants per account: the unit `--scale` multiplies.
pub(crate) const RECORDS_PER_ACCOUNT: usize = MEMBERS + GRANTS + GROUP_GRANTS;
const PERMISSIONS: &[&str] = &[
    "pickaxe.view",
    "pickaxe.use",
    "pickaxe.edit",
    "pickaxe.delete",
    "studio.view",
    "studio.edit",
    "studio.analytics.view",
    "billing.view",
    "member.invite",
    "grant.manage",
];

/// SplitMix64: small, fast, and the same everywhere.
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// One check, with string ids as the API receives them.
#[derive(Clone, Debug)]
pub(crate) struct Question {
    /// Index of the account the question is about.
    pub(crate) tenant: usize,
    pub(crate) account: String,
    pub(crate) principal: String,
    pub(crate) permission: &'static str,
    /// `None` asks about the account itself.
    pub(crate) resource: Option<String>,
}

/// A member of an account.
pub(crate) struct Member {
    pub(crate) principal: String,
    pub(crate) role: &'static str,
    pub(crate) external: bool,
}

/// A resource: a studio (no parent) or a pickaxe in a studio.
pub(crate) struct Resource {
    pub(crate) name: String,
    pub(crate) parent: Option<String>,
    pub(crate) owner: Option<String>,
}

/// Who a grant is for.
pub(crate) enum Grantee {
    Principal(String),
    Group(String),
}

/// A role on one resource.
pub(crate) struct Grant {
    pub(crate) id: String,
    pub(crate) subject: Grantee,
    pub(crate) resource: String,
    pub(crate) role: &'static str,
}

/// A group of members.
pub(crate) struct Group {
    pub(crate) name: String,
    pub(crate) members: Vec<String>,
}

/// Everything one account holds.
pub(crate) struct Tenant {
    pub(crate) account: String,
    pub(crate) members: Vec<Member>,
    pub(crate) resources: Vec<Resource>,
    pub(crate) groups: Vec<Group>,
    pub(crate) grants: Vec<Grant>,
}

/// The generated state.
pub(crate) struct Dataset {
    accounts: usize,
    seed: u64,
}

fn member_role(index: usize) -> (&'static str, bool) {
    match index {
        0 => ("owner", false),
        1 | 2 => ("admin", false),
        3..=7 => ("manager", false),
        48 | 49 => ("user", true),
        _ => ("user", false),
    }
}

fn principal(account: usize, member: usize) -> String {
    format!("user-{account}-{member}")
}

impl Dataset {
    pub(crate) fn new(accounts: usize, seed: u64) -> Dataset {
        Dataset { accounts, seed }
    }

    /// The records of account `a`.
    pub(crate) fn tenant(&self, a: usize) -> Tenant {
        let mut rng = Rng(self.seed ^ (a as u64).wrapping_mul(0x100_0000_01b3));
        let members = (0..MEMBERS)
            .map(|m| {
                let (role, external) = member_role(m);
                Member { principal: principal(a, m), role, external }
            })
            .collect();
        let mut resources = Vec::with_capacity(STUDIOS * (1 + PICKAXES_PER_STUDIO));
        for s in 0..STUDIOS {
            resources.push(Resource { name: format!("studio:{s}"), parent: None, owner: None });
            for p in 0..PICKAXES_PER_STUDIO {
                let owner = (rng.below(4) == 0).then(|| principal(a, 3 + rng.below(5)));
                resources.push(Resource {
                    name: format!("pickaxe:{s}-{p}"),
                    parent: Some(format!("studio:{s}")),
                    owner,
                });
            }
        }
        let group =
            Group { name: "leads".to_owned(), members: (0..GROUP_MEMBERS).map(|i| principal(a, 10 + i * 5)).collect() };
        let mut grants = Vec::with_capacity(GRANTS + GROUP_GRANTS);
        for g in 0..GRANTS + GROUP_GRANTS {
            let studio = rng.below(STUDIOS);
            let (resource, role) = if g % 10 == 0 {
                (format!("studio:{studio}"), "studio_client")
            } else {
                (format!("pickaxe:{studio}-{}", rng.below(PICKAXES_PER_STUDIO)), "pickaxe_user")
            };
            let subject = if g >= GRANTS {
                Grantee::Group(group.name.clone())
            } else {
                Grantee::Principal(principal(a, rng.below(MEMBERS)))
            };
            grants.push(Grant { id: format!("g-{a}-{g}"), subject, resource, role });
        }
        Tenant { account: format!("acct-{a}"), members, resources, groups: vec![group], grants }
    }

    /// Every account's records, in order.
    pub(crate) fn tenants(&self) -> impl Iterator<Item = Tenant> + '_ {
        (0..self.accounts).map(|a| self.tenant(a))
    }

    /// The changes that build the state, in an order the engine accepts.
    pub(crate) fn changes(&self) -> impl Iterator<Item = Change> + '_ {
        self.tenants().flat_map(|tenant| tenant.changes())
    }

    /// `count` questions: members of the account (mostly) or of another, every permission,
    /// the account itself, a studio or a pickaxe.
    pub(crate) fn questions(&self, count: usize, seed: u64) -> Vec<Question> {
        let mut rng = Rng(seed);
        (0..count)
            .map(|_| {
                let a = rng.below(self.accounts);
                let who = if rng.below(10) == 0 { rng.below(self.accounts) } else { a };
                let studio = rng.below(STUDIOS);
                let resource = match rng.below(4) {
                    0 => None,
                    1 => Some(format!("studio:{studio}")),
                    _ => Some(format!("pickaxe:{studio}-{}", rng.below(PICKAXES_PER_STUDIO))),
                };
                Question {
                    tenant: a,
                    account: format!("acct-{a}"),
                    principal: principal(who, rng.below(MEMBERS)),
                    permission: PERMISSIONS[rng.below(PERMISSIONS.len())],
                    resource,
                }
            })
            .collect()
    }
}

impl Tenant {
    /// Roster's changes for this account.
    pub(crate) fn changes(self) -> Vec<Change> {
        let account = self.account;
        let mut changes = vec![Change::CreateAccount { id: account.clone(), pack: "studio".into(), parent: None }];
        changes.extend(self.members.into_iter().map(|m| Change::PutMembership {
            account: account.clone(),
            principal: m.principal,
            role: m.role.into(),
            external: m.external,
            status: MembershipStatus::Active,
            expires_at: None,
        }));
        changes.extend(self.resources.into_iter().map(|r| Change::AddResource {
            account: account.clone(),
            resource: r.name,
            parent: r.parent,
            owner: r.owner,
        }));
        for group in self.groups {
            changes.push(Change::AddGroup { account: account.clone(), group: group.name.clone() });
            changes.extend(group.members.into_iter().map(|principal| Change::AddGroupMember {
                account: account.clone(),
                group: group.name.clone(),
                principal,
            }));
        }
        changes.extend(self.grants.into_iter().map(|g| Change::AddGrant {
            id: g.id,
            account: account.clone(),
            subject: match g.subject {
                Grantee::Principal(p) => Subject::Principal(p),
                Grantee::Group(g) => Subject::Group(g),
            },
            resource: Some(g.resource),
            role: g.role.into(),
            expires_at: None,
        }));
        changes
    }
}
