//! Bad input on the endpoints: each gives its documented status and code, names the
//! offending field, and leaves the database exactly as it was.

use roster_e2e::daemon::{Daemon, backends};
use serde_json::json;

use super::{add_member, create_account};

#[test]
fn bad_input_is_refused_with_its_code_and_changes_nothing() {
    for backend in backends() {
        let d = Daemon::start_with(&backend, "body_limit_bytes = 4096\nbatch_limit = 5");
        create_account(&d, "s1", "studio", "olivia");
        add_member(&d, "s1", "uma", "user");
        let before = d.dump();
        let bearer = format!("Bearer {}", d.token);
        let auth = [("Authorization", bearer.as_str())];
        let big = format!("{{\"principal\":\"{}\"}}", "x".repeat(5000));
        let raw_cases: Vec<(&str, &str, String, u16, &str, &str)> = vec![
            ("POST", "/v1/accounts/s1/members", "{not json".into(), 400, "invalid_input", "body"),
            ("POST", "/v1/accounts/s1/members", "".into(), 400, "invalid_input", "JSON body"),
            ("POST", "/v1/accounts/s1/members", big, 413, "payload_too_large", "4096"),
            (
                "POST",
                "/v1/accounts/s1/members",
                r#"{"principal":"a"} trailing"#.into(),
                400,
                "invalid_input",
                "trailing",
            ),
        ];
        for (method, path, body, status, code, mentions) in raw_cases {
            let r = d.raw(method, path, &auth, body.as_bytes());
            assert_eq!((r.status, r.code().as_str()), (status, code), "{method} {path} {body:.40}: {}", r.text);
            assert!(r.json()["detail"].as_str().unwrap_or_default().contains(mentions), "{}", r.text);
        }
        let cases = vec![
            ("POST", "/v1/accounts/s1/members", json!({ "principal": 5 }), 400, "invalid_input", "principal"),
            (
                "POST",
                "/v1/accounts/s1/members",
                json!({ "principal": "p", "colour": "red" }),
                400,
                "invalid_input",
                "colour",
            ),
            ("POST", "/v1/accounts/s1/members", json!({ "principal": "has space" }), 400, "invalid_input", "principal"),
            (
                "POST",
                "/v1/accounts/s1/members",
                json!({ "principal": "p", "role": "wizard" }),
                404,
                "not_found",
                "wizard",
            ),
            ("POST", "/v1/accounts/s1/members", json!({ "principal": "uma" }), 409, "conflict", "already"),
            ("POST", "/v1/accounts/nope/members", json!({ "principal": "p" }), 404, "not_found", "nope"),
            ("POST", "/v1/accounts/bad%20id/members", json!({ "principal": "p" }), 400, "invalid_input", "account"),
            (
                "POST",
                "/v1/accounts",
                json!({ "id": "x", "pack": "chess", "name": "X", "owner": { "id": "o", "email": "o@example.com", "name": "O" } }),
                404,
                "not_found",
                "chess",
            ),
            (
                "POST",
                "/v1/accounts",
                json!({ "id": "x", "pack": "studio", "name": "X", "owner": { "id": "o", "email": "not-an-email", "name": "O" } }),
                400,
                "invalid_input",
                "owner.email",
            ),
            (
                "POST",
                "/v1/accounts",
                json!({ "id": "s1", "pack": "studio", "name": "Again", "owner": { "id": "o", "email": "o@example.com", "name": "O" } }),
                409,
                "conflict",
                "s1",
            ),
            ("PATCH", "/v1/accounts/s1/members/uma", json!({ "role": 7 }), 400, "invalid_input", "role"),
            ("PATCH", "/v1/accounts/s1/members/olivia", json!({ "role": "user" }), 422, "policy_violation", "transfer"),
            ("POST", "/v1/accounts/s1/resources", json!({ "resource": "pickaxe" }), 400, "invalid_input", "resource"),
            ("POST", "/v1/accounts/s1/resources", json!({ "resource": "pickaxe:1" }), 400, "invalid_input", "studio"),
            (
                "POST",
                "/v1/accounts/s1/grants",
                json!({ "subject": "alien:x", "role": "user" }),
                400,
                "invalid_input",
                "subject",
            ),
            (
                "POST",
                "/v1/accounts/s1/invites",
                json!({ "email": "x@example.com", "expires_in_s": -5 }),
                400,
                "invalid_input",
                "expires_in_s",
            ),
            (
                "POST",
                "/v1/check",
                json!({ "account": "s1", "principal": "uma", "permission": "pickaxe.fly" }),
                400,
                "invalid_input",
                "pickaxe.fly",
            ),
            (
                "POST",
                "/v1/check",
                json!({ "account": "s1", "principal": "uma", "permission": "pickaxe.view", "min_revision": 999_999 }),
                409,
                "stale",
                "min_revision",
            ),
            (
                "POST",
                "/v1/check/batch",
                json!({ "checks": vec![json!({ "account": "s1", "principal": "uma", "permission": "pickaxe.view" }); 6] }),
                400,
                "invalid_input",
                "checks",
            ),
            ("GET", "/v1/accounts/s1/members?status=maybe", json!(null), 400, "invalid_input", "status"),
            ("GET", "/v1/accounts/s1/members?limit=0", json!(null), 400, "invalid_input", "limit"),
            ("GET", "/v1/accounts/s1/members?colour=red", json!(null), 400, "invalid_input", "colour"),
            ("GET", "/v1/packs/studio/matrix?format=pdf", json!(null), 400, "invalid_input", "format"),
            ("GET", "/v1/nowhere", json!(null), 404, "not_found", "nowhere"),
            ("PUT", "/v1/check", json!(null), 405, "method_not_allowed", "PUT"),
        ];
        for (method, path, body, status, code, mentions) in cases {
            let r = d.call(method, path, None, (!body.is_null()).then_some(body.clone()));
            assert_eq!((r.status, r.code().as_str()), (status, code), "{backend:?} {method} {path} {body}: {}", r.text);
            assert!(
                r.json()["detail"].as_str().unwrap_or_default().contains(mentions),
                "{method} {path}: detail should mention {mentions}: {}",
                r.text
            );
            assert!(r.header("roster-request-id").is_some());
        }
        assert_eq!(d.dump(), before, "{backend:?}: nothing was written by any refused request");
    }
}

#[test]
fn request_ids_are_echoed_and_validated() {
    let d = Daemon::start(&roster_e2e::daemon::Backend::Sqlite);
    let bearer = format!("Bearer {}", d.token);
    let r = d.raw("GET", "/v1/packs", &[("Authorization", &bearer), ("Roster-Request-Id", "trace-me-42")], b"");
    assert_eq!(r.header("roster-request-id"), Some("trace-me-42"));
    let bad = d.raw("GET", "/v1/packs", &[("Authorization", &bearer), ("Roster-Request-Id", "bad id")], b"");
    assert_eq!(bad.status, 400);
}

/// Every endpoint that takes a JSON body.
const BODY_ENDPOINTS: &[(&str, &str)] = &[
    ("POST", "/v1/accounts"),
    ("PUT", "/v1/principals/p1"),
    ("POST", "/v1/accounts/s1/members"),
    ("PATCH", "/v1/accounts/s1/members/uma"),
    ("POST", "/v1/accounts/s1/members/uma/move"),
    ("POST", "/v1/accounts/s1/transfer-ownership"),
    ("POST", "/v1/accounts/s1/masquerade"),
    ("POST", "/v1/accounts/s1/invites"),
    ("POST", "/v1/invites/accept"),
    ("POST", "/v1/accounts/s1/resources"),
    ("POST", "/v1/accounts/s1/grants"),
    ("POST", "/v1/accounts/s1/groups"),
    ("POST", "/v1/accounts/s1/roles"),
    ("POST", "/v1/check"),
    ("POST", "/v1/check/batch"),
    ("POST", "/v1/permissions"),
    ("POST", "/v1/lookup/resources"),
    ("POST", "/v1/lookup/subjects"),
    ("POST", "/v1/tokens"),
];

#[test]
fn every_body_endpoint_refuses_malformed_json_and_unknown_fields() {
    for backend in backends() {
        let d = Daemon::start(&backend);
        create_account(&d, "s1", "studio", "olivia");
        add_member(&d, "s1", "uma", "user");
        let before = d.dump();
        let bearer = format!("Bearer {}", d.token);
        for (method, path) in BODY_ENDPOINTS {
            for (body, mentions) in
                [("{\"principal\": ", "not valid JSON"), ("{\"zzz_unknown\": 1}", "zzz_unknown"), ("[1, 2]", "body")]
            {
                let r = d.raw(method, path, &[("Authorization", &bearer)], body.as_bytes());
                assert_eq!(
                    (r.status, r.code().as_str()),
                    (400, "invalid_input"),
                    "{backend:?} {method} {path} {body}: {}",
                    r.text
                );
                assert!(
                    r.json()["detail"].as_str().unwrap_or_default().contains(mentions),
                    "{method} {path} {body}: {}",
                    r.text
                );
            }
        }
        assert_eq!(d.dump(), before, "{backend:?}: refused bodies wrote nothing");
    }
}

#[test]
fn escaped_ids_in_a_check_body_mean_the_same_as_plain_ones() {
    let d = Daemon::start(&roster_e2e::daemon::Backend::Sqlite);
    create_account(&d, "s1", "studio", "olivia");
    add_member(&d, "s1", "uma", "user");
    let bearer = format!("Bearer {}", d.token);
    let auth = [("Authorization", bearer.as_str())];
    let plain = r#"{"checks":[{"account":"s1","principal":"uma","permission":"pickaxe.view"},{"account":"s1","principal":"uma","permission":"billing.view"}]}"#;
    let escaped = r#"{"checks":[{"account":"s\u0031","principal":"\u0075ma","permission":"pickaxe.view"},{"account":"s1","principal":"um\u0061","permission":"billing\u002eview"}]}"#;
    let answers = |body: &str| {
        let r = d.raw("POST", "/v1/check/batch", &auth, body.as_bytes());
        assert_eq!(r.status, 200, "{}", r.text);
        r.json()["results"].clone()
    };
    let expected = json!([{ "allowed": true }, { "allowed": false }]);
    assert_eq!(answers(plain), expected);
    assert_eq!(answers(escaped), expected);
}
