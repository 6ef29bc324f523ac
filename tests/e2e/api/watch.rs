//! `GET /v1/watch`: a consumer following the change feed from revision 0 while writers run
//! on three replicas rebuilds exactly the final state; an event stream resumed after a
//! disconnect misses nothing and repeats nothing; a position past the retention is a 410;
//! a principal sees only the accounts where it holds `audit.view`.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::time::Duration;

use roster_e2e::daemon::{Daemon, backends};
use serde_json::{Value, json};

use super::{add_member, create_account};

/// Entries after `since`, waiting up to `wait_s` for one; (entries, next_since).
fn watch(d: &Daemon, act_as: Option<&str>, since: u64, wait_s: u64) -> (Vec<Value>, u64) {
    let r = d.call("GET", &format!("/v1/watch?since={since}&limit=7&wait_s={wait_s}"), act_as, None);
    assert_eq!(r.status, 200, "{}", r.text);
    let page = r.json();
    let items = page["items"].as_array().expect("items").clone();
    (items, page["next_since"].as_u64().expect("next_since"))
}

/// Applies the feed's membership changes to a model of who holds which role where.
fn apply(model: &mut BTreeMap<(String, String), String>, entry: &Value) {
    for op in entry["changes"].as_array().expect("changes") {
        if op["op"] != "engine" {
            continue;
        }
        let change = &op["change"];
        let key = || {
            (change["account"].as_str().unwrap_or("").to_owned(), change["principal"].as_str().unwrap_or("").to_owned())
        };
        match change["kind"].as_str() {
            Some("put_membership") if change["status"] == "active" => {
                model.insert(key(), change["role"].as_str().unwrap_or("").to_owned());
            }
            Some("put_membership" | "remove_membership") => {
                model.remove(&key());
            }
            _ => {}
        }
    }
}

#[test]
fn a_consumer_following_from_zero_rebuilds_the_final_state_written_on_three_replicas() {
    for backend in backends() {
        let a = Daemon::start_with(&backend, "\n[replication]\npoll_interval_ms = 50\n");
        let replicas = [a.replica(""), a.replica("")];
        let all: Vec<&Daemon> = std::iter::once(&a).chain(replicas.iter()).collect();
        let consumer = std::thread::scope(|scope| {
            let consumer = scope.spawn(|| {
                let (mut since, mut seen, mut model) = (0, Vec::new(), BTreeMap::new());
                loop {
                    let (items, next) = watch(&replicas[1], None, since, 2);
                    for entry in &items {
                        seen.push(entry["revision"].as_u64().expect("revision"));
                        apply(&mut model, entry);
                    }
                    if items.is_empty() && next == since {
                        return (seen, model);
                    }
                    since = next;
                }
            });
            for account in ["s1", "s2", "s3"] {
                create_account(&a, account, "studio", "olivia");
            }
            std::thread::scope(|writers| {
                for (i, d) in all.iter().enumerate() {
                    writers.spawn(move || {
                        let account = format!("s{}", i + 1);
                        for n in 0..6 {
                            add_member(d, &account, &format!("m{n}"), "user");
                        }
                        let patch = json!({ "role": "manager" });
                        let r = d.call("PATCH", &format!("/v1/accounts/{account}/members/m1"), None, Some(patch));
                        assert_eq!(r.status, 200, "{}", r.text);
                        let r = d.call("DELETE", &format!("/v1/accounts/{account}/members/m2"), None, None);
                        assert!(r.status < 300, "{}", r.text);
                    });
                }
            });
            consumer.join().expect("consumer")
        });
        let (seen, model) = consumer;
        let last = seen.last().copied().unwrap_or(0);
        assert_eq!(seen, (1..=last).collect::<Vec<_>>(), "{backend:?}: every revision once, in order");
        let newest = a.call("GET", "/readyz", None, None).json()["newest_seen"].as_u64().expect("revision");
        assert!(last >= newest, "{backend:?}: the consumer reached {last}, the last write made {newest}");
        let mut state = BTreeMap::new();
        for account in ["s1", "s2", "s3"] {
            let members = a.call("GET", &format!("/v1/accounts/{account}/members?limit=500"), None, None).json();
            for m in members["items"].as_array().expect("items") {
                let key = (account.to_owned(), m["principal"].as_str().unwrap_or("").to_owned());
                state.insert(key, m["role"].as_str().unwrap_or("").to_owned());
            }
        }
        assert_eq!(model, state, "{backend:?}: the feed rebuilds the members of every account");
    }
}

/// Opens an event stream with `token` (after `Last-Event-ID` when given): its lines.
fn open_stream(d: &Daemon, token: &str, resume: Option<u64>) -> std::io::Lines<BufReader<TcpStream>> {
    let mut socket = TcpStream::connect(&d.address).expect("connect");
    socket.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
    let resume = resume.map(|r| format!("Last-Event-ID: {r}\r\n")).unwrap_or_default();
    write!(
        socket,
        "GET /v1/watch HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nAccept: text/event-stream\r\n{resume}\r\n"
    )
    .expect("write");
    let mut lines = BufReader::new(socket).lines();
    let status = lines.next().expect("status line").expect("read");
    assert!(status.contains(" 200 "), "{status}");
    lines
}

/// Opens an event stream from `since` (or `Last-Event-ID`), reads `count` change events.
fn stream(d: &Daemon, resume: Option<u64>, count: usize) -> Vec<u64> {
    let mut lines = open_stream(d, &d.token, resume);
    let mut ids = Vec::new();
    while ids.len() < count {
        let line = lines.next().expect("stream open").expect("read");
        if let Some(id) = line.strip_prefix("id: ") {
            ids.push(id.parse().expect("revision id"));
        }
    }
    ids
}

#[test]
fn an_event_stream_resumed_after_a_disconnect_misses_nothing_and_repeats_nothing() {
    for backend in backends() {
        let d = Daemon::start(&backend);
        create_account(&d, "s1", "studio", "olivia");
        for n in 0..4 {
            add_member(&d, "s1", &format!("m{n}"), "user");
        }
        let first = stream(&d, None, 3);
        let writer = std::thread::scope(|scope| {
            let writer = scope.spawn(|| {
                std::thread::sleep(Duration::from_millis(300));
                add_member(&d, "s1", "late", "user");
            });
            let rest = stream(&d, first.last().copied(), 4);
            writer.join().expect("writer");
            rest
        });
        let all: Vec<u64> = first.iter().chain(&writer).copied().collect();
        assert_eq!(all, (1..=7).collect::<Vec<_>>(), "{backend:?}: the late write arrives on the open stream");
    }
}

#[test]
fn a_position_past_the_feeds_retention_is_gone() {
    for backend in backends() {
        let d = Daemon::start(&backend);
        create_account(&d, "s1", "studio", "olivia");
        for n in 0..3 {
            add_member(&d, "s1", &format!("m{n}"), "user");
        }
        d.sql("DELETE FROM change_feed WHERE revision <= 2");
        let r = d.call("GET", "/v1/watch?since=1", None, None);
        assert_eq!(r.status, 410, "{backend:?}: {}", r.text);
        assert_eq!(r.json()["code"], "gone");
        let (items, next) = watch(&d, None, 2, 0);
        assert_eq!((items.len(), next), (3, 5), "{backend:?}: from a position still kept");
        // Found by the API fuzzing: a position past the largest stored revision was a 500.
        // A long poll waits at most 25 s, under the request timeout (which would answer 408).
        assert_eq!(d.call("GET", "/v1/watch?since=2&wait_s=25", None, None).status, 200);
        assert_eq!(d.call("GET", "/v1/watch?since=2&wait_s=26", None, None).code(), "invalid_input");
        for since in ["9223372036854775808", "-1", "x"] {
            let r = d.call("GET", &format!("/v1/watch?since={since}"), None, None);
            assert_eq!(
                (r.status, r.code()),
                (400, "invalid_input".to_owned()),
                "{backend:?}: since={since}: {}",
                r.text
            );
        }
    }
}

#[test]
fn a_principal_watches_only_the_accounts_where_it_holds_audit_view() {
    for backend in backends() {
        let d = Daemon::start(&backend);
        create_account(&d, "s1", "studio", "olivia");
        create_account(&d, "s2", "studio", "oscar");
        add_member(&d, "s1", "uma", "user");
        add_member(&d, "s2", "uma", "user");
        add_member(&d, "s2", "adam", "admin");
        let r = d.call("POST", "/v1/tokens", None, Some(json!({ "name": "backend-2" })));
        assert_eq!(r.status, 201, "{}", r.text);
        let (everything, _) = watch(&d, None, 0, 0);
        assert!(
            everything.iter().any(|e| e["changes"].to_string().contains("token_created")),
            "the platform sees tokens"
        );
        let (seen, _) = watch(&d, Some("olivia"), 0, 0);
        assert!(!seen.is_empty(), "{backend:?}: the owner of s1 watches s1");
        for entry in &seen {
            assert_eq!(entry["accounts"], json!(["s1"]), "{backend:?}: {entry}");
            let text = entry.to_string();
            assert!(
                !text.contains("oscar") && !text.contains("token_created") && !text.contains("new_principal"),
                "{text}"
            );
        }
        // A user of both accounts without audit.view sees nothing, though writes go on.
        let (none, next) = watch(&d, Some("uma"), 0, 0);
        assert!(none.is_empty(), "{backend:?}: {none:?}");
        assert!(next > 0, "the position still moves on for the reader");
    }
}

#[test]
fn an_open_event_stream_ends_when_its_token_is_revoked() {
    for backend in backends() {
        let d = Daemon::start(&backend);
        create_account(&d, "s1", "studio", "olivia");
        let minted = d.call("POST", "/v1/tokens", None, Some(json!({ "name": "olivia-app", "principal": "olivia" })));
        assert_eq!(minted.status, 201, "{}", minted.text);
        let (id, token) = (
            minted.json()["id"].as_str().expect("id").to_owned(),
            minted.json()["token"].as_str().expect("token").to_owned(),
        );
        let mut lines = open_stream(&d, &token, None);
        while !lines.next().expect("open").expect("read").starts_with("id: ") {}
        assert_eq!(d.call("DELETE", &format!("/v1/tokens/{id}"), None, None).status, 200);
        add_member(&d, "s1", "late", "user");
        let mut ended = false;
        for line in lines.by_ref().take(50) {
            let line = line.expect("read");
            assert!(!line.contains("\"late\""), "{backend:?}: a change after the revoke reached a revoked token");
            if line.starts_with("event: error") {
                ended = true;
                break;
            }
        }
        assert!(ended, "{backend:?}: the stream says the token was revoked");
        let reason = lines.next().expect("data").expect("read");
        assert!(reason.contains("unauthenticated"), "{reason}");
    }
}
