//! Property test: on random packs, accounts, resource trees, memberships, groups and
//! grants (and removals of them), the compiled engine answers every check exactly as a
//! slow, obviously-correct evaluator over plain lists does.

use std::collections::BTreeSet;
use std::sync::Arc;

use proptest::prelude::*;
use roster_core::engine::MembershipStatus;
use roster_core::manifest::{PermissionDef, Policies, ResourceTypeDef};
use roster_core::{Change, Condition, Engine, PackManifest, PermissionRule, RoleDef, Subject, validate};

const NOW: i64 = 1_000;
const PERMISSIONS: &[&str] = &["a.view", "a.edit", "b.view", "b.use", "c.view", "x.do"];
const PATTERNS: &[&str] = &["a.view", "a.edit", "b.view", "b.use", "c.view", "x.do", "a.*", "b.*", "*"];
const PRINCIPALS: &[&str] = &["p0", "p1", "p2", "p3"];
/// Resource name, parent, account. `a` sits under the account, `b` under an `a`, `c`
/// under the child account `sub1`.
const RESOURCES: &[(&str, Option<&str>, &str)] = &[
    ("a:1", None, "acc"),
    ("a:2", None, "acc"),
    ("b:1", Some("a:1"), "acc"),
    ("b:2", Some("a:1"), "acc"),
    ("b:3", Some("a:2"), "acc"),
    ("c:1", None, "sub1"),
    ("c:2", None, "sub1"),
];
const TYPES: &[&str] = &["account", "sub", "a", "b", "c"];

#[derive(Clone, Debug)]
struct RoleSpec {
    rules: Vec<(usize, Option<Condition>)>,
    grantable: Vec<usize>,
}

fn role_strategy() -> impl Strategy<Value = RoleSpec> {
    let rule =
        (0..PATTERNS.len(), prop_oneof![Just(None), Just(Some(Condition::Owner)), Just(Some(Condition::Assigned))]);
    (prop::collection::vec(rule, 0..5), prop::collection::btree_set(0..TYPES.len(), 1..4))
        .prop_map(|(rules, grantable)| RoleSpec { rules, grantable: grantable.into_iter().collect() })
}

fn manifest(roles: &[RoleSpec]) -> PackManifest {
    let ty = |name: &str, parent: Option<&str>, account: bool| ResourceTypeDef {
        name: name.into(),
        parent: parent.map(Into::into),
        account,
        description: String::new(),
    };
    let mut role_defs: Vec<RoleDef> = roles
        .iter()
        .enumerate()
        .map(|(i, spec)| RoleDef {
            id: format!("r{i}"),
            title: format!("Role {i}"),
            rank: i as u32,
            description: String::new(),
            permissions: spec
                .rules
                .iter()
                .map(|&(p, condition)| PermissionRule { pattern: PATTERNS[p].into(), condition })
                .collect(),
            manages: Vec::new(),
            grantable_on: spec.grantable.iter().map(|&t| TYPES[t].to_owned()).collect(),
            default: false,
            single_holder: false,
            transferable: false,
            protected: false,
            grantee_requires: None,
            grantable_to_non_members: i % 2 == 1,
        })
        .collect();
    // Every account type needs a role that can be held on it.
    role_defs.push(RoleDef {
        id: "base".into(),
        title: "Base".into(),
        rank: 0,
        description: String::new(),
        permissions: vec![PermissionRule::always("x.do")],
        manages: Vec::new(),
        grantable_on: vec!["account".into(), "sub".into()],
        default: false,
        single_holder: false,
        transferable: false,
        protected: false,
        grantee_requires: None,
        grantable_to_non_members: false,
    });
    PackManifest {
        schema_version: roster_core::SCHEMA_VERSION,
        id: "random".into(),
        version: "1".into(),
        title: "Random".into(),
        description: String::new(),
        resource_types: vec![
            ty("account", None, true),
            ty("sub", Some("account"), true),
            ty("a", Some("account"), false),
            ty("b", Some("a"), false),
            ty("c", Some("sub"), false),
        ],
        permissions: PERMISSIONS
            .iter()
            .map(|p| PermissionDef { id: (*p).into(), description: String::new() })
            .collect(),
        roles: role_defs,
        policies: Policies::default(),
        authzen: None,
    }
}

/// The state as plain lists, mutated alongside the engine.
#[derive(Default, Debug)]
struct Plain {
    resources: Vec<(String, Option<String>, String, Option<String>)>,
    memberships: Vec<(String, String, String, bool, MembershipStatus, Option<i64>)>,
    grants: Vec<(String, String, Subject, String, String, Option<i64>)>,
    group_members: BTreeSet<(String, String, String)>,
}

fn expiry(choice: u8) -> Option<i64> {
    match choice % 3 {
        0 => None,
        1 => Some(NOW - 1),
        _ => Some(NOW + 1),
    }
}

fn apply_op(engine: &mut Engine, plain: &mut Plain, roles: usize, op: (u8, u8, u8, u8, u8)) {
    let (kind, x, y, z, w) = op;
    let principal = PRINCIPALS[usize::from(x) % PRINCIPALS.len()].to_owned();
    let role = if usize::from(z) % (roles + 1) == roles {
        "base".to_owned()
    } else {
        format!("r{}", usize::from(z) % (roles + 1))
    };
    let account = if y % 2 == 0 { "acc" } else { "sub1" }.to_owned();
    match kind % 7 {
        0 | 1 => {
            let status = if w % 4 == 0 { MembershipStatus::Removed } else { MembershipStatus::Active };
            let external = w % 5 == 1;
            let change = Change::PutMembership {
                account: account.clone(),
                principal: principal.clone(),
                role: role.clone(),
                external,
                status,
                expires_at: expiry(w / 8),
            };
            if engine.apply(change).is_ok() {
                plain.memberships.retain(|m| !(m.0 == account && m.1 == principal));
                plain.memberships.push((account, principal, role, external, status, expiry(w / 8)));
            }
        }
        2 | 3 => {
            // Now and then a grant on an account: a role, but never an assignment.
            let on_account = (w % 7 == 3).then(|| ("account".to_owned(), None, account.clone(), None));
            let Some(resource) =
                on_account.or_else(|| plain.resources.get(usize::from(y) % plain.resources.len().max(1)).cloned())
            else {
                return;
            };
            let subject =
                if w % 3 == 0 { Subject::Group(format!("g{}", x % 2)) } else { Subject::Principal(principal) };
            let id = format!("grant-{kind}-{x}-{y}-{z}-{w}-{}", plain.grants.len());
            let change = Change::AddGrant {
                id: id.clone(),
                account: resource.2.clone(),
                subject: subject.clone(),
                resource: Some(resource.0.clone()),
                role: role.clone(),
                expires_at: expiry(w / 8),
            };
            if engine.apply(change).is_ok() {
                plain.grants.push((id, resource.2, subject, resource.0, role, expiry(w / 8)));
            }
        }
        4 => {
            let group = format!("g{}", y % 2);
            if engine
                .apply(Change::AddGroupMember {
                    account: "acc".into(),
                    group: group.clone(),
                    principal: principal.clone(),
                })
                .is_ok()
            {
                plain.group_members.insert(("acc".into(), group, principal));
            }
        }
        5 => {
            if let Some(index) = (!plain.grants.is_empty()).then(|| usize::from(y) % plain.grants.len()) {
                let (id, account) = (plain.grants[index].0.clone(), plain.grants[index].1.clone());
                engine.apply(Change::RemoveGrant { account, id }).expect("existing grant");
                plain.grants.remove(index);
            }
        }
        _ => {
            if w % 4 != 0 || plain.resources.is_empty() {
                return;
            }
            let (name, _, account, _) = plain.resources[usize::from(y) % plain.resources.len()].clone();
            engine
                .apply(Change::RemoveResource { account: account.clone(), resource: name.clone() })
                .expect("existing resource");
            let mut gone: BTreeSet<String> = [name].into();
            loop {
                let before = gone.len();
                for r in &plain.resources {
                    if r.2 == account && r.1.as_ref().is_some_and(|p| gone.contains(p)) {
                        gone.insert(r.0.clone());
                    }
                }
                if gone.len() == before {
                    break;
                }
            }
            plain.resources.retain(|r| !(r.2 == account && gone.contains(&r.0)));
            plain.grants.retain(|g| !(g.1 == account && gone.contains(&g.3)));
        }
    }
}

/// The slow evaluator: the definition of a decision, read straight off the lists.
fn reference(
    pack: &PackManifest,
    plain: &Plain,
    account: &str,
    principal: &str,
    permission: &str,
    resource: Option<&str>,
) -> bool {
    let mut chain: Vec<(String, String)> = Vec::new();
    let mut current = resource.map(str::to_owned);
    while let Some(name) = current {
        let r = plain.resources.iter().find(|r| r.2 == account && r.0 == name).expect("resource exists");
        chain.push((account.to_owned(), name));
        current = r.1.clone();
    }
    let accounts: Vec<&str> = if account == "sub1" { vec!["sub1", "acc"] } else { vec!["acc"] };
    chain.extend(accounts.iter().map(|a| (a.to_string(), "account".to_owned())));
    let live = |at: Option<i64>| at.is_none_or(|t| t > NOW);
    let in_group =
        |group: &str| plain.group_members.contains(&("acc".to_owned(), group.to_owned(), principal.to_owned()));
    let grant_is_mine = |subject: &Subject| match subject {
        Subject::Principal(p) => p == principal,
        Subject::Group(g) => in_group(g),
    };
    let mut roles: Vec<&str> = Vec::new();
    for m in &plain.memberships {
        if m.1 == principal && accounts.contains(&m.0.as_str()) && m.4 == MembershipStatus::Active && !m.3 && live(m.5)
        {
            roles.push(&m.2);
        }
    }
    // A grant (and an ownership) counts only while the principal is a live member, external
    // or not, of its account or an account above it.
    let memberships_at_or_above = |a: &str| {
        let above: Vec<&str> = if a == "sub1" { vec!["sub1", "acc"] } else { vec!["acc"] };
        plain.memberships.iter().filter(move |m| m.1 == principal && above.contains(&m.0.as_str()))
    };
    let member_at_or_above = |a: &str| memberships_at_or_above(a).any(|m| m.4 == MembershipStatus::Active && live(m.5));
    // A role open to non-members counts for someone with no membership there at all.
    let grant_counts = |a: &str, role: &str| {
        member_at_or_above(a)
            || (memberships_at_or_above(a).next().is_none()
                && pack.roles.iter().any(|r| r.id == role && r.grantable_to_non_members))
    };
    let mut assigned = false;
    for g in &plain.grants {
        if grant_is_mine(&g.2) && live(g.5) && grant_counts(&g.1, &g.4) && chain.contains(&(g.1.clone(), g.3.clone())) {
            roles.push(&g.4);
            assigned |= g.3 != "account";
        }
    }
    let owns = chain.iter().any(|(a, name)| {
        plain.resources.iter().any(|r| &r.2 == a && &r.0 == name && r.3.as_deref() == Some(principal))
            && member_at_or_above(a)
    });
    roles.iter().any(|role| {
        let def = pack.roles.iter().find(|r| r.id == *role).expect("role exists");
        def.permissions.iter().any(|rule| {
            rule.matches(permission)
                && match rule.condition {
                    None => true,
                    Some(Condition::Owner) => owns,
                    Some(Condition::Assigned) => assigned,
                }
        })
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn compiled_engine_agrees_with_the_reference_evaluator(
        roles in prop::collection::vec(role_strategy(), 1..5),
        owners in prop::collection::vec(0usize..5, RESOURCES.len()),
        ops in prop::collection::vec((any::<u8>(), any::<u8>(), any::<u8>(), any::<u8>(), any::<u8>()), 0..40),
    ) {
        let manifest = manifest(&roles);
        let pack = Arc::new(validate(manifest.clone()).expect("generated packs are valid"));
        let mut engine = Engine::new([pack]);
        let mut plain = Plain::default();
        engine.apply(Change::CreateAccount { id: "acc".into(), pack: "random".into(), parent: None }).expect("account");
        engine.apply(Change::CreateAccount { id: "sub1".into(), pack: "random".into(), parent: Some("acc".into()) }).expect("child account");
        for group in ["g0", "g1"] {
            engine.apply(Change::AddGroup { account: "acc".into(), group: group.into() }).expect("group");
        }
        for (&(name, parent, account), &owner) in RESOURCES.iter().zip(&owners) {
            let owner = PRINCIPALS.get(owner).map(|p| (*p).to_owned());
            engine.apply(Change::AddResource { account: account.into(), resource: name.into(), parent: parent.map(Into::into), owner: owner.clone() }).expect("resource");
            plain.resources.push((name.into(), parent.map(Into::into), account.into(), owner));
        }
        for op in ops {
            apply_op(&mut engine, &mut plain, roles.len(), op);
        }
        for account in ["acc", "sub1"] {
            let mut targets: Vec<Option<String>> = vec![None];
            targets.extend(plain.resources.iter().filter(|r| r.2 == account).map(|r| Some(r.0.clone())));
            for target in &targets {
                for principal in PRINCIPALS.iter().chain(&["stranger"]) {
                    for permission in PERMISSIONS {
                        let expected = reference(&manifest, &plain, account, principal, permission, target.as_deref());
                        let decision = engine.check(account, principal, permission, target.as_deref(), NOW).expect("check");
                        prop_assert_eq!(decision.allowed, expected, "{} {} on {}/{:?}", principal, permission, account, target);
                        let explained = engine.explain(account, principal, permission, target.as_deref(), NOW).expect("explain");
                        prop_assert_eq!(explained.allowed, expected);
                    }
                }
            }
        }
    }
}
