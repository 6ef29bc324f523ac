//! The studio pack against `docs/seeds/studio-pickaxe-team-roles.txt`: its role table and
//! every rule in its prose.

use roster_core::{ManagementError, Operation};
use roster_e2e::{World, add_member, change_role, grant, matrix};

/// The seed's table (Owner / Admin / Manager across pickaxe, studio, billing, user
/// management and subscriptions), the default User, the studio-maker's collaborators, the
/// client's isolated studio view and the per-pickaxe user.
const STUDIO_MATRIX: &str = "\
permission,owner,admin,manager,studio_collaborator,user,studio_client,pickaxe_user
pickaxe.view,yes,yes,yes,yes,yes,yes,yes
pickaxe.use,yes,yes,yes,yes,yes,yes,yes
pickaxe.create,yes,yes,yes,yes,no,no,no
pickaxe.edit,yes,yes,yes,yes,no,no,no
pickaxe.delete,yes,yes,yes,yes,no,no,no
studio.view,yes,yes,yes,yes,no,yes,no
studio.create,yes,yes,no,no,no,no,no
studio.edit,yes,yes,no,yes,no,no,no
studio.delete,yes,yes,no,no,no,no,no
studio.analytics.view,yes,yes,no,no,no,yes,no
billing.view,yes,no,no,no,no,no,no
billing.manage,yes,no,no,no,no,no,no
subscription.view,yes,yes,no,no,no,no,no
subscription.create,yes,yes,no,no,no,no,no
subscription.edit,yes,yes,no,no,no,no,no
subscription.cancel,yes,yes,no,no,no,no,no
member.view,yes,yes,no,no,no,no,no
member.invite,yes,yes,no,no,no,no,no
member.role.change,yes,yes,no,no,no,no,no
member.remove,yes,yes,no,no,no,no,no
grant.manage,yes,yes,if owner,no,no,no,no
group.manage,yes,yes,no,no,no,no,no
role.manage,yes,yes,no,no,no,no,no
audit.view,yes,yes,no,no,no,no,no
";

#[test]
fn studio_matrix_reproduces_the_seed_table() {
    assert_eq!(matrix("studio").render(roster_core::matrix::MatrixFormat::Csv), STUDIO_MATRIX);
}

/// Account `s1` owned by `olivia`, admin `adam`, manager `mia`, user `uma`; studio `a`
/// with pickaxes `mine` (owned by mia) and `theirs`; studio `b` with pickaxe `other`.
pub(crate) fn studio_world() -> World {
    let mut w = World::new();
    w.account("s1", "studio", "olivia");
    w.member("s1", "adam", "admin");
    w.member("s1", "mia", "manager");
    w.member("s1", "uma", "user");
    w.resource("s1", "studio:a", None, None);
    w.resource("s1", "studio:b", None, None);
    w.resource("s1", "pickaxe:mine", Some("studio:a"), Some("mia"));
    w.resource("s1", "pickaxe:theirs", Some("studio:a"), None);
    w.resource("s1", "pickaxe:other", Some("studio:b"), None);
    w
}

#[test]
fn studio_owner_is_the_single_holder_created_with_the_account() {
    let w = studio_world();
    assert_eq!(w.role_of("s1", "olivia").map(|r| r.0), Some("owner".into()));
    assert!(w.can("s1", "olivia", "billing.manage", None));
}

#[test]
fn studio_admin_has_no_billing_access() {
    let w = studio_world();
    assert!(!w.can("s1", "adam", "billing.view", None));
    assert!(!w.can("s1", "adam", "billing.manage", None));
    assert!(w.can("s1", "adam", "subscription.cancel", None));
    assert!(w.can("s1", "adam", "studio.delete", Some("studio:a")));
}

#[test]
fn studio_admin_manages_managers_and_users_only() {
    let mut w = studio_world();
    assert!(w.act(Some("adam"), add_member("s1", "new-manager", Some("manager"))).is_ok());
    assert!(w.act(Some("adam"), add_member("s1", "new-user", None)).is_ok());
    assert_eq!(w.role_of("s1", "new-user").map(|r| r.0), Some("user".into()), "user is the default role");
    assert!(w.act(Some("adam"), change_role("s1", "uma", "manager")).is_ok());

    let made_admin = w.act(Some("adam"), add_member("s1", "another-admin", Some("admin")));
    assert!(
        matches!(made_admin, Err(ManagementError::RoleNotManaged { ref role, .. }) if role == "admin"),
        "{made_admin:?}"
    );
    let made_owner = w.act(Some("adam"), change_role("s1", "uma", "owner"));
    assert!(matches!(made_owner, Err(ManagementError::SingleHolderByTransferOnly { .. })), "{made_owner:?}");
    let touch_owner = w.act(Some("adam"), Operation::RemoveMember { account: "s1".into(), principal: "olivia".into() });
    assert!(matches!(touch_owner, Err(ManagementError::SingleHolderByTransferOnly { .. })), "{touch_owner:?}");
}

#[test]
fn studio_manager_manages_users_only_within_pickaxes_they_own() {
    let mut w = studio_world();
    assert!(w.act(Some("mia"), grant("g1", "s1", "principal:uma", Some("pickaxe:mine"), "pickaxe_user")).is_ok());
    let other = w.act(Some("mia"), grant("g2", "s1", "principal:uma", Some("pickaxe:theirs"), "pickaxe_user"));
    assert!(
        matches!(other, Err(ManagementError::MissingPermission { ref permission, .. }) if permission == "grant.manage"),
        "{other:?}"
    );
    let studio_role = w.act(Some("mia"), grant("g3", "s1", "principal:uma", Some("studio:a"), "studio_client"));
    assert!(studio_role.is_err(), "a manager cannot hand out studio access");
    let invite = w.act(Some("mia"), add_member("s1", "someone", None));
    assert!(
        matches!(invite, Err(ManagementError::MissingPermission { ref permission, .. }) if permission == "member.invite")
    );
    assert!(!w.can("s1", "mia", "studio.edit", Some("studio:a")), "managers have no studio management");
    assert!(w.can("s1", "mia", "pickaxe.delete", Some("pickaxe:theirs")), "managers have full pickaxe management");
}

#[test]
fn studio_client_sees_their_studio_analytics_and_nothing_of_another() {
    let mut w = studio_world();
    w.external("s1", "client", "user");
    w.grant("g-client", "s1", "principal:client", Some("studio:a"), "studio_client");
    assert!(w.can("s1", "client", "studio.analytics.view", Some("studio:a")));
    assert!(w.can("s1", "client", "pickaxe.use", Some("pickaxe:mine")));
    assert!(!w.can("s1", "client", "studio.analytics.view", Some("studio:b")));
    assert!(!w.can("s1", "client", "pickaxe.view", Some("pickaxe:other")));
    assert!(!w.can("s1", "client", "billing.view", None));
}

#[test]
fn studio_external_consultant_gets_only_what_their_grants_give() {
    let mut w = studio_world();
    w.external("s1", "consultant", "admin");
    assert!(
        !w.can("s1", "consultant", "pickaxe.view", Some("pickaxe:theirs")),
        "an external member's account role gives nothing"
    );
    assert!(!w.can("s1", "consultant", "member.invite", None));
    w.grant("g-c", "s1", "principal:consultant", Some("pickaxe:theirs"), "pickaxe_user");
    assert!(w.can("s1", "consultant", "pickaxe.use", Some("pickaxe:theirs")));
    assert!(!w.can("s1", "consultant", "pickaxe.edit", Some("pickaxe:theirs")));
    assert!(!w.can("s1", "consultant", "pickaxe.use", Some("pickaxe:mine")));
    let why =
        w.engine.explain("s1", "consultant", "pickaxe.use", Some("pickaxe:mine"), roster_e2e::NOW).expect("explains");
    assert!(why.ignored.iter().any(|i| i.contains("external")), "{why:?}");
}

#[test]
fn studio_maker_can_give_other_accounts_access_to_a_studio() {
    let mut w = studio_world();
    assert!(
        w.act(Some("adam"), grant("g-col", "s1", "principal:uma", Some("studio:a"), "studio_collaborator")).is_ok()
    );
    assert!(w.can("s1", "uma", "pickaxe.create", Some("studio:a")), "can build new tools");
    assert!(w.can("s1", "uma", "studio.edit", Some("studio:a")), "can change some studio settings");
    assert!(!w.can("s1", "uma", "studio.delete", Some("studio:a")));
    assert!(!w.can("s1", "uma", "pickaxe.edit", Some("pickaxe:other")), "only in that studio");
}

#[test]
fn studio_ownership_moves_only_by_transfer_from_the_owner() {
    let mut w = studio_world();
    let by_admin = w.act(Some("adam"), Operation::TransferOwnership { account: "s1".into(), to: "adam".into() });
    assert!(matches!(by_admin, Err(ManagementError::NotTheHolder { .. })), "{by_admin:?}");
    w.act(Some("olivia"), Operation::TransferOwnership { account: "s1".into(), to: "adam".into() })
        .expect("owner transfers");
    assert_eq!(w.role_of("s1", "adam").map(|r| r.0), Some("owner".into()));
    assert_eq!(
        w.role_of("s1", "olivia").map(|r| r.0),
        Some("admin".into()),
        "the previous owner takes the next-ranked role"
    );
    assert!(!w.can("s1", "olivia", "billing.view", None));
}

#[test]
fn nobody_changes_their_own_role() {
    let mut w = studio_world();
    let own = w.act(Some("adam"), change_role("s1", "adam", "manager"));
    assert!(matches!(own, Err(ManagementError::OwnMembership { .. })), "{own:?}");
    assert_eq!(w.role_of("s1", "adam").map(|r| r.0), Some("admin".into()), "nothing changed");
}
