//! Crash durability: `kill -9` of a daemon under a write load loses no acknowledged write,
//! leaves no write half done, and the audit chains verify after the restart.

use std::sync::Mutex;
use std::time::Duration;

use roster_e2e::daemon::{Daemon, backends};
use serde_json::json;

use super::create_account;

#[test]
fn kill_9_under_a_write_load_keeps_every_acknowledged_write_and_nothing_half_done() {
    for backend in backends() {
        let mut d = Daemon::start(&backend);
        create_account(&d, "s1", "studio", "olivia");
        let acknowledged = Mutex::new(Vec::<(String, u64)>::new());
        std::thread::scope(|scope| {
            for writer in 0..4 {
                let (d, acknowledged, backend) = (&d, &acknowledged, &backend);
                scope.spawn(move || {
                    for n in 0.. {
                        let principal = format!("w{writer}-{n}");
                        let body = json!({ "principal": principal, "role": "user" });
                        match d.try_call("POST", "/v1/accounts/s1/members", body) {
                            Ok(r) if r.status == 201 => {
                                let revision = r.json()["revision"].as_u64().expect("revision");
                                acknowledged.lock().expect("lock").push((principal, revision));
                            }
                            // Cut off mid-answer by the kill: not acknowledged.
                            Ok(r) if r.status == 0 => return,
                            Ok(r) => panic!("{backend:?}: {} {}", r.status, r.text),
                            Err(_) => return,
                        }
                    }
                });
            }
            std::thread::sleep(Duration::from_millis(700));
            let status = std::process::Command::new("kill").args(["-9", &d.pid().to_string()]).status();
            assert!(status.is_ok_and(|s| s.success()), "kill -9");
        });
        d.kill();
        d.relaunch();
        let acknowledged = acknowledged.into_inner().expect("lock");
        eprintln!("{backend:?}: {} writes acknowledged before kill -9", acknowledged.len());
        assert!(acknowledged.len() > 10, "{backend:?}: the load wrote something before the kill");
        let members = d.call("GET", "/v1/accounts/s1/members?limit=500", None, None).json();
        let present: Vec<&str> =
            members["items"].as_array().expect("items").iter().filter_map(|m| m["principal"].as_str()).collect();
        for (principal, revision) in &acknowledged {
            assert!(
                present.contains(&principal.as_str()),
                "{backend:?}: acknowledged {principal} (revision {revision}) is lost"
            );
        }
        // Every membership came with its audit event and its feed entry, and the feed has
        // every revision up to the stored one: nothing half-written.
        let memberships = d.count("SELECT COUNT(*) AS n FROM memberships WHERE account_id = 's1'");
        let events = d.count("SELECT COUNT(*) AS n FROM audit_events WHERE account_id = 's1'");
        assert_eq!(
            events, memberships,
            "{backend:?}: one audit event per write (the account's creation made the owner)"
        );
        let revision = d.count("SELECT revision AS n FROM roster_meta");
        let feed = d.count("SELECT COUNT(*) AS n FROM change_feed");
        assert_eq!(feed, revision, "{backend:?}: one feed entry per revision");
        for chain in ["/v1/accounts/s1/audit/verify", "/v1/audit/verify"] {
            let verdict = d.call("GET", chain, None, None).json();
            assert_eq!(verdict["ok"], true, "{backend:?}: {chain}: {verdict}");
        }
        let ready = d.call("GET", "/readyz", None, None).json();
        assert_eq!(ready["revision"].as_i64(), Some(revision), "{backend:?}: the snapshot is at the stored revision");
        // The rebuilt snapshot decides as the tables say: every member present is a user.
        let last = &acknowledged[acknowledged.len() - 1].0;
        let check = json!({ "account": "s1", "principal": last, "permission": "member.view" });
        assert_eq!(d.call("POST", "/v1/check", None, Some(check)).status, 200);
    }
}
