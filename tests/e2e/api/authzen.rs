//! The OpenID AuthZEN Authorization API 1.0 against a live daemon: the certification
//! scenario of openid/authzen (`certification/authorization-api-1_0-scenario.md`) with its
//! fixture as a TOML pack, and the spec's rules Roster adds to it (defaults and overrides,
//! the three semantics, pagination to the end, inline resources, who may ask).

use roster_e2e::daemon::{Backend, Daemon, Launch, backends};
use roster_e2e::http::Response;
use serde_json::{Value, json};

use super::auth::principal_token;
use super::{add_member, create_account};

const PDP: &str = "/authzen/cert/access/v1";

/// A daemon with the certification fixture: account `cert` (owner `olivia`), members
/// `alice` and `bob` (readers), records `record-1` and `record-2`, Alice editing
/// record-1 and Bob record-2.
fn fixture(backend: &Backend) -> Daemon {
    let packs = &[("certification.toml", include_str!("authzen_certification.toml"))];
    let d = Daemon::start_launched(backend, "", Launch { toml_packs: packs, ..Launch::default() });
    create_account(&d, "cert", "certification", "olivia");
    add_member(&d, "cert", "alice", "reader");
    add_member(&d, "cert", "bob", "reader");
    let profile = json!({ "email": "alice@example.com", "name": "Alice" });
    assert_eq!(d.call("PUT", "/v1/principals/alice", None, Some(profile)).status, 200);
    for record in ["record:record-1", "record:record-2"] {
        let r = d.call("POST", "/v1/accounts/cert/resources", None, Some(json!({ "resource": record })));
        assert_eq!(r.status, 201, "{}", r.text);
    }
    for (who, record) in [("alice", "record:record-1"), ("bob", "record:record-2")] {
        let grant = json!({ "subject": format!("principal:{who}"), "resource": record, "role": "editor" });
        let r = d.call("POST", "/v1/accounts/cert/grants", None, Some(grant));
        assert_eq!(r.status, 201, "{}", r.text);
    }
    d
}

/// POSTs JSON as a PEP does (`Content-Type: application/json`) with the service token.
fn post(d: &Daemon, path: &str, body: &Value) -> Response {
    post_as(d, &d.token, path, body)
}

fn post_as(d: &Daemon, token: &str, path: &str, body: &Value) -> Response {
    let bearer = format!("Bearer {token}");
    let headers = [("Authorization", bearer.as_str()), ("Content-Type", "application/json")];
    d.raw("POST", path, &headers, body.to_string().as_bytes())
}

fn decision(d: &Daemon, body: Value) -> bool {
    let r = post(d, &format!("{PDP}/evaluation"), &body);
    assert_eq!(r.status, 200, "{body}: {}", r.text);
    assert_eq!(r.header("content-type"), Some("application/json"), "{}", r.text);
    r.json()["decision"].as_bool().unwrap_or_else(|| panic!("no boolean decision in {}", r.text))
}

fn decisions(d: &Daemon, body: Value) -> Vec<Value> {
    let r = post(d, &format!("{PDP}/evaluations"), &body);
    assert_eq!(r.status, 200, "{body}: {}", r.text);
    r.json()["evaluations"].as_array().cloned().unwrap_or_else(|| panic!("no evaluations in {}", r.text))
}

fn bools(answers: &[Value]) -> Vec<Option<bool>> {
    answers.iter().map(|a| a["decision"].as_bool()).collect()
}

fn user(id: &str) -> Value {
    json!({ "type": "user", "id": id })
}

fn record(id: &str) -> Value {
    json!({ "type": "record", "id": id })
}

fn action(name: &str) -> Value {
    json!({ "name": name })
}

/// The ids (or names) a search returns, after following every page.
fn search_all(d: &Daemon, kind: &str, body: &Value, limit: u64) -> Vec<String> {
    let mut found = Vec::new();
    let mut token = String::new();
    for _ in 0..100 {
        let mut body = body.clone();
        body["page"] = json!({ "limit": limit, "token": token });
        let r = post(d, &format!("{PDP}/search/{kind}"), &body);
        assert_eq!(r.status, 200, "{body}: {}", r.text);
        let page = r.json();
        let results = page["results"].as_array().unwrap_or_else(|| panic!("no results in {}", r.text));
        assert!(results.len() as u64 <= limit, "a page holds at most its limit: {}", r.text);
        for result in results {
            let key = if kind == "action" { &result["name"] } else { &result["id"] };
            found.push(key.as_str().unwrap_or_else(|| panic!("bad result in {}", r.text)).to_owned());
        }
        token = page["page"]["next_token"].as_str().unwrap_or_else(|| panic!("no next_token in {}", r.text)).into();
        if token.is_empty() {
            return found;
        }
    }
    panic!("the search did not end in 100 pages")
}

#[test]
fn certification_basic_core_decisions_and_request_shapes() {
    for backend in backends() {
        let d = fixture(&backend);
        // C.1.4 rules 1-4.
        assert!(decision(
            &d,
            json!({ "subject": user("alice"), "action": action("read"), "resource": record("record-1") })
        ));
        assert!(decision(
            &d,
            json!({ "subject": user("alice"), "action": action("write"), "resource": record("record-1") })
        ));
        assert!(decision(
            &d,
            json!({ "subject": user("bob"), "action": action("read"), "resource": record("record-1") })
        ));
        assert!(!decision(
            &d,
            json!({ "subject": user("bob"), "action": action("write"), "resource": record("record-1") })
        ));
        // 2.2.3 context, 2.2.8 extra properties, 2.2.9 unknown fields: accepted, same answer.
        let context = json!({ "time": "2025-06-27T18:03-07:00", "ip": "192.168.1.1" });
        assert!(decision(
            &d,
            json!({ "subject": user("alice"), "action": action("read"), "resource": record("record-1"), "context": context })
        ));
        assert!(decision(
            &d,
            json!({
                "subject": { "type": "user", "id": "alice", "properties": { "department": "Sales", "role": "manager" } },
                "action": { "name": "read", "properties": { "method": "GET" } },
                "resource": { "type": "record", "id": "record-1", "properties": { "status": "active", "owner": "bob" } },
            })
        ));
        assert!(decision(
            &d,
            json!({ "subject": user("alice"), "action": action("read"), "resource": record("record-1"),
                    "foo": "bar", "futureField": { "nested": true } })
        ));
        // 2.3.1: exactly a decision unless reasons are asked for.
        let r = post(
            &d,
            &format!("{PDP}/evaluation"),
            &json!({ "subject": user("bob"), "action": action("write"), "resource": record("record-1") }),
        );
        assert_eq!(r.json(), json!({ "decision": false }), "{}", r.text);
        // 2.6: the same answer every time.
        for _ in 0..5 {
            assert!(decision(
                &d,
                json!({ "subject": user("alice"), "action": action("read"), "resource": record("record-1") })
            ));
        }
    }
}

#[test]
fn certification_errors_are_400_and_headers_are_kept() {
    let d = fixture(&Backend::Sqlite);
    let url = format!("{PDP}/evaluation");
    let bad_bodies = [
        json!({ "action": action("read"), "resource": record("record-1") }),
        json!({ "subject": user("alice"), "resource": record("record-1") }),
        json!({ "subject": user("alice"), "action": action("read") }),
        json!({ "subject": { "id": "alice" }, "action": action("read"), "resource": record("record-1") }),
        json!({ "subject": { "type": "user" }, "action": action("read"), "resource": record("record-1") }),
        json!({ "subject": user("alice"), "action": {}, "resource": record("record-1") }),
        json!({ "subject": user("alice"), "action": action("read"), "resource": { "id": "record-1" } }),
        json!({ "subject": user("alice"), "action": action("read"), "resource": { "type": "record" } }),
        json!({ "subject": "alice", "action": action("read"), "resource": record("record-1") }),
        json!({ "subject": user("alice"), "action": { "name": 123 }, "resource": record("record-1") }),
    ];
    for body in &bad_bodies {
        let r = post(&d, &url, body);
        assert_eq!(r.status, 400, "{body}: {}", r.text);
        assert!(r.json()["detail"].as_str().is_some_and(|m| !m.is_empty()), "a message: {}", r.text);
    }
    let bearer = format!("Bearer {}", d.token);
    let good =
        json!({ "subject": user("alice"), "action": action("read"), "resource": record("record-1") }).to_string();
    for (content_type, body) in [
        (Some("text/plain"), good.as_str()),
        (None, good.as_str()),
        (Some("application/json"), "{\"subject\": "),
        (Some("application/json"), ""),
    ] {
        let mut headers = vec![("Authorization", bearer.as_str())];
        headers.extend(content_type.map(|c| ("Content-Type", c)));
        let r = d.raw("POST", &url, &headers, body.as_bytes());
        assert_eq!(r.status, 400, "{content_type:?} {body:?}: {}", r.text);
    }
    let with_charset = [("Authorization", bearer.as_str()), ("Content-Type", "application/json; charset=utf-8")];
    assert_eq!(d.raw("POST", &url, &with_charset, good.as_bytes()).status, 200);
    // 2.5: X-Request-ID echoed.
    let headers =
        [("Authorization", bearer.as_str()), ("Content-Type", "application/json"), ("X-Request-ID", "req-42")];
    let r = d.raw("POST", &url, &headers, good.as_bytes());
    assert_eq!((r.status, r.header("x-request-id")), (200, Some("req-42")), "{}", r.text);
    // Missing or bad credentials: 401 naming the scheme.
    for headers in [
        vec![("Content-Type", "application/json")],
        vec![("Content-Type", "application/json"), ("Authorization", "Bearer rst_nope_nope")],
    ] {
        let r = d.raw("POST", &url, &headers, good.as_bytes());
        assert_eq!(r.status, 401, "{}", r.text);
        assert!(r.header("www-authenticate").is_some_and(|v| v.starts_with("Bearer")), "{:?}", r.headers);
    }
}

#[test]
fn certification_batch_defaults_overrides_and_item_errors() {
    for backend in backends() {
        let d = fixture(&backend);
        // 3.2.1 / 3.2.2: defaults at the top, in request order.
        let answers = decisions(
            &d,
            json!({ "subject": user("bob"), "resource": record("record-1"),
                    "evaluations": [{ "action": action("read") }, { "action": action("write") }] }),
        );
        assert_eq!(bools(&answers), [Some(true), Some(false)]);
        // 3.2.5: fully specified items.
        let answers = decisions(
            &d,
            json!({ "evaluations": [
                { "subject": user("alice"), "action": action("read"), "resource": record("record-1") },
                { "subject": user("bob"), "action": action("write"), "resource": record("record-1") },
            ] }),
        );
        assert_eq!(bools(&answers), [Some(true), Some(false)]);
        // 3.2.6: context inherited and overridden; accepted.
        let answers = decisions(
            &d,
            json!({ "subject": user("alice"), "action": action("read"), "context": { "time": "2025-06-27T18:03-07:00" },
                    "evaluations": [{ "resource": record("record-1") },
                                    { "resource": record("record-2"), "context": { "source": "batch-override" } }] }),
        );
        assert_eq!(answers.len(), 2);
        // 3.2.7: an empty item inherits everything; a given entity replaces the default whole.
        let answers = decisions(
            &d,
            json!({ "subject": user("alice"), "action": action("write"),
                    "resource": { "type": "record", "id": "record-1", "properties": { "status": "active" } },
                    "evaluations": [{}, { "resource": { "type": "record", "id": "record-2", "properties": { "status": "archived" } } }] }),
        );
        assert_eq!(bools(&answers), [Some(true), Some(false)]);
        // 3.4.1: a bad item is a deny with its error, the others still answered.
        let answers = decisions(
            &d,
            json!({ "subject": user("alice"), "action": action("read"), "options": { "evaluations_semantic": "execute_all" },
                    "evaluations": [{ "resource": record("record-1") }, {}, { "resource": "record-1" }, { "resource": record("record-1") }] }),
        );
        assert_eq!(bools(&answers), [Some(true), Some(false), Some(false), Some(true)]);
        assert_eq!(answers[1]["context"]["error"]["status"], 400, "{answers:?}");
        assert!(
            answers[1]["context"]["error"]["message"].as_str().is_some_and(|m| m.contains("resource")),
            "{answers:?}"
        );
        // An item that is not an object, or whose context is not one, fails alone too
        // (whether the rest of the request reads in one pass or item by item).
        for items in [
            json!([{ "resource": record("record-1"), "context": 5 }, { "resource": record("record-1") }]),
            json!([[user("alice"), action("read"), record("record-1")], { "resource": record("record-1") }]),
        ] {
            let answers =
                decisions(&d, json!({ "subject": user("alice"), "action": action("read"), "evaluations": items }));
            assert_eq!(bools(&answers), [Some(false), Some(true)], "{answers:?}");
            assert_eq!(answers[0]["context"]["error"]["status"], 400, "{answers:?}");
        }
        // 3.4.2 / 3.4.3: no items, or none, is a single evaluation.
        for items in [None, Some(json!([]))] {
            let mut body =
                json!({ "subject": user("alice"), "action": action("read"), "resource": record("record-1") });
            if let Some(items) = items {
                body["evaluations"] = items;
            }
            let r = post(&d, &format!("{PDP}/evaluations"), &body);
            assert_eq!(r.json(), json!({ "decision": true }), "{}", r.text);
        }
        // More items than `server.batch_limit` (1000): a 400 naming the limit, in the
        // common shape and in any other (a flood of `{}` is refused before it is read into
        // structs), and exactly the limit is answered.
        let item = json!({ "subject": user("alice"), "action": action("read"), "resource": record("record-1") });
        let with_context = json!({ "context": {} });
        for (shape, one) in [("common", item.clone()), ("empty", json!({})), ("other", with_context)] {
            let body = json!({ "subject": user("alice"), "action": action("read"), "resource": record("record-1"),
                               "evaluations": vec![one; 1001] });
            let r = post(&d, &format!("{PDP}/evaluations"), &body);
            assert_eq!(r.status, 400, "{backend:?} {shape}: {}", r.text);
            assert!(r.text.contains("at most 1000 per request, got 1001"), "{backend:?} {shape}: {}", r.text);
        }
        let r = post(&d, &format!("{PDP}/evaluations"), &json!({ "evaluations": vec![item; 1000] }));
        assert_eq!(r.json()["evaluations"].as_array().map(Vec::len), Some(1000), "{backend:?}");
    }
}

#[test]
fn the_short_circuit_semantics_stop_at_the_first_deny_or_permit() {
    let d = fixture(&Backend::Sqlite);
    let items = json!([
        { "resource": record("record-1") },
        { "resource": record("record-2") },
        { "resource": record("record-1") },
    ]);
    let run = |semantic: &str| {
        bools(&decisions(
            &d,
            json!({ "subject": user("alice"), "action": action("write"),
                    "options": { "evaluations_semantic": semantic }, "evaluations": items }),
        ))
    };
    assert_eq!(run("execute_all"), [Some(true), Some(false), Some(true)]);
    assert_eq!(run("deny_on_first_deny"), [Some(true), Some(false)]);
    assert_eq!(run("permit_on_first_permit"), [Some(true)]);
    let r = post(
        &d,
        &format!("{PDP}/evaluations"),
        &json!({ "subject": user("alice"), "action": action("write"),
                 "options": { "evaluations_semantic": "first_one_wins" }, "evaluations": items }),
    );
    assert_eq!(r.status, 400, "an unknown semantic is refused, not guessed: {}", r.text);
}

#[test]
fn certification_searches_with_pagination_to_the_end() {
    for backend in backends() {
        let d = fixture(&backend);
        // S1 (4.2.1-4.2.3): the subject's id, if sent, changes nothing.
        for subject in [json!({ "type": "user" }), user("alice")] {
            let body = json!({ "subject": subject, "action": action("read"), "resource": record("record-1") });
            assert_eq!(search_all(&d, "subject", &body, 1), ["alice", "bob", "olivia"], "{backend:?}");
        }
        // S2 (4.3.1-4.3.3): the resource's id, if sent, changes nothing.
        for resource in [json!({ "type": "record" }), record("record-1")] {
            let body = json!({ "subject": user("alice"), "action": action("read"), "resource": resource });
            assert_eq!(search_all(&d, "resource", &body, 1), ["record-1", "record-2"], "{backend:?}");
        }
        let body = json!({ "subject": user("bob"), "action": action("write"), "resource": { "type": "record" } });
        assert_eq!(search_all(&d, "resource", &body, 10), ["record-2"]);
        // S3 (4.4.1): actions, named through the pack's action table.
        let body = json!({ "subject": user("alice"), "resource": record("record-1") });
        // `record.view` has no entry in the table: it is its own action name; so is
        // `record.soft_delete`, which `delete` asks only with `soft: true` (an action search
        // carries no properties, and plain `delete` is denied).
        assert_eq!(
            search_all(&d, "action", &body, 1),
            ["create", "read", "record.soft_delete", "record.view", "write"]
        );
        let body = json!({ "subject": user("olivia"), "resource": record("record-1") });
        let all = ["create", "delete", "read", "record.soft_delete", "record.view", "write"];
        assert_eq!(search_all(&d, "action", &body, 2), all);
        // 4.6: unknown ids and types are empty results.
        let empty = [
            ("action", json!({ "subject": user("nonexistent-user"), "resource": record("record-1") })),
            (
                "subject",
                json!({ "subject": { "type": "spaceship" }, "action": action("read"), "resource": record("record-1") }),
            ),
            (
                "resource",
                json!({ "subject": user("alice"), "action": action("read"), "resource": { "type": "spaceship" } }),
            ),
            (
                "subject",
                json!({ "subject": { "type": "user" }, "action": action("fly"), "resource": record("record-1") }),
            ),
        ];
        for (kind, body) in empty {
            let r = post(&d, &format!("{PDP}/search/{kind}"), &body);
            assert_eq!((r.status, r.json()["results"].clone()), (200, json!([])), "{kind} {body}: {}", r.text);
            assert_eq!(r.json()["page"]["next_token"], "", "{}", r.text);
        }
        // 4.7: required fields, and each input entity's id.
        let bad = [
            ("subject", json!({ "subject": { "type": "user" }, "resource": record("record-1") })),
            ("resource", json!({ "action": action("read"), "resource": { "type": "record" } })),
            ("action", json!({ "subject": user("alice") })),
            (
                "subject",
                json!({ "subject": { "type": "user" }, "action": action("read"), "resource": { "type": "record" } }),
            ),
            (
                "resource",
                json!({ "subject": { "type": "user" }, "action": action("read"), "resource": { "type": "record" } }),
            ),
            ("action", json!({ "subject": { "type": "user" }, "resource": record("record-1") })),
            (
                "subject",
                json!({ "subject": { "type": "user" }, "action": action("read"), "resource": record("record-1"), "page": { "limit": 0 } }),
            ),
        ];
        for (kind, body) in bad {
            let r = post(&d, &format!("{PDP}/search/{kind}"), &body);
            assert_eq!(r.status, 400, "{kind} {body}: {}", r.text);
        }
    }
}

#[test]
fn discovery_names_every_endpoint_under_the_public_url() {
    let d = Daemon::start_with(&Backend::Sqlite, "public_url = \"https://authz.example.com/roster/\"");
    let r = d.raw("GET", "/.well-known/authzen-configuration/authzen/cert", &[], b"");
    assert_eq!(r.status, 200, "discovery needs no credentials: {}", r.text);
    assert_eq!(r.header("content-type"), Some("application/json"));
    let base = "https://authz.example.com/roster/authzen/cert";
    assert_eq!(
        r.json(),
        json!({
            "policy_decision_point": base,
            "access_evaluation_endpoint": format!("{base}/access/v1/evaluation"),
            "access_evaluations_endpoint": format!("{base}/access/v1/evaluations"),
            "search_subject_endpoint": format!("{base}/access/v1/search/subject"),
            "search_resource_endpoint": format!("{base}/access/v1/search/resource"),
            "search_action_endpoint": format!("{base}/access/v1/search/action"),
        })
    );
    let plain = Daemon::start(&Backend::Sqlite);
    let r = plain.raw("GET", "/.well-known/authzen-configuration/authzen/s1", &[], b"");
    let expected = format!("http://{}/authzen/s1", plain.address);
    assert_eq!(r.json()["policy_decision_point"], expected.as_str(), "{}", r.text);
}

#[test]
fn inline_resources_are_decided_under_their_parent_with_the_owner_they_name() {
    for backend in backends() {
        let d = fixture(&backend);
        let draft = |properties: Value| json!({ "type": "record", "id": "draft-9", "properties": properties });
        let write = |who: &str, properties: Value| {
            decision(&d, json!({ "subject": user(who), "action": action("write"), "resource": draft(properties) }))
        };
        // Readers write only records they own; the owner is named by id or by stored email.
        assert!(write("alice", json!({ "owner": "alice" })), "{backend:?}: owner by id");
        assert!(!write("bob", json!({ "owner": "alice" })), "{backend:?}: not bob's");
        assert!(!write("alice", json!({})), "{backend:?}: nobody's");
        assert!(write("alice", json!({ "owner": "alice@example.com" })), "{backend:?}: owner by email");
        assert!(
            !write("alice", json!({ "owner": "nobody@example.com" })),
            "{backend:?}: an unknown email owns nothing"
        );
        // Reading follows the account-level role; the owner property is the pack's.
        assert!(decision(
            &d,
            json!({ "subject": user("bob"), "action": action("read"), "resource": draft(json!({})) })
        ));
        // A parent must be a stored resource (records sit under the account here, so a
        // record cannot be one's parent).
        let r = post(
            &d,
            &format!("{PDP}/evaluation"),
            &json!({ "subject": user("alice"), "action": action("write"), "resource": draft(json!({ "parent": "record:ghost" })) }),
        );
        assert_eq!(r.status, 400, "{}", r.text);
        // Reasons only when asked for, naming the condition.
        let r = post(
            &d,
            &format!("{PDP}/evaluations"),
            &json!({ "subject": user("alice"), "action": action("write"), "options": { "explain": true },
                     "evaluations": [{ "resource": draft(json!({ "owner": "alice" })) }] }),
        );
        let explained = &r.json()["evaluations"][0];
        assert_eq!(explained["decision"], true, "{}", r.text);
        assert!(
            explained["context"]["reason_admin"]["summary"].as_str().is_some_and(|s| s.contains("owner")),
            "{}",
            r.text
        );
        // The subject search finds the inline resource's owner.
        let body = json!({ "subject": { "type": "user" }, "action": action("write"), "resource": draft(json!({ "owner": "bob" })) });
        assert_eq!(search_all(&d, "subject", &body, 10), ["bob", "olivia"], "{backend:?}");
    }
}

#[test]
fn a_principal_token_evaluates_and_searches_only_for_itself() {
    let d = fixture(&Backend::Sqlite);
    let alice = principal_token(&d, "alice");
    let own = json!({ "subject": user("alice"), "action": action("read"), "resource": record("record-1") });
    let r = post_as(&d, &alice, &format!("{PDP}/evaluation"), &own);
    assert_eq!(r.json(), json!({ "decision": true }), "{}", r.text);
    let other = json!({ "subject": user("bob"), "action": action("read"), "resource": record("record-1") });
    let r = post_as(&d, &alice, &format!("{PDP}/evaluation"), &other);
    assert_eq!(r.status, 403, "{}", r.text);
    let r = post_as(&d, &alice, &format!("{PDP}/evaluations"), &json!({ "evaluations": [own, other] }));
    assert_eq!(bools(&r.json()["evaluations"].as_array().cloned().unwrap_or_default()), [Some(true), Some(false)]);
    assert_eq!(r.json()["evaluations"][1]["context"]["error"]["status"], 403, "{}", r.text);
    for (kind, body) in [
        ("action", json!({ "subject": user("bob"), "resource": record("record-1") })),
        ("resource", json!({ "subject": user("bob"), "action": action("read"), "resource": { "type": "record" } })),
    ] {
        let r = post_as(&d, &alice, &format!("{PDP}/search/{kind}"), &body);
        assert_eq!(r.status, 403, "{kind}: {}", r.text);
    }
    // Who holds what is a member list: a reader may not see it.
    let who = json!({ "subject": { "type": "user" }, "action": action("read"), "resource": record("record-1") });
    let r = post_as(&d, &alice, &format!("{PDP}/search/subject"), &who);
    assert!(matches!(r.status, 403 | 404), "{}", r.text);
    // An account the principal holds nothing in is not there for it.
    create_account(&d, "other", "certification", "oscar");
    let r = post_as(&d, &alice, "/authzen/other/access/v1/evaluation", &own);
    assert_eq!(r.status, 404, "{}", r.text);
}

/// The Properties levels: the fixture's decisions hold (rules 5 and 6, 3.2.3, 3.2.4,
/// S4-S6) because of what Roster stores, and a role claimed in the request changes nothing.
#[test]
fn certification_properties_decisions_come_from_stored_roles_not_from_the_request() {
    let d = fixture(&Backend::Sqlite);
    let archived = json!({ "type": "record", "id": "record-2", "properties": { "status": "archived" } });
    let admin_bob = json!({ "type": "user", "id": "bob", "properties": { "role": "admin" } });
    assert!(!decision(&d, json!({ "subject": user("alice"), "action": action("write"), "resource": archived })));
    assert!(decision(&d, json!({ "subject": admin_bob, "action": action("write"), "resource": archived })));
    let answers = decisions(
        &d,
        json!({ "action": action("write"), "resource": archived,
                "evaluations": [{ "subject": user("alice") }, { "subject": admin_bob }] }),
    );
    assert_eq!(bools(&answers), [Some(false), Some(true)]);
    let answers = decisions(
        &d,
        json!({ "subject": user("alice"), "action": action("write"),
                "evaluations": [{ "resource": { "type": "record", "id": "record-1", "properties": { "status": "active" } } },
                                { "resource": archived }] }),
    );
    assert_eq!(bools(&answers), [Some(true), Some(false)]);
    let body = json!({ "subject": { "type": "user" }, "action": action("write"), "resource": archived });
    assert!(search_all(&d, "subject", &body, 10).contains(&"bob".to_owned()));
    let body = json!({ "subject": admin_bob, "action": action("write"), "resource": { "type": "record" } });
    assert_eq!(search_all(&d, "resource", &body, 10), ["record-2"]);
    let body = json!({ "subject": admin_bob, "resource": archived });
    assert!(search_all(&d, "action", &body, 10).contains(&"write".to_owned()));
    // A role claimed in the request grants nothing: Alice "admin" still may not.
    let claimed = json!({ "type": "user", "id": "alice", "properties": { "role": "admin" } });
    assert!(!decision(&d, json!({ "subject": claimed, "action": action("write"), "resource": archived })));
    // Rules 7 and 8 (2.2.6, 2.2.7): the action's properties choose the permission asked
    // (`[[authzen.action_properties]]`): a soft delete asks `record.soft_delete`, which
    // readers hold; any other delete asks `record.delete`, which they do not.
    for (properties, expected) in [
        (json!({ "soft": true }), true),
        (json!({ "soft": false }), false),
        (json!({ "soft": "true" }), false),
        (json!({}), false),
    ] {
        let delete = json!({ "name": "delete", "properties": properties });
        let asked = json!({ "subject": user("alice"), "action": delete, "resource": record("record-1") });
        assert_eq!(decision(&d, asked), expected, "delete with {properties}");
    }
    let plain = json!({ "subject": user("alice"), "action": action("delete"), "resource": record("record-1") });
    assert!(!decision(&d, plain), "a delete without properties is a hard delete");
    // The same in a batch, as an item's override, and in a subject search.
    let answers = decisions(
        &d,
        json!({ "subject": user("alice"), "resource": record("record-1"),
                "evaluations": [{ "action": { "name": "delete", "properties": { "soft": true } } },
                                { "action": { "name": "delete", "properties": { "soft": false } } }] }),
    );
    assert_eq!(bools(&answers), [Some(true), Some(false)]);
    let soft = json!({ "name": "delete", "properties": { "soft": true } });
    let body = json!({ "subject": { "type": "user" }, "action": soft, "resource": record("record-1") });
    assert!(search_all(&d, "subject", &body, 10).contains(&"alice".to_owned()));
}

/// The README's AuthZEN calls, on a studio account where Adam is an Admin.
#[test]
fn the_readme_walkthrough_answers_as_shown() {
    let d = Daemon::start(&Backend::Sqlite);
    create_account(&d, "acme", "studio", "olivia");
    add_member(&d, "acme", "adam", "admin");
    let acme = json!({ "type": "account", "id": "acme" });
    let r = post(
        &d,
        "/authzen/acme/access/v1/evaluation",
        &json!({ "subject": user("adam"), "action": action("member.invite"), "resource": acme }),
    );
    assert_eq!(r.json(), json!({ "decision": true }), "{}", r.text);
    let r = post(
        &d,
        "/authzen/acme/access/v1/evaluations",
        &json!({ "subject": user("adam"), "resource": acme,
                 "evaluations": [{ "action": action("billing.view") }, { "action": action("studio.create") }] }),
    );
    assert_eq!(r.json(), json!({ "evaluations": [{ "decision": false }, { "decision": true }] }), "{}", r.text);
    let r = post(&d, "/authzen/acme/access/v1/search/action", &json!({ "subject": user("adam"), "resource": acme }));
    assert_eq!(r.json()["results"][0], json!({ "name": "audit.view" }), "{}", r.text);
    assert_eq!(r.json()["page"], json!({ "next_token": "" }), "{}", r.text);
}

/// A principal cannot tell a stored resource it may not see from one that does not exist,
/// and cannot name the owner of an inline resource itself: both are a plain deny (or no
/// results), exactly alike.
#[test]
fn a_principal_cannot_probe_resources_it_may_not_see() {
    for backend in backends() {
        let d = fixture(&backend);
        // Dave is an external member: only his grant on record-1 counts.
        super::add_external(&d, "cert", "dave", "reader");
        let grant = json!({ "subject": "principal:dave", "resource": "record:record-1", "role": "editor" });
        assert_eq!(d.call("POST", "/v1/accounts/cert/grants", None, Some(grant)).status, 201);
        let dave = principal_token(&d, "dave");
        let ask = |resource: Value, explain: bool| {
            let body = json!({ "subject": user("dave"), "action": action("read"), "resource": resource,
                               "options": { "explain": explain } });
            let r = post_as(&d, &dave, &format!("{PDP}/evaluation"), &body);
            assert_eq!(r.status, 200, "{backend:?}: {}", r.text);
            r.json()
        };
        assert_eq!(ask(record("record-1"), false), json!({ "decision": true }), "{backend:?}: his own grant");
        let hidden = ask(record("record-2"), false);
        let missing = ask(record("record-9"), false);
        assert_eq!(hidden, json!({ "decision": false }), "{backend:?}");
        assert_eq!(hidden, missing, "{backend:?}: an unseen resource looks like a missing one");
        let hidden = ask(record("record-2"), true);
        let missing = ask(record("record-9"), true);
        let summary =
            |v: &Value| v["context"]["reason_admin"]["summary"].as_str().map(|s| s.replace("record-2", "record-9"));
        assert_eq!(summary(&hidden), summary(&missing), "{backend:?}: the reasons too");
        let owned = json!({ "type": "record", "id": "draft", "properties": { "owner": "dave" } });
        assert_eq!(ask(owned, false), json!({ "decision": false }), "{backend:?}: no inline resources for a principal");
        // The service still sees inline resources, and Dave's stored grant.
        assert!(decision(
            &d,
            json!({ "subject": user("dave"), "action": action("write"), "resource": record("record-1") })
        ));
        for resource in ["record-2", "record-9"] {
            let body = json!({ "subject": user("dave"), "resource": record(resource) });
            let r = post_as(&d, &dave, &format!("{PDP}/search/action"), &body);
            assert_eq!((r.status, r.json()["results"].clone()), (200, json!([])), "{backend:?} {resource}: {}", r.text);
        }
    }
}
