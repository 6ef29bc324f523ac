//! The workspace pack against `docs/seeds/tenant-workspace-roles.txt`.

use roster_core::{ChangeError, ManagementError, Operation};
use roster_e2e::{NOW, World, add_member, grant, role_cells};

#[test]
fn workspace_roles_match_the_seed_lists() {
    let all_yes = role_cells("workspace", "admin").iter().all(|(_, cell)| *cell == "yes");
    assert!(
        all_yes && role_cells("workspace", "admin").len() == roster_e2e::pack("workspace").permission_ids().len(),
        "Admin can do everything"
    );
    let user: Vec<(String, &str)> = role_cells("workspace", "user");
    let expected = [
        ("workspace.create", "yes"),
        ("workspace.view", "if owner"),
        ("workspace.invite", "if owner"),
        ("project.create", "if owner"),
        ("project.view", "if owner"),
        ("asset.upload", "if owner"),
        ("asset.download", "if owner"),
        ("asset.share", "if owner"),
        ("asset.view", "if owner"),
        ("grant.manage", "if owner"),
    ];
    let mut expected: Vec<(String, &str)> = expected.iter().map(|(p, c)| (p.to_string(), *c)).collect();
    expected.sort();
    let mut user = user;
    user.sort();
    assert_eq!(user, expected);
    for admin_only in ["user.invite", "user.remove", "data.delete", "asset.delete", "member.invite", "member.remove"] {
        assert!(!user.iter().any(|(p, _)| p == admin_only), "{admin_only} is Admin only");
    }
}

/// Tenant `t` (admin `ada`); user `una` creates workspace `w1` with project `p1` and
/// asset `a1`; admin's workspace `w2`; user `ben`.
fn tenant_world() -> World {
    let mut w = World::new();
    w.account("t", "workspace", "ada");
    w.member("t", "una", "user");
    w.member("t", "ben", "user");
    w.act(
        Some("una"),
        Operation::CreateResource { account: "t".into(), resource: "workspace:w1".into(), parent: None, owner: None },
    )
    .expect("users create workspaces");
    w.act(
        Some("una"),
        Operation::CreateResource {
            account: "t".into(),
            resource: "project:p1".into(),
            parent: Some("workspace:w1".into()),
            owner: None,
        },
    )
    .expect("users create projects in their workspaces");
    w.resource("t", "asset:a1", Some("project:p1"), Some("ben"));
    w.act(
        Some("ada"),
        Operation::CreateResource { account: "t".into(), resource: "workspace:w2".into(), parent: None, owner: None },
    )
    .expect("admins create workspaces");
    w
}

#[test]
fn workspace_users_see_only_workspaces_they_own_or_were_invited_to() {
    let mut w = tenant_world();
    assert!(w.can("t", "una", "workspace.view", Some("workspace:w1")));
    assert!(w.can("t", "una", "asset.download", Some("asset:a1")), "owning a workspace reaches its assets");
    assert!(!w.can("t", "una", "workspace.view", Some("workspace:w2")));
    assert!(!w.can("t", "ben", "workspace.view", Some("workspace:w1")));
    w.act(Some("una"), grant("inv-ben", "t", "principal:ben", Some("workspace:w1"), "workspace_member"))
        .expect("users invite others to their workspaces");
    assert!(w.can("t", "ben", "workspace.view", Some("workspace:w1")));
    assert!(w.can("t", "ben", "asset.upload", Some("project:p1")));
    assert!(!w.can("t", "ben", "workspace.view", Some("workspace:w2")));
    let visible = w.engine.lookup_resources("t", "ben", "workspace.view", "workspace", NOW).expect("lookup");
    assert_eq!(visible, ["workspace:w1"]);
    let not_theirs = w.act(Some("ben"), grant("inv-x", "t", "principal:una", Some("workspace:w2"), "workspace_member"));
    // Refused as if w2 did not exist: ben may not even learn that it does.
    assert!(matches!(not_theirs, Err(ManagementError::Change(ChangeError::UnknownResource { .. }))), "{not_theirs:?}");
}

#[test]
fn workspace_only_admins_invite_remove_users_and_delete_data() {
    let mut w = tenant_world();
    let by_user = w.act(Some("una"), add_member("t", "carl", None));
    assert!(
        matches!(by_user, Err(ManagementError::MissingPermission { ref permission, .. }) if permission == "member.invite")
    );
    w.act(Some("ada"), add_member("t", "carl", None)).expect("admins invite users into the tenant");
    assert_eq!(w.role_of("t", "carl").map(|r| r.0), Some("user".into()));
    assert!(!w.can("t", "una", "data.delete", None));
    assert!(!w.can("t", "una", "asset.delete", Some("asset:a1")));
    assert!(w.can("t", "ada", "asset.delete", Some("asset:a1")));
    let removal = w.act(Some("una"), Operation::RemoveMember { account: "t".into(), principal: "ben".into() });
    assert!(removal.is_err());
    w.act(Some("ada"), Operation::RemoveMember { account: "t".into(), principal: "ben".into() })
        .expect("admins remove users");
}
