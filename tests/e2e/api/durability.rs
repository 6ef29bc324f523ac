//! Crash durability: `kill -9` of a daemon (alone, or one of two replicas while it writes)
//! under a write load loses no acknowledged write, leaves no write half done, and the audit
//! chains verify after the restart.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
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
        let never = AtomicBool::new(false);
        std::thread::scope(|scope| {
            for writer in 0..4 {
                let (d, acknowledged, never) = (&d, &acknowledged, &never);
                scope.spawn(move || write_until_stopped(d, &format!("w{writer}"), never, acknowledged));
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
        assert_intact(&d, &acknowledged, &format!("{backend:?}"));
    }
}

/// Every acknowledged write is on `d`, each with its audit event and feed entry, the audit
/// chains verify, and the snapshot is at the stored revision and decides from it.
fn assert_intact(d: &Daemon, acknowledged: &[(String, u64)], what: &str) {
    let present = members(d);
    for (principal, revision) in acknowledged {
        assert!(present.contains(principal), "{what}: acknowledged {principal} (revision {revision}) is lost");
    }
    // Every membership came with its audit event and its feed entry, and the feed has
    // every revision up to the stored one: nothing half-written.
    let memberships = d.count("SELECT COUNT(*) AS n FROM memberships WHERE account_id = 's1'");
    let events = d.count("SELECT COUNT(*) AS n FROM audit_events WHERE account_id = 's1'");
    assert_eq!(events, memberships, "{what}: one audit event per write (the account's creation made the owner)");
    let revision = d.count("SELECT revision AS n FROM roster_meta");
    let feed = d.count("SELECT COUNT(*) AS n FROM change_feed");
    assert_eq!(feed, revision, "{what}: one feed entry per revision");
    for chain in ["/v1/accounts/s1/audit/verify", "/v1/audit/verify"] {
        let verdict = d.call("GET", chain, None, None).json();
        assert_eq!(verdict["ok"], true, "{what}: {chain}: {verdict}");
    }
    let ready = d.call("GET", "/readyz", None, None).json();
    assert_eq!(ready["revision"].as_i64(), Some(revision), "{what}: the snapshot is at the stored revision");
    // The snapshot decides as the tables say: the last member written is a user.
    if let Some((last, _)) = acknowledged.last() {
        let check = json!({ "account": "s1", "principal": last, "permission": "pickaxe.view" });
        let r = d.call("POST", "/v1/check", None, Some(check));
        assert_eq!((r.status, r.json()["allowed"].as_bool()), (200, Some(true)), "{what}: {}", r.text);
    }
}

/// Every member of `s1`, page by page, in principal order.
fn members(d: &Daemon) -> Vec<String> {
    let (mut all, mut cursor) = (Vec::new(), String::new());
    loop {
        let page = d.call("GET", &format!("/v1/accounts/s1/members?limit=500{cursor}"), None, None).json();
        let items = page["items"].as_array().expect("items");
        all.extend(items.iter().filter_map(|m| m["principal"].as_str().map(str::to_owned)));
        match page["next_cursor"].as_str() {
            Some(next) => cursor = format!("&cursor={next}"),
            None => return all,
        }
    }
}

/// Writers adding members on `d` until it fails under them (the kill) or `stop` is set,
/// recording each acknowledged write; `(principal, revision)` pairs.
fn write_until_stopped(d: &Daemon, writer: &str, stop: &AtomicBool, acknowledged: &Mutex<Vec<(String, u64)>>) {
    for n in 0.. {
        if stop.load(Ordering::Relaxed) {
            return;
        }
        let principal = format!("{writer}-{n}");
        let body = json!({ "principal": principal, "role": "user" });
        match d.try_call("POST", "/v1/accounts/s1/members", body) {
            Ok(r) if r.status == 201 => {
                let revision = r.json()["revision"].as_u64().expect("revision");
                acknowledged.lock().expect("lock").push((principal, revision));
            }
            // Cut off mid-answer by the kill: not acknowledged.
            Ok(r) if r.status == 0 => return,
            Ok(r) => panic!("{writer} on {}: {} {}", d.address, r.status, r.text),
            Err(_) => return,
        }
    }
}

/// Waits until `done` holds, for at most 30 s (the assertions after it say what did not happen).
fn wait_for(done: impl Fn() -> bool) {
    let started = std::time::Instant::now();
    while !done() && started.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn kill_9_of_a_replica_while_it_writes_loses_nothing_and_the_other_keeps_writing() {
    for backend in backends() {
        let mut a = Daemon::start_with(&backend, "\n[replication]\npoll_interval_ms = 50\n");
        let b = a.replica("");
        create_account(&a, "s1", "studio", "olivia");
        let acknowledged = Mutex::new(Vec::<(String, u64)>::new());
        let after_kill = Mutex::new(Vec::<(String, u64)>::new());
        let (stop, killed) = (AtomicBool::new(false), AtomicBool::new(false));
        std::thread::scope(|scope| {
            for writer in 0..2 {
                let (a, b, acknowledged, after_kill) = (&a, &b, &acknowledged, &after_kill);
                let (stop, killed) = (&stop, &killed);
                scope.spawn(move || write_until_stopped(a, &format!("a{writer}"), stop, acknowledged));
                scope.spawn(move || {
                    write_until_stopped(b, &format!("b{writer}"), killed, acknowledged);
                    // B goes on writing once A is gone: a lock A held dies with it.
                    write_until_stopped(b, &format!("b{writer}-after"), stop, after_kill);
                });
            }
            // Progress, not time: a loaded CI host may let A write only a few times in a
            // fixed pause (both replicas contend for one write lock).
            let from_a = || acknowledged.lock().map_or(0, |w| w.iter().filter(|(p, _)| p.starts_with('a')).count());
            wait_for(|| from_a() > 10);
            let status = std::process::Command::new("kill").args(["-9", &a.pid().to_string()]).status();
            assert!(status.is_ok_and(|s| s.success()), "kill -9");
            killed.store(true, Ordering::Relaxed);
            wait_for(|| after_kill.lock().map_or(0, |w| w.len()) > 10);
            stop.store(true, Ordering::Relaxed);
        });
        let mut acknowledged = acknowledged.into_inner().expect("lock");
        let after_kill = after_kill.into_inner().expect("lock");
        let from_a = acknowledged.iter().filter(|(p, _)| p.starts_with('a')).count();
        eprintln!("{backend:?}: {from_a} writes acknowledged by A before kill -9, {} by B after", after_kill.len());
        assert!(from_a > 5, "{backend:?}: A wrote before the kill");
        assert!(after_kill.len() > 5, "{backend:?}: B kept writing after A was killed");
        acknowledged.extend(after_kill);
        acknowledged.sort_by_key(|(_, revision)| *revision);
        let last = acknowledged.last().map_or(0, |(_, revision)| *revision);
        // B followed the feed; A restarts from the tables: both hold every acknowledged write.
        let at_last = b.call("GET", &format!("/v1/accounts/s1?min_revision={last}"), None, None);
        assert_eq!(at_last.status, 200, "{}", at_last.text);
        assert_intact(&b, &acknowledged, &format!("{backend:?}, the surviving replica"));
        a.kill();
        a.relaunch();
        assert_intact(&a, &acknowledged, &format!("{backend:?}, the killed replica restarted"));
        assert_eq!(members(&a), members(&b), "{backend:?}: the rebuilt snapshot equals the followed one");
    }
}
