//! Every list of the API a page at a time (issue 9): `cursor` + `limit`, a stable order,
//! a maximum `limit`; walking the pages gives exactly the whole list, on both databases
//! (invites are paged by the database, the rest by the engine).

use roster_e2e::daemon::{Daemon, backends};
use serde_json::{Value, json};

use super::{add_member, create_account};

/// Every item of a GET list, walked `limit` at a time.
fn walk(d: &Daemon, path: &str, limit: usize) -> Vec<Value> {
    let mut items = Vec::new();
    let mut cursor: Option<String> = None;
    let joiner = if path.contains('?') { '&' } else { '?' };
    loop {
        let url = match &cursor {
            Some(c) => format!("{path}{joiner}limit={limit}&cursor={}", form_encode(c)),
            None => format!("{path}{joiner}limit={limit}"),
        };
        let r = d.call("GET", &url, None, None);
        assert_eq!(r.status, 200, "{url}: {}", r.text);
        let page = r.json();
        let got = page["items"].as_array().expect("items").clone();
        assert!(got.len() <= limit, "{url}: {} items", got.len());
        items.extend(got.iter().cloned());
        match page["next_cursor"].as_str() {
            Some(next) => {
                assert_eq!(got.len(), limit, "{url}: only the last page may be short");
                cursor = Some(next.to_owned());
            }
            None => return items,
        }
    }
}

fn form_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[test]
fn every_list_pages_through_the_whole_list_on_both_databases() {
    for backend in backends() {
        let d = Daemon::start(&backend);
        create_account(&d, "p1", "studio", "owner");
        for i in [4, 1, 6, 0, 5, 2, 3] {
            add_member(&d, "p1", &format!("m{i}"), "user");
        }
        let r = d.call("POST", "/v1/accounts/p1/resources", None, Some(json!({ "resource": "studio:1" })));
        assert_eq!(r.status, 201, "{}", r.text);
        for i in [3, 0, 4, 1, 2] {
            let body = json!({ "id": format!("g{i}"), "subject": format!("principal:m{i}"), "resource": "studio:1", "role": "studio_client" });
            assert_eq!(d.call("POST", "/v1/accounts/p1/grants", None, Some(body)).status, 201);
            let group = json!({ "id": format!("team{i}") });
            assert_eq!(d.call("POST", "/v1/accounts/p1/groups", None, Some(group)).status, 201);
            let invite = json!({ "email": format!("new{i}@example.com") });
            assert_eq!(d.call("POST", "/v1/accounts/p1/invites", None, Some(invite)).status, 201);
        }
        create_account(&d, "ag", "agency", "ann");
        for i in [2, 0, 3, 1] {
            let child = json!({
                "id": format!("ag.c{i}"), "pack": "agency", "name": "Client", "parent": "ag",
                "owner": { "id": format!("c{i}-owner"), "email": format!("c{i}@example.com"), "name": "C" },
            });
            assert_eq!(d.call("POST", "/v1/accounts", None, Some(child)).status, 201);
        }
        for path in [
            "/v1/accounts/p1/members",
            "/v1/accounts/p1/grants",
            "/v1/accounts/p1/groups",
            "/v1/accounts/p1/roles",
            "/v1/accounts/p1/invites",
            "/v1/accounts/ag/children",
        ] {
            let whole = walk(&d, path, 500);
            assert!(whole.len() >= 4, "{backend:?} {path}: {whole:?}");
            for limit in [1, 2, 3] {
                assert_eq!(walk(&d, path, limit), whole, "{backend:?} {path} by {limit}");
            }
        }
        // In id order where the id is the key.
        let members: Vec<Value> =
            walk(&d, "/v1/accounts/p1/members", 2).iter().map(|m| m["principal"].clone()).collect();
        assert_eq!(
            members,
            json!(["m0", "m1", "m2", "m3", "m4", "m5", "m6", "owner"]).as_array().expect("array").clone()
        );
        let grants: Vec<Value> = walk(&d, "/v1/accounts/p1/grants", 2).iter().map(|g| g["id"].clone()).collect();
        assert_eq!(grants, json!(["g0", "g1", "g2", "g3", "g4"]).as_array().expect("array").clone());
        // Filters page too.
        let one = walk(&d, "/v1/accounts/p1/grants?subject=principal:m3", 1);
        assert_eq!(one.len(), 1, "{one:?}");

        // The lookup of subjects pages in its body.
        let mut subjects = Vec::new();
        let mut cursor = Value::Null;
        loop {
            let body = json!({ "account": "p1", "permission": "member.view", "limit": 3, "cursor": cursor });
            let r = d.call("POST", "/v1/lookup/subjects", None, Some(body)).json();
            subjects.extend(r["principals"].as_array().expect("principals").iter().cloned());
            cursor = r["next_cursor"].clone();
            if cursor.is_null() {
                break;
            }
        }
        let whole =
            d.call("POST", "/v1/lookup/subjects", None, Some(json!({ "account": "p1", "permission": "member.view" })));
        assert_eq!(Value::Array(subjects), whole.json()["principals"], "{backend:?}");

        // Bounds and bad cursors are clear refusals.
        for path in [
            "/v1/accounts/p1/grants?limit=0",
            "/v1/accounts/p1/grants?limit=501",
            "/v1/accounts/p1/roles?cursor=x",
            "/v1/accounts/p1/invites?cursor=x",
        ] {
            let r = d.call("GET", path, None, None);
            assert_eq!((r.status, r.code().as_str()), (400, "invalid_input"), "{path}: {}", r.text);
        }
    }
}

#[test]
fn the_platform_verifies_an_audit_chain_a_page_at_a_time() {
    for backend in backends() {
        let d = Daemon::start(&backend);
        create_account(&d, "v1", "studio", "owner");
        for i in 0..5 {
            add_member(&d, "v1", &format!("m{i}"), "user");
        }
        let whole = d.call("GET", "/v1/accounts/v1/audit/verify?limit=100000", None, None).json();
        assert_eq!(whole["ok"], true, "{whole}");
        assert!(whole["next_cursor"].is_null(), "one page holds it all: {whole}");
        let total = whole["events"].as_u64().expect("events");
        let walk = |d: &Daemon| {
            let (mut checked, mut cursor, mut verdicts) = (0, String::new(), Vec::new());
            loop {
                let page = d.call("GET", &format!("/v1/accounts/v1/audit/verify?limit=2{cursor}"), None, None).json();
                checked += page["events"].as_u64().expect("events");
                verdicts.push(page.clone());
                match page["next_cursor"].as_str() {
                    Some(next) if page["ok"] == true => cursor = format!("&cursor={next}"),
                    _ => return (checked, verdicts),
                }
            }
        };
        let (checked, verdicts) = walk(&d);
        assert_eq!(checked, total, "{backend:?}: the pages check every event once");
        assert!(verdicts.iter().all(|v| v["ok"] == true), "{verdicts:?}");
        assert_eq!(verdicts.len() as u64, total.div_ceil(2));
        // An event edited behind the daemon's back is found on its page.
        d.sql("UPDATE audit_events SET actor = 'principal:mallory' WHERE account_id = 'v1' AND seq = 4");
        let (_, verdicts) = walk(&d);
        let last = verdicts.last().expect("a page");
        assert_eq!((last["ok"].clone(), last["first_bad_seq"].clone()), (json!(false), json!(4)), "{last}");
        assert_eq!(last["problem"], "edited");
        // A principal gets the whole chain's verdict, never a cursor.
        let r = d.call("GET", "/v1/accounts/v1/audit/verify?limit=2", Some("owner"), None);
        assert_eq!((r.status, r.code().as_str()), (400, "invalid_input"), "{}", r.text);
        let r = d.call("GET", "/v1/accounts/v1/audit/verify", Some("owner"), None).json();
        assert_eq!(r, json!({ "ok": false, "problem": "edited" }), "{backend:?}");
    }
}
