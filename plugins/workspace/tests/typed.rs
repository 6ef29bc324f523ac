//! Seed rules of the workspace pack through its generated typed names, on `workspace.test.yaml`'s
//! tenant `t`: users reach what they own or were invited to; inviting, removing and deleting are Admin's.

use roster_core::{ChangeError, ManagementError, Operation, Subject};
use roster_pack_workspace::{Pack, Permission, ResourceType, Role};
use roster_packtest::sandbox::{Sandbox, assert_lacks};

/// Tenant `t` (Admin ada, users una, ben and vic): una's workspace w1 with her project p1 and
/// ben's asset a1 in it, and ada's workspace w2, as `workspace.test.yaml` builds it.
fn tenant() -> Sandbox<Pack> {
    let mut s = Sandbox::new(&Pack);
    let members = [("ada", Role::Admin), ("una", Role::User), ("ben", Role::User), ("vic", Role::User)];
    s.account("t", None).members("t", &members);
    let (w1, p1) = (ResourceType::Workspace.resource("w1"), ResourceType::Project.resource("p1"));
    let resources = [
        (w1.clone(), None, "una"),
        (p1.clone(), Some(w1), "una"),
        (ResourceType::Asset.resource("a1"), Some(p1), "ben"),
        (ResourceType::Workspace.resource("w2"), None, "ada"),
    ];
    for (resource, parent, owner) in resources {
        s.resource("t", resource, parent, Some(owner));
    }
    s
}

/// An invitation of `principal` to `workspace` (a `workspace_member` grant).
fn invite(id: &str, principal: &str, workspace: &str) -> Operation {
    let (account, subject) = ("t".into(), Subject::Principal(principal.into()));
    let resource = Some(ResourceType::Workspace.resource(workspace));
    Operation::Grant { id: id.into(), account, subject, resource, role: Role::WorkspaceMember.into(), expires_at: None }
}

#[test]
fn users_reach_the_workspaces_they_own_and_everything_in_them() {
    let s = tenant();
    let [w1, w2] = ["w1", "w2"].map(|id| ResourceType::Workspace.resource(id));
    assert!(s.can("t", "una", Permission::WorkspaceView, Some(&w1)));
    assert!(s.can("t", "una", Permission::AssetDownload, Some(&ResourceType::Asset.resource("a1"))));
    assert!(!s.can("t", "una", Permission::WorkspaceView, Some(&w2)));
    assert!(!s.can("t", "ben", Permission::WorkspaceView, Some(&w1)));
}

#[test]
fn an_invitation_opens_the_one_workspace_it_names() {
    let mut s = tenant();
    let [w1, w2] = ["w1", "w2"].map(|id| ResourceType::Workspace.resource(id));
    s.act("una", &invite("inv-ben", "ben", "w1")).expect("users invite others to their workspaces");
    assert!(s.can("t", "ben", Permission::WorkspaceView, Some(&w1)));
    assert!(s.can("t", "ben", Permission::AssetUpload, Some(&ResourceType::Project.resource("p1"))));
    assert!(!s.can("t", "ben", Permission::WorkspaceView, Some(&w2)));
    let unseen = s.act("ben", &invite("inv-x", "una", "w2")).expect_err("ben may not see w2");
    let hidden =
        matches!(&unseen, ManagementError::Change(ChangeError::UnknownResource { resource, .. }) if *resource == w2);
    assert!(hidden, "{unseen:?}");
}

#[test]
fn only_admins_invite_and_remove_users_and_delete_data() {
    let mut s = tenant();
    let a1 = ResourceType::Asset.resource("a1");
    let add_carl = Operation::AddMember {
        account: "t".into(),
        principal: "carl".into(),
        role: None,
        external: false,
        expires_at: None,
    };
    let remove_ben = Operation::RemoveMember { account: "t".into(), principal: "ben".into() };
    assert_lacks(s.act("una", &add_carl), Permission::MemberInvite);
    assert_lacks(s.act("una", &remove_ben), Permission::MemberRemove);
    assert!(!s.can("t", "una", Permission::DataDelete, None));
    assert!(!s.can("t", "una", Permission::AssetDelete, Some(&a1)));
    assert!(s.can("t", "ada", Permission::AssetDelete, Some(&a1)));
    s.act("ada", &add_carl).expect("Admins invite users into the company tenant");
    s.act("ada", &remove_ben).expect("Admins remove users from the company tenant");
}

#[test]
fn users_create_workspaces_as_their_own_owner() {
    let mut s = tenant();
    let create = |resource: &str, owner: Option<&str>| Operation::CreateResource {
        account: "t".into(),
        resource: ResourceType::Workspace.resource(resource),
        parent: None,
        owner: owner.map(Into::into),
    };
    let squat = s.act("una", &create("w", Some("eve"))).expect_err("a principal creates as themselves");
    assert!(matches!(squat, ManagementError::OwnerNotSelf { .. }), "{squat:?}");
    s.act("una", &create("w3", None)).expect("users create their own workspaces");
    assert!(s.can("t", "una", Permission::WorkspaceView, Some(&ResourceType::Workspace.resource("w3"))));
}
