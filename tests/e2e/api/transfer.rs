//! `rosterd export` and `rosterd import`: a dump imported into an empty database gives the
//! same state and the same decisions; an import that fails half way writes nothing.

use roster_e2e::daemon::{Daemon, backends};
use serde_json::json;

use super::restart::{all_decisions, populate};

/// The dump's records after its header, as text lines.
fn body(dump: &str) -> Vec<String> {
    dump.lines().skip(1).map(str::to_owned).collect()
}

#[test]
fn export_then_import_into_an_empty_database_gives_the_same_state_and_decisions() {
    for backend in backends() {
        let a = Daemon::start(&backend);
        populate(&a);
        let invite = a.call(
            "POST",
            "/v1/accounts/s1/invites",
            Some("olivia"),
            Some(json!({ "email": "new@example.com", "role": "user" })),
        );
        assert_eq!(invite.status, 201, "{}", invite.text);
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("dump.jsonl");
        let exported = a.cli(&["export", "--out", file.to_str().expect("utf-8")]);
        assert!(exported.status.success(), "{}", String::from_utf8_lossy(&exported.stderr));
        let dump = std::fs::read_to_string(&file).expect("dump");
        assert!(dump.lines().next().is_some_and(|h| h.contains("\"format\":\"roster-export\"")), "{dump}");
        assert!(!dump.contains("secret_hash") && !dump.contains("\"kind\":\"token\""), "tokens are never exported");

        let b = Daemon::start(&backend);
        let imported = b.cli(&["import", file.to_str().expect("utf-8")]);
        let stderr = String::from_utf8_lossy(&imported.stderr).into_owned();
        assert!(imported.status.success(), "{backend:?}: {stderr}");
        let revision: u64 =
            stderr.rsplit("revision ").next().and_then(|r| r.trim().parse().ok()).expect("revision in the output");
        // B was running: it finds the import past a gap in the feed and rebuilds.
        let reached = b.call("POST", "/v1/check", None, Some(json!({ "account": "s1", "principal": "olivia", "permission": "member.view", "min_revision": revision })));
        assert_eq!(reached.status, 200, "{backend:?}: {}", reached.text);
        assert_eq!(all_decisions(&b), all_decisions(&a), "{backend:?}: the same decisions");
        let again = dir.path().join("again.jsonl");
        assert!(b.cli(&["export", "--out", again.to_str().expect("utf-8")]).status.success());
        assert_eq!(body(&std::fs::read_to_string(&again).expect("dump")), body(&dump), "{backend:?}: the same state");
        let accepted = b.call("POST", "/v1/invites/accept", None, Some(json!({ "token": invite.json()["token"], "principal": { "id": "newbie", "email": "new@example.com", "name": "New" } })));
        assert_eq!(accepted.status, 200, "{backend:?}: a pending invite still works after the move: {}", accepted.text);
        for chain in ["/v1/audit/verify", "/v1/accounts/s1/audit/verify"] {
            let verdict = b.call("GET", chain, None, None).json();
            assert_eq!(verdict["ok"], true, "{backend:?}: {chain}: {verdict}");
        }
        // The imported account's trail starts with its import, then the accept.
        let trail = b.call("GET", "/v1/accounts/s1/audit", None, None).json();
        let actions: Vec<&str> =
            trail["items"].as_array().expect("items").iter().filter_map(|e| e["action"].as_str()).collect();
        assert_eq!(actions.first(), Some(&"account.import"), "{backend:?}: {trail}");
        assert_eq!(trail["items"][0]["seq"], 1, "{backend:?}: {trail}");
    }
}

#[test]
fn an_import_that_fails_half_way_writes_nothing() {
    for backend in backends() {
        let a = Daemon::start(&backend);
        populate(&a);
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("dump.jsonl");
        assert!(a.cli(&["export", "--out", file.to_str().expect("utf-8")]).status.success());
        let mut lines: Vec<String> = std::fs::read_to_string(&file).expect("dump").lines().map(str::to_owned).collect();
        let bad = lines.len() - 2;
        lines[bad] = json!({ "kind": "membership", "account": "s1", "principal": "zed", "role": "no_such_role", "external": false, "status": "active", "expires_at": null }).to_string();
        std::fs::write(&file, lines.join("\n")).expect("write");
        let b = Daemon::start(&backend);
        let before = b.dump();
        let refused = b.cli(&["import", file.to_str().expect("utf-8")]);
        let stderr = String::from_utf8_lossy(&refused.stderr).into_owned();
        assert!(!refused.status.success(), "{backend:?}: {stderr}");
        assert!(stderr.contains(&format!("line {}", bad + 1)) && stderr.contains("nothing was imported"), "{stderr}");
        assert_eq!(b.dump(), before, "{backend:?}: nothing written");
        // A duplicate of what is already there fails in the database: nothing written either.
        assert!(a.cli(&["export", "--out", file.to_str().expect("utf-8")]).status.success());
        assert!(b.cli(&["import", file.to_str().expect("utf-8")]).status.success());
        let twice = b.dump();
        let refused = b.cli(&["import", file.to_str().expect("utf-8")]);
        assert!(!refused.status.success(), "{backend:?}: importing twice is refused");
        assert_eq!(b.dump(), twice, "{backend:?}: nothing written");
    }
}
