//! The agency pack against `docs/seeds/agency-client-roles.txt`. The role lists are read
//! from the seed text itself, so a role that gains or loses a row fails here.

use std::collections::BTreeSet;

use roster_core::manifest::RESERVED_PERMISSIONS;
use roster_core::{ManagementError, Operation};
use roster_e2e::{World, add_member, change_role, grant, matrix, role_cells, seed};

/// Each row title of the seed's tables and the permission it is encoded as.
const ROWS: &[(&str, &str)] = &[
    ("Manage payment details", "payment_details.manage"),
    ("Edit any client organisation", "client.edit"),
    ("Modify project charges", "project.charges.modify"),
    ("Modify all agency roles", "member.role.change"),
    ("Ops assign tasks", "ops.tasks.assign"),
    ("Edit charges", "charge.edit"),
    ("Log time for anyone", "time.log_for_anyone"),
    ("Modify credits", "credits.modify"),
    ("Edit any person", "person.edit"),
    ("Access user payment methods", "payment_methods.access"),
    ("Modify a sub-set of all roles", "member.role.change"),
    ("Create organisation", "account.create"),
    ("Edit any agency project team", "agency_project_team.edit"),
    ("Modify organisation teams", "team.modify"),
    ("Create teams", "team.create"),
    ("Start projects on behalf of others", "project.start_on_behalf"),
    ("Agency worker", "agency.work"),
    ("View project team", "project.team.view"),
    ("Show expert brief mode", "brief.expert_mode"),
    ("View project tasks", "project.tasks.view"),
    ("Edit brand page", "brand_page.edit"),
    ("View restricted project history", "project.history.view_restricted"),
    ("View feedback for users", "feedback.view"),
    ("Assign tasks", "task.assign"),
    ("Send back projects", "project.send_back"),
    ("View agency public profiles", "profile.public.view"),
    ("View agency private profiles", "profile.private.view"),
    ("Edit organisation", "client.edit"),
    ("Modify client roles", "member.role.change"),
    ("Buy bulk credits", "credits.buy_bulk"),
    ("Approve credit purchases", "credits.approve"),
    ("Start projects without approval", "project.start_without_approval"),
    ("Approve project start", "project.approve_start"),
    ("Start projects", "project.start"),
    ("View project billing", "project.billing.view"),
    ("Create plans", "plan.create"),
    ("Edit plans", "plan.edit"),
    ("View plans", "plan.view"),
    ("Modify project workflow templates", "workflow_template.modify"),
    ("Modify any charge", "charge.modify_any"),
    ("Can masquerade", "person.masquerade"),
    ("Edit project team", "project.team.edit"),
    ("View project quotes", "project.quotes.view"),
    ("Modify project quotes", "project.quotes.modify"),
    ("Give project feedback", "project.feedback.give"),
    ("Billing", "legacy.billing"),
    ("Project manager", "legacy.project_manager"),
];

/// The seed's role sections, in its order, with the pack role ids.
const ROLES: &[(&str, &str)] = &[
    ("Administrator", "administrator"),
    ("Finance", "finance"),
    ("Manager", "manager"),
    ("Reviewer", "reviewer"),
    ("Sales", "sales"),
    ("Creator", "creator"),
    ("Collaborator", "collaborator"),
    ("Viewer", "viewer"),
];

/// Role id → the permissions of the rows the seed lists for it.
fn seed_rows() -> Vec<(&'static str, BTreeSet<&'static str>)> {
    let text = seed("agency-client-roles.txt");
    let mut sections: Vec<(&'static str, BTreeSet<&'static str>)> = Vec::new();
    let mut in_table = false;
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if let Some(&(_, id)) = ROLES.iter().find(|(title, _)| *title == line) {
            sections.push((id, BTreeSet::new()));
            in_table = false;
            continue;
        }
        let Some((id, rows)) = sections.last_mut() else { continue };
        if line == "PermissionDescription" {
            in_table = true;
        } else if in_table {
            let (_, permission) = ROWS
                .iter()
                .filter(|(title, _)| line.starts_with(title))
                .max_by_key(|(title, _)| title.len())
                .unwrap_or_else(|| panic!("seed row of `{id}` matches no known permission: {line}"));
            rows.insert(permission);
        } else if *id == "viewer" && line == "Can view projects" {
            // The Viewer section has no table; its one line is the permission.
            rows.insert("project.view");
        }
    }
    sections
}

#[test]
fn agency_each_role_holds_exactly_the_rows_the_seed_lists() {
    let sections = seed_rows();
    assert_eq!(sections.len(), ROLES.len(), "one section per seed role");
    let universe: BTreeSet<&str> = ROWS.iter().map(|(_, p)| *p).chain(["project.view"]).collect();
    for (role, rows) in sections {
        let mut expected = rows.clone();
        // Every role but the Viewer works on projects ("Agency worker … applies to all
        // projects"; Collaborators "view any projects in their organisation"), which
        // implies viewing them.
        expected.insert("project.view");
        let held: BTreeSet<String> = role_cells("agency", role).into_iter().map(|(p, _)| p).collect();
        let held_rows: BTreeSet<&str> = held.iter().map(String::as_str).filter(|p| universe.contains(p)).collect();
        assert_eq!(held_rows, expected, "agency role `{role}` must hold exactly its seed rows");
        let extras: Vec<&str> = held.iter().map(String::as_str).filter(|p| !universe.contains(p)).collect();
        assert!(
            extras.iter().all(|p| RESERVED_PERMISSIONS.contains(p)),
            "`{role}` holds non-seed permissions {extras:?}"
        );
    }
}

#[test]
fn agency_roles_rank_and_manage_as_the_seed_says() {
    let m = matrix("agency");
    let order = ["administrator", "finance", "manager", "reviewer", "sales", "creator", "collaborator", "viewer"];
    assert_eq!(m.roles, order, "ranks follow the seed's order");
    let pack = roster_e2e::pack("agency");
    let manages = |role: &str| -> Vec<String> {
        let r = &pack.roles()[usize::from(pack.role(role).expect("role"))];
        let mut ids: Vec<String> = r.manages.iter().map(|&i| pack.roles()[usize::from(i)].id.clone()).collect();
        ids.sort();
        ids
    };
    let mut all: Vec<String> = order.iter().map(|s| s.to_string()).collect();
    all.sort();
    assert_eq!(manages("administrator"), all, "Modify all agency roles + Modify client roles");
    assert_eq!(manages("manager"), ["creator", "reviewer", "sales"], "Modify a sub-set of all roles");
    for role in ["finance", "reviewer", "sales", "creator", "collaborator", "viewer"] {
        assert!(manages(role).is_empty(), "`{role}` modifies no roles");
    }
}

/// Agency `ag` (administrator `ann`), manager `max`, creator `cre`, reviewer `rev`;
/// client organisations `c1` (viewer `vic`, project `p1`, `p2`) and `c2` (project `q1`).
fn agency_world() -> World {
    let mut w = World::new();
    w.account("ag", "agency", "ann");
    w.member("ag", "max", "manager");
    w.member("ag", "cre", "creator");
    w.member("ag", "rev", "reviewer");
    for client in ["c1", "c2"] {
        w.setup(Operation::CreateAccount {
            id: client.into(),
            pack: "agency".into(),
            parent: Some("ag".into()),
            owner: format!("{client}-boss"),
        });
    }
    w.act(
        Some("ann"),
        Operation::CreateAccount {
            id: "ag.c0".into(),
            pack: "agency".into(),
            parent: Some("ag".into()),
            owner: "c0-boss".into(),
        },
    )
    .expect("an administrator creates organisations");
    w.member("c1", "vic", "viewer");
    w.resource("c1", "project:p1", None, None);
    w.resource("c1", "project:p2", None, None);
    w.resource("c2", "project:q1", None, None);
    w
}

#[test]
fn agency_new_organisation_owner_gets_the_top_client_role() {
    let w = agency_world();
    assert_eq!(w.role_of("c1", "c1-boss").map(|r| r.0), Some("collaborator".into()));
    assert_eq!(w.role_of("ag", "ann").map(|r| r.0), Some("administrator".into()));
    assert_eq!(w.engine.child_accounts("ag"), ["ag.c0", "c1", "c2"], "in id order");
}

#[test]
fn agency_administrator_reaches_every_client_organisation() {
    let w = agency_world();
    for (client, project) in [("c1", "project:p1"), ("c2", "project:q1")] {
        assert!(w.can(client, "ann", "client.edit", None));
        assert!(w.can(client, "ann", "project.quotes.modify", Some(project)));
    }
    assert!(w.can("c2", "max", "client.edit", None), "Manager: edit any client organisation");
}

#[test]
fn agency_client_viewer_sees_only_their_organisation() {
    let w = agency_world();
    assert!(w.can("c1", "vic", "project.view", Some("project:p1")));
    assert!(!w.can("c2", "vic", "project.view", Some("project:q1")));
    assert!(!w.can("c1", "vic", "project.start", Some("project:p1")));
    assert!(!w.can("ag", "vic", "agency.work", None));
}

#[test]
fn agency_project_grant_raises_a_creator_to_reviewer_on_that_project_only() {
    let mut w = agency_world();
    assert!(!w.can("c1", "cre", "task.assign", Some("project:p1")));
    w.act(Some("max"), grant("g-rev", "c1", "principal:cre", Some("project:p1"), "reviewer"))
        .expect("a manager hands out reviewer");
    assert!(w.can("c1", "cre", "task.assign", Some("project:p1")));
    assert!(w.can("c1", "cre", "person.masquerade", Some("project:p1")));
    assert!(!w.can("c1", "cre", "task.assign", Some("project:p2")));
    assert!(!w.can("c2", "cre", "task.assign", Some("project:q1")));
}

#[test]
fn agency_manager_modifies_only_a_subset_of_roles() {
    let mut w = agency_world();
    w.act(Some("max"), change_role("ag", "cre", "reviewer")).expect("creator → reviewer");
    let to_finance = w.act(Some("max"), change_role("ag", "rev", "finance"));
    assert!(matches!(to_finance, Err(ManagementError::RoleNotManaged { .. })), "{to_finance:?}");
    let touch_admin = w.act(Some("max"), change_role("ag", "ann", "creator"));
    assert!(touch_admin.is_err(), "a manager cannot change an administrator");
    let client_roles = w.act(Some("max"), change_role("c1", "vic", "collaborator"));
    assert!(
        matches!(client_roles, Err(ManagementError::RoleNotManaged { .. })),
        "only administrators modify client roles"
    );
    w.act(Some("ann"), change_role("c1", "vic", "collaborator")).expect("administrators modify client roles");
}

#[test]
fn agency_people_move_between_accounts_atomically() {
    let mut w = agency_world();
    let by_viewer = w.act(
        Some("vic"),
        Operation::MoveMember { from: "c1".into(), to: "c2".into(), principal: "vic".into(), role: None },
    );
    assert!(by_viewer.is_err());
    w.act(
        Some("ann"),
        Operation::MoveMember {
            from: "c1".into(),
            to: "c2".into(),
            principal: "vic".into(),
            role: Some("collaborator".into()),
        },
    )
    .expect("administrator moves people");
    assert_eq!(w.role_of("c1", "vic"), None);
    assert_eq!(w.role_of("c2", "vic").map(|r| r.0), Some("collaborator".into()));
    assert!(w.can("c2", "vic", "project.start", Some("project:q1")));
    let wrong_role = w.act(
        Some("ann"),
        Operation::MoveMember {
            from: "c2".into(),
            to: "c1".into(),
            principal: "vic".into(),
            role: Some("finance".into()),
        },
    );
    assert!(wrong_role.is_err(), "an agency role cannot be held in a client organisation");
    assert_eq!(w.role_of("c2", "vic").map(|r| r.0), Some("collaborator".into()), "a refused move changes nothing");
}

#[test]
fn agency_masquerade_only_onto_people_of_lower_rank() {
    let mut w = agency_world();
    let masquerade = |w: &mut World, actor: &str, target: &str| {
        w.act(Some(actor), Operation::Masquerade { account: "ag".into(), target: target.into() })
    };
    assert!(masquerade(&mut w, "max", "cre").is_ok());
    assert!(masquerade(&mut w, "rev", "cre").is_ok());
    assert!(matches!(masquerade(&mut w, "max", "ann"), Err(ManagementError::Masquerade { .. })));
    assert!(matches!(masquerade(&mut w, "rev", "max"), Err(ManagementError::Masquerade { .. })));
    assert!(
        matches!(masquerade(&mut w, "cre", "vic"), Err(ManagementError::MissingPermission { .. })),
        "creators cannot masquerade"
    );
}

#[test]
fn agency_create_organisation_needs_the_permission() {
    let mut w = agency_world();
    let by_creator = w.act(
        Some("cre"),
        Operation::CreateAccount {
            id: "c3".into(),
            pack: "agency".into(),
            parent: Some("ag".into()),
            owner: "x".into(),
        },
    );
    assert!(
        matches!(by_creator, Err(ManagementError::MissingPermission { ref permission, .. }) if permission == "account.create")
    );
    assert!(!w.engine.has_account("c3"));
    w.act(Some("max"), add_member("ag", "new-sales", Some("sales"))).expect("managers invite the roles they manage");
}
