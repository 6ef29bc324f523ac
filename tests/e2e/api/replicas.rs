//! Several `rosterd` replicas on one database: writes planned on the state the database's
//! write lock finds (never on a stale snapshot), reads at a `min_revision` on any replica,
//! revocations carried by the change feed, a feed gap rebuilt from the tables, and
//! concurrent conflicting writes spread over the replicas keeping every rule.

use std::time::{Duration, Instant};

use roster_e2e::daemon::{Backend, Daemon, backends};
use serde_json::{Value, json};

use super::{add_member, create_account};

/// Replicas that only catch up when woken (a long poll): what they see came from the
/// write path, a notification or a reader's `min_revision`, never from a poll.
const NO_POLLING: &str = "\n[replication]\npoll_interval_ms = 600000\nmin_revision_timeout_ms = 1000\n";

fn revision_of(r: &roster_e2e::http::Response) -> u64 {
    r.json()["revision"].as_u64().unwrap_or_else(|| panic!("no revision in {}", r.text))
}

fn check_at(d: &Daemon, principal: &str, permission: &str, min_revision: u64) -> roster_e2e::http::Response {
    d.call(
        "POST",
        "/v1/check",
        None,
        Some(
            json!({ "account": "s1", "principal": principal, "permission": permission, "min_revision": min_revision }),
        ),
    )
}

/// Waits (through `min_revision`) until `d` has applied `revision`.
fn reach(d: &Daemon, revision: u64) {
    let r = d.call("GET", "/readyz", None, None);
    if r.json()["revision"].as_u64() < Some(revision) {
        let r = d.call(
            "POST",
            "/v1/check",
            None,
            Some(json!({ "account": "nowhere", "principal": "nobody", "permission": "member.invite", "min_revision": revision })),
        );
        assert_ne!(r.status, 409, "{} did not reach {revision}: {}", d.address, r.text);
    }
}

/// Replica A and replica B (neither polling), and the revision at which A added admin
/// `adam` to studio account `s1`.
fn admin_added_on_a(backend: &Backend) -> (Daemon, Daemon, u64) {
    let a = Daemon::start_with(backend, NO_POLLING);
    let b = a.replica("");
    create_account(&a, "s1", "studio", "olivia");
    let added = a.call("POST", "/v1/accounts/s1/members", None, Some(json!({ "principal": "adam", "role": "admin" })));
    assert_eq!(added.status, 201, "{}", added.text);
    (a, b, revision_of(&added))
}

#[test]
fn a_write_on_one_replica_is_decided_on_another_at_its_revision() {
    for backend in backends() {
        let (_a, b, revision) = admin_added_on_a(&backend);
        let r = check_at(&b, "adam", "member.invite", revision);
        assert_eq!(r.status, 200, "{backend:?}: {}", r.text);
        assert_eq!(r.json()["allowed"], true, "{backend:?}: B decides on A's write");
        assert!(revision_of(&r) >= revision, "{backend:?}: never older than asked");
        let ready = b.call("GET", "/readyz", None, None).json();
        assert!(ready["revision"].as_u64() >= Some(revision), "{ready}");
        let future = check_at(&b, "adam", "member.invite", revision + 1000);
        assert_eq!(future.status, 409, "{backend:?}: {}", future.text);
        assert_eq!(future.json()["code"], "stale");
    }
}

#[test]
fn a_read_on_another_replica_at_a_writes_revision_sees_the_write() {
    for backend in backends() {
        let (a, b, revision) = admin_added_on_a(&backend);
        // Nothing polls B: only the read's own `min_revision` brings the write to it.
        let member = b.call("GET", &format!("/v1/accounts/s1/members/adam?min_revision={revision}"), None, None);
        assert_eq!(member.status, 200, "{backend:?}: B reads A's write at its revision: {}", member.text);
        assert_eq!(member.json()["membership"]["role"], "admin", "{backend:?}: {}", member.text);
        let list = b.call("GET", &format!("/v1/accounts/s1/members?limit=10&min_revision={revision}"), None, None);
        assert_eq!(list.status, 200, "{}", list.text);
        assert_eq!(list.json()["items"].as_array().map(Vec::len), Some(2), "{backend:?}: {}", list.text);

        let future = b.call("GET", &format!("/v1/accounts/s1/members?min_revision={}", revision + 1000), None, None);
        assert_eq!((future.status, future.code()), (409, "stale".to_owned()), "{backend:?}: {}", future.text);
        for bad in ["-1", "x", "18446744073709551616", "1&min_revision=2"] {
            let r = b.call("GET", &format!("/v1/accounts/s1/members?min_revision={bad}"), None, None);
            assert_eq!(r.status, 400, "{backend:?}: min_revision={bad}: {}", r.text);
            assert!(r.text.contains("min_revision"), "{backend:?}: the error names the parameter: {}", r.text);
        }

        // A read waiting for the revision of a revoke is refused with the revoked token.
        let (bearer, created_at, revoke) = token_on_a(&a);
        let used = b.raw("GET", &format!("/v1/packs?min_revision={created_at}"), &[("Authorization", &bearer)], b"");
        assert_eq!(used.status, 200, "{backend:?}: {}", used.text);
        let revoked_at = revoke();
        let refused = b.raw("GET", &format!("/v1/packs?min_revision={revoked_at}"), &[("Authorization", &bearer)], b"");
        assert_eq!(refused.status, 401, "{backend:?}: {}", refused.text);
    }
}

/// A service token made on `a`: its bearer header, the revision that made it, and a
/// closure revoking it on `a` (returning the revoke's revision).
fn token_on_a(a: &Daemon) -> (String, u64, impl FnOnce() -> u64 + '_) {
    let created = a.call("POST", "/v1/tokens", None, Some(json!({ "name": "backend-2" })));
    assert_eq!(created.status, 201, "{}", created.text);
    let id = created.json()["id"].as_str().expect("id").to_owned();
    let bearer = format!("Bearer {}", created.json()["token"].as_str().expect("token"));
    let revoke = move || {
        let revoked = a.call("DELETE", &format!("/v1/tokens/{id}"), None, None);
        assert_eq!(revoked.status, 200, "{}", revoked.text);
        revision_of(&revoked)
    };
    (bearer, revision_of(&created), revoke)
}

#[test]
fn a_decision_on_another_replica_at_a_revokes_revision_refuses_the_revoked_token() {
    for backend in backends() {
        let (a, b, _) = admin_added_on_a(&backend);
        let (bearer, created_at, revoke) = token_on_a(&a);
        let calls = |revision: u64| {
            let at = json!(revision);
            let check =
                json!({ "account": "s1", "principal": "adam", "permission": "member.invite", "min_revision": at });
            [
                ("/v1/check", check.clone()),
                ("/v1/check/batch", json!({ "checks": [check] })),
                ("/v1/permissions", json!({ "account": "s1", "principal": "adam", "min_revision": at })),
                (
                    "/v1/lookup/resources",
                    json!({ "account": "s1", "principal": "adam", "permission": "pickaxe.view", "type": "pickaxe", "min_revision": at }),
                ),
                ("/v1/lookup/subjects", json!({ "account": "s1", "permission": "member.invite", "min_revision": at })),
            ]
        };
        let post =
            |path: &str, body: &Value| b.raw("POST", path, &[("Authorization", &bearer)], body.to_string().as_bytes());
        for (path, body) in calls(created_at) {
            let r = post(path, &body);
            assert_eq!(r.status, 200, "{backend:?}: {path} answers on B with the token: {}", r.text);
        }
        let revoked_at = revoke();
        for (path, body) in calls(revoked_at) {
            // B still has the token cached from the calls above; only the revoke's revision
            // (waited for by this very call) says it is gone.
            let r = post(path, &body);
            assert_eq!(r.status, 401, "{backend:?}: {path} at the revoke's revision: {}", r.text);
        }
    }
}

#[test]
fn a_write_on_a_replica_that_has_not_seen_the_last_write_is_planned_on_it() {
    for backend in backends() {
        let a = Daemon::start_with(&backend, NO_POLLING);
        let b = a.replica("");
        create_account(&a, "s1", "studio", "olivia");
        add_member(&a, "s1", "adam", "admin");
        // B has not polled: only the write path's catch-up under the lock knows adam.
        let changed =
            b.call("PATCH", "/v1/accounts/s1/members/adam", Some("olivia"), Some(json!({ "role": "manager" })));
        assert_eq!(changed.status, 200, "{backend:?}: {}", changed.text);
        let revision = revision_of(&changed);
        let on_a = a.call("GET", "/v1/accounts/s1/members/adam", None, None);
        assert_eq!(on_a.status, 200, "{}", on_a.text);
        let r = check_at(&a, "adam", "member.invite", revision);
        assert_eq!(r.status, 200, "{}", r.text);
        let member = a.call("GET", "/v1/accounts/s1/members/adam", None, None).json();
        assert_eq!(member["membership"]["role"], "manager", "{backend:?}: A follows B's write: {member}");
    }
}

#[test]
fn a_token_revoked_on_one_replica_is_refused_by_the_others_at_the_revoke() {
    for backend in backends() {
        let a = Daemon::start_with(&backend, NO_POLLING);
        let b = a.replica("");
        let c = a.replica("");
        let created = a.call("POST", "/v1/tokens", None, Some(json!({ "name": "backend-2" })));
        assert_eq!(created.status, 201, "{}", created.text);
        let (id, token) = (
            created.json()["id"].as_str().expect("id").to_owned(),
            created.json()["token"].as_str().expect("token").to_owned(),
        );
        let bearer = format!("Bearer {token}");
        for replica in [&b, &c] {
            let used = replica.raw("GET", "/v1/packs", &[("Authorization", &bearer)], b"");
            assert_eq!(used.status, 200, "the token works (and is cached) on every replica: {}", used.text);
        }
        let revoked = a.call("DELETE", &format!("/v1/tokens/{id}"), None, None);
        assert_eq!(revoked.status, 200, "{}", revoked.text);
        let revision = revision_of(&revoked);
        for replica in [&b, &c] {
            // Once a replica has applied the revoke's revision, the cached token is refused.
            reach(replica, revision);
            let refused = replica.raw("GET", "/v1/packs", &[("Authorization", &bearer)], b"");
            assert_eq!(refused.status, 401, "{backend:?}: {}", refused.text);
        }
    }
}

#[test]
fn a_replica_behind_a_pruned_feed_rebuilds_from_the_tables() {
    for backend in backends() {
        let a = Daemon::start_with(&backend, NO_POLLING);
        let b = a.replica("");
        create_account(&a, "s1", "studio", "olivia");
        add_member(&a, "s1", "adam", "admin");
        let added =
            a.call("POST", "/v1/accounts/s1/members", None, Some(json!({ "principal": "uma", "role": "user" })));
        let revision = revision_of(&added);
        a.sql("DELETE FROM change_feed");
        let r = check_at(&b, "adam", "member.invite", revision);
        assert_eq!(r.status, 200, "{backend:?}: {}", r.text);
        assert_eq!(r.json()["allowed"], true);
        let members = b.call("GET", "/v1/accounts/s1/members", None, None).json();
        let ids: Vec<&str> =
            members["items"].as_array().expect("items").iter().filter_map(|m| m["principal"].as_str()).collect();
        assert_eq!(ids, ["adam", "olivia", "uma"], "{backend:?}: the rebuilt snapshot has every member");
    }
}

#[test]
fn a_replica_follows_by_polling_when_nothing_wakes_it() {
    for backend in backends() {
        let a = Daemon::start_with(&backend, "\n[replication]\npoll_interval_ms = 50\n");
        let b = a.replica("");
        create_account(&a, "s1", "studio", "olivia");
        let added =
            a.call("POST", "/v1/accounts/s1/members", None, Some(json!({ "principal": "adam", "role": "admin" })));
        let revision = revision_of(&added);
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let ready = b.call("GET", "/readyz", None, None).json();
            if ready["revision"].as_u64() >= Some(revision) {
                assert_eq!(ready["lag"], 0, "{ready}");
                break;
            }
            assert!(Instant::now() < deadline, "{backend:?}: B never reached {revision}: {ready}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// The account's members as (principal, role), from one replica at `revision`.
fn roles_at(d: &Daemon, revision: u64) -> Vec<(String, String)> {
    reach(d, revision);
    let members = d.call("GET", "/v1/accounts/s1/members?limit=500", None, None).json();
    let mut roles: Vec<(String, String)> = members["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|m: &Value| {
            (m["principal"].as_str().unwrap_or("").to_owned(), m["role"].as_str().unwrap_or("").to_owned())
        })
        .collect();
    roles.sort();
    roles
}

#[test]
fn concurrent_conflicting_writes_over_three_replicas_keep_every_rule() {
    for backend in backends() {
        let a = Daemon::start_with(&backend, NO_POLLING);
        let replicas = [a.replica(""), a.replica("")];
        create_account(&a, "s1", "studio", "olivia");
        let admins: Vec<String> = (0..8).map(|i| format!("admin{i}")).collect();
        for admin in &admins {
            add_member(&a, "s1", admin, "admin");
        }
        let invite = a.call(
            "POST",
            "/v1/accounts/s1/invites",
            Some("olivia"),
            Some(json!({ "email": "new@example.com", "role": "user" })),
        );
        assert_eq!(invite.status, 201, "{}", invite.text);
        let invite_token = invite.json()["token"].as_str().expect("token").to_owned();
        let all: Vec<&Daemon> = std::iter::once(&a).chain(replicas.iter()).collect();
        // 48 writers: ownership transfers to each admin from whoever holds it, accepts of one
        // invite by different principals, and role changes of the admins, over 3 replicas.
        let outcomes: Vec<(String, u16)> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..48)
                .map(|i| {
                    let d = all[i % 3];
                    let admin = &admins[i % admins.len()];
                    let invite_token = &invite_token;
                    scope.spawn(move || {
                        let r = match i % 3 {
                            0 => d.call("POST", "/v1/accounts/s1/transfer-ownership", None, Some(json!({ "to": admin }))),
                            1 => d.call(
                                "POST",
                                "/v1/invites/accept",
                                None,
                                Some(json!({ "token": invite_token, "principal": { "id": format!("joiner{i}"), "email": "new@example.com", "name": "New" } })),
                            ),
                            _ => d.call("PATCH", &format!("/v1/accounts/s1/members/{admin}"), None, Some(json!({ "role": if i % 2 == 0 { "manager" } else { "admin" } }))),
                        };
                        (format!("writer {i} ({}) on {}: {}", ["transfer", "accept", "role"][i % 3], d.address, r.text), r.status)
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().expect("writer")).collect()
        });
        for (what, status) in &outcomes {
            assert!(*status < 500, "{backend:?}: {what}");
        }
        for kind in ["(transfer)", "(role)"] {
            let done = outcomes.iter().filter(|(what, status)| what.contains(kind) && *status == 200).count();
            assert!(done > 1, "{backend:?}: several {kind} writes should succeed: {outcomes:?}");
        }
        let accepted: Vec<&(String, u16)> =
            outcomes.iter().filter(|(what, status)| *status == 200 && what.contains("joiner")).collect();
        assert_eq!(accepted.len(), 1, "{backend:?}: one invite, one accept: {accepted:?}");
        let revision = a.call("GET", "/readyz", None, None).json()["newest_seen"].as_u64().expect("revision");
        let latest = replicas
            .iter()
            .chain(std::iter::once(&a))
            .map(|d| {
                let r = d.call(
                    "POST",
                    "/v1/check",
                    None,
                    Some(json!({ "account": "s1", "principal": "olivia", "permission": "member.invite" })),
                );
                revision_of(&r)
            })
            .max()
            .unwrap_or(revision)
            .max(revision);
        let on_a = roles_at(&a, latest);
        for replica in &replicas {
            assert_eq!(roles_at(replica, latest), on_a, "{backend:?}: every replica holds the same state");
        }
        let owners = on_a.iter().filter(|(_, role)| role == "owner").count();
        assert_eq!(owners, 1, "{backend:?}: one owner: {on_a:?}");
        let joiners = on_a.iter().filter(|(p, _)| p.starts_with("joiner")).count();
        assert_eq!(joiners, 1, "{backend:?}: {on_a:?}");
    }
}

#[test]
fn a_replica_killed_mid_stream_and_restarted_catches_up() {
    for backend in backends() {
        let a = Daemon::start_with(&backend, "\n[replication]\npoll_interval_ms = 50\n");
        let mut b = a.replica("");
        create_account(&a, "s1", "studio", "olivia");
        let last = std::thread::scope(|scope| {
            let writer = scope.spawn(|| {
                let mut last = 0;
                for n in 0..40 {
                    let body = json!({ "principal": format!("m{n}"), "role": "user" });
                    let r = a.call("POST", "/v1/accounts/s1/members", None, Some(body));
                    assert_eq!(r.status, 201, "{}", r.text);
                    last = revision_of(&r);
                }
                last
            });
            std::thread::sleep(Duration::from_millis(100));
            let killed = std::process::Command::new("kill").args(["-9", &b.pid().to_string()]).status();
            assert!(killed.is_ok_and(|s| s.success()), "kill -9 the replica");
            writer.join().expect("writer")
        });
        b.kill();
        b.relaunch();
        reach(&b, last);
        assert_eq!(roles_at(&b, last), roles_at(&a, last), "{backend:?}: the restarted replica holds the same state");
        assert_eq!(roles_at(&b, last).len(), 41, "{backend:?}");
    }
}
