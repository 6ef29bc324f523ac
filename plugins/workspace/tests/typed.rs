//! Seed rules of the workspace pack through its generated typed names, on `workspace.test.yaml`'s
//! tenant `t`: users reach what they own or were invited to; inviting, removing and deleting are Admin's.

use std::sync::Arc;

use roster_core::engine::MembershipStatus;
use roster_core::{Actor, Change, ChangeError, Engine, ManagementError, Operation, RolePack, Subject};
use roster_pack_workspace::{Pack, Permission, ResourceType, Role};

const NOW: i64 = 1_800_000_000;

/// Tenant `t` (Admin ada, users una, ben and vic): una's workspace w1 with her project p1 and
/// ben's asset a1 in it, and ada's workspace w2, as `workspace.test.yaml` builds it.
fn tenant() -> Engine {
    let mut engine = Engine::new([Arc::new(Pack.compile().expect("the workspace pack compiles"))]);
    let mut put = |change: Change| engine.apply(change).map(drop).expect("a fixture of workspace.test.yaml");
    put(Change::CreateAccount { id: "t".into(), pack: Pack::ID.into(), parent: None });
    for (principal, role) in [("ada", Role::Admin), ("una", Role::User), ("ben", Role::User), ("vic", Role::User)] {
        put(Change::PutMembership {
            account: "t".into(),
            principal: principal.into(),
            role: role.into(),
            external: false,
            status: MembershipStatus::Active,
            expires_at: None,
        });
    }
    let (w1, p1) = (ResourceType::Workspace.resource("w1"), ResourceType::Project.resource("p1"));
    let resources = [
        (w1.clone(), None, "una"),
        (p1.clone(), Some(w1), "una"),
        (ResourceType::Asset.resource("a1"), Some(p1), "ben"),
        (ResourceType::Workspace.resource("w2"), None, "ada"),
    ];
    for (resource, parent, owner) in resources {
        put(Change::AddResource { account: "t".into(), resource, parent, owner: Some(owner.into()) });
    }
    engine
}

fn can(engine: &Engine, principal: &str, permission: Permission, resource: Option<&str>) -> bool {
    engine.check("t", principal, permission.id(), resource, NOW).expect("a question about tenant t").allowed
}

fn act(engine: &mut Engine, principal: &str, operation: &Operation) -> Result<u64, ManagementError> {
    engine.execute(&Actor::Principal(principal.into()), operation, NOW)
}

fn assert_lacks(result: Result<u64, ManagementError>, missing: Permission) {
    let refused =
        matches!(&result, Err(ManagementError::MissingPermission { permission, .. }) if permission == missing.id());
    assert!(refused, "expected a refusal for lacking {missing}, got {result:?}");
}

/// An invitation of `principal` to `workspace` (a `workspace_member` grant).
fn invite(id: &str, principal: &str, workspace: &str) -> Operation {
    let (account, subject) = ("t".into(), Subject::Principal(principal.into()));
    let resource = Some(ResourceType::Workspace.resource(workspace));
    Operation::Grant { id: id.into(), account, subject, resource, role: Role::WorkspaceMember.into(), expires_at: None }
}

#[test]
fn users_reach_the_workspaces_they_own_and_everything_in_them() {
    let engine = tenant();
    let [w1, w2] = ["w1", "w2"].map(|id| ResourceType::Workspace.resource(id));
    assert!(can(&engine, "una", Permission::WorkspaceView, Some(&w1)));
    assert!(can(&engine, "una", Permission::AssetDownload, Some(&ResourceType::Asset.resource("a1"))));
    assert!(!can(&engine, "una", Permission::WorkspaceView, Some(&w2)));
    assert!(!can(&engine, "ben", Permission::WorkspaceView, Some(&w1)));
}

#[test]
fn an_invitation_opens_the_one_workspace_it_names() {
    let mut engine = tenant();
    let [w1, w2] = ["w1", "w2"].map(|id| ResourceType::Workspace.resource(id));
    act(&mut engine, "una", &invite("inv-ben", "ben", "w1")).expect("users invite others to their workspaces");
    assert!(can(&engine, "ben", Permission::WorkspaceView, Some(&w1)));
    assert!(can(&engine, "ben", Permission::AssetUpload, Some(&ResourceType::Project.resource("p1"))));
    assert!(!can(&engine, "ben", Permission::WorkspaceView, Some(&w2)));
    let unseen = act(&mut engine, "ben", &invite("inv-x", "una", "w2")).expect_err("ben may not see w2");
    let hidden =
        matches!(&unseen, ManagementError::Change(ChangeError::UnknownResource { resource, .. }) if *resource == w2);
    assert!(hidden, "{unseen:?}");
}

#[test]
fn only_admins_invite_and_remove_users_and_delete_data() {
    let mut engine = tenant();
    let a1 = ResourceType::Asset.resource("a1");
    let add_carl = Operation::AddMember {
        account: "t".into(),
        principal: "carl".into(),
        role: None,
        external: false,
        expires_at: None,
    };
    let remove_ben = Operation::RemoveMember { account: "t".into(), principal: "ben".into() };
    assert_lacks(act(&mut engine, "una", &add_carl), Permission::MemberInvite);
    assert_lacks(act(&mut engine, "una", &remove_ben), Permission::MemberRemove);
    assert!(!can(&engine, "una", Permission::DataDelete, None));
    assert!(!can(&engine, "una", Permission::AssetDelete, Some(&a1)));
    assert!(can(&engine, "ada", Permission::AssetDelete, Some(&a1)));
    act(&mut engine, "ada", &add_carl).expect("Admins invite users into the company tenant");
    act(&mut engine, "ada", &remove_ben).expect("Admins remove users from the company tenant");
}

#[test]
fn users_create_workspaces_as_their_own_owner() {
    let mut engine = tenant();
    let create = |resource: &str, owner: Option<&str>| Operation::CreateResource {
        account: "t".into(),
        resource: ResourceType::Workspace.resource(resource),
        parent: None,
        owner: owner.map(Into::into),
    };
    let squat = act(&mut engine, "una", &create("w", Some("eve"))).expect_err("a principal creates as themselves");
    assert!(matches!(squat, ManagementError::OwnerNotSelf { .. }), "{squat:?}");
    act(&mut engine, "una", &create("w3", None)).expect("users create their own workspaces");
    assert!(can(&engine, "una", Permission::WorkspaceView, Some(&ResourceType::Workspace.resource("w3"))));
}
