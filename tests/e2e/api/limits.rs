//! What one client may hold of the daemon (issue 9, first steps): a connection that
//! trickles or idles before its headers is closed after `header_read_timeout_s`; past
//! `max_connections`, new connections wait rather than being served; a request without a
//! valid token is answered before its body is read, and a client that writes its whole
//! body first still reads the refusal; text that either database would refuse (NUL) is a
//! 400 on both.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use roster_e2e::daemon::{Backend, Daemon, backends};

use super::closed_within;
use serde_json::json;

#[test]
fn a_connection_that_sends_half_a_header_or_nothing_is_closed() {
    let d = Daemon::start_with(&Backend::Sqlite, "header_read_timeout_s = 1");
    let mut half = TcpStream::connect(&d.address).expect("connect");
    half.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ").expect("write");
    let mut idle = TcpStream::connect(&d.address).expect("connect");
    assert!(closed_within(&mut half, Duration::from_secs(20)).is_some(), "half a header is not held open");
    assert!(closed_within(&mut idle, Duration::from_secs(20)).is_some(), "a silent connection is not held open");
    let health = d.raw("GET", "/healthz", &[], b"");
    assert_eq!(health.status, 200, "the daemon still serves");
}

#[test]
fn past_max_connections_new_connections_wait_for_a_free_slot() {
    let d = Daemon::start_with(&Backend::Sqlite, "max_connections = 2\nheader_read_timeout_s = 60");
    let holders: Vec<TcpStream> = (0..2).map(|_| TcpStream::connect(&d.address).expect("connect")).collect();
    // Give the daemon the moment it needs to take both slots.
    std::thread::sleep(Duration::from_millis(300));
    let mut third = TcpStream::connect(&d.address).expect("the kernel backlog takes it");
    third.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").expect("write");
    assert!(closed_within(&mut third, Duration::from_millis(700)).is_none(), "served past the limit");
    drop(holders);
    let answer = closed_within(&mut third, Duration::from_secs(20)).expect("served once a slot is free");
    assert!(String::from_utf8_lossy(&answer).starts_with("HTTP/1.1 200"), "{}", String::from_utf8_lossy(&answer));
}

#[test]
fn control_characters_in_text_fields_are_refused_on_both_databases() {
    for backend in backends() {
        let d = Daemon::start(&backend);
        let owner = json!({ "id": "o", "email": "o@example.com", "name": "O" });
        for (field, body) in [
            ("name", json!({ "id": "a1", "pack": "studio", "name": "Nul\u{0}Co", "owner": owner })),
            (
                "owner.name",
                json!({ "id": "a2", "pack": "studio", "name": "Co", "owner": { "id": "o", "email": "o@example.com", "name": "O\u{0}" } }),
            ),
            (
                "owner.email",
                json!({ "id": "a3", "pack": "studio", "name": "Co", "owner": { "id": "o", "email": "o\u{0}@example.com", "name": "O" } }),
            ),
        ] {
            let r = d.call("POST", "/v1/accounts", None, Some(body));
            assert_eq!((r.status, r.code().as_str()), (400, "invalid_input"), "{backend:?} {field}: {}", r.text);
            assert!(r.json()["detail"].as_str().unwrap_or_default().starts_with(field), "{field}: {}", r.text);
        }
        let put = d.call("PUT", "/v1/principals/p", None, Some(json!({ "email": "p@example.com", "name": "P\u{0}" })));
        assert_eq!(put.status, 400, "{backend:?}: {}", put.text);
        let invite = d.call("POST", "/v1/accounts/none/invites", None, Some(json!({ "email": "x\u{0}@example.com" })));
        assert_eq!(invite.status, 400, "{backend:?}: {}", invite.text);
    }
}

#[test]
fn a_request_without_a_valid_token_is_answered_before_its_body_is_read() {
    let d = Daemon::start(&Backend::Sqlite);
    for authorization in ["", "Authorization: Bearer rst_0000_1111\r\n"] {
        let mut stream = TcpStream::connect(&d.address).expect("connect");
        // A body is announced and never sent: only an answer from the headers can come.
        let head = format!(
            "POST /v1/accounts HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
             Content-Length: 500000\r\n{authorization}\r\n"
        );
        stream.write_all(head.as_bytes()).expect("write");
        stream.set_read_timeout(Some(Duration::from_secs(20))).expect("timeout");
        let mut answer = [0u8; 64];
        let read = stream.read(&mut answer).expect("an answer before the body");
        let text = String::from_utf8_lossy(&answer[..read]).into_owned();
        assert!(text.starts_with("HTTP/1.1 401"), "{authorization:?}: {text}");
    }
}

#[test]
fn a_client_that_writes_its_whole_body_first_still_reads_the_refusal() {
    let d = Daemon::start(&Backend::Sqlite);
    // Like many HTTP libraries: the whole body goes out before the answer is read.
    let body = vec![b' '; 900_000];
    for (what, authorization) in [("no token", String::new()), ("an unknown token", "Bearer rst_0000_1111".into())] {
        let headers: Vec<(&str, &str)> =
            if authorization.is_empty() { Vec::new() } else { vec![("Authorization", authorization.as_str())] };
        let r = roster_e2e::http::send(&d.address, "POST", "/v1/accounts", &headers, &body);
        assert_eq!(r.status, 401, "{what}: {}", r.text);
    }
    let too_large = vec![b' '; 16_000_000];
    let bearer = format!("Bearer {}", d.token);
    let r = roster_e2e::http::send(&d.address, "POST", "/v1/accounts", &[("Authorization", &bearer)], &too_large);
    assert_eq!(r.status, 413, "{}", r.text);
}
