//! Regression tests for the escalation and lifecycle holes found by attacking the daemon
//! (issue 8), one or more per hole, named after it. Each fails on the rules as they were.

mod support;

use roster_core::{Change, ChangeError, ManagementError, Operation, PermissionRule, RoleDef};
use support::{NOW, World, add_member, change_role, grant};

fn mods_world() -> World {
    let mut w = World::new();
    w.account("team", "mods", "ada");
    w.member("team", "max", "manager");
    w.member("team", "dev", "developer");
    w.member("team", "mel", "member");
    w
}

#[test]
fn hole01_a_manager_cannot_join_a_group_that_carries_admin() {
    let mut w = mods_world();
    w.setup(Operation::CreateGroup { account: "team".into(), group: "ops".into() });
    w.setup(grant("g-ops", "team", "group:ops", None, "admin"));
    let join = Operation::AddGroupMember { account: "team".into(), group: "ops".into(), principal: "max".into() };
    assert!(w.act(Some("max"), join).is_err(), "a manager may not make herself admin through a group");
    let other = Operation::AddGroupMember { account: "team".into(), group: "ops".into(), principal: "mel".into() };
    let refused = w.act(Some("max"), other);
    assert!(matches!(refused, Err(ManagementError::RoleNotManaged { ref role, .. }) if role == "admin"), "{refused:?}");
    assert!(!w.can("team", "mel", "member.remove", None));
    // The Owner's equal, an admin, may.
    w.member("team", "ann", "admin");
    let by_admin = Operation::AddGroupMember { account: "team".into(), group: "ops".into(), principal: "mel".into() };
    w.act(Some("ann"), by_admin).expect("an admin manages admin");
    assert!(w.can("team", "mel", "member.remove", None));
    // And taking it away again is judged the same way.
    let remove = Operation::RemoveGroupMember { account: "team".into(), group: "ops".into(), principal: "mel".into() };
    assert!(matches!(w.act(Some("max"), remove), Err(ManagementError::RoleNotManaged { .. })));
}

#[test]
fn hole01_joining_a_group_that_carries_a_custom_role_needs_its_standing() {
    let mut w = World::new();
    w.account("s1", "studio", "olivia");
    w.member("s1", "adam", "admin");
    w.member("s1", "uma", "user");
    let billing = RoleDef::new("billing_clerk", "Billing clerk", 10, vec![PermissionRule::always("billing.manage")]);
    w.act(Some("olivia"), Operation::DefineRole { account: "s1".into(), role: billing }).expect("the owner may");
    w.setup(Operation::CreateGroup { account: "s1".into(), group: "money".into() });
    w.act(Some("olivia"), grant("g-money", "s1", "group:money", None, "billing_clerk")).expect("owner grants");
    for principal in ["adam", "uma"] {
        let join =
            Operation::AddGroupMember { account: "s1".into(), group: "money".into(), principal: principal.into() };
        let refused = w.act(Some("adam"), join);
        assert!(refused.is_err(), "an admin without billing cannot hand billing.manage to {principal}");
    }
    assert!(!w.can("s1", "adam", "billing.manage", None));
    // A non-member cannot join a group carrying a members-only role, even by the owner.
    let outsider = Operation::AddGroupMember { account: "s1".into(), group: "money".into(), principal: "eve".into() };
    assert!(matches!(w.act(Some("olivia"), outsider), Err(ManagementError::GroupMemberNotMember { .. })));
}

#[test]
fn hole01_granting_to_a_group_is_granting_to_its_members() {
    let mut w = mods_world();
    w.group("team", "devs", &["dev", "mel"]);
    let refused = w.act(Some("max"), grant("g1", "team", "group:devs", None, "admin"));
    assert!(matches!(refused, Err(ManagementError::RoleNotManaged { .. })), "{refused:?}");
}

#[test]
fn hole03_hard_removal_takes_grants_and_group_places_with_it() {
    let mut w = World::new();
    w.account("s1", "studio", "olivia");
    w.member("s1", "adam", "admin");
    w.member("s1", "uma", "user");
    w.resource("s1", "studio:a", None, None);
    w.grant("g-uma", "s1", "principal:uma", Some("studio:a"), "studio_collaborator");
    w.group("s1", "crew", &["uma"]);
    assert!(w.can("s1", "uma", "studio.edit", Some("studio:a")));
    w.act(Some("adam"), Operation::RemoveMember { account: "s1".into(), principal: "uma".into() }).expect("removed");
    assert!(!w.can("s1", "uma", "studio.edit", Some("studio:a")), "a removed member's grant is gone");
    assert!(w.engine.grants("s1", None, Some("principal:uma")).is_empty());
    assert!(w.engine.group_views("s1").iter().all(|g| g.members.is_empty()), "out of every group too");
}

#[test]
fn hole03_a_lapsed_membership_suspends_grants() {
    let mut w = World::new();
    w.account("s1", "studio", "olivia");
    w.setup(add_member("s1", "tess", "user", Some(NOW + 60)));
    w.resource("s1", "studio:a", None, None);
    w.grant("g-tess", "s1", "principal:tess", Some("studio:a"), "studio_collaborator");
    assert!(w.can("s1", "tess", "studio.edit", Some("studio:a")));
    assert!(!w.can_at("s1", "tess", "studio.edit", Some("studio:a"), NOW + 60), "the grant lapses with her");
    let why = w.engine.explain("s1", "tess", "studio.edit", Some("studio:a"), NOW + 60).expect("explain");
    assert!(why.ignored.iter().any(|i| i.contains("g-tess") && i.contains("live member")), "{:?}", why.ignored);
}

#[test]
fn hole03_a_moved_member_keeps_nothing_in_the_old_account() {
    let mut w = World::new();
    w.account("ag", "agency", "root");
    w.child("c1", "ag", "agency", "c1-owner");
    w.child("c2", "ag", "agency", "c2-owner");
    w.member("c1", "cara", "collaborator");
    w.resource("c1", "project:p", None, None);
    w.grant("g-cara", "c1", "principal:cara", Some("project:p"), "manager");
    assert!(w.can("c1", "cara", "project.team.edit", Some("project:p")));
    let mv = Operation::MoveMember { from: "c1".into(), to: "c2".into(), principal: "cara".into(), role: None };
    w.act(Some("root"), mv).expect("moved");
    assert!(!w.can("c1", "cara", "project.team.edit", Some("project:p")), "the project grant stayed behind");
    assert!(!w.can("c1", "cara", "project.view", Some("project:p")));
    assert!(w.engine.grants("c1", None, None).is_empty());
}

#[test]
fn hole03_soft_removal_suspends_grants_and_restore_brings_them_back() {
    let mut w = World::new();
    w.account("acme", "staff", "sue");
    w.member("acme", "al", "admin");
    w.member("acme", "tim", "teammate");
    w.resource("acme", "project:p", None, None);
    w.setup(grant("g-tim", "acme", "principal:tim", Some("project:p"), "project_member"));
    assert!(w.can("acme", "tim", "project.view", Some("project:p")));
    w.act(Some("al"), Operation::RemoveMember { account: "acme".into(), principal: "tim".into() }).expect("removed");
    assert!(!w.can("acme", "tim", "project.view", Some("project:p")));
    w.act(Some("al"), Operation::RestoreMember { account: "acme".into(), principal: "tim".into() }).expect("restored");
    assert!(w.can("acme", "tim", "project.view", Some("project:p")), "Restore Staff brings the user back as they were");
}

fn agency_world() -> World {
    let mut w = World::new();
    w.account("ag", "agency", "root");
    w.member("ag", "boss", "administrator");
    w.member("ag", "rita", "reviewer");
    w.child("c1", "ag", "agency", "c1-owner");
    w.resource("c1", "project:p", None, None);
    w
}

#[test]
fn hole05_masquerade_rank_counts_the_accounts_above() {
    let mut w = agency_world();
    w.member("c1", "boss", "viewer");
    let here = Operation::Masquerade { account: "ag".into(), target: "boss".into() };
    assert!(w.act(Some("rita"), here).is_err());
    let client = Operation::Masquerade { account: "c1".into(), target: "boss".into() };
    let refused = w.act(Some("rita"), client);
    assert!(matches!(refused, Err(ManagementError::Masquerade { .. })), "{refused:?}");
}

#[test]
fn hole05_masquerade_rank_counts_every_grant() {
    let mut w = agency_world();
    w.member("c1", "vic", "viewer");
    w.grant("g-vic", "c1", "principal:vic", Some("project:p"), "administrator");
    let refused = w.act(Some("rita"), Operation::Masquerade { account: "c1".into(), target: "vic".into() });
    assert!(matches!(refused, Err(ManagementError::Masquerade { .. })), "{refused:?}");
    w.member("c1", "val", "viewer");
    w.act(Some("rita"), Operation::Masquerade { account: "c1".into(), target: "val".into() }).expect("a plain viewer");
}

#[test]
fn hole20_no_masquerade_onto_a_lapsed_member() {
    let mut w = agency_world();
    w.setup(add_member("c1", "old", "viewer", Some(NOW - 1)));
    let refused = w.act(Some("rita"), Operation::Masquerade { account: "c1".into(), target: "old".into() });
    assert!(matches!(refused, Err(ManagementError::Masquerade { ref reason, .. }) if reason.contains("not an active")));
}

#[test]
fn hole10_deleting_a_custom_role_needs_the_standing_to_define_it() {
    let mut w = World::new();
    w.account("s1", "studio", "olivia");
    w.member("s1", "adam", "admin");
    let billing = RoleDef::new("billing_clerk", "Billing clerk", 10, vec![PermissionRule::always("billing.view")]);
    w.act(Some("olivia"), Operation::DefineRole { account: "s1".into(), role: billing }).expect("defined");
    let delete = Operation::RemoveRole { account: "s1".into(), role: "billing_clerk".into() };
    assert!(matches!(w.act(Some("adam"), delete.clone()), Err(ManagementError::ExceedsActor { .. })));
    w.act(Some("olivia"), delete).expect("its maker may");
}

#[test]
fn hole10_custom_role_slots_are_reused() {
    let mut w = World::new();
    w.account("s1", "studio", "olivia");
    for round in 0..70_000 {
        let role = RoleDef::new("temp", "Temp", 1, vec![PermissionRule::always("pickaxe.view")]);
        w.engine.apply(Change::DefineRole { account: "s1".into(), role }).unwrap_or_else(|e| panic!("{round}: {e}"));
        w.engine.apply(Change::RemoveRole { account: "s1".into(), role: "temp".into() }).expect("removed");
    }
    assert_eq!(w.engine.role_views("s1").iter().filter(|r| r.custom).count(), 0);
}

#[test]
fn hole10_an_invite_is_checked_without_a_stand_in_principal() {
    let mut w = World::new();
    w.account("s1", "studio", "olivia");
    w.member("s1", "pending-invitee", "admin");
    let invite = Operation::Invite { account: "s1".into(), role: Some("admin".into()), resource: None };
    w.act(Some("olivia"), invite).expect("a member's id changes nothing");
    w.member("s1", "adam", "admin");
    let owner = Operation::Invite { account: "s1".into(), role: Some("owner".into()), resource: None };
    assert!(w.act(Some("adam"), owner).is_err());
}

#[test]
fn hole11_nobody_grants_to_themselves() {
    let mut w = World::new();
    w.account("acme", "staff", "sue");
    w.member("acme", "al", "admin");
    let own = w.act(Some("al"), grant("g-al", "acme", "principal:al", None, "admin"));
    assert!(matches!(own, Err(ManagementError::SelfGrant { .. })), "{own:?}");
    w.group("acme", "leads", &["al"]);
    let via_group = w.act(Some("al"), grant("g-leads", "acme", "group:leads", None, "admin"));
    assert!(matches!(via_group, Err(ManagementError::SelfGrant { .. })), "{via_group:?}");
}

#[test]
fn hole11_what_an_actor_hands_out_lapses_with_their_standing() {
    let mut w = World::new();
    w.account("acme", "staff", "sue");
    w.setup(add_member("acme", "al", "admin", Some(NOW + 600)));
    w.act(Some("al"), add_member("acme", "tim", "teammate", None)).expect("added");
    assert_eq!(w.engine.membership("acme", "tim").and_then(|m| m.expires_at), Some(NOW + 600));
    w.member("acme", "bob", "teammate");
    w.resource("acme", "project:p", None, None);
    w.act(Some("al"), grant("g-bob", "acme", "principal:bob", Some("project:p"), "project_member")).expect("granted");
    assert_eq!(w.engine.grant("acme", "g-bob").and_then(|g| g.expires_at), Some(NOW + 600));
    assert!(!w.can_at("acme", "bob", "project.view", Some("project:p"), NOW + 600));
}

#[test]
fn hole12_an_account_level_grant_is_not_an_assignment() {
    let mut w = World::new();
    w.account("acme", "staff", "sue");
    w.member("acme", "fay", "freelancer");
    w.resource("acme", "project:p", None, None);
    let nothing = RoleDef::new("nothing", "Nothing", 1, Vec::new());
    w.setup(Operation::DefineRole { account: "acme".into(), role: nothing });
    w.group("acme", "all", &["fay"]);
    w.grant("g-all", "acme", "group:all", None, "nothing");
    assert!(!w.can("acme", "fay", "project.view", Some("project:p")), "an account grant assigns nothing");
    w.grant("g-p", "acme", "principal:fay", Some("project:p"), "project_member");
    assert!(w.can("acme", "fay", "project.view", Some("project:p")));
}

#[test]
fn hole13_a_principal_cannot_name_another_owner() {
    let mut w = World::new();
    w.account("t", "workspace", "root");
    w.member("t", "una", "user");
    let create = Operation::CreateResource {
        account: "t".into(),
        resource: "workspace:w".into(),
        parent: None,
        owner: Some("eve".into()),
    };
    assert!(matches!(w.act(Some("una"), create), Err(ManagementError::OwnerNotSelf { .. })));
    assert!(!w.engine.has_resource("t", "workspace:w"));
}

#[test]
fn hole13_ownership_ends_with_the_standing_that_created_it() {
    let mut w = World::new();
    w.account("t", "workspace", "root");
    w.member("t", "una", "user");
    w.member("t", "vic", "user");
    let own = |resource: &str, parent: Option<&str>| Operation::CreateResource {
        account: "t".into(),
        resource: resource.into(),
        parent: parent.map(Into::into),
        owner: None,
    };
    w.act(Some("una"), own("workspace:w", None)).expect("una's workspace");
    w.act(Some("una"), grant("g-vic", "t", "principal:vic", Some("workspace:w"), "workspace_member")).expect("invited");
    w.act(Some("vic"), own("project:p", Some("workspace:w"))).expect("vic's project");
    assert!(w.can("t", "vic", "asset.upload", Some("project:p")));
    w.act(Some("una"), Operation::RevokeGrant { account: "t".into(), id: "g-vic".into() }).expect("revoked");
    assert!(!w.can("t", "vic", "project.view", Some("project:p")), "owning it outlived the invitation");
    assert!(!w.can("t", "vic", "asset.upload", Some("project:p")));
}

#[test]
fn hole15_single_holder_roles_are_never_granted() {
    let mut w = World::new();
    w.account("s1", "studio", "olivia");
    w.member("s1", "adam", "admin");
    let by_platform = w.act(None, grant("g", "s1", "principal:adam", None, "owner"));
    assert!(matches!(by_platform, Err(ManagementError::SingleHolderByTransferOnly { .. })), "{by_platform:?}");
    let change = Change::AddGrant {
        id: "g".into(),
        account: "s1".into(),
        subject: "principal:adam".parse().expect("subject"),
        resource: None,
        role: "owner".into(),
        expires_at: None,
    };
    assert!(matches!(w.engine.apply(change), Err(ChangeError::SingleHolderNotGrantable(_))), "nor written directly");
}

#[test]
fn hole16_promotion_only_refuses_a_change_that_takes_permissions_away() {
    let mut w = World::new();
    w.account("acme", "staff", "sue");
    w.member("acme", "al", "admin");
    w.member("acme", "pam", "project_manager");
    let hollow = RoleDef::new("hollow", "Hollow", 85, vec![PermissionRule::always("project.view")]);
    w.setup(Operation::DefineRole { account: "acme".into(), role: hollow });
    let refused = w.act(Some("al"), change_role("acme", "pam", "hollow"));
    assert!(matches!(refused, Err(ManagementError::DemotionByPermission { .. })), "{refused:?}");
    let by_platform = w.act(None, change_role("acme", "pam", "hollow"));
    assert!(matches!(by_platform, Err(ManagementError::DemotionByPermission { .. })), "the ladder binds everyone");
    w.act(Some("al"), change_role("acme", "pam", "admin")).expect("a real promotion");
}

#[test]
fn hole14_grant_ids_are_scoped_per_account() {
    let mut w = World::new();
    w.account("a", "studio", "alice");
    w.account("b", "studio", "bob");
    w.member("a", "amy", "user");
    w.member("b", "ben", "user");
    w.resource("a", "studio:s", None, None);
    w.resource("b", "studio:s", None, None);
    w.act(Some("alice"), grant("pending-grant", "a", "principal:amy", Some("studio:s"), "studio_client"))
        .expect("a squatted id");
    w.act(Some("bob"), grant("pending-grant", "b", "principal:ben", Some("studio:s"), "studio_client"))
        .expect("the same id in another tenant is free");
    let clash = w.act(Some("alice"), grant("pending-grant", "a", "principal:amy", None, "user"));
    assert!(matches!(clash, Err(ManagementError::Change(ChangeError::GrantExists { .. }))));
    w.act(Some("bob"), Operation::RevokeGrant { account: "b".into(), id: "pending-grant".into() }).expect("revoked");
    assert!(w.engine.grant("a", "pending-grant").is_some(), "the other tenant's grant is untouched");
}

#[test]
fn hole18_revoking_an_invite_needs_the_standing_making_it_needs() {
    let mut w = World::new();
    w.account("s1", "studio", "olivia");
    w.member("s1", "adam", "admin");
    let revoke = |role: &str| Operation::RevokeInvite { account: "s1".into(), role: Some(role.into()), resource: None };
    let by_admin = w.act(Some("adam"), revoke("admin"));
    assert!(
        matches!(by_admin, Err(ManagementError::RoleNotManaged { ref role, .. }) if role == "admin"),
        "{by_admin:?}"
    );
    w.act(Some("olivia"), revoke("admin")).expect("the owner manages admin");
    w.act(Some("adam"), revoke("manager")).expect("an admin manages manager");
    // An invite whose role is gone cannot be accepted; whoever may invite may clear it.
    w.act(Some("adam"), revoke("gone")).expect("member.invite suffices for a dead invite");
}

#[test]
fn hole14_a_principal_names_child_accounts_inside_its_parents_name_space() {
    let mut w = World::new();
    w.account("ag", "agency", "ann");
    let create = |id: &str| Operation::CreateAccount {
        id: id.into(),
        pack: "agency".into(),
        parent: Some("ag".into()),
        owner: "boss".into(),
    };
    for squat in ["acme", "ag", "ag.", "agx.c1", "other.ag.c1", "ag.c1.x"] {
        let refused = w.act(Some("ann"), create(squat));
        assert!(matches!(refused, Err(ManagementError::ChildIdOutsideParent { .. })), "{squat}: {refused:?}");
    }
    assert!(!w.engine.has_account("acme") && !w.engine.has_account("ag."));
    w.act(Some("ann"), create("ag.c1")).expect("inside the parent's name space");
    w.act(None, create("c2")).expect("the platform names child accounts freely");
    let top = Operation::CreateAccount { id: "ag.c9".into(), pack: "agency".into(), parent: None, owner: "o".into() };
    let dotted = w.act(None, top);
    assert!(matches!(dotted, Err(ManagementError::TopLevelIdWithDot { .. })), "{dotted:?}");
}

#[test]
fn hole08_a_refused_write_in_an_account_one_holds_nothing_in_reads_like_a_missing_account() {
    let mut w = World::new();
    w.account("s1", "studio", "olivia");
    w.account("s2", "studio", "sam");
    let probe = |account: &str| Operation::CreateGroup { account: account.into(), group: "g".into() };
    let existing = w.act(Some("olivia"), probe("s2")).expect_err("olivia holds nothing in s2");
    let missing = w.act(Some("olivia"), probe("s3")).expect_err("s3 does not exist");
    assert_eq!(existing.to_string().replace("s2", "s3"), missing.to_string());
    assert!(matches!(existing, ManagementError::Change(ChangeError::UnknownAccount(_))), "{existing:?}");
    // A member who may not view a resource cannot tell it exists by a refused write.
    w.member("s1", "ursula", "user");
    w.resource("s1", "studio:secret", None, None);
    let delete = |resource: &str| Operation::DeleteResource { account: "s1".into(), resource: resource.into() };
    let hidden = w.act(Some("ursula"), delete("studio:secret")).expect_err("not hers");
    let absent = w.act(Some("ursula"), delete("studio:nothing")).expect_err("absent");
    assert_eq!(hidden.to_string().replace("secret", "nothing"), absent.to_string());
}

#[test]
fn hole21_deleting_a_group_needs_group_delete_where_the_pack_defines_it() {
    // mods seed, Groups row: Admin "View, Edit, Delete", Manager "View, Edit".
    let mut w = World::new();
    w.account("m1", "mods", "ada");
    w.member("m1", "man", "manager");
    w.setup(Operation::CreateGroup { account: "m1".into(), group: "deployers".into() });
    let delete = || Operation::DeleteGroup { account: "m1".into(), group: "deployers".into() };
    let by_manager = w.act(Some("man"), delete());
    assert!(
        matches!(by_manager, Err(ManagementError::MissingPermission { ref permission, .. }) if permission == "group.delete"),
        "{by_manager:?}"
    );
    assert!(w.engine.has_group("m1", "deployers"), "nothing changed");
    w.act(Some("man"), Operation::CreateGroup { account: "m1".into(), group: "more".into() })
        .expect("Managers still create (edit) groups");
    w.act(Some("ada"), delete()).expect("Admins delete groups");
    assert!(!w.engine.has_group("m1", "deployers"));
    // A pack without `group.delete` keeps `group.manage` as the gate.
    w.account("s1", "studio", "olivia");
    w.member("s1", "adam", "admin");
    w.setup(Operation::CreateGroup { account: "s1".into(), group: "crew".into() });
    w.act(Some("adam"), Operation::DeleteGroup { account: "s1".into(), group: "crew".into() })
        .expect("studio Admins hold group.manage");
}
