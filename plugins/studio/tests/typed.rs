//! Seed rules of the studio pack through its generated typed names: every permission and
//! role below is an enum variant checked by the compiler, not a string.

use roster_core::{ManagementError, Operation, RolePack};
use roster_pack_studio::{Pack, Permission, ResourceType, Role};
use roster_packtest::sandbox::Sandbox;

/// An engine with the studio pack, account `s1` owned by olivia, one member per role
/// given, and a studio with a pickaxe mia owns.
fn studio(members: &[(&str, Role)]) -> Sandbox<Pack> {
    let mut s = Sandbox::new(&Pack);
    let studio = ResourceType::Studio.resource("a");
    s.account("s1", None).members("s1", &[("olivia", Role::Owner)]).members("s1", members);
    s.resource("s1", studio.clone(), None, None);
    s.resource("s1", ResourceType::Pickaxe.resource("mine"), Some(studio), Some("mia"));
    s
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
    let s = studio(&[("adam", Role::Admin), ("mia", Role::Manager), ("uma", Role::User)]);
    assert!(s.can("s1", "olivia", Permission::BillingManage, None));
    for principal in ["adam", "mia", "uma"] {
        assert!(!s.can("s1", principal, Permission::BillingView, None), "{principal} sees billing");
    }
}

#[test]
fn managers_manage_pickaxes_but_not_studios_or_subscriptions() {
    let s = studio(&[("mia", Role::Manager)]);
    let (studio, pickaxe) = (ResourceType::Studio.resource("a"), ResourceType::Pickaxe.resource("mine"));
    assert!(s.can("s1", "mia", Permission::PickaxeEdit, Some(&pickaxe)));
    assert!(s.can("s1", "mia", Permission::StudioView, Some(&studio)));
    assert!(!s.can("s1", "mia", Permission::StudioEdit, Some(&studio)));
    assert!(!s.can("s1", "mia", Permission::SubscriptionEdit, None));
}

#[test]
fn an_admin_cannot_make_a_second_owner() {
    let mut s = studio(&[("adam", Role::Admin)]);
    let promote = Operation::ChangeRole { account: "s1".into(), principal: "adam".into(), role: Role::Owner.into() };
    let refused = s.act("olivia", &promote);
    assert!(matches!(refused, Err(ManagementError::SingleHolderByTransferOnly { .. })), "{refused:?}");
}
