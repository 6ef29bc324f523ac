//! Headers that decide who is calling are read strictly (issue 8, hole 4): a present but
//! unreadable, invalid or repeated `Authorization` or `Roster-Act-As` is a 400, never
//! dropped; dropping `Roster-Act-As` ran the call with the platform's full rights.

use roster_e2e::daemon::{Daemon, backends};
use roster_e2e::http::{Response, send_bytes};

/// `POST /v1/accounts` (platform only) with `extra` header lines given byte for byte.
fn create_top_level_account(d: &Daemon, id: &str, extra: &[&[u8]], with_token: bool) -> Response {
    let body = format!(
        r#"{{"id":"{id}","pack":"studio","name":"X","owner":{{"id":"o","email":"o@example.com","name":"O"}}}}"#
    );
    let mut head = format!(
        "POST /v1/accounts HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Length: {}\r\n",
        d.address,
        body.len()
    )
    .into_bytes();
    if with_token {
        head.extend_from_slice(format!("Authorization: Bearer {}\r\n", d.token).as_bytes());
    }
    for line in extra {
        head.extend_from_slice(line);
        head.extend_from_slice(b"\r\n");
    }
    head.extend_from_slice(b"\r\n");
    send_bytes(&d.address, &head, body.as_bytes())
}

fn account_exists(d: &Daemon, id: &str) -> bool {
    d.call("GET", &format!("/v1/accounts/{id}"), None, None).status == 200
}

#[test]
fn hole04_an_unreadable_act_as_header_is_refused_not_dropped() {
    for backend in backends() {
        let d = Daemon::start(&backend);
        super::create_account(&d, "s1", "studio", "olivia");
        super::add_member(&d, "s1", "mia", "manager");
        let cases: [(&str, &[&[u8]]); 4] = [
            ("not UTF-8", &[b"Roster-Act-As: mia\xff"]),
            ("Latin-1 text", &[b"Roster-Act-As: m\xe9lanie"]),
            ("sent twice", &[b"Roster-Act-As: mia", b"Roster-Act-As: mia"]),
            ("empty", &[b"Roster-Act-As: "]),
        ];
        for (index, (what, lines)) in cases.iter().enumerate() {
            let id = format!("top{index}");
            let r = create_top_level_account(&d, &id, lines, true);
            assert_eq!((r.status, r.code().as_str()), (400, "invalid_input"), "{backend:?} {what}: {}", r.text);
            assert!(r.json()["detail"].as_str().unwrap_or_default().contains("Roster-Act-As"), "{what}: {}", r.text);
            assert!(!account_exists(&d, &id), "{backend:?} {what}: nothing was created");
        }
        // The same request with a readable act-as is judged as that principal (refused),
        // and without one as the platform (allowed): the header is what decides.
        let as_mia = create_top_level_account(&d, "top-mia", &[b"Roster-Act-As: mia"], true);
        assert_eq!(as_mia.status, 403, "{}", as_mia.text);
        assert_eq!(create_top_level_account(&d, "top-platform", &[], true).status, 201);
    }
}

#[test]
fn hole04_an_unreadable_or_repeated_authorization_header_is_refused() {
    let d = Daemon::start(&roster_e2e::daemon::Backend::Sqlite);
    let valid = format!("Authorization: Bearer {}", d.token);
    let cases: [(&str, Vec<Vec<u8>>); 3] = [
        ("not UTF-8", vec![b"Authorization: Bearer rst_\xff".to_vec()]),
        ("sent twice", vec![valid.clone().into_bytes(), valid.clone().into_bytes()]),
        ("valid and garbage", vec![valid.into_bytes(), b"Authorization: Bearer \xfe".to_vec()]),
    ];
    for (what, lines) in cases {
        let lines: Vec<&[u8]> = lines.iter().map(Vec::as_slice).collect();
        let r = create_top_level_account(&d, "x", &lines, false);
        assert_eq!((r.status, r.code().as_str()), (400, "invalid_input"), "{what}: {}", r.text);
        assert!(r.json()["detail"].as_str().unwrap_or_default().contains("Authorization"), "{what}: {}", r.text);
    }
    assert!(!account_exists(&d, "x"));
}
