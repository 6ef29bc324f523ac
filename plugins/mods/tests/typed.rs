//! Seed rules of the mods pack through its generated typed names, on `mods.test.yaml`'s team `t`:
//! no secrets but for Admins, Restricted gets nothing until a permissions group, Managers only invite.

use std::sync::Arc;

use roster_core::engine::MembershipStatus;
use roster_core::{Actor, Change, Engine, ManagementError, Operation, RolePack, Subject};
use roster_pack_mods::{Pack, Permission, ResourceType, Role};

const NOW: i64 = 1_800_000_000;

/// Team `t` with one member per team role, mods m1 and m2, integration i1 and deployments
/// d1 and d2, as `mods.test.yaml` builds it.
fn team() -> Engine {
    let mut engine = Engine::new([Arc::new(Pack.compile().expect("the mods pack compiles"))]);
    let mut put = |change: Change| engine.apply(change).map(drop).expect("a fixture of mods.test.yaml");
    put(Change::CreateAccount { id: "t".into(), pack: Pack::ID.into(), parent: None });
    let members = [
        ("ada", Role::Admin),
        ("man", Role::Manager),
        ("dev", Role::Developer),
        ("mem", Role::Member),
        ("rita", Role::Restricted),
    ];
    for (principal, role) in members {
        put(Change::PutMembership {
            account: "t".into(),
            principal: principal.into(),
            role: role.into(),
            external: false,
            status: MembershipStatus::Active,
            expires_at: None,
        });
    }
    let resources = [
        (ResourceType::Mod, "m1"),
        (ResourceType::Mod, "m2"),
        (ResourceType::Integration, "i1"),
        (ResourceType::Deployment, "d1"),
        (ResourceType::Deployment, "d2"),
    ];
    for (ty, id) in resources {
        put(Change::AddResource { account: "t".into(), resource: ty.resource(id), parent: None, owner: None });
    }
    engine
}

fn can(engine: &Engine, principal: &str, permission: Permission, resource: Option<&str>) -> bool {
    engine.check("t", principal, permission.id(), resource, NOW).expect("a question about team t").allowed
}

fn act(engine: &mut Engine, principal: &str, operation: &Operation) -> Result<u64, ManagementError> {
    engine.execute(&Actor::Principal(principal.into()), operation, NOW)
}

fn assert_lacks(result: Result<u64, ManagementError>, missing: Permission) {
    let refused =
        matches!(&result, Err(ManagementError::MissingPermission { permission, .. }) if permission == missing.id());
    assert!(refused, "expected a refusal for lacking {missing}, got {result:?}");
}

#[test]
fn no_role_but_admin_sees_an_integration_configurations_secrets() {
    let engine = team();
    let i1 = ResourceType::Integration.resource("i1");
    for principal in ["man", "dev", "mem"] {
        assert!(can(&engine, principal, Permission::IntegrationView, Some(&i1)), "{principal} views i1");
        assert!(can(&engine, principal, Permission::IntegrationCall, Some(&i1)), "{principal} calls i1");
        assert!(!can(&engine, principal, Permission::IntegrationSecretsView, Some(&i1)), "{principal} sees secrets");
    }
    assert!(can(&engine, "ada", Permission::IntegrationSecretsView, Some(&i1)));
}

#[test]
fn restricted_members_get_nothing_until_a_permissions_group_grants_one_mod() {
    let mut engine = team();
    let (m1, m2) = (ResourceType::Mod.resource("m1"), ResourceType::Mod.resource("m2"));
    assert!(!can(&engine, "rita", Permission::ModView, Some(&m1)));
    for restricted in [Permission::MarketplaceView, Permission::DeploymentDeactivate, Permission::PageEditorUse] {
        assert!(!can(&engine, "rita", restricted, None), "rita has {restricted}");
    }
    let create = Operation::CreateGroup { account: "t".into(), group: "readers".into() };
    act(&mut engine, "ada", &create).expect("Admins create permission groups");
    let join = Operation::AddGroupMember { account: "t".into(), group: "readers".into(), principal: "rita".into() };
    act(&mut engine, "man", &join).expect("Managers add a Restricted member to a permissions group");
    let grant = Operation::Grant {
        id: "g-read".into(),
        account: "t".into(),
        subject: Subject::Group("readers".into()),
        resource: Some(m1.clone()),
        role: Role::ModViewer.into(),
        expires_at: None,
    };
    act(&mut engine, "man", &grant).expect("Managers give a permissions group read access to one mod");
    assert!(can(&engine, "rita", Permission::ModView, Some(&m1)));
    assert!(!can(&engine, "rita", Permission::ModEdit, Some(&m1)));
    assert!(!can(&engine, "rita", Permission::ModView, Some(&m2)));
}

#[test]
fn managers_invite_team_members_but_only_admins_edit_or_delete_them() {
    let mut engine = team();
    let to_developer =
        Operation::ChangeRole { account: "t".into(), principal: "mem".into(), role: Role::Developer.into() };
    let remove = Operation::RemoveMember { account: "t".into(), principal: "mem".into() };
    assert_lacks(act(&mut engine, "man", &to_developer), Permission::MemberRoleChange);
    assert_lacks(act(&mut engine, "man", &remove), Permission::MemberRemove);
    let invite = Operation::AddMember {
        account: "t".into(),
        principal: "newbie".into(),
        role: Some(Role::Member.into()),
        external: false,
        expires_at: None,
    };
    act(&mut engine, "man", &invite).expect("Managers invite team members");
    act(&mut engine, "ada", &to_developer).expect("Admins edit a team member's role");
}
