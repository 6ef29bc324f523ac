//! Durability: every decision is the same after a restart (the snapshot is rebuilt from
//! the database), and the audit chain catches rows edited behind the daemon's back.

use roster_e2e::daemon::{Daemon, backends};
use serde_json::json;

use super::{add_external, add_member, create_account};

pub(crate) fn all_decisions(d: &Daemon) -> Vec<bool> {
    let mut checks = Vec::new();
    for principal in ["olivia", "adam", "mia", "uma", "pat", "nobody"] {
        for permission in ["pickaxe.view", "pickaxe.edit", "billing.view", "grant.manage", "studio.analytics.view"] {
            for resource in [None, Some("studio:a"), Some("pickaxe:mine"), Some("pickaxe:theirs")] {
                checks.push(
                    json!({ "account": "s1", "principal": principal, "permission": permission, "resource": resource }),
                );
            }
        }
    }
    let mut results = Vec::new();
    for chunk in checks.chunks(100) {
        let r = d.call("POST", "/v1/check/batch", None, Some(json!({ "checks": chunk })));
        assert_eq!(r.status, 200, "{}", r.text);
        results.extend(
            r.json()["results"].as_array().expect("results").iter().map(|x| x["allowed"].as_bool().expect("bool")),
        );
    }
    results
}

/// Builds an account with every kind of state: members of each role, an external
/// member, resources with owners, grants (one expired), a custom role held by a member.
pub(crate) fn populate(d: &Daemon) {
    create_account(d, "s1", "studio", "olivia");
    add_member(d, "s1", "adam", "admin");
    add_member(d, "s1", "mia", "manager");
    add_member(d, "s1", "uma", "user");
    add_external(d, "s1", "pat", "user");
    for (resource, parent, owner) in [
        ("studio:a", None, None),
        ("pickaxe:mine", Some("studio:a"), Some("mia")),
        ("pickaxe:theirs", Some("studio:a"), None),
    ] {
        assert_eq!(
            d.call(
                "POST",
                "/v1/accounts/s1/resources",
                None,
                Some(json!({ "resource": resource, "parent": parent, "owner": owner }))
            )
            .status,
            201
        );
    }
    assert_eq!(
        d.call(
            "POST",
            "/v1/accounts/s1/grants",
            Some("mia"),
            Some(json!({ "subject": "principal:pat", "resource": "pickaxe:mine", "role": "pickaxe_user" }))
        )
        .status,
        201
    );
    assert_eq!(
        d.call(
            "POST",
            "/v1/accounts/s1/grants",
            None,
            Some(
                json!({ "subject": "principal:pat", "resource": "studio:a", "role": "studio_client", "expires_at": 1 })
            )
        )
        .status,
        201
    );
    let role = d.call(
        "POST",
        "/v1/accounts/s1/roles",
        Some("adam"),
        Some(
            json!({ "id": "support", "title": "Support", "rank": 20, "permissions": ["pickaxe.view", "member.view"] }),
        ),
    );
    assert_eq!(role.status, 201, "{}", role.text);
    assert_eq!(
        d.call("PATCH", "/v1/accounts/s1/members/uma", Some("adam"), Some(json!({ "role": "support" }))).status,
        200
    );
}

#[test]
fn every_decision_survives_a_restart() {
    for backend in backends() {
        let mut d = Daemon::start(&backend);
        populate(&d);
        let before = all_decisions(&d);
        let revision = d.call("GET", "/readyz", None, None).json()["revision"].clone();
        d.restart();
        assert_eq!(all_decisions(&d), before, "{backend:?}");
        assert_eq!(d.call("GET", "/readyz", None, None).json()["revision"], revision);
        assert!(before.iter().any(|&x| x) && before.iter().any(|&x| !x));
    }
}

#[test]
fn audit_verify_detects_a_row_edited_behind_the_daemons_back() {
    for backend in backends() {
        let d = Daemon::start(&backend);
        create_account(&d, "s1", "studio", "olivia");
        add_member(&d, "s1", "adam", "admin");
        let r = d.call("PATCH", "/v1/accounts/s1/members/adam", Some("olivia"), Some(json!({ "role": "manager" })));
        assert_eq!(r.status, 200, "{}", r.text);
        let events = d.call("GET", "/v1/accounts/s1/audit", None, None).json()["items"].clone();
        let change = &events[2];
        assert_eq!(change["action"], "member.role.change");
        assert_eq!(change["actor"], "principal:olivia via service:bootstrap");
        assert_eq!(change["before"][0]["membership"]["member"]["role"], "admin", "{change}");
        assert!(change["after"].to_string().contains("manager"));
        assert!(change["request_id"].as_str().is_some());
        assert_eq!(
            d.call("GET", "/v1/accounts/s1/audit/verify", None, None).json(),
            json!({ "ok": true, "events": 3 })
        );
        d.sql("UPDATE audit_events SET target = 'principal:nobody' WHERE seq = 2");
        let verify = d.call("GET", "/v1/accounts/s1/audit/verify", None, None).json();
        assert_eq!((verify["ok"].clone(), verify["first_bad_seq"].clone()), (json!(false), json!(2)), "{backend:?}");
    }
}

#[test]
fn shutdown_lets_in_flight_requests_finish() {
    let mut d = Daemon::start(&roster_e2e::daemon::Backend::Sqlite);
    let (address, bearer) = (d.address.clone(), format!("Bearer {}", d.token));
    // A check that waits (up to 1.5 s) for a revision that never comes: in flight while we stop.
    let waiting = std::thread::spawn(move || {
        let body =
            json!({ "account": "none", "principal": "p", "permission": "x.y", "min_revision": 1_000_000 }).to_string();
        roster_e2e::http::send(&address, "POST", "/v1/check", &[("Authorization", &bearer)], body.as_bytes())
    });
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(d.stop(), "rosterd exits cleanly on SIGTERM");
    let response = waiting.join().expect("request thread");
    assert_eq!(
        (response.status, response.code().as_str()),
        (409, "stale"),
        "the in-flight request got its answer: {}",
        response.text
    );
}
