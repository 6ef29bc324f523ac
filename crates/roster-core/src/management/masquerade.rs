//! Masquerade: acting as another member. Only onto a live, visible member whose standing
//! everywhere the masquerade reaches (the account, the accounts above it, and every grant
//! they hold in the account's tree) ranks below the actor's own in the account.

use super::{Actor, ManagementError, Result};
use crate::engine::{AccountId, Change, Engine, SubjectRef};

impl Engine {
    pub(super) fn plan_masquerade(&self, actor: &Actor, account: &str, target: &str, now: i64) -> Result<Vec<Change>> {
        let a = self.account_id(account)?;
        let Actor::Principal(id) = actor else {
            return Err(ManagementError::Masquerade {
                actor: "platform".into(),
                target: target.to_owned(),
                reason: "masquerade is asked for by a principal (Roster-Act-As)".into(),
            });
        };
        let fail =
            |reason: String| ManagementError::Masquerade { actor: id.clone(), target: target.to_owned(), reason };
        let pack = self.account_pack_of(a);
        let permission = pack
            .masquerade_permission()
            .ok_or_else(|| fail(format!("pack `{}` has no masquerade permission", pack.id())))?;
        self.require(actor, a, None, &pack.permission_ids()[usize::from(permission)], now)?;
        let membership = self.visible_member(actor, a, target)?;
        if !membership.is_live(now) {
            return Err(fail("they are not an active member".into()));
        }
        let top = self.standing(actor, a, None, now).and_then(|s| s.top_rank).unwrap_or(0);
        let (rank, role) = self.highest_standing(a, target, now);
        if rank >= top {
            return Err(fail(format!(
                "their role `{role}` (rank {rank}) is not below the actor's (rank {top}) everywhere the masquerade reaches"
            )));
        }
        Ok(Vec::new())
    }

    /// The target's highest-ranked live role over the account, the accounts above it, and
    /// every live grant they hold (directly or through a group) in the account's tree.
    fn highest_standing(&self, a: AccountId, target: &str, now: i64) -> (u32, String) {
        let Some(&p) = self.principal_lookup(target) else { return (0, String::new()) };
        let mut best = (0, String::new());
        let mut consider = |account: AccountId, role| {
            let role = self.role(account, role);
            if role.rank >= best.0 {
                best = (role.rank, role.id.clone());
            }
        };
        let mut current = Some(a);
        while let Some(acc) = current {
            if let Some(m) = self.membership_of(p, acc).filter(|m| m.is_live(now)) {
                consider(acc, m.role);
            }
            current = self.accounts[acc].parent;
        }
        let root = self.root_account(a);
        for slot in self.grant_slots_of(p) {
            let grant = &self.grants[slot];
            let account = self.nodes[grant.node].account;
            let to_target = match grant.subject {
                SubjectRef::Principal(q) => q == p,
                SubjectRef::Group(_) => true,
            };
            if to_target && grant.is_live(now) && self.root_account(account) == root {
                consider(account, grant.role);
            }
        }
        best
    }

    /// The top account above `a` (itself for a top-level account).
    fn root_account(&self, mut a: AccountId) -> AccountId {
        while let Some(parent) = self.accounts[a].parent {
            a = parent;
        }
        a
    }
}
