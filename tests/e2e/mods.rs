//! The mods pack against `docs/seeds/mods-deployment-team-roles.txt`: the Role Permissions
//! Matrix cell by cell (in the seed's words), group grants, and the interface
//! restrictions for Restricted members.

use std::collections::BTreeSet;

use roster_core::{ChangeError, ManagementError, Operation};
use roster_e2e::{World, add_member, change_role, grant, role_cells};

/// The seed's matrix: resource row, then the cells for Admin, Manager, Developer, Member,
/// Restricted, verbatim.
const SEED_MATRIX: &[(&str, [&str; 5])] = &[
    ("Team Members", ["View, Invite, Edit, Delete", "View, Invite", "No", "No", "No"]),
    ("Groups", ["View, Edit, Delete", "View, Edit", "No", "No", "No"]),
    ("Mods/Packages", ["View, Edit, Delete", "View, Edit, Delete", "View, Edit, Delete", "View", "No"]),
    (
        "Integration Configurations",
        [
            "View, Edit, Delete",
            "View, Call No Access to Secrets",
            "View, Call No Access to Secrets",
            "View, Call No Access to Secrets",
            "No",
        ],
    ),
    ("Mod Deployments", ["View, Edit, Delete", "View, Edit, Pause/Unpause", "No", "No", "No"]),
    ("Campaigns", ["View, Edit", "View, Edit", "No", "No", "No"]),
    ("Databases", ["View, Edit, Delete", "View, Edit", "No", "No", "No"]),
];

const ROLES: [&str; 5] = ["admin", "manager", "developer", "member", "restricted"];

/// The permissions one action of one matrix row stands for.
fn action_permissions(row: &str, action: &str) -> &'static [&'static str] {
    match (row, action) {
        ("Team Members", "View") => &["member.view"],
        ("Team Members", "Invite") => &["member.invite"],
        ("Team Members", "Edit") => &["member.role.change"],
        ("Team Members", "Delete") => &["member.remove"],
        ("Groups", "View") => &["group.view"],
        ("Groups", "Edit") => &["group.manage"],
        ("Groups", "Delete") => &["group.delete"],
        ("Mods/Packages", "View") => &["mod.view"],
        // "Developer: can create/edit/delete bricks and mods": editing includes creating.
        ("Mods/Packages", "Edit") => &["mod.create", "mod.edit"],
        ("Mods/Packages", "Delete") => &["mod.delete"],
        ("Integration Configurations", "View") => &["integration.view"],
        ("Integration Configurations", "Call") => &["integration.call"],
        ("Integration Configurations", "Edit") => &["integration.edit"],
        ("Integration Configurations", "Delete") => &["integration.delete"],
        ("Mod Deployments", "View") => &["deployment.view"],
        ("Mod Deployments", "Edit") => &["deployment.edit"],
        ("Mod Deployments", "Delete") => &["deployment.delete"],
        ("Mod Deployments", "Pause/Unpause") => &["deployment.pause"],
        ("Campaigns", "View") => &["campaign.view"],
        ("Campaigns", "Edit") => &["campaign.edit"],
        ("Databases", "View") => &["database.view"],
        ("Databases", "Edit") => &["database.edit"],
        ("Databases", "Delete") => &["database.delete"],
        other => panic!("unknown matrix action {other:?}"),
    }
}

fn parse_cell(row: &str, cell: &str) -> BTreeSet<&'static str> {
    if cell == "No" {
        return BTreeSet::new();
    }
    let cell = cell.trim_end_matches(" No Access to Secrets");
    cell.split(", ").flat_map(|action| action_permissions(row, action).iter().copied()).collect()
}

fn held(role: &str) -> BTreeSet<String> {
    role_cells("mods", role).into_iter().filter(|(_, cell)| *cell == "yes").map(|(p, _)| p).collect()
}

#[test]
fn mods_roles_follow_the_seed_matrix_cell_by_cell() {
    let mut universe: BTreeSet<&str> = ["integration.secrets.view"].into();
    for (row, cells) in SEED_MATRIX {
        for cell in cells {
            universe.extend(parse_cell(row, cell));
        }
    }
    for (column, role) in ROLES.iter().enumerate() {
        let expected: BTreeSet<&str> =
            SEED_MATRIX.iter().flat_map(|(row, cells)| parse_cell(row, cells[column])).collect();
        let held = held(role);
        let held_in_matrix: BTreeSet<&str> = held.iter().map(String::as_str).filter(|p| universe.contains(p)).collect();
        if *role == "admin" {
            // "Admin: can manage the team, its members, and deployments": everything,
            // secrets and pausing included.
            assert!(expected.is_subset(&held_in_matrix));
            assert_eq!(held_in_matrix, universe, "admin holds every matrix permission");
        } else {
            assert_eq!(held_in_matrix, expected, "mods role `{role}` must match its matrix column");
        }
    }
}

#[test]
fn mods_no_role_but_admin_sees_integration_secrets() {
    for role in ["manager", "developer", "member", "restricted"] {
        assert!(!held(role).contains("integration.secrets.view"), "{role}: No Access to Secrets");
    }
}

#[test]
fn mods_restricted_members_have_the_interface_restrictions() {
    let restricted = ["marketplace.view", "deployment.deactivate", "page_editor.use"];
    for role in ["admin", "manager", "developer", "member"] {
        let held = held(role);
        assert!(
            restricted.iter().all(|p| held.contains(*p)),
            "{role} keeps the marketplace, deactivation and page editor"
        );
    }
    assert!(held("restricted").is_empty(), "Restricted: nothing until a permissions group grants it");
}

/// Team `t` (admin `ada`), manager `man`, developer `dev`, member `mem`, restricted `rita`;
/// mods `m1`, `m2`; integration `i1`; deployments `d1`, `d2`.
fn mods_world() -> World {
    let mut w = World::new();
    w.account("t", "mods", "ada");
    w.member("t", "man", "manager");
    w.member("t", "dev", "developer");
    w.member("t", "mem", "member");
    w.setup(add_member("t", "rita", None));
    for resource in ["mod:m1", "mod:m2", "integration:i1", "deployment:d1", "deployment:d2"] {
        w.resource("t", resource, None, None);
    }
    w
}

#[test]
fn mods_restricted_is_the_default_and_gets_nothing_until_a_group_grant() {
    let mut w = mods_world();
    assert_eq!(w.role_of("t", "rita").map(|r| r.0), Some("restricted".into()));
    assert!(!w.can("t", "rita", "mod.view", Some("mod:m1")));
    w.act(Some("ada"), Operation::CreateGroup { account: "t".into(), group: "readers".into() })
        .expect("admins manage groups");
    w.act(
        Some("man"),
        Operation::AddGroupMember { account: "t".into(), group: "readers".into(), principal: "rita".into() },
    )
    .expect("managers edit groups");
    w.act(Some("man"), grant("g-read", "t", "group:readers", Some("mod:m1"), "mod_viewer"))
        .expect("managers grant to groups");
    assert!(w.can("t", "rita", "mod.view", Some("mod:m1")));
    assert!(!w.can("t", "rita", "mod.edit", Some("mod:m1")));
    assert!(!w.can("t", "rita", "mod.view", Some("mod:m2")));
    w.setup(Operation::RemoveGroupMember { account: "t".into(), group: "readers".into(), principal: "rita".into() });
    assert!(!w.can("t", "rita", "mod.view", Some("mod:m1")), "leaving the group takes the access away");
}

#[test]
fn mods_manager_views_and_calls_integrations_but_never_sees_secrets() {
    let w = mods_world();
    for who in ["man", "dev", "mem"] {
        assert!(w.can("t", who, "integration.view", Some("integration:i1")));
        assert!(w.can("t", who, "integration.call", Some("integration:i1")));
        assert!(!w.can("t", who, "integration.secrets.view", Some("integration:i1")));
    }
    assert!(w.can("t", "ada", "integration.secrets.view", Some("integration:i1")));
}

#[test]
fn mods_deployment_manager_groups_get_manager_access_to_one_deployment() {
    let mut w = mods_world();
    w.setup(Operation::CreateGroup { account: "t".into(), group: "d1-managers".into() });
    w.setup(Operation::AddGroupMember { account: "t".into(), group: "d1-managers".into(), principal: "mem".into() });
    w.act(Some("man"), grant("g-dm", "t", "group:d1-managers", Some("deployment:d1"), "deployment_manager"))
        .expect("managers assign deployment managers");
    assert!(w.can("t", "mem", "deployment.pause", Some("deployment:d1")));
    assert!(!w.can("t", "mem", "deployment.delete", Some("deployment:d1")));
    assert!(!w.can("t", "mem", "deployment.pause", Some("deployment:d2")));
    let by_developer =
        w.act(Some("dev"), grant("g-dev", "t", "principal:dev", Some("deployment:d2"), "deployment_manager"));
    // Refused; and since a developer may not view d2, refused as if it did not exist.
    assert!(
        matches!(by_developer, Err(ManagementError::Change(ChangeError::UnknownResource { .. }))),
        "{by_developer:?}"
    );
}

#[test]
fn mods_manager_invites_but_does_not_edit_or_delete_members() {
    let mut w = mods_world();
    w.act(Some("man"), add_member("t", "newbie", Some("member"))).expect("Team Members: Invite");
    let edit = w.act(Some("man"), change_role("t", "mem", "developer"));
    assert!(
        matches!(edit, Err(ManagementError::MissingPermission { ref permission, .. }) if permission == "member.role.change")
    );
    let delete = w.act(Some("man"), Operation::RemoveMember { account: "t".into(), principal: "mem".into() });
    assert!(
        matches!(delete, Err(ManagementError::MissingPermission { ref permission, .. }) if permission == "member.remove")
    );
    w.act(Some("ada"), change_role("t", "mem", "developer")).expect("Admin: Edit");
    w.act(Some("ada"), Operation::RemoveMember { account: "t".into(), principal: "newbie".into() })
        .expect("Admin: Delete");
    assert_eq!(w.role_of("t", "newbie"), None, "hard removal");
}
