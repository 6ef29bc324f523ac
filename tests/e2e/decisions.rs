//! Decisions beyond the packs' tables: explanations, expiry, groups, lookups, custom
//! roles, incremental updates, revisions and bad input.

use roster_core::decision::Via;
use roster_core::{Change, ChangeError, ManagementError, Operation, QueryError, RoleDef, Subject};
use roster_e2e::{NOW, World, add_member, change_role};

fn world() -> World {
    crate::studio::studio_world()
}

#[test]
fn an_allow_names_the_role_and_where_it_came_from() {
    let mut w = world();
    let why = w.engine.explain("s1", "adam", "pickaxe.edit", Some("pickaxe:mine"), NOW).expect("explain");
    let used = why.granted_by.expect("allowed");
    assert_eq!(used.role, "admin");
    assert_eq!(used.via, Via::Membership { account: "s1".into() });
    assert!(why.summary.starts_with("allowed: role `admin` from membership in account `s1`"), "{}", why.summary);

    w.external("s1", "ext", "user");
    w.grant("g-ext", "s1", "principal:ext", Some("pickaxe:theirs"), "pickaxe_user");
    let why = w.engine.explain("s1", "ext", "pickaxe.use", Some("pickaxe:theirs"), NOW).expect("explain");
    let used = why.granted_by.expect("allowed");
    assert_eq!(
        used.via,
        Via::Grant {
            grant: "g-ext".into(),
            account: "s1".into(),
            resource: "pickaxe:theirs".into(),
            subject: "principal:ext".into()
        }
    );

    let why = w.engine.explain("s1", "mia", "grant.manage", Some("pickaxe:mine"), NOW).expect("explain");
    assert_eq!(why.granted_by.map(|u| (u.holds, u.condition_met)), Some(("if owner", Some(true))));
    assert!(why.summary.contains("condition `owner` met"), "{}", why.summary);
}

#[test]
fn a_denial_names_what_was_missing() {
    let w = world();
    let why = w.engine.explain("s1", "uma", "pickaxe.edit", Some("pickaxe:mine"), NOW).expect("explain");
    assert!(!why.allowed);
    assert!(
        why.summary.contains("no role reaching `pickaxe:mine` includes `pickaxe.edit`") && why.summary.contains("user"),
        "{}",
        why.summary
    );
    let why = w.engine.explain("s1", "mia", "grant.manage", Some("pickaxe:theirs"), NOW).expect("explain");
    assert!(why.summary.contains("role `manager` grants it only if owner"), "{}", why.summary);
    let why = w.engine.explain("s1", "stranger", "pickaxe.view", None, NOW).expect("explain");
    assert!(why.summary.contains("`stranger` holds no membership or grant"), "{}", why.summary);
}

#[test]
fn expired_grants_and_memberships_count_as_absent() {
    let mut w = world();
    // Grants of a members-only role count for members (external consultants included).
    w.external("s1", "pat", "user");
    w.external("s1", "pia", "user");
    w.setup(Operation::Grant {
        id: "old".into(),
        account: "s1".into(),
        subject: Subject::Principal("pat".into()),
        resource: Some("pickaxe:theirs".into()),
        role: "pickaxe_user".into(),
        expires_at: Some(NOW - 1),
    });
    w.setup(Operation::Grant {
        id: "new".into(),
        account: "s1".into(),
        subject: Subject::Principal("pia".into()),
        resource: Some("pickaxe:theirs".into()),
        role: "pickaxe_user".into(),
        expires_at: Some(NOW + 60),
    });
    assert!(!w.can("s1", "pat", "pickaxe.use", Some("pickaxe:theirs")));
    assert!(w.can("s1", "pia", "pickaxe.use", Some("pickaxe:theirs")));
    let why = w.engine.explain("s1", "pat", "pickaxe.use", Some("pickaxe:theirs"), NOW).expect("explain");
    assert!(why.ignored.iter().any(|i| i.contains("grant `old`") && i.contains("expired")), "{:?}", why.ignored);
    w.setup(Operation::AddMember {
        account: "s1".into(),
        principal: "temp".into(),
        role: Some("user".into()),
        external: false,
        expires_at: Some(NOW),
    });
    assert!(!w.can("s1", "temp", "pickaxe.view", None), "a membership expiring now has lapsed");
}

#[test]
fn effective_permissions_and_lookups_agree_with_checks() {
    let mut w = world();
    let effective = w.engine.effective_permissions("s1", "mia", Some("pickaxe:mine"), NOW).expect("permissions");
    assert_eq!(effective.roles, ["manager"]);
    assert!(effective.permissions.contains(&"grant.manage".to_owned()), "owner condition met on her pickaxe");
    let elsewhere = w.engine.effective_permissions("s1", "mia", Some("pickaxe:theirs"), NOW).expect("permissions");
    assert!(!elsewhere.permissions.contains(&"grant.manage".to_owned()));

    w.setup(Operation::CreateGroup { account: "s1".into(), group: "testers".into() });
    w.external("s1", "gus", "user");
    w.setup(Operation::AddGroupMember { account: "s1".into(), group: "testers".into(), principal: "gus".into() });
    w.grant("g-testers", "s1", "group:testers", Some("pickaxe:theirs"), "pickaxe_user");
    let who = w.engine.lookup_subjects("s1", "pickaxe.use", Some("pickaxe:theirs"), NOW).expect("subjects");
    assert_eq!(who, ["adam", "gus", "mia", "olivia", "uma"]);
    let editors = w.engine.lookup_subjects("s1", "pickaxe.edit", Some("pickaxe:theirs"), NOW).expect("subjects");
    assert_eq!(editors, ["adam", "mia", "olivia"]);
    let pickaxes = w.engine.lookup_resources("s1", "gus", "pickaxe.use", "pickaxe", NOW).expect("resources");
    assert_eq!(pickaxes, ["pickaxe:theirs"]);
    let unknown_type = w.engine.lookup_resources("s1", "gus", "pickaxe.use", "spaceship", NOW);
    assert!(matches!(unknown_type, Err(QueryError::UnknownResourceType { .. })));
}

#[test]
fn incremental_updates_take_effect_at_once() {
    let mut w = world();
    w.external("s1", "pat", "user");
    w.grant("g1", "s1", "principal:pat", Some("studio:a"), "studio_client");
    assert!(w.can("s1", "pat", "pickaxe.view", Some("pickaxe:theirs")), "a grant reaches descendants");
    w.setup(Operation::RevokeGrant { account: "s1".into(), id: "g1".into() });
    assert!(!w.can("s1", "pat", "pickaxe.view", Some("pickaxe:theirs")));
    w.grant("g2", "s1", "principal:pat", Some("pickaxe:theirs"), "pickaxe_user");
    w.setup(Operation::DeleteResource { account: "s1".into(), resource: "studio:a".into() });
    assert!(!w.engine.has_resource("s1", "pickaxe:theirs"), "descendants go with it");
    assert!(
        w.engine.apply(Change::RemoveGrant { account: "s1".into(), id: "g2".into() }).is_err(),
        "grants on deleted resources are gone"
    );
    w.resource("s1", "studio:a", None, None);
    w.resource("s1", "pickaxe:theirs", Some("studio:a"), None);
    assert!(!w.can("s1", "pat", "pickaxe.view", Some("pickaxe:theirs")), "a re-created resource starts with no grants");
}

#[test]
fn revisions_grow_with_each_committed_change_and_refusals_change_nothing() {
    let mut w = world();
    let before = w.engine.revision();
    let after = w.act(Some("adam"), add_member("s1", "newbie", None)).expect("invite");
    assert_eq!(after, before + 1);
    let refused = w.act(Some("uma"), add_member("s1", "other", None));
    assert!(refused.is_err());
    assert_eq!(w.engine.revision(), after, "a refusal does not bump the revision");
    let transfer = w
        .act(Some("olivia"), Operation::TransferOwnership { account: "s1".into(), to: "adam".into() })
        .expect("transfer");
    assert_eq!(transfer, after + 2, "a transfer is two changes");
}

fn custom_role(id: &str, permissions: &[&str], rank: u32) -> RoleDef {
    RoleDef::new(id, id, rank, permissions.iter().map(|p| p.parse().expect("rule")).collect())
}

#[test]
fn custom_roles_never_exceed_their_creator() {
    let mut w = world();
    let define = |w: &mut World, actor: &str, role: RoleDef| {
        w.act(Some(actor), Operation::DefineRole { account: "s1".into(), role })
    };
    define(&mut w, "adam", custom_role("support", &["pickaxe.view", "member.view"], 20))
        .expect("within the admin's own permissions");
    let billing = define(&mut w, "adam", custom_role("payer", &["billing.view"], 20));
    assert!(
        matches!(&billing, Err(ManagementError::ExceedsActor { reason, .. }) if reason.contains("billing.view")),
        "{billing:?}"
    );
    let outranks = define(&mut w, "adam", custom_role("boss", &["pickaxe.view"], 90));
    assert!(matches!(outranks, Err(ManagementError::ExceedsActor { .. })));
    let unknown = define(&mut w, "adam", custom_role("odd", &["rocket.launch"], 1));
    assert!(
        matches!(&unknown, Err(ManagementError::Change(ChangeError::UnknownRolePermission { permission, .. }))
            if permission == "rocket.launch"),
        "{unknown:?}"
    );
    let by_user = define(&mut w, "uma", custom_role("mine", &["pickaxe.view"], 1));
    assert!(
        matches!(by_user, Err(ManagementError::MissingPermission { ref permission, .. }) if permission == "role.manage")
    );

    w.act(Some("adam"), change_role("s1", "uma", "support"))
        .expect("admins hand out roles within their own permissions");
    assert!(w.can("s1", "uma", "member.view", None));
    assert!(!w.can("s1", "uma", "pickaxe.use", None), "the custom role replaced `user`");
    let remove = w.act(Some("adam"), Operation::RemoveRole { account: "s1".into(), role: "support".into() });
    assert!(matches!(remove, Err(ManagementError::Change(ChangeError::RoleInUse(_)))));
}

#[test]
fn bad_input_is_refused_clearly_and_changes_nothing() {
    let mut w = world();
    let revision = w.engine.revision();
    assert!(matches!(w.engine.check("nope", "uma", "pickaxe.view", None, NOW), Err(QueryError::UnknownAccount(_))));
    assert!(matches!(w.engine.check("s1", "uma", "pickaxe.fly", None, NOW), Err(QueryError::UnknownPermission { .. })));
    assert!(matches!(
        w.engine.check("s1", "uma", "pickaxe.view", Some("pickaxe:404"), NOW),
        Err(QueryError::UnknownResource { .. })
    ));
    let bad_id = w.act(None, add_member("s1", "has space", Some("user")));
    assert!(matches!(bad_id, Err(ManagementError::Change(ChangeError::BadId { .. }))), "{bad_id:?}");
    let bad_resource = w.act(
        None,
        Operation::CreateResource { account: "s1".into(), resource: "pickaxe".into(), parent: None, owner: None },
    );
    assert!(matches!(bad_resource, Err(ManagementError::Change(ChangeError::BadResourceName(_)))), "{bad_resource:?}");
    let wrong_parent = w.act(
        None,
        Operation::CreateResource { account: "s1".into(), resource: "pickaxe:x".into(), parent: None, owner: None },
    );
    assert!(
        matches!(wrong_parent, Err(ManagementError::Change(ChangeError::WrongParentType { .. }))),
        "{wrong_parent:?}"
    );
    let not_grantable = w.act(None, roster_e2e::grant("gx", "s1", "principal:uma", Some("studio:a"), "pickaxe_user"));
    assert!(
        matches!(not_grantable, Err(ManagementError::Change(ChangeError::RoleNotGrantable { .. }))),
        "{not_grantable:?}"
    );
    let unknown_role = w.act(None, add_member("s1", "zed", Some("wizard")));
    assert!(matches!(unknown_role, Err(ManagementError::Change(ChangeError::UnknownRole { .. }))), "{unknown_role:?}");
    let twice = w.act(None, add_member("s1", "uma", Some("user")));
    assert!(matches!(twice, Err(ManagementError::AlreadyMember { .. })), "{twice:?}");
    assert_eq!(w.engine.revision(), revision, "nothing was written");
    assert_eq!(w.role_of("s1", "zed"), None);
}

#[test]
fn lookup_subjects_counts_grants_on_the_resources_above() {
    let mut w = world();
    w.grant("g-client", "s1", "principal:pat", Some("studio:a"), "studio_client");
    let who = w.engine.lookup_subjects("s1", "pickaxe.view", Some("pickaxe:theirs"), NOW).expect("subjects");
    assert!(who.contains(&"pat".to_owned()), "a studio grant reaches the pickaxes in it: {who:?}");
    for subject in &who {
        assert!(w.can("s1", subject, "pickaxe.view", Some("pickaxe:theirs")), "{subject} listed but denied");
    }
}
