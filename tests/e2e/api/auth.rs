//! Authentication and isolation over HTTP: no token, principal tokens, revocation, and no
//! token ever stored in clear.

use roster_e2e::daemon::{Backend, Daemon, backends};
use roster_e2e::http::send;
use serde_json::json;

use super::{add_member, create_account};

/// One request per `/v1` route of API.md.
const V1_ROUTES: &[(&str, &str)] = &[
    ("GET", "/v1/packs"),
    ("GET", "/v1/packs/studio"),
    ("GET", "/v1/packs/studio/matrix"),
    ("POST", "/v1/accounts"),
    ("GET", "/v1/accounts/a"),
    ("GET", "/v1/accounts/a/children"),
    ("PUT", "/v1/principals/p"),
    ("GET", "/v1/principals/p"),
    ("GET", "/v1/accounts/a/members"),
    ("POST", "/v1/accounts/a/members"),
    ("GET", "/v1/accounts/a/members/p"),
    ("PATCH", "/v1/accounts/a/members/p"),
    ("DELETE", "/v1/accounts/a/members/p"),
    ("POST", "/v1/accounts/a/members/p/restore"),
    ("POST", "/v1/accounts/a/members/p/move"),
    ("POST", "/v1/accounts/a/transfer-ownership"),
    ("POST", "/v1/accounts/a/masquerade"),
    ("POST", "/v1/accounts/a/invites"),
    ("GET", "/v1/accounts/a/invites"),
    ("DELETE", "/v1/accounts/a/invites/i"),
    ("POST", "/v1/invites/accept"),
    ("POST", "/v1/accounts/a/resources"),
    ("GET", "/v1/accounts/a/resources/t/r"),
    ("DELETE", "/v1/accounts/a/resources/t/r"),
    ("GET", "/v1/accounts/a/grants"),
    ("POST", "/v1/accounts/a/grants"),
    ("DELETE", "/v1/accounts/a/grants/g"),
    ("POST", "/v1/accounts/a/groups"),
    ("GET", "/v1/accounts/a/groups"),
    ("PUT", "/v1/accounts/a/groups/g/members/p"),
    ("DELETE", "/v1/accounts/a/groups/g/members/p"),
    ("POST", "/v1/accounts/a/roles"),
    ("GET", "/v1/accounts/a/roles"),
    ("DELETE", "/v1/accounts/a/roles/r"),
    ("POST", "/v1/check"),
    ("POST", "/v1/check/batch"),
    ("POST", "/v1/permissions"),
    ("POST", "/v1/lookup/resources"),
    ("POST", "/v1/lookup/subjects"),
    ("GET", "/v1/accounts/a/audit"),
    ("GET", "/v1/accounts/a/audit/verify"),
    ("POST", "/v1/tokens"),
    ("DELETE", "/v1/tokens/t"),
];

#[test]
fn every_v1_route_needs_a_token() {
    let d = Daemon::start(&Backend::Sqlite);
    for (method, path) in V1_ROUTES {
        let r = send(&d.address, method, path, &[], b"{}");
        assert_eq!((r.status, r.code().as_str()), (401, "unauthenticated"), "{method} {path}: {}", r.text);
        assert_eq!(r.header("content-type"), Some("application/problem+json"));
        let bad = send(&d.address, method, path, &[("Authorization", "Bearer rst_0000_1111")], b"{}");
        assert_eq!(bad.status, 401, "{method} {path} with an unknown token");
    }
    assert_eq!(send(&d.address, "GET", "/healthz", &[], b"").status, 200, "health needs no token");
    assert_eq!(send(&d.address, "GET", "/readyz", &[], b"").status, 200);
}

pub(crate) fn principal_token(d: &Daemon, principal: &str) -> String {
    let r =
        d.call("POST", "/v1/tokens", None, Some(json!({ "name": format!("for-{principal}"), "principal": principal })));
    assert_eq!(r.status, 201, "{}", r.text);
    r.json()["token"].as_str().expect("token").to_owned()
}

pub(crate) fn as_token(
    d: &Daemon,
    token: &str,
    method: &str,
    path: &str,
    body: serde_json::Value,
) -> roster_e2e::http::Response {
    let bearer = format!("Bearer {token}");
    send(&d.address, method, path, &[("Authorization", &bearer)], body.to_string().as_bytes())
}

#[test]
fn a_principal_token_of_one_account_reads_nothing_of_another() {
    for backend in backends() {
        let d = Daemon::start(&backend);
        create_account(&d, "a", "studio", "alice");
        create_account(&d, "b", "studio", "bob");
        add_member(&d, "b", "bert", "user");
        let alice = principal_token(&d, "alice");
        assert_eq!(as_token(&d, &alice, "GET", "/v1/accounts/a/members", json!(null)).status, 200);
        for path in [
            "/v1/accounts/b",
            "/v1/accounts/b/members",
            "/v1/accounts/b/members/bert",
            "/v1/accounts/b/grants",
            "/v1/accounts/b/roles",
            "/v1/accounts/b/audit",
            "/v1/accounts/b/groups",
        ] {
            let r = as_token(&d, &alice, "GET", path, json!(null));
            assert!(r.status == 403 || r.status == 404, "{path}: {} {}", r.status, r.text);
            assert!(!r.text.contains("bert") && !r.text.contains("bob"), "{path} leaked: {}", r.text);
        }
        let about_bob = as_token(
            &d,
            &alice,
            "POST",
            "/v1/check",
            json!({ "account": "b", "principal": "bob", "permission": "billing.view" }),
        );
        assert_eq!(about_bob.status, 403);
        let profile = as_token(&d, &alice, "GET", "/v1/principals/bert", json!(null));
        assert_eq!(profile.status, 404, "{}", profile.text);
        let act_as = send(
            &d.address,
            "GET",
            "/v1/accounts/a",
            &[("Authorization", &format!("Bearer {alice}")), ("Roster-Act-As", "bob")],
            b"",
        );
        assert_eq!(act_as.status, 403, "a principal token cannot act as someone else");
        let mint = as_token(&d, &alice, "POST", "/v1/tokens", json!({ "name": "mine" }));
        assert_eq!(mint.status, 403);
    }
}

#[test]
fn a_revoked_token_stops_working_at_once() {
    let d = Daemon::start(&Backend::Sqlite);
    let created = d.call("POST", "/v1/tokens", None, Some(json!({ "name": "backend-2" })));
    let (id, token) = (
        created.json()["id"].as_str().expect("id").to_owned(),
        created.json()["token"].as_str().expect("token").to_owned(),
    );
    assert_eq!(as_token(&d, &token, "GET", "/v1/packs", json!(null)).status, 200);
    assert_eq!(d.call("DELETE", &format!("/v1/tokens/{id}"), None, None).status, 200);
    let after = as_token(&d, &token, "GET", "/v1/packs", json!(null));
    assert_eq!((after.status, after.code().as_str()), (401, "unauthenticated"));
}

#[test]
fn the_database_holds_no_token_in_clear() {
    let mut d = Daemon::start(&Backend::Sqlite);
    let created = d.call("POST", "/v1/tokens", None, Some(json!({ "name": "backend-3" })));
    let token = created.json()["token"].as_str().expect("token").to_owned();
    create_account(&d, "s", "studio", "sam");
    let invite = d.call("POST", "/v1/accounts/s/invites", None, Some(json!({ "email": "x@example.com" })));
    let invite_token = invite.json()["token"].as_str().expect("invite token").to_owned();
    assert!(d.stop());
    let path = d.database_url.trim_start_matches("sqlite://").split('?').next().expect("path").to_owned();
    let mut bytes = std::fs::read(&path).expect("database file");
    if let Ok(wal) = std::fs::read(format!("{path}-wal")) {
        bytes.extend(wal);
    }
    for (what, secret) in [("service token", &token), ("bootstrap token", &d.token), ("invite token", &invite_token)] {
        let secret_part = secret.rsplit('_').next().expect("secret part");
        let found = bytes.windows(secret_part.len()).any(|w| w == secret_part.as_bytes());
        assert!(!found, "the {what}'s secret is stored in clear");
    }
}

#[cfg(unix)]
#[test]
fn the_bootstrap_token_file_is_readable_by_its_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let d = Daemon::start(&Backend::Sqlite);
    let metadata = std::fs::metadata(d.data_dir().join("bootstrap-token")).expect("bootstrap token file");
    assert_eq!(metadata.permissions().mode() & 0o777, 0o600);
    let bearer = format!("Bearer {}", d.token);
    assert_eq!(
        send(&d.address, "GET", "/v1/packs", &[("Authorization", &bearer)], b"").status,
        200,
        "the written token works"
    );
}
