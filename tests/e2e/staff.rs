//! The staff pack against `docs/seeds/staff-role-ladder.txt`: the ladder, the one
//! protected Super Admin, assigned/owner conditions and soft removal.

use roster_core::engine::MembershipStatus;
use roster_core::{Actor, ManagementError, Operation};
use roster_e2e::{World, change_role, grant, matrix, role_cells};

#[test]
fn staff_ladder_ranks_follow_the_seed() {
    let ladder = ["super_admin", "admin", "project_manager", "office_manager", "teammate", "salesperson", "freelancer"];
    let roles = matrix("staff").roles;
    let staff_roles: Vec<&str> = roles.iter().map(String::as_str).filter(|r| ladder.contains(r)).collect();
    assert_eq!(staff_roles, ladder);
    let pack = roster_e2e::pack("staff");
    let super_admin = &pack.roles()[usize::from(pack.role("super_admin").expect("role"))];
    assert!(super_admin.single_holder && super_admin.protected && !super_admin.transferable);
}

fn cells(role: &str) -> Vec<(String, String)> {
    let mut cells: Vec<(String, String)> =
        role_cells("staff", role).into_iter().map(|(p, c)| (p, c.to_owned())).collect();
    cells.sort();
    cells
}

fn expect(list: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut list: Vec<(String, String)> = list.iter().map(|(p, c)| (p.to_string(), c.to_string())).collect();
    list.sort();
    list
}

const CRM_ADMIN: &[(&str, &str)] = &[
    ("crm.view", "yes"),
    ("company.create", "yes"),
    ("company.view", "yes"),
    ("company.edit", "yes"),
    ("company.delete", "yes"),
    ("contact.create", "yes"),
    ("contact.view", "yes"),
    ("contact.edit", "yes"),
    ("contact.delete", "yes"),
    ("event.create", "yes"),
    ("goal.create", "yes"),
];

#[test]
fn staff_roles_hold_what_the_seed_describes() {
    let every: Vec<String> = roster_e2e::pack("staff").permission_ids().to_vec();
    assert_eq!(cells("super_admin").len(), every.len(), "Super Admin: full access, Manage Subscription included");
    let admin = cells("admin");
    assert_eq!(admin.len(), every.len() - 1);
    assert!(!admin.iter().any(|(p, _)| p == "subscription.manage"), "Admins cannot touch Manage Subscription");

    let project_admin: Vec<(&str, &str)> = [
        "project.view",
        "project.create",
        "project.edit",
        "project.delete",
        "project.lead",
        "project.team_talk",
        "project.client_talk",
    ]
    .iter()
    .map(|p| (*p, "yes"))
    .collect();
    let mut pm = project_admin.clone();
    pm.extend_from_slice(CRM_ADMIN);
    pm.push(("grant.manage", "yes"));
    assert_eq!(cells("project_manager"), expect(&pm), "Projects and CRM at admin level only");

    let mut om: Vec<(&str, &str)> = vec![("billing.view", "yes"), ("billing.manage", "yes")];
    om.extend_from_slice(CRM_ADMIN);
    assert_eq!(cells("office_manager"), expect(&om), "Billing and CRM at admin level only");

    assert_eq!(cells("teammate"), expect(&[("project.view", "if assigned"), ("project.team_talk", "if assigned")]));
    assert_eq!(cells("freelancer"), expect(&[("project.view", "if assigned")]), "a Teammate without Team Talk");
    assert_eq!(
        cells("salesperson"),
        expect(&[
            ("project.view", "if assigned"),
            ("project.team_talk", "if assigned"),
            ("crm.view", "yes"),
            ("company.create", "yes"),
            ("company.view", "yes"),
            ("company.edit", "if owner"),
            ("company.delete", "if owner"),
            ("contact.create", "yes"),
            ("contact.view", "yes"),
            ("contact.edit", "if owner"),
            ("contact.delete", "if owner"),
            ("event.create", "yes"),
            ("goal.create", "yes"),
        ])
    );
    for role in ["project_manager", "office_manager", "teammate", "salesperson", "freelancer"] {
        let held = cells(role);
        for denied in ["settings.admin", "client_pages.view", "client_pages.edit", "subscription.manage"] {
            assert!(!held.iter().any(|(p, _)| p == denied), "{role} has no access to {denied}");
        }
    }
}

/// Account `acme` (super admin `sue`), admin `al`, project manager `pam`, office manager
/// `oli`, teammate `tim`, salesperson `sam`, freelancer `fay`; projects `p1`, `p2`.
fn staff_world() -> World {
    let mut w = World::new();
    w.account("acme", "staff", "sue");
    for (who, role) in [
        ("al", "admin"),
        ("pam", "project_manager"),
        ("oli", "office_manager"),
        ("tim", "teammate"),
        ("sam", "salesperson"),
        ("fay", "freelancer"),
    ] {
        w.member("acme", who, role);
    }
    w.resource("acme", "project:p1", None, None);
    w.resource("acme", "project:p2", None, None);
    w
}

#[test]
fn staff_promotion_up_the_ladder_is_allowed() {
    let mut w = staff_world();
    w.act(Some("al"), change_role("acme", "tim", "project_manager")).expect("Teammate → Project Manager");
    w.act(Some("al"), change_role("acme", "pam", "admin")).expect("Project Manager → Admin");
    assert_eq!(w.role_of("acme", "pam").map(|r| r.0), Some("admin".into()));
}

#[test]
fn staff_demotion_is_refused_with_remove_and_readd_advice() {
    let mut w = staff_world();
    let demote = w.act(Some("al"), change_role("acme", "pam", "teammate"));
    let Err(error @ ManagementError::Demotion { .. }) = demote else {
        panic!("expected a demotion refusal, got {demote:?}")
    };
    let message = error.to_string();
    assert!(message.contains("remove") && message.contains("re-add"), "{message}");
    assert_eq!(w.role_of("acme", "pam").map(|r| r.0), Some("project_manager".into()), "nothing changed");
    let by_platform = w.act(None, change_role("acme", "pam", "teammate"));
    assert!(matches!(by_platform, Err(ManagementError::Demotion { .. })), "the ladder binds the platform too");
}

#[test]
fn staff_super_admin_cannot_be_changed_viewed_or_edited_by_an_admin() {
    let mut w = staff_world();
    // To an Admin the Super Admin looks exactly like someone who is not a member.
    let view = w.act(Some("al"), Operation::ViewMember { account: "acme".into(), principal: "sue".into() });
    let stranger = w.act(Some("al"), Operation::ViewMember { account: "acme".into(), principal: "nobody".into() });
    assert!(matches!(view, Err(ManagementError::NotAMember { .. })), "{view:?}");
    assert_eq!(
        view.map_err(|e| e.to_string().replace("sue", "X")),
        stranger.map_err(|e| e.to_string().replace("nobody", "X"))
    );
    assert!(!w.engine.member_visible_to(&Actor::Principal("al".into()), "acme", "sue"));
    assert!(w.engine.member_visible_to(&Actor::Principal("sue".into()), "acme", "sue"));
    let change = w.act(Some("al"), change_role("acme", "sue", "admin"));
    assert!(matches!(change, Err(ManagementError::NotAMember { .. })), "{change:?}");
    let remove = w.act(Some("al"), Operation::RemoveMember { account: "acme".into(), principal: "sue".into() });
    assert!(matches!(remove, Err(ManagementError::NotAMember { .. })), "{remove:?}");
    let transfer = w.act(Some("sue"), Operation::TransferOwnership { account: "acme".into(), to: "al".into() });
    assert!(matches!(transfer, Err(ManagementError::NotTransferable { .. })), "that person can't be changed");
    let second = w.act(None, change_role("acme", "al", "super_admin"));
    assert!(matches!(second, Err(ManagementError::SingleHolderByTransferOnly { .. })), "only one Super Admin");
    assert!(w.act(Some("al"), Operation::ViewMember { account: "acme".into(), principal: "tim".into() }).is_ok());
}

#[test]
fn staff_salesperson_edits_only_companies_they_created() {
    let mut w = staff_world();
    w.act(
        Some("sam"),
        Operation::CreateResource {
            account: "acme".into(),
            resource: "company:mine".into(),
            parent: None,
            owner: None,
        },
    )
    .expect("Salespersons create companies");
    w.act(
        Some("pam"),
        Operation::CreateResource {
            account: "acme".into(),
            resource: "company:theirs".into(),
            parent: None,
            owner: None,
        },
    )
    .expect("Project Managers create companies");
    assert!(w.can("acme", "sam", "company.edit", Some("company:mine")));
    assert!(w.can("acme", "sam", "company.delete", Some("company:mine")));
    assert!(w.can("acme", "sam", "company.view", Some("company:theirs")));
    assert!(!w.can("acme", "sam", "company.edit", Some("company:theirs")));
    let delete =
        w.act(Some("sam"), Operation::DeleteResource { account: "acme".into(), resource: "company:theirs".into() });
    assert!(matches!(delete, Err(ManagementError::MissingPermission { .. })));
    w.act(Some("sam"), Operation::DeleteResource { account: "acme".into(), resource: "company:mine".into() })
        .expect("deletes their own");
    assert!(!w.engine.has_resource("acme", "company:mine"));
}

#[test]
fn staff_teammate_sees_only_assigned_projects_and_freelancer_lacks_team_talk() {
    let mut w = staff_world();
    w.act(Some("pam"), grant("as-tim", "acme", "principal:tim", Some("project:p1"), "project_member")).expect("assign");
    w.act(Some("pam"), grant("as-fay", "acme", "principal:fay", Some("project:p1"), "project_member")).expect("assign");
    assert!(w.can("acme", "tim", "project.view", Some("project:p1")));
    assert!(!w.can("acme", "tim", "project.view", Some("project:p2")));
    assert!(w.can("acme", "tim", "project.team_talk", Some("project:p1")));
    assert!(!w.can("acme", "tim", "project.client_talk", Some("project:p1")), "no Client Talk for Teammates");
    assert!(w.can("acme", "fay", "project.view", Some("project:p1")));
    assert!(!w.can("acme", "fay", "project.team_talk", Some("project:p1")), "no Team Talk for Freelancers");
    let why = w.engine.explain("acme", "tim", "project.view", Some("project:p2"), roster_e2e::NOW).expect("explains");
    assert!(!why.allowed && why.summary.contains("if assigned"), "{}", why.summary);
}

#[test]
fn staff_teammate_can_never_be_made_project_leader() {
    let mut w = staff_world();
    let leader = w.act(Some("pam"), grant("lead-tim", "acme", "principal:tim", Some("project:p1"), "project_leader"));
    assert!(
        matches!(leader, Err(ManagementError::GranteeLacks { ref permission, .. }) if permission == "project.lead"),
        "{leader:?}"
    );
    w.act(Some("al"), grant("lead-pam", "acme", "principal:pam", Some("project:p1"), "project_leader"))
        .expect("a project manager can lead");
}

#[test]
fn staff_removal_is_soft_then_restore_or_purge() {
    let mut w = staff_world();
    w.act(Some("al"), Operation::RemoveMember { account: "acme".into(), principal: "oli".into() })
        .expect("moves to Restore Staff");
    assert_eq!(w.role_of("acme", "oli"), Some(("office_manager".into(), MembershipStatus::Removed)));
    assert!(!w.can("acme", "oli", "billing.view", None), "removed members count as absent");
    w.act(Some("al"), Operation::RestoreMember { account: "acme".into(), principal: "oli".into() }).expect("restore");
    assert!(w.can("acme", "oli", "billing.view", None));
    let purge_active = w.act(Some("al"), Operation::PurgeMember { account: "acme".into(), principal: "oli".into() });
    assert!(matches!(purge_active, Err(ManagementError::NotRemoved { .. })), "delete from Restore Staff only");
    w.act(Some("al"), Operation::RemoveMember { account: "acme".into(), principal: "oli".into() }).expect("remove");
    w.act(Some("al"), Operation::PurgeMember { account: "acme".into(), principal: "oli".into() }).expect("purge");
    assert_eq!(w.role_of("acme", "oli"), None);
    let readd = w.act(Some("al"), roster_e2e::add_member("acme", "oli", Some("teammate")));
    assert!(readd.is_ok(), "re-adding at a lower level is how a demotion is done");
}
