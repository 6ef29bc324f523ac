//! Invites (issue 8): single use in the database (hole 2), bound to the invited address
//! without touching existing profiles (hole 6), revoked only with the standing that made
//! them (hole 18).

use roster_e2e::daemon::{Daemon, backends};
use roster_e2e::http::{Response, send};
use serde_json::{Value, json};

use super::auth::{as_token, principal_token};
use super::{add_member, create_account};

/// Creates an invite as `by` (the platform when `None`); returns (id, token).
fn invite(d: &Daemon, account: &str, by: Option<&str>, body: Value) -> (String, String) {
    let r = d.call("POST", &format!("/v1/accounts/{account}/invites"), by, Some(body));
    assert_eq!(r.status, 201, "{}", r.text);
    let json = r.json();
    (json["id"].as_str().expect("id").to_owned(), json["token"].as_str().expect("token").to_owned())
}

fn accept(d: &Daemon, act_as: Option<&str>, token: &str, principal: Value) -> Response {
    d.call("POST", "/v1/invites/accept", act_as, Some(json!({ "token": token, "principal": principal })))
}

fn members(d: &Daemon, account: &str) -> Vec<String> {
    let r = d.call("GET", &format!("/v1/accounts/{account}/members?limit=500"), None, None);
    assert_eq!(r.status, 200, "{}", r.text);
    r.json()["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|m| m["principal"].as_str().unwrap_or_default().to_owned())
        .collect()
}

fn profile(d: &Daemon, principal: &str) -> (String, String) {
    let r = d.call("GET", &format!("/v1/principals/{principal}"), None, None);
    assert_eq!(r.status, 200, "{}", r.text);
    let json = r.json();
    (json["email"].as_str().unwrap_or_default().to_owned(), json["name"].as_str().unwrap_or_default().to_owned())
}

fn invite_status(d: &Daemon, account: &str, id: &str) -> String {
    let r = d.call("GET", &format!("/v1/accounts/{account}/invites"), None, None);
    let items = r.json()["items"].as_array().cloned().unwrap_or_default();
    items
        .iter()
        .find(|i| i["id"] == id)
        .map(|i| i["status"].as_str().unwrap_or_default().to_owned())
        .unwrap_or_default()
}

/// Accepts `token` from `n` threads at once, each for a different new principal.
fn accept_in_parallel(d: &Daemon, token: &str, n: usize) -> Vec<u16> {
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..n)
            .map(|i| {
                let bearer = format!("Bearer {}", d.token);
                let body = json!({ "token": token, "principal": { "id": format!("racer{i}"), "name": "Racer" } });
                let address = d.address.clone();
                scope.spawn(move || {
                    send(
                        &address,
                        "POST",
                        "/v1/invites/accept",
                        &[("Authorization", &bearer)],
                        body.to_string().as_bytes(),
                    )
                    .status
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("thread")).collect()
    })
}

#[test]
fn hole02_parallel_accepts_of_one_invite_have_exactly_one_winner() {
    for backend in backends() {
        let d = Daemon::start(&backend);
        create_account(&d, "s1", "studio", "olivia");
        let (_, token) = invite(&d, "s1", None, json!({ "email": "team@example.com", "role": "manager" }));
        let statuses = accept_in_parallel(&d, &token, 12);
        assert_eq!(statuses.iter().filter(|&&s| s == 200).count(), 1, "{backend:?}: {statuses:?}");
        assert!(statuses.iter().all(|&s| s == 200 || s == 409), "{backend:?}: {statuses:?}");
        let racers = members(&d, "s1").into_iter().filter(|m| m.starts_with("racer")).count();
        assert_eq!(racers, 1, "{backend:?}: one invite, one membership");

        // A resource invite: each accept would make a fresh grant id, so only the
        // database's condition stops a second grant.
        let project = d.call("POST", "/v1/accounts/s1/resources", None, Some(json!({ "resource": "studio:a" })));
        assert_eq!(project.status, 201, "{}", project.text);
        let (_, token) = invite(
            &d,
            "s1",
            None,
            json!({ "email": "guest@example.com", "role": "studio_collaborator", "resource": "studio:a" }),
        );
        let statuses = accept_in_parallel(&d, &token, 12);
        assert_eq!(statuses.iter().filter(|&&s| s == 200).count(), 1, "{backend:?}: {statuses:?}");
        let grants = d.call("GET", "/v1/accounts/s1/grants", None, None).json()["items"].as_array().map_or(0, Vec::len);
        assert_eq!(grants, 1, "{backend:?}: one invite, one grant");
    }
}

#[test]
fn hole02_revoked_and_expired_invites_are_never_accepted() {
    for backend in backends() {
        let d = Daemon::start(&backend);
        create_account(&d, "s1", "studio", "olivia");
        let (revoked, revoked_token) = invite(&d, "s1", None, json!({ "email": "r@example.com" }));
        assert_eq!(d.call("DELETE", &format!("/v1/accounts/s1/invites/{revoked}"), None, None).status, 200);
        let r = accept(&d, None, &revoked_token, json!({ "id": "rita", "name": "Rita" }));
        assert_eq!((r.status, r.code().as_str()), (409, "conflict"), "{}", r.text);

        let (expired, expired_token) = invite(&d, "s1", None, json!({ "email": "e@example.com" }));
        d.sql(&format!("UPDATE invites SET expires_at = 1 WHERE id = '{expired}'"));
        let r = accept(&d, None, &expired_token, json!({ "id": "eve", "name": "Eve" }));
        assert_eq!((r.status, r.code().as_str()), (409, "conflict"), "{}", r.text);
        assert!(!members(&d, "s1").iter().any(|m| m == "rita" || m == "eve"), "{backend:?}");
        assert_eq!(invite_status(&d, "s1", &expired), "pending", "a refused accept changes nothing");
        // A revoke of an invite no longer pending is refused too.
        let again = d.call("DELETE", &format!("/v1/accounts/s1/invites/{revoked}"), None, None);
        assert_eq!(again.status, 409, "{}", again.text);
    }
}

#[test]
fn hole06_creating_a_child_account_never_rewrites_its_owners_profile() {
    for backend in backends() {
        let d = Daemon::start(&backend);
        create_account(&d, "ag", "agency", "root");
        add_member(&d, "ag", "ann", "administrator");
        let before = profile(&d, "root");
        let ann = principal_token(&d, "ann");
        let evil = json!({ "id": "root", "email": "evil@example.com", "name": "Evil" });
        let by_ann = as_token(
            &d,
            &ann,
            "POST",
            "/v1/accounts",
            json!({ "id": "ag.c1", "pack": "agency", "name": "Client", "parent": "ag", "owner": evil }),
        );
        assert_eq!(by_ann.status, 201, "{}", by_ann.text);
        assert_eq!(profile(&d, "root"), before, "{backend:?}: the owner's profile is untouched");
        let by_platform = d.call(
            "POST",
            "/v1/accounts",
            None,
            Some(json!({ "id": "c2", "pack": "agency", "name": "Client", "parent": "ag", "owner": evil })),
        );
        assert_eq!(by_platform.status, 201, "{}", by_platform.text);
        assert_eq!(profile(&d, "root"), before, "{backend:?}: not even by the platform");
        // A principal creates no profile at all, not even for a newcomer (an email is what
        // invites bind to: the platform's to set); the platform creates a missing one.
        let fresh = json!({ "id": "newcomer", "email": "ann@evil.example.com", "name": "New" });
        let c3 = as_token(
            &d,
            &ann,
            "POST",
            "/v1/accounts",
            json!({ "id": "ag.c3", "pack": "agency", "name": "Client", "parent": "ag", "owner": fresh }),
        );
        assert_eq!(c3.status, 201, "{}", c3.text);
        assert_eq!(profile(&d, "newcomer"), (String::new(), String::new()), "{backend:?}");
        let fresh = json!({ "id": "other", "email": "other@example.com", "name": "Other" });
        let c4 = d.call(
            "POST",
            "/v1/accounts",
            None,
            Some(json!({ "id": "c4", "pack": "agency", "name": "Client", "parent": "ag", "owner": fresh })),
        );
        assert_eq!(c4.status, 201, "{}", c4.text);
        assert_eq!(profile(&d, "other"), ("other@example.com".into(), "Other".into()));
    }
}

#[test]
fn hole06_a_principal_cannot_set_its_own_email_to_claim_an_invite() {
    for backend in backends() {
        let d = Daemon::start(&backend);
        create_account(&d, "s1", "studio", "olivia");
        create_account(&d, "s2", "studio", "mallory");
        let (_, token) = invite(&d, "s1", None, json!({ "email": "victim@example.com", "role": "manager" }));
        let mallory = principal_token(&d, "mallory");
        let rename = |body: Value| as_token(&d, &mallory, "PUT", "/v1/principals/mallory", body);
        let steal = rename(json!({ "email": "victim@example.com", "name": "M" }));
        assert_eq!((steal.status, steal.code().as_str()), (403, "forbidden"), "{}", steal.text);
        assert_eq!(profile(&d, "mallory").0, "mallory@example.com", "{backend:?}");
        let renamed = rename(json!({ "email": "mallory@example.com", "name": "Mal" }));
        assert_eq!(renamed.status, 200, "a principal renames itself: {}", renamed.text);
        let claim = as_token(
            &d,
            &mallory,
            "POST",
            "/v1/invites/accept",
            json!({ "token": token, "principal": { "id": "mallory" } }),
        );
        assert_eq!(claim.status, 403, "{}", claim.text);
        // Nor with a principal that has no profile: only the platform vouches for an address.
        let nobody = principal_token(&d, "nobody");
        let claim = as_token(
            &d,
            &nobody,
            "POST",
            "/v1/invites/accept",
            json!({ "token": token, "principal": { "id": "nobody", "name": "N" } }),
        );
        assert_eq!(claim.status, 403, "{}", claim.text);
        assert!(!members(&d, "s1").iter().any(|m| m == "mallory" || m == "nobody"), "{backend:?}");
    }
}

#[test]
fn hole06_an_invite_binds_to_the_accepters_address_on_record() {
    for backend in backends() {
        let d = Daemon::start(&backend);
        create_account(&d, "s1", "studio", "olivia");
        create_account(&d, "s2", "studio", "pat");
        let pat_before = profile(&d, "pat");
        // Sent to an address the attacker controls, accepted for someone else's id.
        let (_, token) = invite(&d, "s1", None, json!({ "email": "mallory@example.com", "role": "manager" }));
        let claimed =
            accept(&d, None, &token, json!({ "id": "pat", "email": "mallory@example.com", "name": "Pat Evil" }));
        assert_eq!((claimed.status, claimed.code().as_str()), (403, "forbidden"), "{}", claimed.text);
        assert!(!members(&d, "s1").contains(&"pat".to_owned()), "{backend:?}");
        assert_eq!(profile(&d, "pat"), pat_before, "{backend:?}");

        // Sent to pat's address: pat accepts; the name in the body does not rewrite pat's.
        let (_, token) = invite(&d, "s1", None, json!({ "email": "pat@example.com", "role": "manager" }));
        let pat = principal_token(&d, "pat");
        let ok = as_token(
            &d,
            &pat,
            "POST",
            "/v1/invites/accept",
            json!({ "token": token, "principal": { "id": "pat", "name": "Renamed" } }),
        );
        assert_eq!(ok.status, 200, "{}", ok.text);
        assert!(members(&d, "s1").contains(&"pat".to_owned()));
        assert_eq!(profile(&d, "pat"), pat_before, "{backend:?}: accepting changes no profile");
    }
}

#[test]
fn hole06_acting_as_a_principal_accepts_only_for_that_principal() {
    for backend in backends() {
        let d = Daemon::start(&backend);
        create_account(&d, "s1", "studio", "olivia");
        let (id, token) = invite(&d, "s1", None, json!({ "email": "nina@example.com", "role": "manager" }));
        let for_other = accept(&d, Some("mallory"), &token, json!({ "id": "nina", "name": "Nina" }));
        assert_eq!((for_other.status, for_other.code().as_str()), (403, "forbidden"), "{}", for_other.text);
        let mallory = principal_token(&d, "mallory");
        let by_token = as_token(
            &d,
            &mallory,
            "POST",
            "/v1/invites/accept",
            json!({ "token": token, "principal": { "id": "nina", "name": "Nina" } }),
        );
        assert_eq!(by_token.status, 403, "{}", by_token.text);
        assert_eq!(invite_status(&d, "s1", &id), "pending");
        // The platform accepts for a new principal, created with the invited address.
        let ok = accept(&d, None, &token, json!({ "id": "nina", "name": "Nina" }));
        assert_eq!(ok.status, 200, "{}", ok.text);
        assert_eq!(profile(&d, "nina"), ("nina@example.com".into(), "Nina".into()));
    }
}

#[test]
fn hole18_an_admin_cannot_revoke_the_owners_admin_invite() {
    for backend in backends() {
        let d = Daemon::start(&backend);
        create_account(&d, "s1", "studio", "olivia");
        add_member(&d, "s1", "adam", "admin");
        let (owners, _) = invite(&d, "s1", Some("olivia"), json!({ "email": "a2@example.com", "role": "admin" }));
        let by_admin = d.call("DELETE", &format!("/v1/accounts/s1/invites/{owners}"), Some("adam"), None);
        assert_eq!((by_admin.status, by_admin.code().as_str()), (403, "forbidden"), "{}", by_admin.text);
        assert_eq!(invite_status(&d, "s1", &owners), "pending", "{backend:?}");
        let (managers, _) = invite(&d, "s1", Some("olivia"), json!({ "email": "m2@example.com", "role": "manager" }));
        assert_eq!(d.call("DELETE", &format!("/v1/accounts/s1/invites/{managers}"), Some("adam"), None).status, 200);
        assert_eq!(d.call("DELETE", &format!("/v1/accounts/s1/invites/{owners}"), Some("olivia"), None).status, 200);
    }
}
