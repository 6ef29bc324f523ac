//! The HTTP API end to end: the real `rosterd` on a real socket, on SQLite and (when
//! `ROSTER_TEST_DATABASE_URL` is set) PostgreSQL, each daemon on a fresh database.

mod abuse;
mod audit;
mod auth;
mod authzen;
mod bad_input;
mod durability;
mod headers;
mod invites;
mod limits;
mod pages;
mod reads;
mod replicas;
mod restart;
mod seeds;
mod surface;
mod telemetry;
mod tour;
mod transfer;
mod upgrade;
mod watch;

use std::io::Read;
use std::net::TcpStream;
use std::time::Duration;

use roster_e2e::daemon::Daemon;
use serde_json::{Value, json};

/// Creates account `id` of `pack` owned by `owner`.
pub(crate) fn create_account(d: &Daemon, id: &str, pack: &str, owner: &str) {
    let r = d.call(
        "POST",
        "/v1/accounts",
        None,
        Some(json!({
            "id": id, "pack": pack, "name": format!("Account {id}"),
            "owner": { "id": owner, "email": format!("{owner}@example.com"), "name": owner },
        })),
    );
    assert_eq!(r.status, 201, "{}", r.text);
}

/// Adds a member as the platform.
pub(crate) fn add_member(d: &Daemon, account: &str, principal: &str, role: &str) {
    let r = d.call(
        "POST",
        &format!("/v1/accounts/{account}/members"),
        None,
        Some(json!({ "principal": principal, "role": role })),
    );
    assert_eq!(r.status, 201, "{}", r.text);
}

/// Adds an external member (a third-party consultant) as the platform.
pub(crate) fn add_external(d: &Daemon, account: &str, principal: &str, role: &str) {
    let r = d.call(
        "POST",
        &format!("/v1/accounts/{account}/members"),
        None,
        Some(json!({ "principal": principal, "role": role, "external": true })),
    );
    assert_eq!(r.status, 201, "{}", r.text);
}

/// Asks `/v1/check`.
pub(crate) fn allowed(d: &Daemon, account: &str, principal: &str, permission: &str, resource: Option<&str>) -> bool {
    let r = d.call(
        "POST",
        "/v1/check",
        None,
        Some(json!({ "account": account, "principal": principal, "permission": permission, "resource": resource })),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    r.json()["allowed"].as_bool().expect("allowed is a bool")
}

/// The number of audit events of an account.
pub(crate) fn audit_count(d: &Daemon, account: &str) -> usize {
    let r = d.call("GET", &format!("/v1/accounts/{account}/audit?limit=1000"), None, None);
    assert_eq!(r.status, 200, "{}", r.text);
    r.json()["items"].as_array().map_or(0, Vec::len)
}

/// The role of a member, via the API.
pub(crate) fn role_of(d: &Daemon, account: &str, principal: &str) -> Value {
    d.call("GET", &format!("/v1/accounts/{account}/members/{principal}"), None, None).json()["membership"]["role"]
        .clone()
}

/// Reads until the server closes the connection; `None` when it is still open after
/// `patience` (a bound, not a speed target: the daemon's timeout is far shorter).
pub(crate) fn closed_within(stream: &mut TcpStream, patience: Duration) -> Option<Vec<u8>> {
    stream.set_read_timeout(Some(patience)).expect("timeout");
    let mut received = Vec::new();
    match stream.read_to_end(&mut received) {
        Ok(_) => Some(received),
        Err(error) if error.kind() == std::io::ErrorKind::ConnectionReset => Some(received),
        Err(_) => None,
    }
}
