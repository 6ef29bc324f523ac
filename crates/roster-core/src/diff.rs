//! What a new version of a pack changes: types, permissions and roles added, removed or
//! renamed-looking, per role the permissions gained and lost (with their conditions) and
//! the changes to its rules and the pack's policies. Every change that takes access away
//! or can strand stored data is marked breaking.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use serde::Serialize;

use crate::pack::{CompiledRole, Holding, Pack};

/// One difference between two versions of a pack.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Change {
    /// What it is about: `type`, `permission`, `role`, `policy`, `authzen`.
    pub about: &'static str,
    /// The type, permission, role or policy it names.
    pub name: String,
    /// What changed, in words.
    pub what: String,
    /// Whether it can take access away or strand stored data.
    pub breaking: bool,
}

/// Two versions of one pack compared.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PackDiff {
    /// The old pack's `id version`.
    pub old: String,
    /// The new pack's `id version`.
    pub new: String,
    /// The differences, types first, then permissions, roles and policies.
    pub changes: Vec<Change>,
    /// How many of them are breaking.
    pub breaking: usize,
}

impl PackDiff {
    /// Compares `old` with `new`.
    pub fn between(old: &Pack, new: &Pack) -> PackDiff {
        let mut changes = Vec::new();
        let mut add = |about, name: &str, what: String, breaking| {
            changes.push(Change { about, name: name.to_owned(), what, breaking });
        };
        if old.id() != new.id() {
            add("pack", new.id(), format!("the id changed from `{}`: stored accounts name the old id", old.id()), true);
        }
        types(old, new, &mut add);
        permissions(old, new, &mut add);
        roles(old, new, &mut add);
        policies(old, new, &mut add);
        let breaking = changes.iter().filter(|c| c.breaking).count();
        let label = |p: &Pack| format!("{} {}", p.id(), p.manifest().version);
        PackDiff { old: label(old), new: label(new), changes, breaking }
    }

    /// The diff for people: a header, one line per change (breaking ones marked).
    pub fn text(&self) -> String {
        let mut out =
            format!("{} -> {}: {} change(s), {} breaking\n", self.old, self.new, self.changes.len(), self.breaking);
        for change in &self.changes {
            let mark = if change.breaking { "BREAKING" } else { "        " };
            let _ = writeln!(out, "  {mark}  {} `{}`: {}", change.about, change.name, change.what);
        }
        out
    }
}

type Add<'a> = dyn FnMut(&'static str, &str, String, bool) + 'a;

fn names<'a>(items: impl Iterator<Item = &'a str>) -> BTreeSet<&'a str> {
    items.collect()
}

fn types(old: &Pack, new: &Pack, add: &mut Add<'_>) {
    let type_names = |p: &Pack| -> BTreeSet<String> { p.types().iter().map(|t| t.name.clone()).collect() };
    let (before, after) = (type_names(old), type_names(new));
    for gone in before.difference(&after) {
        add("type", gone, "removed: resources of this type would be stranded".into(), true);
    }
    for added in after.difference(&before) {
        add("type", added, "added".into(), false);
    }
    for name in before.intersection(&after) {
        let (Some(a), Some(b)) = (old.resource_type(name), new.resource_type(name)) else { continue };
        let (a, b) = (&old.types()[usize::from(a)], &new.types()[usize::from(b)]);
        let parent = |p: &Pack, t: &crate::pack::TypeInfo| t.parent.map(|i| p.types()[usize::from(i)].name.clone());
        let (pa, pb) = (parent(old, a), parent(new, b));
        if pa != pb {
            let what = format!("parent {} -> {}: stored resources sit under the old one", show(&pa), show(&pb));
            add("type", name, what, true);
        }
        if a.account != b.account {
            add("type", name, format!("account {} -> {}", a.account, b.account), true);
        }
    }
}

fn show(value: &Option<String>) -> String {
    value.as_deref().map_or("none".to_owned(), |v| format!("`{v}`"))
}

fn permissions(old: &Pack, new: &Pack, add: &mut Add<'_>) {
    let (before, after) = (
        names(old.permission_ids().iter().map(String::as_str)),
        names(new.permission_ids().iter().map(String::as_str)),
    );
    let added: Vec<&str> = after.difference(&before).copied().collect();
    for gone in before.difference(&after) {
        // Same action on a renamed type, or the same description: it looks renamed.
        let action = gone.rsplit_once('.').map(|(_, a)| a);
        let described = |p: &Pack, id: &str| {
            p.manifest().permissions.iter().find(|d| d.id == id).map(|d| d.description.clone()).unwrap_or_default()
        };
        let twin = added.iter().find(|a| {
            let same_description = !described(old, gone).is_empty() && described(old, gone) == described(new, a);
            same_description || (action.is_some() && a.rsplit_once('.').map(|(_, x)| x) == action)
        });
        let what = match twin {
            Some(twin) => format!(
                "removed; looks renamed to `{twin}`: custom roles using it would be stranded (map it under [packs.migrations])"
            ),
            None => "removed: roles lose it, custom roles using it would be stranded".into(),
        };
        add("permission", gone, what, true);
    }
    for added in added {
        add("permission", added, "added".into(), false);
    }
}

/// A role's holdings by permission id, for permissions of `pack`.
fn holdings(pack: &Pack, role: &CompiledRole) -> Vec<(String, Holding)> {
    pack.permission_ids()
        .iter()
        .enumerate()
        .filter_map(|(i, id)| u16::try_from(i).ok().map(|i| (id.clone(), role.holding(i))))
        .filter(|(_, h)| *h != Holding::No)
        .collect()
}

fn role_of<'p>(pack: &'p Pack, id: &str) -> Option<&'p CompiledRole> {
    pack.role(id).map(|i| &pack.roles()[usize::from(i)])
}

fn roles(old: &Pack, new: &Pack, add: &mut Add<'_>) {
    let role_ids = |p: &Pack| -> BTreeSet<String> { p.roles().iter().map(|r| r.id.clone()).collect() };
    let (before, after) = (role_ids(old), role_ids(new));
    let added: Vec<&String> = after.difference(&before).collect();
    for gone in before.difference(&after) {
        let Some(was) = role_of(old, gone) else { continue };
        // The same holdings of the permissions both versions define: it looks renamed.
        let kept: Vec<_> = holdings(old, was).into_iter().filter(|(p, _)| new.permission(p).is_some()).collect();
        let twin = added.iter().find(|a| role_of(new, a).is_some_and(|r| holdings(new, r) == kept));
        let what = match twin {
            Some(twin) => format!(
                "removed; looks renamed to `{twin}` (the same permissions): its memberships, grants and invites would be stranded (map it under [packs.migrations])"
            ),
            None => "removed: its memberships, grants and invites would be stranded".into(),
        };
        add("role", gone, what, true);
    }
    for added in added {
        add("role", added, "added".into(), false);
    }
    for id in before.intersection(&after) {
        let (Some(a), Some(b)) = (role_of(old, id), role_of(new, id)) else { continue };
        role(old, new, a, b, add);
    }
}

fn role(old: &Pack, new: &Pack, a: &CompiledRole, b: &CompiledRole, add: &mut Add<'_>) {
    let id = a.id.as_str();
    let (was, now): (Vec<_>, Vec<_>) = (holdings(old, a), holdings(new, b));
    let held = |list: &[(String, Holding)], p: &str| list.iter().find(|(q, _)| q == p).map(|(_, h)| *h);
    for (permission, before) in &was {
        // A permission the new pack drops is reported once, as a permission.
        if new.permission(permission).is_none() {
            continue;
        }
        match held(&now, permission) {
            None => add("role", id, format!("loses `{permission}` (was {})", before.as_str()), true),
            Some(after) if after != *before => {
                // Unconditional is wider than any condition; two conditions differ both ways.
                let narrowed = *before == Holding::Yes || after != Holding::Yes;
                add("role", id, format!("`{permission}`: {} -> {}", before.as_str(), after.as_str()), narrowed);
            }
            Some(_) => {}
        }
    }
    for (permission, after) in &now {
        if held(&was, permission).is_none() {
            add("role", id, format!("gains `{permission}` ({})", after.as_str()), false);
        }
    }
    let role_names = |p: &Pack, list: &[u16]| -> BTreeSet<String> {
        list.iter().map(|&i| p.roles()[usize::from(i)].id.clone()).collect()
    };
    let (ma, mb) = (role_names(old, &a.manages), role_names(new, &b.manages));
    for lost in ma.difference(&mb) {
        add("role", id, format!("no longer manages `{lost}`"), true);
    }
    for gained in mb.difference(&ma) {
        add("role", id, format!("now manages `{gained}`"), false);
    }
    let type_names = |p: &Pack, mask: u64| -> BTreeSet<String> {
        p.types().iter().enumerate().filter(|(i, _)| mask & (1 << i) != 0).map(|(_, t)| t.name.clone()).collect()
    };
    let (ga, gb) = (type_names(old, a.grantable_on), type_names(new, b.grantable_on));
    for lost in ga.difference(&gb) {
        add("role", id, format!("no longer grantable on `{lost}`: grants there would be stranded"), true);
    }
    for gained in gb.difference(&ga) {
        add("role", id, format!("now grantable on `{gained}`"), false);
    }
    if a.rank != b.rank {
        let reordered = old.roles().iter().filter_map(|other| {
            let there = new.role(&other.id).map(|i| &new.roles()[usize::from(i)])?;
            (other.id != a.id && (other.rank < a.rank) != (there.rank < b.rank)).then(|| other.id.clone())
        });
        let passed: Vec<String> = reordered.collect();
        let what = if passed.is_empty() {
            format!("rank {} -> {}", a.rank, b.rank)
        } else {
            format!("rank {} -> {}: now ordered differently against {}", a.rank, b.rank, passed.join(", "))
        };
        // Ranks order ladders and masquerading: a new order changes who may do what to whom.
        add("role", id, what, !passed.is_empty());
    }
    // Each flag, and whether the change restricts: setting single_holder or protected
    // does, clearing transferable or grantable_to_non_members does; default never.
    let flags = [
        ("single_holder", a.single_holder, b.single_holder, b.single_holder),
        ("transferable", a.transferable, b.transferable, !b.transferable),
        ("protected", a.protected, b.protected, b.protected),
        (
            "grantable_to_non_members",
            a.grantable_to_non_members,
            b.grantable_to_non_members,
            !b.grantable_to_non_members,
        ),
        ("default", a.default, b.default, false),
    ];
    for (flag, before, after, breaking) in flags {
        if before != after {
            add("role", id, format!("{flag} {before} -> {after}"), breaking);
        }
    }
    let requirement =
        |p: &Pack, r: &CompiledRole| r.grantee_requires.map(|i| p.permission_ids()[usize::from(i)].clone());
    let (ra, rb) = (requirement(old, a), requirement(new, b));
    if ra != rb {
        add("role", id, format!("grantee_requires {} -> {}", show(&ra), show(&rb)), rb.is_some());
    }
}

fn policies(old: &Pack, new: &Pack, add: &mut Add<'_>) {
    let (a, b) = (&old.manifest().policies, &new.manifest().policies);
    if a.role_changes != b.role_changes {
        let what = format!("role_changes {:?} -> {:?}", a.role_changes, b.role_changes);
        add("policy", "role_changes", what, b.role_changes == crate::manifest::RoleChangePolicy::PromotionOnly);
    }
    if a.removal != b.removal {
        let what = format!("removal {:?} -> {:?}: soft-removed members are kept only under soft", a.removal, b.removal);
        add("policy", "removal", what, b.removal == crate::manifest::RemovalPolicy::Hard);
    }
    if a.masquerade_permission != b.masquerade_permission {
        let what =
            format!("masquerade_permission {} -> {}", show(&a.masquerade_permission), show(&b.masquerade_permission));
        add("policy", "masquerade_permission", what, true);
    }
    let actions = |p: &Pack| p.manifest().authzen.as_ref().map(|z| z.actions.clone()).unwrap_or_default();
    let (xa, xb) = (actions(old), actions(new));
    for (action, permission) in &xa {
        match xb.get(action) {
            None => add("authzen", action, format!("action removed (was `{permission}`)"), true),
            Some(now) if now != permission => {
                add("authzen", action, format!("action now names `{now}` (was `{permission}`)"), true);
            }
            Some(_) => {}
        }
    }
    for (action, permission) in xb.iter().filter(|(a, _)| !xa.contains_key(*a)) {
        add("authzen", action, format!("action added (`{permission}`)"), false);
    }
    let by_properties =
        |p: &Pack| p.manifest().authzen.as_ref().map(|z| z.action_properties.clone()).unwrap_or_default();
    let (pa, pb) = (by_properties(old), by_properties(new));
    if pa != pb {
        // Any change can make a request that asked one permission ask another.
        let what = format!("action_properties: {} entries -> {}", pa.len(), pb.len());
        add("authzen", "action_properties", what, true);
    }
    if old.authzen_owner_property() != new.authzen_owner_property() {
        let what = format!("owner_property `{}` -> `{}`", old.authzen_owner_property(), new.authzen_owner_property());
        add("authzen", "owner_property", what, true);
    }
}
