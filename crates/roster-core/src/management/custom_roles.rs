//! Custom roles: defined at run time for one account from its pack's permissions. Nobody
//! defines a role that gives more than they hold, outranks them or manages what they do
//! not; deleting one needs the same standing as defining it.

use super::{Actor, Result};
use crate::engine::{Change, ChangeError, Engine};
use crate::manifest::RoleDef;

impl Engine {
    pub(super) fn plan_define_role(
        &self,
        actor: &Actor,
        account: &str,
        role: &RoleDef,
        now: i64,
    ) -> Result<Vec<Change>> {
        let a = self.account_id(account)?;
        self.require(actor, a, None, "role.manage", now)?;
        let compiled = self.compile_custom_role(a, role)?;
        if let Some(standing) = self.standing(actor, a, None, now) {
            self.within_standing(actor, &standing, &compiled, a)?;
        }
        Ok(vec![Change::DefineRole { account: account.to_owned(), role: role.clone() }])
    }

    pub(super) fn plan_remove_role(&self, actor: &Actor, account: &str, role: &str, now: i64) -> Result<Vec<Change>> {
        let a = self.account_id(account)?;
        self.require(actor, a, None, "role.manage", now)?;
        let Some(&index) = self.accounts[a].custom_index.get(role) else {
            return Err(ChangeError::UnknownRole { account: account.to_owned(), role: role.to_owned() }.into());
        };
        if let Some(standing) = self.standing(actor, a, None, now) {
            let compiled = &self.accounts[a].custom_roles[usize::from(index)];
            self.within_standing(actor, &standing, compiled, a)?;
        }
        Ok(vec![Change::RemoveRole { account: account.to_owned(), role: role.to_owned() }])
    }
}
