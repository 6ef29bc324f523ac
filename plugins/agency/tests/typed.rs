//! Seed rules of the agency pack through its generated typed names, on `agency.test.yaml`'s fixtures:
//! agency roles reach every client, client roles one, project grants override, managers hand out roles.

use std::sync::Arc;

use roster_core::engine::MembershipStatus;
use roster_core::{Actor, Change, Engine, ManagementError, Operation, RolePack, Subject};
use roster_pack_agency::{Pack, Permission, ResourceType, Role};

const NOW: i64 = 1_800_000_000;

/// The agency `ag` with one member per agency role, and its client organisations `c1`
/// (projects p1, p2, p3) and `c2` (project q1), as `agency.test.yaml` builds them.
fn agency() -> Engine {
    let mut engine = Engine::new([Arc::new(Pack.compile().expect("the agency pack compiles"))]);
    let agency_staff = [
        ("ann", Role::Administrator),
        ("boss", Role::Administrator),
        ("fin", Role::Finance),
        ("max", Role::Manager),
        ("rev", Role::Reviewer),
        ("sal", Role::Sales),
        ("cre", Role::Creator),
    ];
    let c1_people =
        [("c1-boss", Role::Collaborator), ("vic", Role::Viewer), ("boss", Role::Viewer), ("cara", Role::Collaborator)];
    let accounts: [Fixture; 3] = [
        ("ag", None, &agency_staff, &[]),
        ("c1", Some("ag"), &c1_people, &["p1", "p2", "p3"]),
        ("c2", Some("ag"), &[("c2-boss", Role::Collaborator)], &["q1"]),
    ];
    for (id, parent, members, projects) in accounts {
        let mut put = |change: Change| engine.apply(change).map(drop).expect("a fixture of agency.test.yaml");
        put(Change::CreateAccount { id: id.into(), pack: Pack::ID.into(), parent: parent.map(Into::into) });
        for &(principal, role) in members {
            put(Change::PutMembership {
                account: id.into(),
                principal: principal.into(),
                role: role.into(),
                external: false,
                status: MembershipStatus::Active,
                expires_at: None,
            });
        }
        for project in projects {
            let resource = ResourceType::Project.resource(project);
            put(Change::AddResource { account: id.into(), resource, parent: None, owner: None });
        }
    }
    engine
}

/// An account as `agency.test.yaml` builds it: id, parent, members, projects.
type Fixture<'a> = (&'a str, Option<&'a str>, &'a [(&'a str, Role)], &'a [&'a str]);

fn can(engine: &Engine, account: &str, principal: &str, permission: Permission, resource: Option<&str>) -> bool {
    engine.check(account, principal, permission.id(), resource, NOW).expect("a question about a fixture").allowed
}

fn act(engine: &mut Engine, principal: &str, operation: &Operation) -> Result<u64, ManagementError> {
    engine.execute(&Actor::Principal(principal.into()), operation, NOW)
}

fn assert_lacks(result: Result<u64, ManagementError>, missing: Permission) {
    let refused =
        matches!(&result, Err(ManagementError::MissingPermission { permission, .. }) if permission == missing.id());
    assert!(refused, "expected a refusal for lacking {missing}, got {result:?}");
}

fn change_role(principal: &str, role: Role) -> Operation {
    Operation::ChangeRole { account: "ag".into(), principal: principal.into(), role: role.into() }
}

fn new_client(id: &str, owner: &str) -> Operation {
    Operation::CreateAccount { id: id.into(), pack: Pack::ID.into(), parent: Some("ag".into()), owner: owner.into() }
}

#[test]
fn agency_roles_reach_every_client_organisation_and_client_roles_only_their_own() {
    let engine = agency();
    let (p1, q1) = (ResourceType::Project.resource("p1"), ResourceType::Project.resource("q1"));
    assert!(can(&engine, "c1", "ann", Permission::ClientEdit, None));
    assert!(can(&engine, "c2", "ann", Permission::ClientEdit, None));
    assert!(can(&engine, "c2", "ann", Permission::ProjectQuotesModify, Some(&q1)));
    assert!(can(&engine, "c1", "vic", Permission::ProjectView, Some(&p1)));
    assert!(!can(&engine, "c2", "vic", Permission::ProjectView, Some(&q1)));
    assert!(!can(&engine, "c1", "vic", Permission::ProjectStart, Some(&p1)));
    assert!(!can(&engine, "ag", "vic", Permission::AgencyWork, None));
}

#[test]
fn a_project_grant_raises_a_creator_to_reviewer_on_that_project_only() {
    let mut engine = agency();
    let [p1, p2, q1] = ["p1", "p2", "q1"].map(|id| ResourceType::Project.resource(id));
    assert!(!can(&engine, "c1", "cre", Permission::TaskAssign, Some(&p1)));
    let grant = Operation::Grant {
        id: "g-rev".into(),
        account: "c1".into(),
        subject: Subject::Principal("cre".into()),
        resource: Some(p1.clone()),
        role: Role::Reviewer.into(),
        expires_at: None,
    };
    act(&mut engine, "max", &grant).expect("a Manager hands out Reviewer on one project");
    assert!(can(&engine, "c1", "cre", Permission::TaskAssign, Some(&p1)));
    assert!(!can(&engine, "c1", "cre", Permission::TaskAssign, Some(&p2)));
    assert!(!can(&engine, "c2", "cre", Permission::TaskAssign, Some(&q1)));
}

#[test]
fn managers_hand_out_only_the_roles_they_manage_and_finance_none() {
    let mut engine = agency();
    for (principal, role) in [("rev", Role::Finance), ("cre", Role::Administrator)] {
        let refused = act(&mut engine, "max", &change_role(principal, role)).expect_err("not the Manager's to give");
        assert!(matches!(&refused, ManagementError::RoleNotManaged { role: r, .. } if r == role.id()), "{refused:?}");
    }
    assert_lacks(act(&mut engine, "fin", &change_role("cre", Role::Reviewer)), Permission::MemberRoleChange);
    act(&mut engine, "max", &change_role("cre", Role::Reviewer)).expect("a Manager makes a Creator a Reviewer");
}

#[test]
fn administrators_create_client_organisations_inside_the_agencys_name_space() {
    let mut engine = agency();
    assert_lacks(act(&mut engine, "cre", &new_client("c3", "x")), Permission::AccountCreate);
    let squat = act(&mut engine, "ann", &new_client("acme", "boss1")).expect_err("outside `ag.`");
    assert!(matches!(squat, ManagementError::ChildIdOutsideParent { .. }), "{squat:?}");
    act(&mut engine, "ann", &new_client("ag.c0", "c0-boss")).expect("an Administrator creates organisations");
}
