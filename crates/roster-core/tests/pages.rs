//! Lists a page at a time (issue 9): walking any list page by page gives the whole list
//! once, in its stable order, whatever order the entries were made in; the walk sees an
//! entry added after its cursor and not one removed ahead of it; a filtered page (members
//! hidden from the reader) is still full; a bulk load leaves every list in order.

mod support;

use roster_core::Actor;
use roster_core::engine::{MembershipStatus, Page, PageRequest};
use support::{NOW, World, grant};

/// Shuffled ids `<prefix>00..<prefix>NN`, in an order that is not theirs.
fn shuffled(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}{:02}", (i * 7 + 3) % n)).collect()
}

/// Every page of a list, each of `limit`, joined; panics on a page that is short before
/// the end.
fn walk<T: Clone>(limit: usize, mut page: impl FnMut(Option<&str>) -> Page<T>) -> Vec<T> {
    let mut all = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let next = page(cursor.as_deref());
        assert!(next.items.len() <= limit);
        all.extend(next.items.iter().cloned());
        match next.next_cursor {
            Some(c) => {
                assert_eq!(next.items.len(), limit, "only the last page may be short");
                cursor = Some(c);
            }
            None => return all,
        }
    }
}

fn studio_world() -> World {
    let mut w = World::new();
    populate(&mut w);
    w
}

/// A studio account with members, grants and groups, and an agency with child accounts,
/// each made in an order that is not their ids'.
fn populate(w: &mut World) {
    w.account("s1", "studio", "olivia");
    w.resource("s1", "studio:1", None, None);
    for member in shuffled("m", 23) {
        w.member("s1", &member, "user");
    }
    for (i, id) in shuffled("g", 17).into_iter().enumerate() {
        w.setup(grant(&id, "s1", &format!("principal:m{:02}", i), Some("studio:1"), "studio_client"));
    }
    for group in shuffled("team", 9) {
        w.group("s1", &group, &[]);
    }
    w.account("ag", "agency", "ann");
    for child in shuffled("ag.c", 8) {
        w.child(&child, "ag", "agency", "ann");
    }
}

#[test]
fn every_list_walked_page_by_page_is_the_whole_list_in_order() {
    let w = studio_world();
    let e = &w.engine;
    let me = Actor::Service;
    for limit in [1, 3, 50] {
        let members =
            walk(limit, |after| e.members_page_for(&me, "s1", MembershipStatus::Active, PageRequest { after, limit }));
        let ids: Vec<String> = members.iter().map(|m| m.principal.clone()).collect();
        let mut expected: Vec<String> = shuffled("m", 23);
        expected.push("olivia".into());
        expected.sort();
        assert_eq!(ids, expected, "members, limit {limit}");

        let grants = walk(limit, |after| e.grants_page_for(&me, "s1", (None, None), PageRequest { after, limit }, NOW));
        let ids: Vec<String> = grants.iter().map(|g| g.id.clone()).collect();
        let mut expected = shuffled("g", 17);
        expected.sort();
        assert_eq!(ids, expected, "grants, limit {limit}");

        let groups = walk(limit, |after| e.groups_page_for(&me, "s1", PageRequest { after, limit }));
        let ids: Vec<String> = groups.iter().map(|g| g.id.clone()).collect();
        let mut expected = shuffled("team", 9);
        expected.sort();
        assert_eq!(ids, expected, "groups, limit {limit}");

        let children = walk(limit, |after| e.child_accounts_page("ag", PageRequest { after, limit }));
        let mut expected = shuffled("ag.c", 8);
        expected.sort();
        assert_eq!(children, expected, "child accounts, limit {limit}");

        let roles = walk(limit, |after| e.roles_page("s1", PageRequest { after, limit }).expect("cursor"));
        let ids: Vec<String> = roles.iter().map(|r| r.id.clone()).collect();
        let whole: Vec<String> = e.role_views("s1").into_iter().map(|r| r.id).collect();
        assert_eq!(ids, whole, "roles (by rank), limit {limit}");
    }
    assert!(e.roles_page("s1", PageRequest { after: Some("not a cursor"), limit: 5 }).is_none());
}

#[test]
fn a_page_walk_sees_what_is_added_after_its_cursor_and_not_what_is_removed_ahead() {
    let mut w = studio_world();
    let page = |w: &World, after: Option<&str>| {
        w.engine.members_page_for(&Actor::Service, "s1", MembershipStatus::Active, PageRequest { after, limit: 5 })
    };
    let first = page(&w, None);
    let cursor = first.next_cursor.clone().expect("more pages");
    assert_eq!(cursor, "m04");
    // Added after the cursor: seen. Added before it: not (the walk is past it). Removed
    // ahead: not seen.
    w.member("s1", "m04a", "user");
    w.member("s1", "a-late", "user");
    w.setup(roster_core::Operation::RemoveMember { account: "s1".into(), principal: "m06".into() });
    let rest = walk(5, |after| page(&w, Some(after.unwrap_or(&cursor))));
    let ids: Vec<&str> = rest.iter().map(|m| m.principal.as_str()).collect();
    assert_eq!(ids.first(), Some(&"m04a"));
    assert!(!ids.contains(&"m06") && !ids.contains(&"a-late"), "{ids:?}");
    assert!(!ids.iter().any(|id| *id <= "m04"), "nothing from before the cursor comes again: {ids:?}");
}

#[test]
fn members_hidden_from_the_reader_never_appear_and_pages_stay_full() {
    let mut w = World::new();
    // The staff pack's Super Admin is protected: hidden from everyone else in the account.
    w.account("corp", "staff", "m05");
    for member in shuffled("m", 12).into_iter().filter(|m| m != "m05") {
        w.member("corp", &member, if member == "m01" { "admin" } else { "teammate" });
    }
    let admin = Actor::Principal("m01".into());
    for limit in [1, 2, 4] {
        let mut cursor: Option<String> = None;
        let mut seen = Vec::new();
        loop {
            let page = w.engine.members_page_for(
                &admin,
                "corp",
                MembershipStatus::Active,
                PageRequest { after: cursor.as_deref(), limit },
            );
            if page.next_cursor.is_some() {
                assert_eq!(page.items.len(), limit, "a page with a next cursor is full");
            }
            seen.extend(page.items.into_iter().map(|m| m.principal));
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
        assert!(!seen.contains(&"m05".to_owned()), "the protected member is hidden (limit {limit})");
        assert_eq!(seen.len(), 11, "every other member is listed (limit {limit}): {seen:?}");
    }
}

#[test]
fn a_bulk_load_leaves_every_list_in_order() {
    let made = studio_world();
    let mut loaded = World::new();
    loaded.engine.begin_bulk_load();
    // The same world, made again while bulk loading.
    let mut w = loaded;
    populate(&mut w);
    w.engine.end_bulk_load();
    let all = PageRequest { after: None, limit: 1000 };
    let (a, b) = (&made.engine, &w.engine);
    let me = Actor::Service;
    assert_eq!(
        a.members_page_for(&me, "s1", MembershipStatus::Active, all),
        b.members_page_for(&me, "s1", MembershipStatus::Active, all)
    );
    assert_eq!(
        a.grants_page_for(&me, "s1", (None, None), all, NOW),
        b.grants_page_for(&me, "s1", (None, None), all, NOW)
    );
    assert_eq!(a.groups_page_for(&me, "s1", all), b.groups_page_for(&me, "s1", all));
    assert_eq!(a.child_accounts_page("ag", all), b.child_accounts_page("ag", all));
}
