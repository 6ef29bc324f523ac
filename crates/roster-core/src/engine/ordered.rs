//! The per-account lists kept in id order — members by principal id, grants by grant id,
//! child accounts and groups by id — so a page of any of them is a binary search to its
//! cursor and a walk, never a sort per page. While a snapshot is bulk-loaded, entries are
//! appended and each list is sorted once at the end.

use super::{AccountId, Engine, GrantSlot, GroupId, PrincipalId};

/// Inserts `item` at its place in `list` (ordered by `key`), unless one with its key is
/// already there.
fn insert_ordered<'k, T: Copy>(list: &mut Vec<T>, item: T, key: impl Fn(T) -> &'k str) {
    let wanted = key(item);
    // Appending in order (ids that grow, or a load in id order) costs no search.
    if list.last().is_none_or(|&last| key(last) < wanted) {
        list.push(item);
        return;
    }
    if let Err(at) = list.binary_search_by(|&x| key(x).cmp(wanted)) {
        list.insert(at, item);
    }
}

/// Removes the entry with `item`'s key from `list` (ordered by `key`).
fn remove_ordered<'k, T: Copy>(list: &mut Vec<T>, item: T, key: impl Fn(T) -> &'k str) {
    if let Ok(at) = list.binary_search_by(|&x| key(x).cmp(key(item))) {
        list.remove(at);
    }
}

/// Where a page that starts after `cursor` begins in `list` (ordered by `key`).
pub(crate) fn start_after<'k, T: Copy>(list: &[T], cursor: Option<&str>, key: impl Fn(T) -> &'k str) -> usize {
    cursor.map_or(0, |c| list.partition_point(|&x| key(x) <= c))
}

impl Engine {
    /// How much the engine holds: accounts, memberships (any status) and live grants.
    pub fn sizes(&self) -> (u64, u64, u64) {
        let memberships: usize = self.accounts.iter().map(|a| a.members.len()).sum();
        let grants = self.grants.len() - self.free.grants.len();
        (self.accounts.len() as u64, memberships as u64, grants as u64)
    }

    /// Starts a bulk load (a snapshot built from the database): list entries are appended
    /// without keeping order until [`Engine::end_bulk_load`].
    pub fn begin_bulk_load(&mut self) {
        self.bulk_loading = true;
    }

    /// Ends a bulk load: every account's lists are put in order once.
    pub fn end_bulk_load(&mut self) {
        self.bulk_loading = false;
        let Engine { accounts, principals, grants, groups, .. } = self;
        for account in accounts.iter_mut() {
            account.members.sort_unstable_by(|&x, &y| principals[x].id.cmp(&principals[y].id));
            account.members.dedup();
            account.grants.sort_unstable_by(|&x, &y| grants[x].id.cmp(&grants[y].id));
            account.group_list.sort_unstable_by(|&x, &y| groups[x].name.cmp(&groups[y].name));
        }
        let ids: Vec<String> = accounts.iter().map(|a| a.id.clone()).collect();
        for account in accounts.iter_mut() {
            account.children.sort_unstable_by(|&x, &y| ids[x.index()].cmp(&ids[y.index()]));
        }
    }

    pub(crate) fn list_member(&mut self, account: AccountId, principal: PrincipalId) {
        let Engine { accounts, principals, bulk_loading, .. } = self;
        let members = &mut accounts[account].members;
        if *bulk_loading {
            members.push(principal);
        } else {
            insert_ordered(members, principal, |p| principals[p].id.as_str());
        }
    }

    pub(crate) fn unlist_member(&mut self, account: AccountId, principal: PrincipalId) {
        let Engine { accounts, principals, bulk_loading, .. } = self;
        let members = &mut accounts[account].members;
        if *bulk_loading {
            members.retain(|&p| p != principal);
        } else {
            remove_ordered(members, principal, |p| principals[p].id.as_str());
        }
    }

    pub(crate) fn list_grant(&mut self, account: AccountId, slot: GrantSlot) {
        let Engine { accounts, grants, bulk_loading, .. } = self;
        let list = &mut accounts[account].grants;
        if *bulk_loading {
            list.push(slot);
        } else {
            insert_ordered(list, slot, |s| grants[s].id.as_str());
        }
    }

    /// Before the grant's id is cleared: the list is searched by it.
    pub(crate) fn unlist_grant(&mut self, account: AccountId, slot: GrantSlot) {
        let Engine { accounts, grants, bulk_loading, .. } = self;
        let list = &mut accounts[account].grants;
        if *bulk_loading {
            list.retain(|&s| s != slot);
        } else {
            remove_ordered(list, slot, |s| grants[s].id.as_str());
        }
    }

    pub(crate) fn list_child(&mut self, parent: AccountId, child: AccountId) {
        if self.bulk_loading {
            self.accounts[parent].children.push(child);
            return;
        }
        let mut children = std::mem::take(&mut self.accounts[parent].children);
        let accounts = &self.accounts;
        insert_ordered(&mut children, child, |c| accounts[c].id.as_str());
        self.accounts[parent].children = children;
    }

    pub(crate) fn list_group(&mut self, account: AccountId, group: GroupId) {
        let Engine { accounts, groups, bulk_loading, .. } = self;
        let list = &mut accounts[account].group_list;
        if *bulk_loading {
            list.push(group);
        } else {
            insert_ordered(list, group, |g| groups[g].name.as_str());
        }
    }

    /// Before the group's name is taken: the list is searched by it.
    pub(crate) fn unlist_group(&mut self, account: AccountId, group: GroupId) {
        let Engine { accounts, groups, bulk_loading, .. } = self;
        let list = &mut accounts[account].group_list;
        if *bulk_loading {
            list.retain(|&g| g != group);
        } else {
            remove_ordered(list, group, |g| groups[g].name.as_str());
        }
    }
}
