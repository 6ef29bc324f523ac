//! The deterministic dataset: studio-pack accounts with studios and pickaxes, members in
//! every role, external consultants, resource grants, owners; and a mix of questions,
//! allowed and denied, shallow and deep. Same seed, same data.

use roster_core::engine::MembershipStatus;
use roster_core::{Change, Subject};

/// The time every check runs at.
pub(crate) const NOW: i64 = 1_800_000_000;

const STUDIOS: usize = 5;
const PICKAXES_PER_STUDIO: usize = 20;
const MEMBERS: usize = 50;
const GRANTS: usize = 50;
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

/// One check to time, with string ids as the API receives them.
pub(crate) struct Question {
    pub(crate) account: String,
    pub(crate) principal: String,
    pub(crate) permission: &'static str,
    pub(crate) resource: Option<String>,
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

impl Dataset {
    pub(crate) fn new(accounts: usize, seed: u64) -> Dataset {
        Dataset { accounts, seed }
    }

    /// The changes that build the state, in an order the engine accepts.
    pub(crate) fn changes(&self) -> impl Iterator<Item = Change> + '_ {
        (0..self.accounts).flat_map(move |a| {
            let mut rng = Rng(self.seed ^ (a as u64).wrapping_mul(0x100_0000_01b3));
            let account = format!("acct-{a}");
            let mut changes = vec![Change::CreateAccount { id: account.clone(), pack: "studio".into(), parent: None }];
            for m in 0..MEMBERS {
                let (role, external) = member_role(m);
                changes.push(Change::PutMembership {
                    account: account.clone(),
                    principal: format!("user-{a}-{m}"),
                    role: role.into(),
                    external,
                    status: MembershipStatus::Active,
                    expires_at: None,
                });
            }
            for s in 0..STUDIOS {
                changes.push(Change::AddResource {
                    account: account.clone(),
                    resource: format!("studio:{s}"),
                    parent: None,
                    owner: None,
                });
                for p in 0..PICKAXES_PER_STUDIO {
                    let owner = (rng.below(4) == 0).then(|| format!("user-{a}-{}", 3 + rng.below(5)));
                    changes.push(Change::AddResource {
                        account: account.clone(),
                        resource: format!("pickaxe:{s}-{p}"),
                        parent: Some(format!("studio:{s}")),
                        owner,
                    });
                }
            }
            for g in 0..GRANTS {
                let studio = rng.below(STUDIOS);
                let (resource, role) = if g % 10 == 0 {
                    (format!("studio:{studio}"), "studio_client")
                } else {
                    (format!("pickaxe:{studio}-{}", rng.below(PICKAXES_PER_STUDIO)), "pickaxe_user")
                };
                changes.push(Change::AddGrant {
                    id: format!("g-{a}-{g}"),
                    account: account.clone(),
                    subject: Subject::Principal(format!("user-{a}-{}", rng.below(MEMBERS))),
                    resource: Some(resource),
                    role: role.into(),
                    expires_at: None,
                });
            }
            changes
        })
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
                    account: format!("acct-{a}"),
                    principal: format!("user-{who}-{}", rng.below(MEMBERS)),
                    permission: PERMISSIONS[rng.below(PERMISSIONS.len())],
                    resource,
                }
            })
            .collect()
    }
}
