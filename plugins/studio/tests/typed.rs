//! Seed rules of the studio pack through its generated typed names: every permission and
//! role below is an enum variant checked by the compiler, not a string.

use std::sync::Arc;

use roster_core::{Actor, Engine, ManagementError, Operation, RolePack};
use roster_pack_studio::{Pack, Permission, ResourceType, Role};

const NOW: i64 = 1_800_000_000;

/// An engine with the studio pack, account `s1` owned by olivia, one member per role
/// given, and a studio with a pickaxe mia owns.
fn studio(members: &[(&str, Role)]) -> Engine {
    let mut engine = Engine::new([Arc::new(Pack.compile().expect("the studio pack compiles"))]);
    let mut setup = |operation: Operation| {
        let described = format!("{operation:?}");
        engine.execute(&Actor::Service, &operation, NOW).unwrap_or_else(|e| panic!("{described}: {e}"));
    };
    setup(Operation::CreateAccount { id: "s1".into(), pack: Pack::ID.into(), parent: None, owner: "olivia".into() });
    for (principal, role) in members {
        setup(Operation::AddMember {
            account: "s1".into(),
            principal: (*principal).into(),
            role: Some((*role).into()),
            external: false,
            expires_at: None,
        });
    }
    let resource = |name: String, parent: Option<String>, owner: Option<&str>| Operation::CreateResource {
        account: "s1".into(),
        resource: name,
        parent,
        owner: owner.map(Into::into),
    };
    setup(resource(ResourceType::Studio.resource("a"), None, None));
    setup(resource(ResourceType::Pickaxe.resource("mine"), Some(ResourceType::Studio.resource("a")), Some("mia")));
    engine
}

fn can(engine: &Engine, principal: &str, permission: Permission, resource: Option<&str>) -> bool {
    engine.check("s1", principal, permission.id(), resource, NOW).expect("a question about s1").allowed
}

#[test]
fn the_typed_names_are_the_manifests() {
    let manifest = Pack.manifest().expect("manifest");
    assert_eq!(Permission::ALL.len(), manifest.permissions.len());
    assert_eq!(Role::from_id("owner"), Some(Role::Owner));
    assert_eq!(Permission::from_id("billing.manage"), Some(Permission::BillingManage));
    assert_eq!(Permission::from_id("billing.mange"), None);
    assert!(Role::Owner.rank() > Role::Admin.rank() && Role::Admin.rank() > Role::Manager.rank());
}

#[test]
fn only_the_owner_holds_billing() {
    let engine = studio(&[("adam", Role::Admin), ("mia", Role::Manager), ("uma", Role::User)]);
    assert!(can(&engine, "olivia", Permission::BillingManage, None));
    for principal in ["adam", "mia", "uma"] {
        assert!(!can(&engine, principal, Permission::BillingView, None), "{principal} sees billing");
    }
}

#[test]
fn managers_manage_pickaxes_but_not_studios_or_subscriptions() {
    let engine = studio(&[("mia", Role::Manager)]);
    let (studio, pickaxe) = (ResourceType::Studio.resource("a"), ResourceType::Pickaxe.resource("mine"));
    assert!(can(&engine, "mia", Permission::PickaxeEdit, Some(&pickaxe)));
    assert!(can(&engine, "mia", Permission::StudioView, Some(&studio)));
    assert!(!can(&engine, "mia", Permission::StudioEdit, Some(&studio)));
    assert!(!can(&engine, "mia", Permission::SubscriptionEdit, None));
}

#[test]
fn an_admin_cannot_make_a_second_owner() {
    let mut engine = studio(&[("adam", Role::Admin)]);
    let promote = Operation::ChangeRole { account: "s1".into(), principal: "adam".into(), role: Role::Owner.into() };
    let refused = engine.execute(&Actor::Principal("olivia".into()), &promote, NOW);
    assert!(matches!(refused, Err(ManagementError::SingleHolderByTransferOnly { .. })), "{refused:?}");
}
