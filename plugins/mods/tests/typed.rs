//! Seed rules of the mods pack through its generated typed names, on `mods.test.yaml`'s team `t`:
//! no secrets but for Admins, Restricted gets nothing until a permissions group, Managers only invite.

use roster_core::{Operation, Subject};
use roster_pack_mods::{Pack, Permission, ResourceType, Role};
use roster_packtest::sandbox::{Sandbox, assert_lacks};

/// Team `t` with one member per team role, mods m1 and m2, integration i1 and deployments
/// d1 and d2, as `mods.test.yaml` builds it.
fn team() -> Sandbox<Pack> {
    let mut s = Sandbox::new(&Pack);
    let members = [
        ("ada", Role::Admin),
        ("man", Role::Manager),
        ("dev", Role::Developer),
        ("mem", Role::Member),
        ("rita", Role::Restricted),
    ];
    s.account("t", None).members("t", &members);
    let resources = [
        (ResourceType::Mod, "m1"),
        (ResourceType::Mod, "m2"),
        (ResourceType::Integration, "i1"),
        (ResourceType::Deployment, "d1"),
        (ResourceType::Deployment, "d2"),
    ];
    for (ty, id) in resources {
        s.resource("t", ty.resource(id), None, None);
    }
    s
}

#[test]
fn no_role_but_admin_sees_an_integration_configurations_secrets() {
    let s = team();
    let i1 = ResourceType::Integration.resource("i1");
    for principal in ["man", "dev", "mem"] {
        assert!(s.can("t", principal, Permission::IntegrationView, Some(&i1)), "{principal} views i1");
        assert!(s.can("t", principal, Permission::IntegrationCall, Some(&i1)), "{principal} calls i1");
        assert!(!s.can("t", principal, Permission::IntegrationSecretsView, Some(&i1)), "{principal} sees secrets");
    }
    assert!(s.can("t", "ada", Permission::IntegrationSecretsView, Some(&i1)));
}

#[test]
fn restricted_members_get_nothing_until_a_permissions_group_grants_one_mod() {
    let mut s = team();
    let (m1, m2) = (ResourceType::Mod.resource("m1"), ResourceType::Mod.resource("m2"));
    assert!(!s.can("t", "rita", Permission::ModView, Some(&m1)));
    for restricted in [Permission::MarketplaceView, Permission::DeploymentDeactivate, Permission::PageEditorUse] {
        assert!(!s.can("t", "rita", restricted, None), "rita has {restricted}");
    }
    let create = Operation::CreateGroup { account: "t".into(), group: "readers".into() };
    s.act("ada", &create).expect("Admins create permission groups");
    let join = Operation::AddGroupMember { account: "t".into(), group: "readers".into(), principal: "rita".into() };
    s.act("man", &join).expect("Managers add a Restricted member to a permissions group");
    let grant = Operation::Grant {
        id: "g-read".into(),
        account: "t".into(),
        subject: Subject::Group("readers".into()),
        resource: Some(m1.clone()),
        role: Role::ModViewer.into(),
        expires_at: None,
    };
    s.act("man", &grant).expect("Managers give a permissions group read access to one mod");
    assert!(s.can("t", "rita", Permission::ModView, Some(&m1)));
    assert!(!s.can("t", "rita", Permission::ModEdit, Some(&m1)));
    assert!(!s.can("t", "rita", Permission::ModView, Some(&m2)));
}

#[test]
fn managers_invite_team_members_but_only_admins_edit_or_delete_them() {
    let mut s = team();
    let to_developer =
        Operation::ChangeRole { account: "t".into(), principal: "mem".into(), role: Role::Developer.into() };
    let remove = Operation::RemoveMember { account: "t".into(), principal: "mem".into() };
    assert_lacks(s.act("man", &to_developer), Permission::MemberRoleChange);
    assert_lacks(s.act("man", &remove), Permission::MemberRemove);
    let invite = Operation::AddMember {
        account: "t".into(),
        principal: "newbie".into(),
        role: Some(Role::Member.into()),
        external: false,
        expires_at: None,
    };
    s.act("man", &invite).expect("Managers invite team members");
    s.act("ada", &to_developer).expect("Admins edit a team member's role");
}
