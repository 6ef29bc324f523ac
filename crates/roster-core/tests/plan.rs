//! One plan, applied as a whole: `Engine::validate` (and `plan`) check each change
//! against the state the plan's earlier changes leave, so committing the plan cannot fail
//! half-way; a plan that contradicts itself is refused whole and changes nothing; a plan
//! commits only onto the state it was validated against.

use std::sync::Arc;

use roster_core::engine::{MembershipStatus, Subject};
use roster_core::{Actor, Change, ChangeError, Engine, ManagementError, Operation, PackManifest, StalePlan, validate};

fn engine() -> Engine {
    let manifest = PackManifest::from_json(
        r#"{"schema_version":1,"id":"docs","version":"1","title":"Docs",
        "resource_types":[{"name":"account"},{"name":"folder","parent":"account"},{"name":"doc","parent":"folder"}],
        "permissions":[{"id":"doc.view"},{"id":"role.manage"}],
        "roles":[{"id":"owner","title":"Owner","rank":9,"permissions":["*"],"grantable_on":["account"]},
                 {"id":"reader","title":"Reader","rank":5,"permissions":["doc.view"],
                  "grantable_on":["account","folder","doc"]}]}"#,
    )
    .expect("test pack parses");
    let mut engine = Engine::new([Arc::new(validate(manifest).expect("valid"))]);
    for change in [
        Change::CreateAccount { id: "a".into(), pack: "docs".into(), parent: None },
        Change::AddResource { account: "a".into(), resource: "folder:f".into(), parent: None, owner: None },
        Change::AddResource {
            account: "a".into(),
            resource: "doc:d".into(),
            parent: Some("folder:f".into()),
            owner: None,
        },
        grant("g1", "doc:d"),
        Change::AddGroup { account: "a".into(), group: "team".into() },
        member("a", "ann"),
    ] {
        engine.apply(change).expect("setup");
    }
    engine
}

fn grant(id: &str, resource: &str) -> Change {
    Change::AddGrant {
        id: id.into(),
        account: "a".into(),
        subject: Subject::Principal("pat".into()),
        resource: Some(resource.into()),
        role: "reader".into(),
        expires_at: None,
    }
}

fn member(account: &str, principal: &str) -> Change {
    Change::PutMembership {
        account: account.into(),
        principal: principal.into(),
        role: "reader".into(),
        external: false,
        status: MembershipStatus::Active,
        expires_at: None,
    }
}

/// Changes that each fit today's state, but not after the ones before them: checked one
/// by one against the current state (as `plan` did), the grant on a doc the plan deletes
/// passed, and applying stopped half-way with the folder gone and the grant missing.
#[test]
fn a_plan_is_validated_in_sequence_and_refused_whole() {
    let engine = engine();
    let revision = engine.revision();
    let contradictions = [
        (
            vec![Change::RemoveResource { account: "a".into(), resource: "folder:f".into() }, grant("g2", "doc:d")],
            "UnknownResource",
        ),
        (
            vec![Change::RemoveResource { account: "a".into(), resource: "folder:f".into() }, grant("g2", "folder:f")],
            "UnknownResource",
        ),
        (
            vec![
                Change::RemoveResource { account: "a".into(), resource: "folder:f".into() },
                Change::RemoveGrant { account: "a".into(), id: "g1".into() },
            ],
            "UnknownGrant",
        ),
        (vec![grant("g2", "doc:d"), grant("g2", "folder:f")], "GrantExists"),
        (
            vec![
                Change::AddGroup { account: "a".into(), group: "crew".into() },
                Change::AddGroup { account: "a".into(), group: "crew".into() },
            ],
            "GroupExists",
        ),
        (
            vec![
                Change::RemoveGroup { account: "a".into(), group: "team".into() },
                Change::AddGroupMember { account: "a".into(), group: "team".into(), principal: "pat".into() },
            ],
            "UnknownGroup",
        ),
        (
            vec![
                Change::RemoveMembership { account: "a".into(), principal: "ann".into() },
                Change::RemoveMembership { account: "a".into(), principal: "ann".into() },
            ],
            "UnknownMember",
        ),
    ];
    for (changes, expected) in contradictions {
        let error = engine.validate(changes.clone()).expect_err("a plan that contradicts itself");
        assert!(format!("{error:?}").starts_with(expected), "{changes:?}: {error:?}");
        for change in &changes {
            // Each change alone fits the current state: only the sequence does not.
            engine.clone().validate(vec![change.clone()]).unwrap_or_else(|e| panic!("{change:?} alone: {e}"));
        }
    }
    assert_eq!(engine.revision(), revision, "nothing changed");
    assert_eq!(engine.counts(), (1, 2, 1, 1));
}

/// What earlier changes create, later ones may use: a new account's membership, a new
/// folder's doc, a grant on it, a new group and its member.
#[test]
fn a_plan_builds_on_its_own_earlier_changes() {
    let mut engine = engine();
    let plan = engine
        .validate(vec![
            Change::CreateAccount { id: "b".into(), pack: "docs".into(), parent: None },
            member("b", "pat"),
            member("b", "sam"),
            Change::AddResource { account: "b".into(), resource: "folder:x".into(), parent: None, owner: None },
            Change::AddResource {
                account: "b".into(),
                resource: "doc:y".into(),
                parent: Some("folder:x".into()),
                owner: Some("pat".into()),
            },
            Change::AddGroup { account: "b".into(), group: "crew".into() },
            Change::AddGroupMember { account: "b".into(), group: "crew".into(), principal: "sam".into() },
            Change::AddGrant {
                id: "g".into(),
                account: "b".into(),
                subject: Subject::Group("crew".into()),
                resource: Some("doc:y".into()),
                role: "reader".into(),
                expires_at: None,
            },
            Change::RemoveGroupMember { account: "b".into(), group: "crew".into(), principal: "sam".into() },
            Change::AddGroupMember { account: "b".into(), group: "crew".into(), principal: "sam".into() },
            // Re-created under the same name after its removal, in the same plan.
            Change::RemoveResource { account: "a".into(), resource: "folder:f".into() },
            Change::AddResource { account: "a".into(), resource: "folder:f".into(), parent: None, owner: None },
        ])
        .expect("each change fits the state the earlier ones leave");
    let revision = engine.commit(plan).expect("validated against this state");
    assert_eq!(revision, 6 + 12);
    assert!(engine.check("b", "sam", "doc.view", Some("doc:y"), 0).expect("known").allowed);
    assert!(engine.check("b", "pat", "doc.view", Some("doc:y"), 0).expect("known").allowed);
    assert!(!engine.has_resource("a", "doc:d"), "the doc went with its folder");
    assert!(engine.has_resource("a", "folder:f"));
    assert_eq!(engine.counts(), (2, 3, 3, 1), "g1 went with the doc; g is on doc:y");
}

/// A resource the plan adds under one it then removes goes with it: a later grant on it
/// is refused (committed, it would land on a freed slot).
#[test]
fn a_resource_added_under_one_the_plan_removes_is_gone() {
    let engine = engine();
    let refused = engine.validate(vec![
        Change::AddResource {
            account: "a".into(),
            resource: "doc:z".into(),
            parent: Some("folder:f".into()),
            owner: None,
        },
        Change::RemoveResource { account: "a".into(), resource: "folder:f".into() },
        grant("g2", "doc:z"),
    ]);
    assert!(
        matches!(refused, Err(ChangeError::UnknownResource { ref resource, .. }) if resource == "doc:z"),
        "{refused:?}"
    );
    let readded = engine.validate(vec![
        Change::AddResource {
            account: "a".into(),
            resource: "doc:z".into(),
            parent: Some("folder:f".into()),
            owner: None,
        },
        Change::RemoveResource { account: "a".into(), resource: "folder:f".into() },
        Change::AddResource { account: "a".into(), resource: "folder:f".into(), parent: None, owner: None },
        Change::AddResource {
            account: "a".into(),
            resource: "doc:z".into(),
            parent: Some("folder:f".into()),
            owner: None,
        },
        grant("g2", "doc:z"),
    ]);
    let mut engine = engine;
    engine.commit(readded.expect("re-created after the removal")).expect("fresh");
    assert!(engine.has_resource("a", "doc:z") && !engine.has_resource("a", "doc:d"));
}

/// A plan never removes what it creates itself: nothing needs it, and refusing it keeps
/// validation exact.
#[test]
fn a_plan_does_not_remove_what_it_creates() {
    let engine = engine();
    let refused =
        engine.validate(vec![grant("g2", "folder:f"), Change::RemoveGrant { account: "a".into(), id: "g2".into() }]);
    assert!(matches!(refused, Err(ChangeError::RemovesOwnCreation { what: "grant", .. })), "{refused:?}");
}

/// A plan commits onto the state it was validated against, and nowhere else.
#[test]
fn a_stale_plan_is_refused_and_changes_nothing() {
    let mut engine = engine();
    let plan = engine.validate(vec![grant("g2", "folder:f")]).expect("fits");
    let mut copy = engine.clone();
    let copy_revision = copy.revision();
    assert_eq!(copy.commit(plan), Err(StalePlan), "another engine");
    assert_eq!(copy.revision(), copy_revision);

    let plan = engine.validate(vec![grant("g2", "folder:f")]).expect("fits");
    engine.apply(grant("g2", "doc:d")).expect("someone else took the id");
    let revision = engine.revision();
    assert_eq!(engine.commit(plan), Err(StalePlan), "the state moved on");
    assert_eq!(engine.revision(), revision, "nothing applied");
}

/// `plan` returns a validated plan; committing it is the whole write.
#[test]
fn a_management_plan_commits_whole() {
    let mut engine = engine();
    let plan = engine
        .plan(
            &Actor::Service,
            &Operation::CreateAccount { id: "c".into(), pack: "docs".into(), parent: None, owner: "olga".into() },
            0,
        )
        .expect("the platform creates accounts");
    assert_eq!(plan.changes().len(), 2, "the account and its owner's membership");
    engine.commit(plan).expect("fresh");
    assert_eq!(engine.membership("c", "olga").map(|m| m.role), Some("owner".to_owned()));
    let again = engine.plan(
        &Actor::Service,
        &Operation::CreateAccount { id: "c".into(), pack: "docs".into(), parent: None, owner: "olga".into() },
        0,
    );
    assert!(matches!(again, Err(ManagementError::Change(ChangeError::AccountExists(_)))), "{again:?}");
}

/// Errors say what they mean in their own fields, not in a sentence stuffed into one.
#[test]
fn custom_role_errors_carry_what_they_mean() {
    let mut engine = engine();
    let mut role =
        roster_core::RoleDef::new("odd", "Odd", 1, vec![roster_core::PermissionRule::always("rocket.launch")]);
    let error = engine.apply(Change::DefineRole { account: "a".into(), role: role.clone() });
    assert_eq!(
        error,
        Err(ChangeError::UnknownRolePermission {
            role: "odd".into(),
            permission: "rocket.launch".into(),
            pack: "docs".into()
        })
    );
    role.permissions = vec![roster_core::PermissionRule::always("doc.view")];
    role.manages = vec!["ghost".into()];
    let error = engine.apply(Change::DefineRole { account: "a".into(), role: role.clone() });
    assert_eq!(error, Err(ChangeError::UnknownManagedRole { role: "odd".into(), managed: "ghost".into() }));
    role.manages.clear();
    role.id = "reader".into();
    assert_eq!(
        engine.apply(Change::DefineRole { account: "a".into(), role }),
        Err(ChangeError::CustomRoleExists("reader".into()))
    );
    let not_in_group =
        engine.apply(Change::RemoveGroupMember { account: "a".into(), group: "team".into(), principal: "pat".into() });
    assert_eq!(
        not_in_group,
        Err(ChangeError::UnknownGroupMember { account: "a".into(), group: "team".into(), principal: "pat".into() })
    );
}
