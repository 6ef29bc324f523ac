//! Reads are no wider than permissions (issue 8, holes 7 and 8): a protected member is
//! invisible on every read path, a resource is read only with its type's `.view`, and an
//! account a principal holds nothing in answers exactly like one that does not exist.

use roster_e2e::daemon::{Daemon, backends};
use serde_json::json;

use super::auth::{as_token, principal_token};
use super::{add_member, create_account};

/// A staff account whose Super Admin is `sue`, with an Admin `al`.
fn staff(d: &Daemon) {
    create_account(d, "acme", "staff", "sue");
    add_member(d, "acme", "al", "admin");
    add_member(d, "acme", "tim", "teammate");
    let project = d.call("POST", "/v1/accounts/acme/resources", None, Some(json!({ "resource": "project:p" })));
    assert_eq!(project.status, 201, "{}", project.text);
}

#[test]
fn hole07_lookup_subjects_never_names_the_protected_member() {
    for backend in backends() {
        let d = Daemon::start(&backend);
        staff(&d);
        let ask = json!({ "account": "acme", "permission": "member.view" });
        let by_admin = d.call("POST", "/v1/lookup/subjects", Some("al"), Some(ask.clone()));
        assert_eq!(by_admin.status, 200, "{}", by_admin.text);
        assert!(!by_admin.text.contains("sue"), "{backend:?}: {}", by_admin.text);
        assert!(by_admin.text.contains("al"));
        let by_platform = d.call("POST", "/v1/lookup/subjects", None, Some(ask));
        assert!(by_platform.text.contains("sue"), "the platform sees everyone: {}", by_platform.text);
    }
}

#[test]
fn hole07_grants_and_groups_treat_the_protected_member_as_a_stranger() {
    for backend in backends() {
        let d = Daemon::start(&backend);
        staff(&d);
        let grant = |who: &str| {
            d.call(
                "POST",
                "/v1/accounts/acme/grants",
                Some("al"),
                Some(
                    json!({ "subject": format!("principal:{who}"), "resource": "project:p", "role": "project_member" }),
                ),
            )
        };
        let (to_sue, to_nobody) = (grant("sue"), grant("nobody"));
        assert_eq!(to_sue.status, to_nobody.status, "{backend:?}: {}", to_sue.text);
        assert_eq!(to_sue.text.replace("sue", "X"), to_nobody.text.replace("nobody", "X"));
        assert_eq!(d.call("POST", "/v1/accounts/acme/groups", Some("al"), Some(json!({ "id": "crew" }))).status, 201);
        let join = |who: &str| d.call("PUT", &format!("/v1/accounts/acme/groups/crew/members/{who}"), Some("al"), None);
        let (sue, nobody) = (join("sue"), join("nobody"));
        assert_eq!((sue.status, sue.text.replace("sue", "X")), (nobody.status, nobody.text.replace("nobody", "X")));
    }
}

#[test]
fn hole08_a_resource_is_read_only_with_its_view_permission() {
    for backend in backends() {
        let d = Daemon::start(&backend);
        create_account(&d, "t", "workspace", "root");
        add_member(&d, "t", "una", "user");
        add_member(&d, "t", "vic", "user");
        let create = |who: &str, resource: &str, parent: Option<&str>| {
            let body = json!({ "resource": resource, "parent": parent });
            d.call("POST", "/v1/accounts/t/resources", Some(who), Some(body))
        };
        assert_eq!(create("una", "workspace:w", None).status, 201);
        assert_eq!(create("una", "project:secret", Some("workspace:w")).status, 201);
        let own = d.call("GET", "/v1/accounts/t/resources/workspace/w", Some("una"), None);
        assert_eq!(own.status, 200, "{}", own.text);
        assert_eq!(own.json()["children"], json!(["project:secret"]));
        let other = d.call("GET", "/v1/accounts/t/resources/workspace/w", Some("vic"), None);
        let missing = d.call("GET", "/v1/accounts/t/resources/workspace/zz", Some("vic"), None);
        assert_eq!(other.status, 404, "{backend:?}: another user's workspace: {}", other.text);
        assert_eq!(other.text.replace("workspace:w", "X"), missing.text.replace("workspace:zz", "X"));
        assert!(!other.text.contains("secret"));
    }
}

#[test]
fn hole08_another_tenant_answers_like_a_nonexistent_account() {
    for backend in backends() {
        let d = Daemon::start(&backend);
        create_account(&d, "a", "studio", "alice");
        create_account(&d, "b", "studio", "bob");
        let alice = principal_token(&d, "alice");
        let ask = |account: &str| {
            let body = json!({ "account": account, "principal": "alice", "permission": "billing.view" });
            as_token(&d, &alice, "POST", "/v1/check", body)
        };
        let (other, missing) = (ask("b"), ask("zz"));
        assert_eq!(other.status, 404, "{backend:?}: {}", other.text);
        assert_eq!(other.text.replace("`b`", "`X`"), missing.text.replace("`zz`", "`X`"));
        for path in ["/v1/accounts/b", "/v1/accounts/b/members", "/v1/accounts/b/roles"] {
            let (other, missing) = (
                as_token(&d, &alice, "GET", path, json!(null)),
                as_token(&d, &alice, "GET", &path.replace("/b", "/zz"), json!(null)),
            );
            assert_eq!(other.status, 404, "{path}: {}", other.text);
            assert_eq!(other.text.replace("`b`", "`X`"), missing.text.replace("`zz`", "`X`"), "{path}");
        }
        let own = ask("a");
        assert_eq!(own.status, 200, "{}", own.text);
    }
}

#[test]
fn hole14_a_grant_id_taken_in_one_tenant_is_free_in_another() {
    for backend in backends() {
        let d = Daemon::start(&backend);
        create_account(&d, "a", "studio", "alice");
        create_account(&d, "b", "studio", "bob");
        for account in ["a", "b"] {
            let body = json!({ "resource": "studio:s" });
            assert_eq!(d.call("POST", &format!("/v1/accounts/{account}/resources"), None, Some(body)).status, 201);
        }
        let grant = |account: &str, by: &str| {
            let body =
                json!({ "id": "shared", "subject": "principal:cli", "resource": "studio:s", "role": "studio_client" });
            d.call("POST", &format!("/v1/accounts/{account}/grants"), Some(by), Some(body))
        };
        assert_eq!(grant("a", "alice").status, 201);
        let other = grant("b", "bob");
        assert_eq!(other.status, 201, "{backend:?}: {}", other.text);
        assert_eq!(grant("a", "alice").status, 409, "taken in its own account");
        assert_eq!(d.call("DELETE", "/v1/accounts/b/grants/shared", Some("bob"), None).status, 200);
        let kept = d.call("GET", "/v1/accounts/a/grants", None, None);
        assert!(kept.text.contains("shared"), "{}", kept.text);
    }
}

#[test]
fn hole08_refused_writes_in_another_tenant_read_like_a_missing_account() {
    for backend in backends() {
        let d = Daemon::start(&backend);
        create_account(&d, "s1", "studio", "olivia");
        create_account(&d, "s2", "studio", "sam");
        let olivia = principal_token(&d, "olivia");
        let writes = |account: &str| {
            vec![
                (
                    "POST",
                    "/v1/accounts".to_owned(),
                    json!({ "id": format!("{account}.x"), "pack": "studio", "name": "X", "parent": account,
                            "owner": { "id": "olivia", "email": "olivia@example.com", "name": "O" } }),
                ),
                ("POST", format!("/v1/accounts/{account}/invites"), json!({ "email": "x@example.com" })),
                ("POST", format!("/v1/accounts/{account}/groups"), json!({ "id": "g" })),
                ("POST", format!("/v1/accounts/{account}/resources"), json!({ "resource": "pickaxe:p" })),
                ("DELETE", format!("/v1/accounts/{account}/members/sam"), json!(null)),
                ("DELETE", format!("/v1/accounts/{account}/invites/inv_1"), json!(null)),
            ]
        };
        for ((method, path, body), (_, missing_path, missing_body)) in writes("s2").into_iter().zip(writes("s3")) {
            let existing = as_token(&d, &olivia, method, &path, body);
            let missing = as_token(&d, &olivia, method, &missing_path, missing_body);
            assert_eq!(existing.status, 404, "{backend:?} {method} {path}: {}", existing.text);
            assert_eq!(
                existing.text.replace("s2", "s3"),
                missing.text,
                "{backend:?} {method} {path}: the same answer as for an account that does not exist"
            );
        }
    }
}

#[test]
fn hole08_a_move_naming_another_tenant_reads_like_a_missing_account() {
    for backend in backends() {
        let d = Daemon::start(&backend);
        create_account(&d, "s1", "studio", "olivia");
        create_account(&d, "acme", "studio", "sam");
        add_member(&d, "s1", "eve", "user");
        let eve = principal_token(&d, "eve");
        let probe = |to: &str| {
            let body = json!({ "to_account": to });
            as_token(&d, &eve, "POST", "/v1/accounts/s1/members/olivia/move", body)
        };
        let (existing, missing) = (probe("acme"), probe("nope"));
        assert_eq!(existing.status, 404, "{backend:?}: {}", existing.text);
        assert_eq!(existing.text.replace("acme", "nope"), missing.text, "{backend:?}");
    }
}

#[test]
fn hole08_decisions_about_a_resource_one_may_not_view_read_like_a_missing_resource() {
    for backend in backends() {
        let d = Daemon::start(&backend);
        create_account(&d, "s1", "studio", "olivia");
        add_member(&d, "s1", "ursula", "user");
        let studio = d.call("POST", "/v1/accounts/s1/resources", None, Some(json!({ "resource": "studio:secret" })));
        assert_eq!(studio.status, 201, "{}", studio.text);
        let ursula = principal_token(&d, "ursula");
        for (path, body) in [
            (
                "/v1/check",
                json!({ "account": "s1", "principal": "ursula", "permission": "studio.edit", "resource": "studio:RES" }),
            ),
            (
                "/v1/check",
                json!({ "account": "s1", "principal": "ursula", "permission": "studio.edit", "resource": "studio:RES", "explain": true }),
            ),
            ("/v1/permissions", json!({ "account": "s1", "principal": "ursula", "resource": "studio:RES" })),
        ] {
            let ask = |name: &str| {
                let body: serde_json::Value =
                    serde_json::from_str(&body.to_string().replace("RES", name)).expect("json");
                as_token(&d, &ursula, "POST", path, body)
            };
            let (hidden, missing) = (ask("secret"), ask("nothing"));
            assert_eq!(hidden.status, 404, "{backend:?} {path}: {}", hidden.text);
            assert_eq!(hidden.text.replace("secret", "nothing"), missing.text, "{backend:?} {path}");
        }
        // What she may view she may ask about.
        let body = json!({ "resource": "pickaxe:p", "parent": "studio:secret" });
        let pickaxe = d.call("POST", "/v1/accounts/s1/resources", None, Some(body));
        assert_eq!(pickaxe.status, 201, "{}", pickaxe.text);
        let own =
            json!({ "account": "s1", "principal": "ursula", "permission": "pickaxe.use", "resource": "pickaxe:p" });
        let r = as_token(&d, &ursula, "POST", "/v1/check", own);
        assert_eq!((r.status, r.json()["allowed"].as_bool()), (200, Some(true)), "{}", r.text);
    }
}
