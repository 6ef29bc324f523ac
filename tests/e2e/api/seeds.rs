//! Seed scenarios through the API, acting as the seeds' people with `Roster-Act-As`.

use roster_e2e::daemon::{Daemon, backends};
use serde_json::json;

use super::{add_external, add_member, allowed, audit_count, create_account, role_of};

#[test]
fn studio_invite_accept_change_remove_and_transfer() {
    for backend in backends() {
        let d = Daemon::start(&backend);
        create_account(&d, "s1", "studio", "olivia");
        let invite = d.call(
            "POST",
            "/v1/accounts/s1/invites",
            Some("olivia"),
            Some(json!({ "email": "adam@example.com", "role": "admin" })),
        );
        assert_eq!(invite.status, 201, "{}", invite.text);
        let token = invite.json()["token"].as_str().expect("token shown once").to_owned();
        let listed = d.call("GET", "/v1/accounts/s1/invites", Some("olivia"), None);
        assert!(!listed.text.contains(&token), "the token is shown once only");
        let wrong_email = d.call(
            "POST",
            "/v1/invites/accept",
            None,
            Some(json!({ "token": token, "principal": { "id": "adam", "email": "eve@example.com", "name": "Eve" } })),
        );
        assert_eq!((wrong_email.status, wrong_email.code().as_str()), (403, "forbidden"));
        let accepted = d.call(
            "POST",
            "/v1/invites/accept",
            None,
            Some(json!({ "token": token, "principal": { "id": "adam", "email": "adam@example.com", "name": "Adam" } })),
        );
        assert_eq!(accepted.status, 200, "{}", accepted.text);
        let reused = d.call(
            "POST",
            "/v1/invites/accept",
            None,
            Some(json!({ "token": token, "principal": { "id": "adam", "email": "adam@example.com", "name": "Adam" } })),
        );
        assert_eq!((reused.status, reused.code().as_str()), (409, "conflict"));
        let unknown = d.call(
            "POST",
            "/v1/invites/accept",
            None,
            Some(
                json!({ "token": "inv_nope_nope", "principal": { "id": "x", "email": "x@example.com", "name": "X" } }),
            ),
        );
        assert_eq!(unknown.status, 404);

        // The studio Admin: no billing, cannot make an owner.
        assert!(!allowed(&d, "s1", "adam", "billing.view", None));
        add_member(&d, "s1", "uma", "user");
        let make_owner = d.call("PATCH", "/v1/accounts/s1/members/uma", Some("adam"), Some(json!({ "role": "owner" })));
        assert_eq!((make_owner.status, make_owner.code().as_str()), (422, "policy_violation"), "{}", make_owner.text);
        let promote = d.call("PATCH", "/v1/accounts/s1/members/uma", Some("adam"), Some(json!({ "role": "manager" })));
        assert_eq!(promote.status, 200, "{}", promote.text);
        assert!(promote.header("roster-revision").is_some());
        assert_eq!(role_of(&d, "s1", "uma"), "manager");

        // A Manager adds users only on pickaxes they own.
        for (resource, parent, owner) in [
            ("studio:a", None, None),
            ("pickaxe:mine", Some("studio:a"), Some("uma")),
            ("pickaxe:theirs", Some("studio:a"), None),
        ] {
            let r = d.call(
                "POST",
                "/v1/accounts/s1/resources",
                None,
                Some(json!({ "resource": resource, "parent": parent, "owner": owner })),
            );
            assert_eq!(r.status, 201, "{}", r.text);
        }
        // Pat is a third-party consultant: an external member, reached only by grants.
        add_external(&d, "s1", "pat", "user");
        let own = d.call(
            "POST",
            "/v1/accounts/s1/grants",
            Some("uma"),
            Some(json!({ "subject": "principal:pat", "resource": "pickaxe:mine", "role": "pickaxe_user" })),
        );
        assert_eq!(own.status, 201, "{}", own.text);
        let other = d.call(
            "POST",
            "/v1/accounts/s1/grants",
            Some("uma"),
            Some(json!({ "subject": "principal:pat", "resource": "pickaxe:theirs", "role": "pickaxe_user" })),
        );
        assert_eq!((other.status, other.code().as_str()), (403, "forbidden"));
        assert!(allowed(&d, "s1", "pat", "pickaxe.use", Some("pickaxe:mine")));
        assert!(!allowed(&d, "s1", "pat", "pickaxe.use", Some("pickaxe:theirs")));

        let removed = d.call("DELETE", "/v1/accounts/s1/members/uma", Some("adam"), None);
        assert_eq!(removed.status, 200, "{}", removed.text);
        assert_eq!(d.call("GET", "/v1/accounts/s1/members/uma", None, None).status, 404, "hard removal");

        let by_admin =
            d.call("POST", "/v1/accounts/s1/transfer-ownership", Some("adam"), Some(json!({ "to": "adam" })));
        assert_eq!(by_admin.status, 403);
        let transfer =
            d.call("POST", "/v1/accounts/s1/transfer-ownership", Some("olivia"), Some(json!({ "to": "adam" })));
        assert_eq!(transfer.status, 200, "{}", transfer.text);
        assert_eq!(role_of(&d, "s1", "adam"), "owner");
        assert_eq!(role_of(&d, "s1", "olivia"), "admin");

        let explained = d.call(
            "POST",
            "/v1/check",
            None,
            Some(json!({ "account": "s1", "principal": "olivia", "permission": "billing.view", "explain": true })),
        );
        let explanation = &explained.json()["explanation"];
        assert_eq!(explained.json()["allowed"], false);
        assert!(explanation["summary"].as_str().unwrap_or_default().contains("billing.view"), "{explanation}");
        // account.create, invite.create, invite.accept, member.add, role change, 3 resources, grant, removal, transfer
        assert_eq!(audit_count(&d, "s1"), 12, "{:?}: one audit event per management call", backend);
    }
}

#[test]
fn staff_ladder_refusals_and_soft_removal() {
    for backend in backends() {
        let d = Daemon::start(&backend);
        create_account(&d, "acme", "staff", "sue");
        for (who, role) in [("al", "admin"), ("pam", "project_manager"), ("tim", "teammate")] {
            add_member(&d, "acme", who, role);
        }
        let demote = d.call("PATCH", "/v1/accounts/acme/members/pam", Some("al"), Some(json!({ "role": "teammate" })));
        assert_eq!((demote.status, demote.code().as_str()), (422, "policy_violation"), "{}", demote.text);
        assert!(demote.json()["detail"].as_str().unwrap_or_default().contains("re-add"));
        let promote =
            d.call("PATCH", "/v1/accounts/acme/members/tim", Some("al"), Some(json!({ "role": "project_manager" })));
        assert_eq!(promote.status, 200, "{}", promote.text);
        let view_super = d.call("GET", "/v1/accounts/acme/members/sue", Some("al"), None);
        let view_nobody = d.call("GET", "/v1/accounts/acme/members/nobody", Some("al"), None);
        assert_eq!(view_super.status, 404, "looks like a non-member: {}", view_super.text);
        assert_eq!(view_super.text.replace("sue", "X"), view_nobody.text.replace("nobody", "X"));
        let list = d.call("GET", "/v1/accounts/acme/members", Some("al"), None);
        assert!(!list.text.contains("\"sue\""), "the super admin is invisible to admins: {}", list.text);
        let own_view = d.call("GET", "/v1/accounts/acme/members/sue", Some("sue"), None);
        assert_eq!(own_view.status, 200);

        assert_eq!(d.call("DELETE", "/v1/accounts/acme/members/tim", Some("al"), None).status, 200);
        let removed = d.call("GET", "/v1/accounts/acme/members?status=removed", Some("al"), None);
        assert!(removed.text.contains("\"tim\""), "{}", removed.text);
        assert_eq!(d.call("POST", "/v1/accounts/acme/members/tim/restore", Some("al"), None).status, 200);
        assert_eq!(d.call("DELETE", "/v1/accounts/acme/members/tim", Some("al"), None).status, 200);
        assert_eq!(d.call("DELETE", "/v1/accounts/acme/members/tim?purge=true", Some("al"), None).status, 200);
        assert_eq!(d.call("GET", "/v1/accounts/acme/members/tim", None, None).status, 404);
    }
}

#[test]
fn agency_client_organisations_and_moving_people() {
    for backend in backends() {
        let d = Daemon::start(&backend);
        create_account(&d, "ag", "agency", "ann");
        for client in ["c1", "c2"] {
            let r = d.call("POST", "/v1/accounts", Some("ann"), Some(json!({
                "id": format!("ag.{client}"), "pack": "agency", "name": client, "parent": "ag",
                "owner": { "id": format!("{client}-boss"), "email": format!("boss@{client}.example.com"), "name": "Boss" },
            })));
            assert_eq!(r.status, 201, "{}", r.text);
        }
        let children = d.call("GET", "/v1/accounts/ag/children", None, None);
        assert_eq!(children.json()["items"], json!(["ag.c1", "ag.c2"]));
        add_member(&d, "ag.c1", "vic", "viewer");
        assert!(allowed(&d, "ag.c2", "ann", "client.edit", None), "administrators reach every client organisation");
        assert!(!allowed(&d, "ag.c2", "vic", "project.view", None));
        let moved = d.call(
            "POST",
            "/v1/accounts/ag.c1/members/vic/move",
            Some("ann"),
            Some(json!({ "to_account": "ag.c2", "role": "collaborator" })),
        );
        assert_eq!(moved.status, 200, "{}", moved.text);
        assert!(allowed(&d, "ag.c2", "vic", "project.start", None));
        assert_eq!(d.call("GET", "/v1/accounts/ag.c1/members/vic", None, None).status, 404);
        let masquerade = d.call("POST", "/v1/accounts/ag/masquerade", Some("ann"), Some(json!({ "target": "ann" })));
        assert_eq!(masquerade.status, 403, "not onto oneself or equal rank: {}", masquerade.text);
    }
}

#[test]
fn mods_group_grants() {
    for backend in backends() {
        let d = Daemon::start(&backend);
        create_account(&d, "t", "mods", "ada");
        let add = d.call("POST", "/v1/accounts/t/members", Some("ada"), Some(json!({ "principal": "rita" })));
        assert_eq!(add.status, 201, "{}", add.text);
        assert_eq!(add.json()["membership"]["role"], "restricted");
        assert_eq!(d.call("POST", "/v1/accounts/t/resources", None, Some(json!({ "resource": "mod:m1" }))).status, 201);
        assert!(!allowed(&d, "t", "rita", "mod.view", Some("mod:m1")));
        assert_eq!(d.call("POST", "/v1/accounts/t/groups", Some("ada"), Some(json!({ "id": "readers" }))).status, 201);
        assert_eq!(d.call("PUT", "/v1/accounts/t/groups/readers/members/rita", Some("ada"), None).status, 200);
        let grant = d.call(
            "POST",
            "/v1/accounts/t/grants",
            Some("ada"),
            Some(json!({ "id": "gr1", "subject": "group:readers", "resource": "mod:m1", "role": "mod_viewer" })),
        );
        assert_eq!(grant.status, 201, "{}", grant.text);
        assert!(allowed(&d, "t", "rita", "mod.view", Some("mod:m1")));
        let subjects = d.call(
            "POST",
            "/v1/lookup/subjects",
            None,
            Some(json!({ "account": "t", "permission": "mod.view", "resource": "mod:m1" })),
        );
        assert_eq!(subjects.json()["principals"], json!(["ada", "rita"]));
        assert_eq!(d.call("DELETE", "/v1/accounts/t/grants/gr1", Some("ada"), None).status, 200);
        assert!(!allowed(&d, "t", "rita", "mod.view", Some("mod:m1")));
    }
}

#[test]
fn workspace_users_see_only_workspaces_they_own_or_were_invited_to() {
    for backend in backends() {
        let d = Daemon::start(&backend);
        create_account(&d, "t", "workspace", "ada");
        add_member(&d, "t", "una", "user");
        add_member(&d, "t", "ben", "user");
        let created =
            d.call("POST", "/v1/accounts/t/resources", Some("una"), Some(json!({ "resource": "workspace:w1" })));
        assert_eq!(created.status, 201, "{}", created.text);
        assert_eq!(created.json()["owner"], "una", "the creator owns it");
        assert_eq!(
            d.call("POST", "/v1/accounts/t/resources", Some("ada"), Some(json!({ "resource": "workspace:w2" }))).status,
            201
        );
        assert!(allowed(&d, "t", "una", "workspace.view", Some("workspace:w1")));
        assert!(!allowed(&d, "t", "ben", "workspace.view", Some("workspace:w1")));
        let invite = d.call(
            "POST",
            "/v1/accounts/t/invites",
            Some("una"),
            Some(json!({ "email": "ben@example.com", "role": "workspace_member", "resource": "workspace:w1" })),
        );
        assert_eq!(invite.status, 201, "{}", invite.text);
        let token = invite.json()["token"].as_str().expect("token").to_owned();
        let accept = d.call(
            "POST",
            "/v1/invites/accept",
            None,
            Some(json!({ "token": token, "principal": { "id": "ben", "email": "ben@example.com", "name": "Ben" } })),
        );
        assert_eq!(accept.status, 200, "{}", accept.text);
        assert!(allowed(&d, "t", "ben", "workspace.view", Some("workspace:w1")));
        let lookup = d.call(
            "POST",
            "/v1/lookup/resources",
            None,
            Some(json!({ "account": "t", "principal": "ben", "permission": "workspace.view", "type": "workspace" })),
        );
        assert_eq!(lookup.json()["items"], json!(["workspace:w1"]));
        let by_user =
            d.call("POST", "/v1/accounts/t/invites", Some("una"), Some(json!({ "email": "carl@example.com" })));
        assert_eq!(by_user.status, 403, "only admins invite users into the tenant: {}", by_user.text);
    }
}
