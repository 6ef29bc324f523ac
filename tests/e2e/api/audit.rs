//! The audit trails over HTTP (issue 8, holes 7, 9, 17, 19): every change in every account
//! it touches with the real actor, a platform trail for tokens and profiles, actor names
//! no id can forge, a deleted tail detected, and no event naming a protected member shown
//! to anyone but the platform.

use roster_e2e::daemon::{Daemon, backends};
use serde_json::{Value, json};

use super::auth::{as_token, principal_token};
use super::{add_member, create_account};

/// All events of an account's trail as the platform sees them.
fn events(d: &Daemon, account: &str) -> Vec<Value> {
    let r = d.call("GET", &format!("/v1/accounts/{account}/audit?limit=1000"), None, None);
    assert_eq!(r.status, 200, "{}", r.text);
    r.json()["items"].as_array().cloned().unwrap_or_default()
}

/// The platform trail.
fn platform(d: &Daemon) -> Vec<Value> {
    let r = d.call("GET", "/v1/audit?limit=1000", None, None);
    assert_eq!(r.status, 200, "{}", r.text);
    r.json()["items"].as_array().cloned().unwrap_or_default()
}

fn actions(events: &[Value]) -> Vec<&str> {
    events.iter().filter_map(|e| e["action"].as_str()).collect()
}

#[test]
fn hole09_a_move_and_a_child_account_are_recorded_in_both_accounts() {
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
        let parent = events(&d, "ag");
        assert_eq!(actions(&parent), ["account.create", "account.create", "account.create"], "{backend:?}");
        assert_eq!(parent[1]["target"], "account:ag.c1");
        assert_eq!(parent[1]["actor"], "principal:ann via service:bootstrap");
        assert_eq!(actions(&events(&d, "ag.c1")), ["account.create"]);

        add_member(&d, "ag.c1", "vic", "viewer");
        let body = json!({ "to_account": "ag.c2", "role": "collaborator" });
        let moved = d.call("POST", "/v1/accounts/ag.c1/members/vic/move", Some("ann"), Some(body));
        assert_eq!(moved.status, 200, "{}", moved.text);
        for account in ["ag.c1", "ag.c2"] {
            let trail = events(&d, account);
            let last = trail.last().expect("an event");
            assert_eq!(
                (last["action"].as_str(), last["target"].as_str()),
                (Some("member.move"), Some("principal:vic"))
            );
            assert_eq!(last["actor"], "principal:ann via service:bootstrap", "{backend:?} {account}");
            assert_eq!(last["before"][0]["membership"]["account"], "ag.c1", "{account}: {last}");
            let verify = d.call("GET", &format!("/v1/accounts/{account}/audit/verify"), None, None).json();
            assert_eq!(verify["ok"], true, "{account}: {verify}");
        }
        assert_eq!(events(&d, "ag.c2")[0]["action"], "account.create", "the destination's own chain");
    }
}

#[test]
fn hole09_a_resource_delete_records_what_goes_with_it() {
    for backend in backends() {
        let d = Daemon::start(&backend);
        create_account(&d, "t", "workspace", "root");
        add_member(&d, "t", "vic", "user");
        for (resource, parent) in [("workspace:w", None), ("project:p", Some("workspace:w"))] {
            let body = json!({ "resource": resource, "parent": parent, "owner": "root" });
            let r = d.call("POST", "/v1/accounts/t/resources", None, Some(body));
            assert_eq!(r.status, 201, "{}", r.text);
        }
        let body =
            json!({ "id": "gw", "subject": "principal:vic", "resource": "workspace:w", "role": "workspace_member" });
        let grant = d.call("POST", "/v1/accounts/t/grants", None, Some(body));
        assert_eq!(grant.status, 201, "{}", grant.text);
        assert_eq!(d.call("DELETE", "/v1/accounts/t/resources/workspace/w", None, None).status, 200);
        let trail = events(&d, "t");
        let delete = trail.last().expect("an event");
        assert_eq!(delete["action"], "resource.delete");
        let before = &delete["before"][0];
        assert_eq!(before["resource"]["resource"], "workspace:w", "{backend:?}: {delete}");
        assert_eq!(before["resource"]["owner"], "root");
        assert_eq!(before["descendants"][0]["resource"], "project:p", "{delete}");
        assert_eq!(before["grants"][0]["id"], "gw", "{delete}");
        assert_eq!(before["grants"][0]["subject"], "principal:vic");
    }
}

#[test]
fn hole09_invite_accept_names_the_real_caller() {
    for backend in backends() {
        let d = Daemon::start(&backend);
        create_account(&d, "s1", "studio", "olivia");
        let invite = |email: &str| {
            let body = json!({ "email": email, "role": "admin" });
            let r = d.call("POST", "/v1/accounts/s1/invites", Some("olivia"), Some(body));
            assert_eq!(r.status, 201, "{}", r.text);
            r.json()["token"].as_str().expect("token").to_owned()
        };
        let accept = |token: &str, id: &str| json!({ "token": token, "principal": { "id": id, "email": format!("{id}@example.com"), "name": id } });
        // Principals with an address on record (the platform sets it).
        for id in ["adam", "bea"] {
            let profile = json!({ "email": format!("{id}@example.com"), "name": id });
            assert_eq!(d.call("PUT", &format!("/v1/principals/{id}"), None, Some(profile)).status, 200);
        }
        // A principal's own token.
        let adam = principal_token(&d, "adam");
        let r = as_token(&d, &adam, "POST", "/v1/invites/accept", accept(&invite("adam@example.com"), "adam"));
        assert_eq!(r.status, 200, "{}", r.text);
        // A service token acting as the principal.
        let token = invite("bea@example.com");
        let r = d.call("POST", "/v1/invites/accept", Some("bea"), Some(accept(&token, "bea")));
        assert_eq!(r.status, 200, "{}", r.text);
        let accepted: Vec<Value> = events(&d, "s1").into_iter().filter(|e| e["action"] == "invite.accept").collect();
        let actors: Vec<&str> = accepted.iter().filter_map(|e| e["actor"].as_str()).collect();
        assert_eq!(actors, ["principal:adam", "principal:bea via service:bootstrap"], "{backend:?}: never the inviter");
    }
}

#[test]
fn hole09_tokens_and_profiles_go_to_the_platform_trail() {
    for backend in backends() {
        let d = Daemon::start(&backend);
        let created = d.call("POST", "/v1/tokens", None, Some(json!({ "name": "backend-2" })));
        assert_eq!(created.status, 201, "{}", created.text);
        let token_id = created.json()["id"].as_str().expect("id").to_owned();
        assert_eq!(d.call("DELETE", &format!("/v1/tokens/{token_id}"), None, None).status, 200);
        create_account(&d, "s1", "studio", "olivia");
        let body = json!({ "email": "o@example.com", "name": "Olivia O." });
        assert_eq!(d.call("PUT", "/v1/principals/olivia", None, Some(body)).status, 200);

        let trail = platform(&d);
        assert_eq!(
            actions(&trail),
            ["token.create", "token.create", "token.revoke", "principal.create", "principal.update"],
            "{backend:?}"
        );
        assert_eq!(trail[0]["actor"], "system:bootstrap", "the first-run token");
        assert_eq!(trail[1]["actor"], "service:bootstrap");
        assert_eq!(trail[1]["target"], format!("token:{token_id}"));
        assert_eq!(trail[1]["after"]["name"], "backend-2");
        assert!(!trail[1].to_string().contains("secret"), "no secret, no hash of one: {}", trail[1]);
        assert_eq!(trail[2]["before"]["name"], "backend-2");
        // The account's new owner got a profile: that is recorded too, in the same trail.
        assert_eq!(trail[3]["target"], "principal:olivia");
        assert_eq!(trail[3]["after"], json!({ "email": "olivia@example.com", "name": "olivia" }));
        assert_eq!(trail[4]["before"], json!({ "email": "olivia@example.com", "name": "olivia" }));
        assert_eq!(trail[4]["after"], json!({ "email": "o@example.com", "name": "Olivia O." }));
        assert!(!actions(&events(&d, "s1")).contains(&"principal.update"), "profiles belong to no account");
        assert_eq!(d.call("GET", "/v1/audit/verify", None, None).json(), json!({ "ok": true, "events": 5 }));

        // Pages by cursor.
        let first = d.call("GET", "/v1/audit?limit=3", None, None).json();
        assert_eq!(first["items"].as_array().map(Vec::len), Some(3));
        let cursor = first["next_cursor"].as_str().expect("a next page").to_owned();
        let second = d.call("GET", &format!("/v1/audit?limit=3&cursor={cursor}"), None, None).json();
        assert_eq!(actions(second["items"].as_array().expect("items")), ["principal.create", "principal.update"]);
        assert_eq!(second["next_cursor"], Value::Null);

        // The platform's only: a principal token, or a service token acting as one.
        let olivia = principal_token(&d, "olivia");
        for path in ["/v1/audit", "/v1/audit/verify"] {
            let r = as_token(&d, &olivia, "GET", path, Value::Null);
            assert_eq!((r.status, r.code().as_str()), (403, "forbidden"), "{path}: {}", r.text);
            assert_eq!(d.call("GET", path, Some("olivia"), None).status, 403, "{path} acting as olivia");
        }
        // The platform reads its own trail with the same strictness as an account's.
        assert_eq!(d.call("GET", "/v1/audit?cursor=x", None, None).status, 400);
    }
}

#[test]
fn hole17_a_principal_named_like_a_service_is_logged_as_a_principal() {
    for backend in backends() {
        let d = Daemon::start(&backend);
        create_account(&d, "t", "workspace", "root");
        add_member(&d, "t", "service:bootstrap", "user");
        let spoof = principal_token(&d, "service:bootstrap");
        let r = as_token(&d, &spoof, "POST", "/v1/accounts/t/resources", json!({ "resource": "workspace:w" }));
        assert_eq!(r.status, 201, "{}", r.text);
        let trail = events(&d, "t");
        let created = trail.last().expect("an event");
        assert_eq!(created["actor"], "principal:service:bootstrap", "{backend:?}");
        assert_eq!(trail[0]["actor"], "service:bootstrap", "the platform, for comparison");
        // Service token names cannot carry a name-space separator.
        for name in ["a:b", "x via service:y", ""] {
            let r = d.call("POST", "/v1/tokens", None, Some(json!({ "name": name })));
            assert_eq!((r.status, r.code().as_str()), (400, "invalid_input"), "{name:?}: {}", r.text);
        }
    }
}

#[test]
fn hole19_deleting_the_last_audit_event_is_detected_over_http() {
    for backend in backends() {
        let d = Daemon::start(&backend);
        create_account(&d, "s1", "studio", "olivia");
        add_member(&d, "s1", "adam", "admin");
        assert_eq!(
            d.call("GET", "/v1/accounts/s1/audit/verify", None, None).json(),
            json!({ "ok": true, "events": 2 })
        );
        d.sql("DELETE FROM audit_events WHERE account_id = 's1' AND seq = 2");
        let verify = d.call("GET", "/v1/accounts/s1/audit/verify", None, None).json();
        assert_eq!(
            verify,
            json!({ "ok": false, "events": 1, "first_bad_seq": 2, "problem": "truncated", "head_seq": 2 }),
            "{backend:?}"
        );
        let as_owner = d.call("GET", "/v1/accounts/s1/audit/verify", Some("olivia"), None).json();
        assert_eq!(as_owner, json!({ "ok": false, "problem": "truncated" }));
    }
}

#[test]
fn hole07_audit_events_naming_the_protected_member_are_not_shown() {
    for backend in backends() {
        let d = Daemon::start(&backend);
        create_account(&d, "acme", "staff", "sue");
        let r = d.call(
            "POST",
            "/v1/accounts/acme/members",
            Some("sue"),
            Some(json!({ "principal": "al", "role": "admin" })),
        );
        assert_eq!(r.status, 201, "{}", r.text);
        add_member(&d, "acme", "tim", "teammate");
        let all = events(&d, "acme");
        assert_eq!(all.len(), 3);
        assert!(all[0].to_string().contains("\"sue\"") && all[1]["actor"].as_str().is_some_and(|a| a.contains("sue")));

        let by_admin = d.call("GET", "/v1/accounts/acme/audit", Some("al"), None);
        assert_eq!(by_admin.status, 200, "{}", by_admin.text);
        assert!(!by_admin.text.contains("sue"), "{backend:?}: {}", by_admin.text);
        let items = by_admin.json()["items"].as_array().cloned().unwrap_or_default();
        assert_eq!(actions(&items), ["member.add"], "only tim's addition");
        assert_eq!(items[0]["target"], "principal:tim");
        assert!(items[0].get("seq").is_none() && items[0].get("hash").is_none(), "no positions: {}", items[0]);
        // Paging one by one shows nothing more.
        let page = d.call("GET", "/v1/accounts/acme/audit?limit=1", Some("al"), None).json();
        assert_eq!((page["items"].as_array().map(Vec::len), &page["next_cursor"]), (Some(1), &Value::Null));
        // Filtering by the protected member's name finds nothing, as for a stranger.
        let by_actor =
            d.call("GET", "/v1/accounts/acme/audit?actor=principal:sue%20via%20service:bootstrap", Some("al"), None);
        assert_eq!(by_actor.json()["items"], json!([]));
        let verify = d.call("GET", "/v1/accounts/acme/audit/verify", Some("al"), None);
        assert_eq!(verify.json(), json!({ "ok": true }), "no count of events: {}", verify.text);
        // The protected member and the platform see everything.
        let own = d.call("GET", "/v1/accounts/acme/audit", Some("sue"), None).json();
        assert_eq!(own["items"].as_array().map(Vec::len), Some(3), "{own}");
        let al = principal_token(&d, "al");
        let with_token = as_token(&d, &al, "GET", "/v1/accounts/acme/audit", Value::Null);
        assert!(!with_token.text.contains("sue"), "{}", with_token.text);
    }
}

#[test]
fn hole19_a_keyed_trail_over_http() {
    for backend in backends() {
        let key = tempfile::NamedTempFile::new().expect("key file");
        std::fs::write(key.path(), b"an audit key of at least 32 bytes, kept apart").expect("write key");
        let extra = format!("\n[audit]\nkey_file = {:?}\n", key.path().display().to_string());
        let d = Daemon::start_with(&backend, &extra);
        create_account(&d, "s1", "studio", "olivia");
        let trail = events(&d, "s1");
        assert!(trail[0]["hash"].as_str().is_some_and(|h| h.starts_with("hmac-sha256:")), "{backend:?}: {}", trail[0]);
        assert!(platform(&d)[0]["hash"].as_str().is_some_and(|h| h.starts_with("hmac-sha256:")));
        assert_eq!(
            d.call("GET", "/v1/accounts/s1/audit/verify", None, None).json(),
            json!({ "ok": true, "events": 1 })
        );
        // Rewritten with a plain hash by someone without the key: caught.
        d.sql("UPDATE audit_events SET hash = 'abc' WHERE account_id = 's1'");
        d.sql("UPDATE audit_heads SET hash = 'abc' WHERE chain = 's1'");
        let verify = d.call("GET", "/v1/accounts/s1/audit/verify", None, None).json();
        assert_eq!((&verify["ok"], &verify["problem"]), (&json!(false), &json!("unkeyed")), "{verify}");
    }
}

#[test]
fn hole09_tokens_made_on_the_command_line_are_in_the_platform_trail() {
    let d = Daemon::start(&roster_e2e::daemon::Backend::Sqlite);
    let output = d.cli(&["token", "create", "--service", "ops"]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let last = platform(&d).pop().expect("an event");
    assert_eq!((last["actor"].as_str(), last["action"].as_str()), (Some("system:cli"), Some("token.create")));
    assert_eq!(last["after"]["name"], "ops");
    let refused = d.cli(&["token", "create", "--service", "principal:x"]);
    assert!(!refused.status.success(), "a service name that could pass for another name space");
    assert_eq!(d.call("GET", "/v1/audit/verify", None, None).json()["ok"], true);
}
