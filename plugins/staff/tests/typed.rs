//! Seed rules of the staff pack through its generated typed names, on `staff.test.yaml`'s account `acme`:
//! up the ladder only, one hidden Super Admin, assigned projects, a Salesperson's own companies.

use std::sync::Arc;

use roster_core::engine::MembershipStatus;
use roster_core::{Actor, Change, Engine, ManagementError, Operation, RolePack, Subject};
use roster_pack_staff::{Pack, Permission, ResourceType, Role};

const NOW: i64 = 1_800_000_000;

/// Account `acme` with one member per staff role and projects p1 and p2, as `staff.test.yaml`
/// builds it.
fn acme() -> Engine {
    let mut engine = Engine::new([Arc::new(Pack.compile().expect("the staff pack compiles"))]);
    let mut put = |change: Change| engine.apply(change).map(drop).expect("a fixture of staff.test.yaml");
    put(Change::CreateAccount { id: "acme".into(), pack: Pack::ID.into(), parent: None });
    let members = [
        ("sue", Role::SuperAdmin),
        ("al", Role::Admin),
        ("pam", Role::ProjectManager),
        ("oli", Role::OfficeManager),
        ("tim", Role::Teammate),
        ("sam", Role::Salesperson),
        ("fay", Role::Freelancer),
    ];
    for (principal, role) in members {
        put(Change::PutMembership {
            account: "acme".into(),
            principal: principal.into(),
            role: role.into(),
            external: false,
            status: MembershipStatus::Active,
            expires_at: None,
        });
    }
    for resource in [ResourceType::Project.resource("p1"), ResourceType::Project.resource("p2")] {
        put(Change::AddResource { account: "acme".into(), resource, parent: None, owner: None });
    }
    engine
}

fn can(engine: &Engine, principal: &str, permission: Permission, resource: &str) -> bool {
    engine.check("acme", principal, permission.id(), Some(resource), NOW).expect("a question about acme").allowed
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
    let mut engine = acme();
    let refused = act(&mut engine, "al", &change_role("pam", Role::Teammate)).expect_err("down the ladder");
    let down = |from: &str, to: &str| from == Role::ProjectManager.id() && to == Role::Teammate.id();
    assert!(matches!(&refused, ManagementError::Demotion { from, to, .. } if down(from, to)), "{refused:?}");
    act(&mut engine, "al", &change_role("fay", Role::Salesperson)).expect("a Freelancer becomes a Salesperson");
}

#[test]
fn the_one_super_admin_is_hidden_from_admins_and_cannot_be_changed() {
    let mut engine = acme();
    let view = |principal: &str| Operation::ViewMember { account: "acme".into(), principal: principal.into() };
    let hidden = act(&mut engine, "al", &view("sue")).expect_err("the Super Admin's details are not an Admin's");
    assert!(matches!(hidden, ManagementError::NotAMember { .. }), "{hidden:?}");
    act(&mut engine, "sue", &view("sue")).expect("the Super Admin sees their own details");
    act(&mut engine, "al", &view("tim")).expect("Admins view other staff members' details");
    let handover = Operation::TransferOwnership { account: "acme".into(), to: "al".into() };
    let kept = act(&mut engine, "sue", &handover).expect_err("that person can't be changed");
    assert!(matches!(&kept, ManagementError::NotTransferable { role } if role == Role::SuperAdmin.id()), "{kept:?}");
}

#[test]
fn teammates_reach_only_assigned_projects_and_cannot_lead_one() {
    let mut engine = acme();
    let (p1, p2) = (ResourceType::Project.resource("p1"), ResourceType::Project.resource("p2"));
    let lead = act(&mut engine, "pam", &on_p1("lead-tim", "tim", Role::ProjectLeader)).expect_err("no lead");
    let needed = Permission::ProjectLead.id();
    assert!(matches!(&lead, ManagementError::GranteeLacks { permission, .. } if permission == needed), "{lead:?}");
    act(&mut engine, "pam", &on_p1("as-tim", "tim", Role::ProjectMember)).expect("a PM assigns a Teammate");
    act(&mut engine, "pam", &on_p1("as-fay", "fay", Role::ProjectMember)).expect("a PM assigns a Freelancer");
    assert!(can(&engine, "tim", Permission::ProjectView, &p1));
    assert!(!can(&engine, "tim", Permission::ProjectView, &p2));
    assert!(can(&engine, "tim", Permission::ProjectTeamTalk, &p1));
    assert!(!can(&engine, "tim", Permission::ProjectClientTalk, &p1));
    assert!(can(&engine, "fay", Permission::ProjectView, &p1));
    assert!(!can(&engine, "fay", Permission::ProjectTeamTalk, &p1));
}

#[test]
fn a_salesperson_edits_and_deletes_only_the_companies_they_created() {
    let mut engine = acme();
    let [mine, theirs] = ["mine", "theirs"].map(|id| ResourceType::Company.resource(id));
    let create = |resource: &str| Operation::CreateResource {
        account: "acme".into(),
        resource: resource.into(),
        parent: None,
        owner: None,
    };
    act(&mut engine, "sam", &create(&mine)).expect("Salespersons create new Companies");
    act(&mut engine, "pam", &create(&theirs)).expect("Project Managers create Companies");
    assert!(can(&engine, "sam", Permission::CompanyEdit, &mine));
    assert!(can(&engine, "sam", Permission::CompanyDelete, &mine));
    assert!(can(&engine, "sam", Permission::CompanyView, &theirs));
    assert!(!can(&engine, "sam", Permission::CompanyEdit, &theirs));
    let delete = Operation::DeleteResource { account: "acme".into(), resource: theirs };
    assert_lacks(act(&mut engine, "sam", &delete), Permission::CompanyDelete);
}
