//! Seed rules of the staff pack through its generated typed names, on `staff.test.yaml`'s account `acme`:
//! up the ladder only, one hidden Super Admin, assigned projects, a Salesperson's own companies.

use roster_core::{ManagementError, Operation, Subject};
use roster_pack_staff::{Pack, Permission, ResourceType, Role};
use roster_packtest::sandbox::{Sandbox, assert_lacks};

/// Account `acme` with one member per staff role and projects p1 and p2, as `staff.test.yaml`
/// builds it.
fn acme() -> Sandbox<Pack> {
    let mut s = Sandbox::new(&Pack);
    let members = [
        ("sue", Role::SuperAdmin),
        ("al", Role::Admin),
        ("pam", Role::ProjectManager),
        ("oli", Role::OfficeManager),
        ("tim", Role::Teammate),
        ("sam", Role::Salesperson),
        ("fay", Role::Freelancer),
    ];
    s.account("acme", None).members("acme", &members);
    for resource in [ResourceType::Project.resource("p1"), ResourceType::Project.resource("p2")] {
        s.resource("acme", resource, None, None);
    }
    s
}

fn change_role(principal: &str, role: Role) -> Operation {
    Operation::ChangeRole { account: "acme".into(), principal: principal.into(), role: role.into() }
}

/// Grant `id` of `role` on project p1 to `principal`.
fn on_p1(id: &str, principal: &str, role: Role) -> Operation {
    let (account, subject) = ("acme".into(), Subject::Principal(principal.into()));
    let resource = Some(ResourceType::Project.resource("p1"));
    Operation::Grant { id: id.into(), account, subject, resource, role: role.into(), expires_at: None }
}

#[test]
fn roles_change_only_up_the_ladder() {
    let mut s = acme();
    let refused = s.act("al", &change_role("pam", Role::Teammate)).expect_err("down the ladder");
    let down = |from: &str, to: &str| from == Role::ProjectManager.id() && to == Role::Teammate.id();
    assert!(matches!(&refused, ManagementError::Demotion { from, to, .. } if down(from, to)), "{refused:?}");
    s.act("al", &change_role("fay", Role::Salesperson)).expect("a Freelancer becomes a Salesperson");
}

#[test]
fn the_one_super_admin_is_hidden_from_admins_and_cannot_be_changed() {
    let mut s = acme();
    let view = |principal: &str| Operation::ViewMember { account: "acme".into(), principal: principal.into() };
    let hidden = s.act("al", &view("sue")).expect_err("the Super Admin's details are not an Admin's");
    assert!(matches!(hidden, ManagementError::NotAMember { .. }), "{hidden:?}");
    s.act("sue", &view("sue")).expect("the Super Admin sees their own details");
    s.act("al", &view("tim")).expect("Admins view other staff members' details");
    let handover = Operation::TransferOwnership { account: "acme".into(), to: "al".into() };
    let kept = s.act("sue", &handover).expect_err("that person can't be changed");
    assert!(matches!(&kept, ManagementError::NotTransferable { role } if role == Role::SuperAdmin.id()), "{kept:?}");
}

#[test]
fn teammates_reach_only_assigned_projects_and_cannot_lead_one() {
    let mut s = acme();
    let (p1, p2) = (ResourceType::Project.resource("p1"), ResourceType::Project.resource("p2"));
    let lead = s.act("pam", &on_p1("lead-tim", "tim", Role::ProjectLeader)).expect_err("no lead");
    let needed = Permission::ProjectLead.id();
    assert!(matches!(&lead, ManagementError::GranteeLacks { permission, .. } if permission == needed), "{lead:?}");
    s.act("pam", &on_p1("as-tim", "tim", Role::ProjectMember)).expect("a PM assigns a Teammate");
    s.act("pam", &on_p1("as-fay", "fay", Role::ProjectMember)).expect("a PM assigns a Freelancer");
    assert!(s.can("acme", "tim", Permission::ProjectView, Some(&p1)));
    assert!(!s.can("acme", "tim", Permission::ProjectView, Some(&p2)));
    assert!(s.can("acme", "tim", Permission::ProjectTeamTalk, Some(&p1)));
    assert!(!s.can("acme", "tim", Permission::ProjectClientTalk, Some(&p1)));
    assert!(s.can("acme", "fay", Permission::ProjectView, Some(&p1)));
    assert!(!s.can("acme", "fay", Permission::ProjectTeamTalk, Some(&p1)));
}

#[test]
fn a_salesperson_edits_and_deletes_only_the_companies_they_created() {
    let mut s = acme();
    let [mine, theirs] = ["mine", "theirs"].map(|id| ResourceType::Company.resource(id));
    let create = |resource: &str| Operation::CreateResource {
        account: "acme".into(),
        resource: resource.into(),
        parent: None,
        owner: None,
    };
    s.act("sam", &create(&mine)).expect("Salespersons create new Companies");
    s.act("pam", &create(&theirs)).expect("Project Managers create Companies");
    assert!(s.can("acme", "sam", Permission::CompanyEdit, Some(&mine)));
    assert!(s.can("acme", "sam", Permission::CompanyDelete, Some(&mine)));
    assert!(s.can("acme", "sam", Permission::CompanyView, Some(&theirs)));
    assert!(!s.can("acme", "sam", Permission::CompanyEdit, Some(&theirs)));
    let delete = Operation::DeleteResource { account: "acme".into(), resource: theirs };
    assert_lacks(s.act("sam", &delete), Permission::CompanyDelete);
}
