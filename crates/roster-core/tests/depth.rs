//! One depth limit for the whole tree: a chain from any node up to its top account holds
//! at most `MAX_DEPTH` nodes, accounts and resources together, so the ancestor walk of a
//! decision never stops short of an account whose members should count.

use std::sync::Arc;

use roster_core::engine::MAX_DEPTH;
use roster_core::manifest::{PermissionDef, Policies, ResourceTypeDef};
use roster_core::{Change, ChangeError, Engine, PackManifest, PermissionRule, RoleDef, validate};

/// A pack whose types nest `levels` deep: `t0` (root account) > `t1` > … ; types below
/// `accounts` are accounts too.
fn nested(levels: usize, accounts: usize) -> Engine {
    let resource_types = (0..levels)
        .map(|i| ResourceTypeDef {
            name: format!("t{i}"),
            parent: (i > 0).then(|| format!("t{}", i - 1)),
            account: i < accounts,
            description: String::new(),
        })
        .collect();
    let manifest = PackManifest {
        schema_version: roster_core::SCHEMA_VERSION,
        id: "deep".into(),
        version: "1".into(),
        title: "Deep".into(),
        description: String::new(),
        resource_types,
        permissions: vec![PermissionDef { id: "t0.view".into(), description: String::new() }],
        roles: vec![RoleDef {
            grantable_on: (0..accounts).map(|i| format!("t{i}")).collect(),
            ..RoleDef::new("member", "Member", 1, vec![PermissionRule::always("*")])
        }],
        policies: Policies::default(),
        authzen: None,
    };
    Engine::new([Arc::new(validate(manifest).expect("valid pack"))])
}

#[test]
fn resources_stop_at_the_depth_limit() {
    let mut engine = nested(MAX_DEPTH + 2, 1);
    engine.apply(Change::CreateAccount { id: "a".into(), pack: "deep".into(), parent: None }).expect("account");
    let mut parent: Option<String> = None;
    // The account is node 1 of the chain; resources t1..t(MAX_DEPTH-1) fill it exactly.
    for level in 1..MAX_DEPTH {
        let name = format!("t{level}:x");
        let change = Change::AddResource { account: "a".into(), resource: name.clone(), parent, owner: None };
        engine.apply(change).unwrap_or_else(|e| panic!("level {level}: {e}"));
        parent = Some(name);
    }
    let deeper = Change::AddResource { account: "a".into(), resource: format!("t{MAX_DEPTH}:x"), parent, owner: None };
    assert!(matches!(engine.apply(deeper), Err(ChangeError::TooDeep(_))));
}

#[test]
fn child_accounts_stop_at_the_depth_limit() {
    let mut engine = nested(MAX_DEPTH + 2, MAX_DEPTH + 2);
    engine.apply(Change::CreateAccount { id: "a0".into(), pack: "deep".into(), parent: None }).expect("account");
    for level in 1..MAX_DEPTH {
        let change = Change::CreateAccount {
            id: format!("a{level}"),
            pack: "deep".into(),
            parent: Some(format!("a{}", level - 1)),
        };
        engine.apply(change).unwrap_or_else(|e| panic!("level {level}: {e}"));
    }
    let deeper = Change::CreateAccount {
        id: format!("a{MAX_DEPTH}"),
        pack: "deep".into(),
        parent: Some(format!("a{}", MAX_DEPTH - 1)),
    };
    assert!(matches!(engine.apply(deeper), Err(ChangeError::AccountTooDeep(_))));
    // A member of the top account still reaches the deepest one.
    engine
        .apply(Change::PutMembership {
            account: "a0".into(),
            principal: "p".into(),
            role: "member".into(),
            external: false,
            status: roster_core::engine::MembershipStatus::Active,
            expires_at: None,
        })
        .expect("membership");
    let deepest = format!("a{}", MAX_DEPTH - 1);
    assert!(engine.check(&deepest, "p", "t0.view", None, 0).expect("check").allowed);
}
