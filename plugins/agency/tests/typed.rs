//! Seed rules of the agency pack through its generated typed names, on `agency.test.yaml`'s fixtures:
//! agency roles reach every client, client roles one, project grants override, managers hand out roles.

use roster_core::{ManagementError, Operation, Subject};
use roster_pack_agency::{Pack, Permission, ResourceType, Role};
use roster_packtest::sandbox::{Sandbox, assert_lacks};

/// The agency `ag` with one member per agency role, and its client organisations `c1`
/// (projects p1, p2, p3) and `c2` (project q1), as `agency.test.yaml` builds them.
fn agency() -> Sandbox<Pack> {
    let mut s = Sandbox::new(&Pack);
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
    s.account("ag", None).members("ag", &agency_staff);
    s.account("c1", Some("ag")).members("c1", &c1_people);
    s.account("c2", Some("ag")).members("c2", &[("c2-boss", Role::Collaborator)]);
    for (account, project) in [("c1", "p1"), ("c1", "p2"), ("c1", "p3"), ("c2", "q1")] {
        s.resource(account, ResourceType::Project.resource(project), None, None);
    }
    s
}

fn change_role(principal: &str, role: Role) -> Operation {
    Operation::ChangeRole { account: "ag".into(), principal: principal.into(), role: role.into() }
}

fn new_client(id: &str, owner: &str) -> Operation {
    Operation::CreateAccount { id: id.into(), pack: Pack::ID.into(), parent: Some("ag".into()), owner: owner.into() }
}

#[test]
fn agency_roles_reach_every_client_organisation_and_client_roles_only_their_own() {
    let s = agency();
    let (p1, q1) = (ResourceType::Project.resource("p1"), ResourceType::Project.resource("q1"));
    assert!(s.can("c1", "ann", Permission::ClientEdit, None));
    assert!(s.can("c2", "ann", Permission::ClientEdit, None));
    assert!(s.can("c2", "ann", Permission::ProjectQuotesModify, Some(&q1)));
    assert!(s.can("c1", "vic", Permission::ProjectView, Some(&p1)));
    assert!(!s.can("c2", "vic", Permission::ProjectView, Some(&q1)));
    assert!(!s.can("c1", "vic", Permission::ProjectStart, Some(&p1)));
    assert!(!s.can("ag", "vic", Permission::AgencyWork, None));
}

#[test]
fn a_project_grant_raises_a_creator_to_reviewer_on_that_project_only() {
    let mut s = agency();
    let [p1, p2, q1] = ["p1", "p2", "q1"].map(|id| ResourceType::Project.resource(id));
    assert!(!s.can("c1", "cre", Permission::TaskAssign, Some(&p1)));
    let grant = Operation::Grant {
        id: "g-rev".into(),
        account: "c1".into(),
        subject: Subject::Principal("cre".into()),
        resource: Some(p1.clone()),
        role: Role::Reviewer.into(),
        expires_at: None,
    };
    s.act("max", &grant).expect("a Manager hands out Reviewer on one project");
    assert!(s.can("c1", "cre", Permission::TaskAssign, Some(&p1)));
    assert!(!s.can("c1", "cre", Permission::TaskAssign, Some(&p2)));
    assert!(!s.can("c2", "cre", Permission::TaskAssign, Some(&q1)));
}

#[test]
fn managers_hand_out_only_the_roles_they_manage_and_finance_none() {
    let mut s = agency();
    for (principal, role) in [("rev", Role::Finance), ("cre", Role::Administrator)] {
        let refused = s.act("max", &change_role(principal, role)).expect_err("not the Manager's to give");
        assert!(matches!(&refused, ManagementError::RoleNotManaged { role: r, .. } if r == role.id()), "{refused:?}");
    }
    assert_lacks(s.act("fin", &change_role("cre", Role::Reviewer)), Permission::MemberRoleChange);
    s.act("max", &change_role("cre", Role::Reviewer)).expect("a Manager makes a Creator a Reviewer");
}

#[test]
fn administrators_create_client_organisations_inside_the_agencys_name_space() {
    let mut s = agency();
    assert_lacks(s.act("cre", &new_client("c3", "x")), Permission::AccountCreate);
    let squat = s.act("ann", &new_client("acme", "boss1")).expect_err("outside `ag.`");
    assert!(matches!(squat, ManagementError::ChildIdOutsideParent { .. }), "{squat:?}");
    s.act("ann", &new_client("ag.c0", "c0-boss")).expect("an Administrator creates organisations");
}
