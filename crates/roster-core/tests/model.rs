//! Model-based property test of the management rules: random actors (members of every
//! role, external members, group members, removed and lapsed members, strangers, the
//! platform) perform random management operations on accounts of all five packs. After
//! every accepted operation the invariants below must hold, checked from the engine's
//! public reads rather than through the rules under test.
//!
//! Deterministic: a fixed seed per world (`ROSTER_MODEL_SEED` changes the base). The
//! default runs `WORLDS × OPS_PER_WORLD` = 100,000 operations; `ROSTER_MODEL_OPS=N` runs
//! more (or fewer) in a longer session. A failure prints the seed, the world and the
//! operation that broke the invariant.
//!
//! Invariants:
//! 1. **Provenance**: every role an accepted operation gives or takes (a membership role,
//!    a grant's role, each role a group carries when its members change) is managed by a
//!    role the acting principal holds at that scope (a custom role: within their standing).
//!    An ownership transfer is the one exception the seeds define (by the holder only).
//! 2. **Custom roles** never give more than their creator holds, nor outrank them.
//! 3. **Single holders**: each account has exactly one holder of its single-holder role
//!    (when the pack has one for that account type), and no grant ever carries one.
//! 4. **Ladder**: in a promotion-only pack a member's role change never lowers the rank nor
//!    takes a permission away (unconditional or conditional).
//! 5. **Protected**: a protected member is invisible to every other principal.
//! 6. **Membership-bound access**: a principal with no live membership in an account (or
//!    above) is allowed nothing there, except through a live grant of a role the pack
//!    opens to non-members while they hold no membership there at all.
//! 7. **No self-grant**: no accepted operation by P gives P a role (grant to P, to a group
//!    P is in, or P joining a group that carries roles).
//! 8. **Nothing outlives its giver**: what an actor whose every source lapses hands out
//!    lapses no later than the latest of those sources.
//! 9. **Assignment** (`:assigned`) is only ever met by a live grant on a non-account node.
//! 10. **Masquerade** is accepted only onto a live member whose highest rank over the
//!     account, the accounts above it and all their live grants there is below the actor's.

mod support;

use std::collections::BTreeMap;

use roster_core::engine::MembershipStatus;
use roster_core::{Actor, Change, Engine, Operation, PermissionRule, RoleDef, Subject};
use support::{NOW, World};

const WORLDS: u64 = 200;
const OPS_PER_WORLD: u64 = 500;
const PACKS: [&str; 5] = ["studio", "agency", "mods", "workspace", "staff"];
const PRINCIPALS: [&str; 8] = ["p0", "p1", "p2", "p3", "p4", "p5", "p6", "p7"];

/// SplitMix64: tiny, deterministic, good enough to pick operations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        (!items.is_empty()).then(|| &items[self.below(items.len())])
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

/// One random world: a pack, its accounts, resources and the principals acting in it.
struct Model {
    world: World,
    accounts: Vec<String>,
    grant_seq: u64,
    now: i64,
}

impl Model {
    fn new(pack: &'static str, rng: &mut Rng) -> Model {
        let mut world = World::new();
        world.account("a0", pack, "p0");
        let mut accounts = vec!["a0".to_owned()];
        let engine_pack = world.engine.pack(pack).cloned().expect("pack loaded");
        let root = engine_pack.root_type();
        if engine_pack.types().iter().any(|t| t.account && t.parent == Some(root)) {
            for i in 1..=2 {
                let id = format!("a{i}");
                world.child(&id, "a0", pack, &format!("c{i}"));
                accounts.push(id);
            }
        }
        let mut model = Model { world, accounts, grant_seq: 0, now: NOW };
        // Members in every account role, some external, some lapsing, some removed.
        let roles: Vec<String> = model.account_roles("a0");
        for (i, principal) in PRINCIPALS.iter().enumerate().skip(1) {
            let Some(role) = rng.pick(&roles).cloned() else { continue };
            let expires_at = rng.chance(15).then(|| NOW + 50 + rng.below(200) as i64);
            let op = Operation::AddMember {
                account: "a0".into(),
                principal: (*principal).into(),
                role: Some(role),
                external: i % 7 == 3,
                expires_at,
            };
            let _ = model.world.act(None, op);
        }
        for account in model.accounts.clone() {
            model.seed_resources(&account, rng);
        }
        model
    }

    fn account_roles(&self, account: &str) -> Vec<String> {
        let pack = self.world.engine.account_pack(account).cloned().expect("account");
        let ty = self.account_type(account);
        pack.roles().iter().filter(|r| r.grantable_on_type(ty) && !r.single_holder).map(|r| r.id.clone()).collect()
    }

    fn account_type(&self, account: &str) -> u8 {
        let pack = self.world.engine.account_pack(account).cloned().expect("account");
        if account == "a0" {
            pack.root_type()
        } else {
            let root = pack.root_type();
            pack.types()
                .iter()
                .position(|t| t.account && t.parent == Some(root))
                .and_then(|t| u8::try_from(t).ok())
                .expect("child type")
        }
    }

    fn seed_resources(&mut self, account: &str, rng: &mut Rng) {
        let pack = self.world.engine.account_pack(account).cloned().expect("account");
        let ty = self.account_type(account);
        for (t, info) in pack.types().iter().enumerate() {
            if info.account || info.parent != Some(ty) {
                continue;
            }
            for n in 0..2 {
                let name = format!("{}:r{n}", info.name);
                let owner = rng.pick(&PRINCIPALS).map(|p| (*p).to_owned()).filter(|_| rng.chance(50));
                self.world.resource(account, &name, None, owner.as_deref());
                // One level below, where the pack has one.
                if let Some(child) = pack.types().iter().find(|c| c.parent == Some(t as u8) && !c.account) {
                    let child_name = format!("{}:r{n}", child.name);
                    let owner = rng.pick(&PRINCIPALS).map(|p| (*p).to_owned()).filter(|_| rng.chance(50));
                    let op = Operation::CreateResource {
                        account: account.into(),
                        resource: child_name,
                        parent: Some(name.clone()),
                        owner,
                    };
                    let _ = self.world.act(None, op);
                }
            }
        }
    }

    fn engine(&self) -> &Engine {
        &self.world.engine
    }

    /// Resources of an account, plus `None` for the account itself.
    fn scopes(&self, account: &str) -> Vec<Option<String>> {
        let mut scopes = vec![None];
        let pack = self.engine().account_pack(account).cloned().expect("account");
        for info in pack.types() {
            for n in 0..2 {
                let name = format!("{}:r{n}", info.name);
                if self.engine().has_resource(account, &name) {
                    scopes.push(Some(name));
                }
            }
        }
        scopes
    }

    fn random_operation(&mut self, rng: &mut Rng) -> Operation {
        let account = rng.pick(&self.accounts).cloned().expect("an account");
        let principal = (*rng.pick(&PRINCIPALS).expect("principal")).to_owned();
        let pack = self.engine().account_pack(&account).cloned().expect("account");
        let all_roles: Vec<String> = self.engine().role_views(&account).into_iter().map(|r| r.id).collect();
        let role = rng.pick(&all_roles).cloned().expect("roles");
        let scopes = self.scopes(&account);
        let scope = rng.pick(&scopes).cloned().flatten();
        let group = format!("g{}", rng.below(2));
        match rng.below(20) {
            0 | 1 => Operation::AddMember {
                account,
                principal,
                role: Some(role),
                external: rng.chance(10),
                expires_at: rng.chance(20).then(|| self.now + rng.below(300) as i64),
            },
            2 | 3 => Operation::ChangeRole { account, principal, role },
            4 => Operation::RemoveMember { account, principal },
            5 => Operation::RestoreMember { account, principal },
            6 => Operation::PurgeMember { account, principal },
            7 => {
                let to = rng.pick(&self.accounts).cloned().expect("account");
                Operation::MoveMember { from: account, to, principal, role: None }
            }
            8..=10 => {
                self.grant_seq += 1;
                let subject = if rng.chance(30) { Subject::Group(group) } else { Subject::Principal(principal) };
                Operation::Grant {
                    id: format!("g{}", self.grant_seq),
                    account,
                    subject,
                    resource: scope,
                    role,
                    expires_at: rng.chance(20).then(|| self.now + rng.below(300) as i64),
                }
            }
            11 => {
                let grants = self.engine().grants(&account, None, None);
                match rng.pick(&grants) {
                    Some(g) => Operation::RevokeGrant { account: account.clone(), id: g.id.clone() },
                    None => Operation::CreateGroup { account, group },
                }
            }
            12 => Operation::CreateGroup { account, group },
            13 => Operation::DeleteGroup { account, group },
            14 | 15 => Operation::AddGroupMember { account, group, principal },
            16 => Operation::RemoveGroupMember { account, group, principal },
            17 => {
                let ids = pack.permission_ids();
                let count = 1 + rng.below(4);
                let permissions =
                    (0..count).map(|_| PermissionRule::always(&ids[rng.below(ids.len())])).collect::<Vec<_>>();
                let id = format!("custom{}", rng.below(3));
                let rank = rng.below(120) as u32;
                if rng.chance(30) {
                    Operation::RemoveRole { account, role: id }
                } else {
                    Operation::DefineRole { account, role: RoleDef::new(id, "Custom", rank, permissions) }
                }
            }
            18 => Operation::Masquerade { account, target: principal },
            _ => Operation::TransferOwnership { account, to: principal },
        }
    }
}

/// Roles that `actor` holds on a scope (ids), as decisions see them.
fn roles_at(engine: &Engine, account: &str, actor: &str, resource: Option<&str>, now: i64) -> Vec<String> {
    engine.effective_permissions(account, actor, resource, now).map(|e| e.roles).unwrap_or_default()
}

/// Invariant 1 for one role given or taken at a scope.
fn manages(engine: &Engine, account: &str, actor: &str, resource: Option<&str>, role: &str, now: i64) -> bool {
    let views: BTreeMap<String, roster_core::engine::RoleView> =
        engine.role_views(account).into_iter().map(|r| (r.id.clone(), r)).collect();
    let Some(target) = views.get(role) else { return false };
    let held = roles_at(engine, account, actor, resource, now);
    if target.custom {
        let mine =
            engine.effective_permissions(account, actor, resource, now).map(|e| e.permissions).unwrap_or_default();
        let top = held.iter().filter_map(|r| views.get(r)).map(|r| r.rank).max();
        let gives_only_mine =
            target.permissions.iter().all(|p| mine.contains(&p.split(':').next().unwrap_or(p).to_owned()));
        gives_only_mine && top.is_some_and(|top| target.rank < top)
    } else {
        held.iter().filter_map(|r| views.get(r)).any(|r| r.manages.iter().any(|m| m == role))
    }
}

struct Failure(String);

fn check_operation(
    before: &Engine,
    after: &Engine,
    actor: &Actor,
    operation: &Operation,
    changes: &[Change],
    now: i64,
) -> Result<(), Failure> {
    let fail = |what: &str| Err(Failure(format!("{what}: {operation:?} by {actor:?} → {changes:?}")));
    let Actor::Principal(me) = actor else { return Ok(()) };
    if let Operation::TransferOwnership { .. } = operation {
        // The single-holder role moves only this way, by its holder (checked by the seed
        // tests); invariant 3 below checks there is still exactly one.
        return Ok(());
    }
    // A member leaving an account takes their grants and group places with them: those
    // lapse with the membership the actor was entitled to end, so they need no more.
    let leaving = changes.iter().any(|c| matches!(c, Change::RemoveMembership { .. }));
    for change in changes {
        match change {
            Change::PutMembership { account, principal, role, expires_at, .. } => {
                let previous = before.membership(account, principal);
                let same = previous.as_ref().is_some_and(|m| &m.role == role);
                if !same && !manages(before, account, me, None, role, now) {
                    return fail("1: a membership role the actor does not manage");
                }
                if principal == me && !same {
                    return fail("7: an actor changed their own role");
                }
                if let Some(lapse) = only_lapsing_standing(before, account, me, now)
                    && !same
                    && expires_at.is_none_or(|at| at > lapse)
                {
                    return fail("8: a membership outlives the standing of the actor who gave it");
                }
            }
            Change::AddGrant { account, subject, resource, role, expires_at, .. } => {
                if !manages(before, account, me, resource.as_deref(), role, now) {
                    return fail("1: a granted role the actor does not manage");
                }
                let to_me = match subject {
                    Subject::Principal(p) => p == me,
                    Subject::Group(g) => {
                        before.group_views(account).iter().any(|v| &v.id == g && v.members.contains(me))
                    }
                };
                if to_me {
                    return fail("7: a self-grant");
                }
                if let Some(lapse) = only_lapsing_standing(before, account, me, now)
                    && expires_at.is_none_or(|at| at > lapse)
                {
                    return fail("8: a grant outlives the standing of the actor who gave it");
                }
            }
            Change::RemoveGroupMember { .. } if leaving => {}
            Change::AddGroupMember { account, group, principal }
            | Change::RemoveGroupMember { account, group, principal } => {
                let carried = before.grants(account, None, Some(&format!("group:{group}")));
                if !carried.is_empty() && principal == me {
                    return fail("7: an actor changed their own place in a group that carries roles");
                }
                for grant in carried {
                    let resource = (grant.resource != "account").then_some(grant.resource.as_str());
                    if !manages(before, account, me, resource, &grant.role, now) {
                        return fail("1: a group member change hands out a carried role the actor does not manage");
                    }
                }
            }
            Change::RemoveGrant { account, id } => {
                if let Some(grant) = before.grant(account, id) {
                    let resource = (grant.resource != "account").then_some(grant.resource.as_str());
                    if !leaving && !manages(before, account, me, resource, &grant.role, now) {
                        return fail("1: a revoked role the actor does not manage");
                    }
                }
            }
            Change::DefineRole { account, role } => {
                let mine =
                    before.effective_permissions(account, me, None, now).map(|e| e.permissions).unwrap_or_default();
                let defined = after.role_views(account).into_iter().find(|r| r.id == role.id);
                let exceeds = defined.is_some_and(|r| {
                    r.permissions.iter().any(|p| !mine.contains(&p.split(':').next().unwrap_or(p).to_owned()))
                });
                if exceeds {
                    return fail("2: a custom role gives more than its creator holds");
                }
            }
            _ => {}
        }
    }
    if let Operation::ChangeRole { account, principal, .. } = operation {
        ladder(before, after, account, principal).map_err(|why| Failure(format!("4: {why}: {operation:?}")))?;
    }
    if let Operation::Masquerade { account, target } = operation {
        masquerade_ranks(before, account, me, target, now).map_err(|why| Failure(format!("10: {why}")))?;
    }
    Ok(())
}

/// When every source of the actor's standing in an account lapses, the latest lapse.
fn only_lapsing_standing(engine: &Engine, account: &str, actor: &str, now: i64) -> Option<i64> {
    let mut latest: Option<i64> = None;
    let mut current = Some(account.to_owned());
    while let Some(a) = current {
        if let Some(m) = engine.membership(&a, actor).filter(|m| m.status == MembershipStatus::Active) {
            match m.expires_at {
                None => return None,
                Some(at) if at > now => latest = latest.max(Some(at)),
                Some(_) => {}
            }
        }
        current = engine.parent_account(&a).map(str::to_owned);
    }
    // Grants may carry standing of their own (the rule caps at them too); this invariant
    // looks only at actors whose every source is a lapsing membership.
    let holds_grants = engine.principal_memberships(actor).iter().any(|(a, _)| {
        !engine.grants(a, None, Some(&format!("principal:{actor}"))).is_empty()
            || engine.group_views(a).iter().any(|g| g.members.iter().any(|m| m == actor))
    });
    if holds_grants { None } else { latest }
}

fn ladder(before: &Engine, after: &Engine, account: &str, principal: &str) -> Result<(), String> {
    let pack = before.account_pack(account).cloned().ok_or("no pack")?;
    if pack.manifest().policies.role_changes != roster_core::manifest::RoleChangePolicy::PromotionOnly {
        return Ok(());
    }
    let (Some(old), Some(new)) = (before.membership(account, principal), after.membership(account, principal)) else {
        return Ok(());
    };
    let views: BTreeMap<String, roster_core::engine::RoleView> =
        before.role_views(account).into_iter().chain(after.role_views(account)).map(|r| (r.id.clone(), r)).collect();
    let (from, to) = (&views[&old.role], &views[&new.role]);
    if to.rank < from.rank {
        return Err(format!("{} → {} lowers the rank", from.id, to.id));
    }
    let kept = |p: &String| {
        let base = p.split(':').next().unwrap_or(p).to_owned();
        to.permissions.contains(p) || to.permissions.contains(&base)
    };
    match from.permissions.iter().find(|p| !kept(p)) {
        Some(lost) => Err(format!("{} → {} takes away {lost}", from.id, to.id)),
        None => Ok(()),
    }
}

fn masquerade_ranks(engine: &Engine, account: &str, actor: &str, target: &str, now: i64) -> Result<(), String> {
    let rank_of =
        |account: &str, role: &str| engine.role_views(account).into_iter().find(|r| r.id == role).map_or(0, |r| r.rank);
    let top = roles_at(engine, account, actor, None, now).iter().map(|r| rank_of(account, r)).max().unwrap_or(0);
    let mut highest = 0;
    let mut current = Some(account.to_owned());
    while let Some(a) = current {
        if let Some(m) = engine.membership(&a, target) {
            let live = m.status == MembershipStatus::Active && m.expires_at.is_none_or(|at| at > now);
            if a == account && !live {
                return Err(format!("onto {target}, not a live member"));
            }
            if live {
                highest = highest.max(rank_of(&a, &m.role));
            }
        }
        current = engine.parent_account(&a).map(str::to_owned);
    }
    let mut tree = vec![account.to_owned()];
    let mut top_account = account.to_owned();
    while let Some(parent) = engine.parent_account(&top_account) {
        top_account = parent.to_owned();
    }
    tree.push(top_account.clone());
    tree.extend(engine.child_accounts(&top_account));
    let groups_of = |a: &str| -> Vec<String> {
        engine
            .group_views(a)
            .into_iter()
            .filter(|g| g.members.iter().any(|m| m == target))
            .map(|g| format!("group:{}", g.id))
            .collect()
    };
    for a in &tree {
        let mut subjects = groups_of(a);
        subjects.push(format!("principal:{target}"));
        for subject in subjects {
            for g in engine.grants(a, None, Some(&subject)) {
                if g.expires_at.is_none_or(|at| at > now) {
                    highest = highest.max(rank_of(a, &g.role));
                }
            }
        }
    }
    if highest >= top { Err(format!("{actor} (rank {top}) onto {target} (rank {highest})")) } else { Ok(()) }
}

/// Invariants that hold of any state.
fn check_state(model: &Model, rng: &mut Rng) -> Result<(), Failure> {
    let engine = model.engine();
    let now = model.now;
    for account in &model.accounts {
        let pack = engine.account_pack(account).cloned().expect("account");
        // 3: one holder of the single-holder role, never through a grant.
        if let Some(index) = pack.single_holder_role() {
            let role = &pack.roles()[usize::from(index)];
            if role.grantable_on_type(model.account_type(account)) {
                let holders = [MembershipStatus::Active, MembershipStatus::Removed]
                    .iter()
                    .flat_map(|&s| engine.memberships(account, s))
                    .filter(|m| m.role == role.id)
                    .count();
                if holders != 1 {
                    return Err(Failure(format!("3: {holders} holders of {} in {account}", role.id)));
                }
            }
            if engine.grants(account, None, None).iter().any(|g| g.role == role.id) {
                return Err(Failure(format!("3: a grant of {} in {account}", role.id)));
            }
        }
        // 5: protected members are invisible to other principals.
        for m in engine.memberships(account, MembershipStatus::Active) {
            let protected = pack.role(&m.role).is_some_and(|i| pack.roles()[usize::from(i)].protected);
            if protected {
                for other in PRINCIPALS.iter().filter(|p| **p != m.principal) {
                    if engine.member_visible_to(&Actor::Principal((*other).into()), account, &m.principal) {
                        return Err(Failure(format!("5: {other} sees protected {} in {account}", m.principal)));
                    }
                }
            }
        }
        // 6 and 9, sampled: decisions of a random principal on random scopes.
        let principal = *rng.pick(&PRINCIPALS).expect("principal");
        let scopes = model.scopes(account);
        let scope = rng.pick(&scopes).cloned().flatten();
        let permission = rng.pick(pack.permission_ids()).cloned().expect("permission");
        let why = engine.explain(account, principal, &permission, scope.as_deref(), now).expect("explain");
        if !why.allowed {
            continue;
        }
        let live_member = {
            let mut current = Some(account.clone());
            let mut live = false;
            while let Some(a) = current {
                live |= engine
                    .membership(&a, principal)
                    .is_some_and(|m| m.status == MembershipStatus::Active && m.expires_at.is_none_or(|at| at > now));
                current = engine.parent_account(&a).map(str::to_owned);
            }
            live
        };
        let used = why.granted_by.clone().expect("an allow names its source");
        if !live_member {
            let open = match &used.via {
                roster_core::Via::Grant { account, .. } => engine.role_views(account).iter().any(|r| {
                    r.id == used.role
                        && pack.role(&r.id).is_some_and(|i| pack.roles()[usize::from(i)].grantable_to_non_members)
                }),
                roster_core::Via::Membership { .. } => false,
            };
            let any_membership = engine.principal_memberships(principal).iter().any(|(a, _)| {
                let mut current = Some(account.clone());
                let mut hit = false;
                while let Some(x) = current {
                    hit |= &x == a;
                    current = engine.parent_account(&x).map(str::to_owned);
                }
                hit
            });
            if !open || any_membership {
                return Err(Failure(format!(
                    "6: {principal} is no live member of {account} yet may {permission} on {scope:?}: {}",
                    why.summary
                )));
            }
        }
    }
    assignments_need_resource_grants(model)
}

/// Invariant 9, over every principal, scope and permission some role holds only `if
/// assigned`: an allow under that condition rests on a live grant on a non-account node.
fn assignments_need_resource_grants(model: &Model) -> Result<(), Failure> {
    let engine = model.engine();
    for account in &model.accounts {
        let pack = engine.account_pack(account).cloned().expect("account");
        let assigned: Vec<&String> = pack
            .permission_ids()
            .iter()
            .enumerate()
            .filter(|(i, _)| pack.roles().iter().any(|r| r.if_assigned.contains(*i)))
            .map(|(_, id)| id)
            .collect();
        for scope in model.scopes(account) {
            for principal in PRINCIPALS {
                for permission in &assigned {
                    let allowed = engine.check(account, principal, permission, scope.as_deref(), model.now);
                    if !allowed.is_ok_and(|d| d.allowed) {
                        continue;
                    }
                    let why =
                        engine.explain(account, principal, permission, scope.as_deref(), model.now).expect("explain");
                    let Some(used) = why.granted_by.as_ref().filter(|u| u.holds == "if assigned") else { continue };
                    let resource_grant = why
                        .considered
                        .iter()
                        .any(|u| matches!(&u.via, roster_core::Via::Grant { resource, .. } if resource != "account"));
                    if !resource_grant {
                        return Err(Failure(format!(
                            "9: {} assigned without a resource grant: {}",
                            used.role, why.summary
                        )));
                    }
                }
            }
        }
    }
    Ok(())
}

#[test]
fn management_rules_hold_under_random_operations() {
    let base: u64 = std::env::var("ROSTER_MODEL_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(0x5EED);
    let total: u64 =
        std::env::var("ROSTER_MODEL_OPS").ok().and_then(|s| s.parse().ok()).unwrap_or(WORLDS * OPS_PER_WORLD);
    let worlds = total.div_ceil(OPS_PER_WORLD);
    let (mut performed, mut accepted) = (0u64, 0u64);
    for w in 0..worlds {
        let seed = base.wrapping_add(w);
        let mut rng = Rng(seed);
        let pack = PACKS[(w % PACKS.len() as u64) as usize];
        let mut model = Model::new(pack, &mut rng);
        for step in 0..OPS_PER_WORLD.min(total - performed) {
            performed += 1;
            if rng.chance(5) {
                model.now += rng.below(120) as i64;
            }
            let operation = model.random_operation(&mut rng);
            let actor = if rng.chance(8) {
                Actor::Service
            } else {
                Actor::Principal((*rng.pick(&PRINCIPALS).expect("principal")).to_owned())
            };
            let before = model.world.engine.clone();
            let Ok(plan) = before.plan(&actor, &operation, model.now) else { continue };
            model.world.engine.execute(&actor, &operation, model.now).unwrap_or_else(|e| {
                panic!("seed {seed} ({pack}) step {step}: a planned operation failed to apply: {e}: {operation:?}")
            });
            accepted += 1;
            let verdict = check_operation(&before, &model.world.engine, &actor, &operation, plan.changes(), model.now)
                .and_then(|()| check_state(&model, &mut rng));
            if let Err(Failure(why)) = verdict {
                panic!("seed {seed} ({pack}) step {step}: invariant {why}");
            }
        }
    }
    eprintln!("model: {performed} operations, {accepted} accepted, over {worlds} worlds");
    assert!(performed >= total, "ran {performed} of {total} operations");
    assert!(accepted * 20 > performed, "too few operations were accepted to prove anything: {accepted}/{performed}");
}
