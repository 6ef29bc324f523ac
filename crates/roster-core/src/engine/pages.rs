//! Lists a page at a time: each walks an id-ordered list (see `ordered`) from just after
//! the cursor, applying the caller's filter as it goes, so a page is full unless the list
//! ends and costs the page, not the list.

use super::ordered::start_after;
use super::views::{GrantView, GroupView, RoleView};
use super::{Engine, MembershipStatus, MembershipView};

/// Which page: the items after `after` (the previous page's `next_cursor`), at most `limit`.
#[derive(Clone, Copy, Debug, Default)]
pub struct PageRequest<'a> {
    /// The cursor: the key of the last item of the previous page.
    pub after: Option<&'a str>,
    /// Most items on the page (at least one).
    pub limit: usize,
}

/// One page of a list in a stable order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Page<T> {
    /// The items, in the list's order.
    pub items: Vec<T>,
    /// The cursor of the next page; `None` on the last.
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// The page of `items` (already after the cursor, in order, filtered): at most `limit`,
    /// with the next cursor when one more exists.
    pub fn collect<K: AsRef<str>>(items: impl Iterator<Item = (K, T)>, limit: usize) -> Page<T> {
        let limit = limit.max(1);
        let mut page = Vec::new();
        let mut last: Option<K> = None;
        for (key, item) in items {
            if page.len() == limit {
                return Page { items: page, next_cursor: last.map(|k| k.as_ref().to_owned()) };
            }
            last = Some(key);
            page.push(item);
        }
        Page { items: page, next_cursor: None }
    }

    /// The page of a whole list of keyed items in key order.
    pub fn of_sorted(items: Vec<(String, T)>, request: PageRequest<'_>) -> Page<T> {
        let start = request.after.map_or(0, |after| items.partition_point(|(key, _)| key.as_str() <= after));
        Page::collect(items.into_iter().skip(start), request.limit)
    }

    /// The same page with each item changed.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page { items: self.items.into_iter().map(f).collect(), next_cursor: self.next_cursor }
    }
}

impl Engine {
    /// A page of an account's memberships with `status`, by principal id, keeping those
    /// `keep` accepts.
    pub fn memberships_page(
        &self,
        account: &str,
        status: MembershipStatus,
        request: PageRequest<'_>,
        keep: impl Fn(&str) -> bool,
    ) -> Page<MembershipView> {
        let Some(&a) = self.account_index.get(account) else {
            return Page::collect(std::iter::empty::<(&str, _)>(), 1);
        };
        let list = &self.accounts[a].members;
        let start = start_after(list, request.after, |p| self.principals[p].id.as_str());
        let items = list[start..].iter().filter_map(|&p| {
            let id = self.principals[p].id.as_str();
            let membership = self.membership_of(p, a)?;
            (membership.status == status && keep(id)).then(|| (id, self.membership_view(a, p, membership)))
        });
        Page::collect(items, request.limit)
    }

    /// A page of an account's grants, by grant id, keeping those `keep` accepts.
    pub fn grants_page(
        &self,
        account: &str,
        request: PageRequest<'_>,
        keep: impl Fn(&GrantView) -> bool,
    ) -> Page<GrantView> {
        let Some(&a) = self.account_index.get(account) else {
            return Page::collect(std::iter::empty::<(&str, _)>(), 1);
        };
        let list = &self.accounts[a].grants;
        let start = start_after(list, request.after, |s| self.grants[s].id.as_str());
        let items = list[start..].iter().filter_map(|&slot| {
            let view = self.grant_view(a, slot);
            keep(&view).then(|| (self.grants[slot].id.as_str(), view))
        });
        Page::collect(items, request.limit)
    }

    /// A page of an account's groups, by id.
    pub fn groups_page(&self, account: &str, request: PageRequest<'_>) -> Page<GroupView> {
        let Some(&a) = self.account_index.get(account) else {
            return Page::collect(std::iter::empty::<(&str, _)>(), 1);
        };
        let list = &self.accounts[a].group_list;
        let start = start_after(list, request.after, |g| self.groups[g].name.as_str());
        let items = list[start..].iter().map(|&g| (self.groups[g].name.as_str(), self.group_view(g)));
        Page::collect(items, request.limit)
    }

    /// A page of an account's child accounts, by id.
    pub fn child_accounts_page(&self, account: &str, request: PageRequest<'_>) -> Page<String> {
        let Some(&a) = self.account_index.get(account) else {
            return Page::collect(std::iter::empty::<(&str, _)>(), 1);
        };
        let list = &self.accounts[a].children;
        let start = start_after(list, request.after, |c| self.accounts[c].id.as_str());
        let items = list[start..].iter().map(|&c| (self.accounts[c].id.as_str(), self.accounts[c].id.clone()));
        Page::collect(items, request.limit)
    }

    /// A page of the roles usable in an account, highest rank first (then by id). The
    /// cursor is `<rank>:<id>`. The roles are the pack's and the account's custom ones (at
    /// most 65,536): a page sorts them, which is cheap at that size. `None` when the
    /// cursor is not one this list gave.
    pub fn roles_page(&self, account: &str, request: PageRequest<'_>) -> Option<Page<RoleView>> {
        let order = |rank: u32, id: &str| (std::cmp::Reverse(rank), id.to_owned());
        let after = match request.after {
            None => None,
            Some(cursor) => {
                let (rank, id) = cursor.split_once(':')?;
                Some(order(rank.parse().ok()?, id))
            }
        };
        let views = self.role_views(account);
        let start = after.map_or(0, |after| views.partition_point(|r| order(r.rank, &r.id) <= after));
        let items = views.into_iter().skip(start).map(|r| (format!("{}:{}", r.rank, r.id), r));
        Some(Page::collect(items, request.limit))
    }
}
