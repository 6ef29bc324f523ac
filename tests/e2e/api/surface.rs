//! The HTTP surface's own behaviour (issue 9): request ids in either header, the request
//! and idle timeouts, HTTP/2 only when asked and then with its limits, and the OpenAPI
//! document served to anyone.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use roster_e2e::daemon::{Backend, Daemon};

use super::closed_within;

#[test]
fn x_request_id_is_accepted_and_echoed_like_roster_request_id() {
    let d = Daemon::start(&Backend::Sqlite);
    let bearer = format!("Bearer {}", d.token);
    let r = d.raw("GET", "/v1/packs", &[("Authorization", &bearer), ("X-Request-ID", "gateway-7")], b"");
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.header("x-request-id"), Some("gateway-7"), "echoed in the header it came in");
    assert_eq!(r.header("roster-request-id"), Some("gateway-7"), "and used as the request id");
    // The id reaches the audit trail of a write.
    let account = serde_json::json!({
        "id": "rq1", "pack": "studio", "name": "Rq",
        "owner": { "id": "o", "email": "o@example.com", "name": "O" },
    });
    let body = account.to_string();
    let created = d.raw(
        "POST",
        "/v1/accounts",
        &[("Authorization", &bearer), ("X-Request-ID", "gateway-8"), ("Content-Type", "application/json")],
        body.as_bytes(),
    );
    assert_eq!(created.status, 201, "{}", created.text);
    let audit = d.call("GET", "/v1/accounts/rq1/audit", None, None).json();
    assert_eq!(audit["items"][0]["request_id"], "gateway-8", "{audit}");
    // Refused like Roster-Request-Id when unreadable, and answered with a fresh id.
    let bad = d.raw("GET", "/v1/packs", &[("Authorization", &bearer), ("X-Request-ID", "two words")], b"");
    assert_eq!((bad.status, bad.code().as_str()), (400, "invalid_input"), "{}", bad.text);
    assert!(bad.json()["detail"].as_str().unwrap_or_default().contains("X-Request-ID"), "{}", bad.text);
    assert!(bad.header("roster-request-id").is_some_and(|id| id.starts_with("req_")));
    let without = d.raw("GET", "/v1/packs", &[("Authorization", &bearer)], b"");
    assert!(without.header("x-request-id").is_none(), "not added when not sent");
    assert!(without.header("roster-request-id").is_some_and(|id| id.starts_with("req_")));
}

#[test]
fn a_body_that_stops_half_way_gets_a_request_timeout_problem() {
    let d = Daemon::start_with(&Backend::Sqlite, "request_timeout_s = 1\nidle_timeout_s = 30");
    let mut stream = TcpStream::connect(&d.address).expect("connect");
    let head = format!(
        "POST /v1/accounts HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"id\":",
        d.token
    );
    stream.write_all(head.as_bytes()).expect("write");
    // Read the answer, not the close: the connection lingers a while for the rest of the body.
    stream.set_read_timeout(Some(Duration::from_secs(20))).expect("timeout");
    let mut answer = Vec::new();
    let mut chunk = [0u8; 4096];
    while !answer.ends_with(b"}") {
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => answer.extend_from_slice(&chunk[..n]),
        }
    }
    let text = String::from_utf8_lossy(&answer);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(text.contains("application/problem+json") && text.contains("\"code\":\"request_timeout\""), "{text}");
}

#[test]
fn a_connection_on_which_nothing_moves_is_closed_after_the_idle_timeout() {
    // The header timeout is far away: only the idle timeout can close these.
    let d = Daemon::start_with(
        &Backend::Sqlite,
        "header_read_timeout_s = 120\nrequest_timeout_s = 1\nidle_timeout_s = 1\nhttp2 = true",
    );
    let mut silent = TcpStream::connect(&d.address).expect("connect");
    assert!(closed_within(&mut silent, Duration::from_secs(20)).is_some(), "a silent connection is closed");
    // An HTTP/2 connection has no header timeout at all: idle, it is closed all the same.
    let mut h2 = TcpStream::connect(&d.address).expect("connect");
    h2.write_all(H2_PREFACE).expect("preface");
    h2.write_all(&EMPTY_SETTINGS).expect("settings");
    assert!(closed_within(&mut h2, Duration::from_secs(20)).is_some(), "an idle HTTP/2 connection is closed");
}

/// The HTTP/2 client preface and an empty SETTINGS frame.
const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
const EMPTY_SETTINGS: [u8; 9] = [0, 0, 0, 4, 0, 0, 0, 0, 0];

/// The settings of the server's first SETTINGS frame, as (identifier, value).
fn server_settings(address: &str) -> Vec<(u16, u32)> {
    let mut stream = TcpStream::connect(address).expect("connect");
    stream.set_read_timeout(Some(Duration::from_secs(20))).expect("timeout");
    stream.write_all(H2_PREFACE).expect("preface");
    stream.write_all(&EMPTY_SETTINGS).expect("settings");
    let mut header = [0u8; 9];
    stream.read_exact(&mut header).expect("a frame header");
    assert_eq!(header[3], 4, "the server's first frame is SETTINGS: {header:?}");
    let length = usize::from(header[0]) << 16 | usize::from(header[1]) << 8 | usize::from(header[2]);
    let mut payload = vec![0u8; length];
    stream.read_exact(&mut payload).expect("settings payload");
    payload
        .chunks_exact(6)
        .map(|s| (u16::from_be_bytes([s[0], s[1]]), u32::from_be_bytes([s[2], s[3], s[4], s[5]])))
        .collect()
}

#[test]
fn http2_is_off_by_default_and_limited_when_on() {
    let off = Daemon::start(&Backend::Sqlite);
    let mut stream = TcpStream::connect(&off.address).expect("connect");
    stream.write_all(H2_PREFACE).expect("preface");
    let answer = closed_within(&mut stream, Duration::from_secs(20)).expect("refused and closed");
    assert!(!answer.starts_with(&[0, 0]), "no HTTP/2 frames from an HTTP/1.1-only daemon");

    let on = Daemon::start_with(
        &Backend::Sqlite,
        "http2 = true\nhttp2_max_concurrent_streams = 7\nhttp2_max_header_list_bytes = 9000",
    );
    let settings = server_settings(&on.address);
    const MAX_CONCURRENT_STREAMS: u16 = 0x3;
    const MAX_HEADER_LIST_SIZE: u16 = 0x6;
    assert!(settings.contains(&(MAX_CONCURRENT_STREAMS, 7)), "{settings:?}");
    assert!(settings.contains(&(MAX_HEADER_LIST_SIZE, 9000)), "{settings:?}");
}

#[test]
fn the_openapi_document_is_served_to_anyone_and_names_every_endpoint() {
    let d = Daemon::start(&Backend::Sqlite);
    let r = d.raw("GET", "/v1/openapi.json", &[], b"");
    assert_eq!(r.status, 200, "{}", r.text);
    let document = r.json();
    assert_eq!(document["openapi"], "3.1.0");
    let checked_in: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/openapi.json"))
            .expect("docs/openapi.json"),
    )
    .expect("json");
    assert_eq!(document, checked_in, "the daemon serves the checked-in document");
    assert_eq!(document["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");
    let problem = &document["components"]["schemas"]["Problem"];
    assert!(problem["properties"]["code"].is_object(), "{problem}");
    let operations = document["paths"].as_object().expect("paths").values().flat_map(|item| {
        item.as_object().into_iter().flat_map(|methods| methods.values().filter(|o| o.get("responses").is_some()))
    });
    let mut count = 0;
    for operation in operations {
        count += 1;
        assert!(operation["responses"]["default"].is_object(), "every operation documents its refusals: {operation}");
    }
    assert_eq!(count, 55, "every endpoint is in the document");
}

/// Found by the API fuzzing: a second PUT of the same group member was a 409 from a
/// database constraint (and a warning in the log); PUT is idempotent.
#[test]
fn putting_a_group_member_twice_is_idempotent_on_both_databases() {
    for backend in roster_e2e::daemon::backends() {
        let mut d = Daemon::start(&backend);
        super::create_account(&d, "g1", "studio", "owner");
        let add = d.call("POST", "/v1/accounts/g1/members", None, Some(serde_json::json!({ "principal": "uma" })));
        assert_eq!(add.status, 201, "{}", add.text);
        let group = d.call("POST", "/v1/accounts/g1/groups", None, Some(serde_json::json!({ "id": "crew" })));
        assert_eq!(group.status, 201, "{}", group.text);
        for attempt in 0..2 {
            let put = d.call("PUT", "/v1/accounts/g1/groups/crew/members/uma", None, None);
            assert_eq!(put.status, 200, "{backend:?} attempt {attempt}: {}", put.text);
            assert_eq!(put.json()["members"], serde_json::json!(["uma"]), "{}", put.text);
        }
        d.restart();
        let groups = d.call("GET", "/v1/accounts/g1/groups", None, None).json();
        assert_eq!(groups["items"][0]["members"], serde_json::json!(["uma"]), "{groups}");
    }
}

#[test]
fn a_request_head_past_16_kib_is_refused() {
    let d = Daemon::start(&Backend::Sqlite);
    let bearer = format!("Bearer {}", d.token);
    let fits = "a".repeat(12 << 10);
    let r = d.raw("GET", "/v1/packs", &[("Authorization", &bearer), ("X-Padding", &fits)], b"");
    assert_eq!(r.status, 200, "a 12 KiB header fits");
    let too_big = "a".repeat(20 << 10);
    let r = d.raw("GET", "/v1/packs", &[("Authorization", &bearer), ("X-Padding", &too_big)], b"");
    assert_eq!(r.status, 431, "{}", r.text);
}
