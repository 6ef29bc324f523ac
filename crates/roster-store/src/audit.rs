//! The audit trail: append-only events in hash chains, one per account and one for the
//! platform (changes that belong to no account: tokens, principal profiles). Each chain's
//! head (its last seq and hash) is anchored in `audit_heads`, updated in the same
//! transaction as each append, so deleting the tail is detected as well as editing a row.
//! With a key configured the chain is HMAC-SHA256 instead of plain sha256.
//!
//! Actor names come from separate name spaces no id can forge (ids and service names
//! never contain a space, and every name starts with its space's prefix).

use std::fmt;
use std::sync::Arc;

use serde::Serialize;
use sha2::{Digest, Sha256};

/// The chain key of the platform trail in `audit_events.account_id` / `audit_heads.chain`:
/// `#` is outside the id alphabet, so no account can be named like it.
pub const PLATFORM_CHAIN: &str = "#platform";

/// Prefix of a keyed (HMAC-SHA256) event hash; a plain sha256 hash is bare hex.
const KEYED_PREFIX: &str = "hmac-sha256:";

/// Which hash chain an event belongs to.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum AuditChain {
    /// An account's trail.
    Account(String),
    /// The platform trail: changes that belong to no account.
    Platform,
}

impl AuditChain {
    /// An account's chain.
    pub fn account(id: impl Into<String>) -> AuditChain {
        AuditChain::Account(id.into())
    }

    /// The key the chain is stored under.
    pub fn key(&self) -> &str {
        match self {
            AuditChain::Account(id) => id,
            AuditChain::Platform => PLATFORM_CHAIN,
        }
    }
}

/// Who acted, as the audit trail names them. Each variant has its own prefix; principal
/// ids and service names contain no space, so no name can be read as another.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AuditActor {
    /// A service token acting for the platform: `service:<token name>`.
    Service(String),
    /// A principal's own token: `principal:<id>`.
    Principal(String),
    /// A service token acting as a principal (`Roster-Act-As`):
    /// `principal:<id> via service:<token name>`.
    ActingAs {
        /// The principal acted as.
        principal: String,
        /// The service token's name.
        service: String,
    },
    /// The daemon itself or its command line: `system:<what>` (`system:bootstrap`,
    /// `system:cli`).
    System(&'static str),
}

impl fmt::Display for AuditActor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AuditActor::Service(name) => write!(f, "service:{name}"),
            AuditActor::Principal(id) => write!(f, "principal:{id}"),
            AuditActor::ActingAs { principal, service } => write!(f, "principal:{principal} via service:{service}"),
            AuditActor::System(what) => write!(f, "system:{what}"),
        }
    }
}

/// Whether `name` may name a service token: 1-64 characters of `A-Z a-z 0-9 _ . -`, so
/// `service:<name>` can never contain a name-space separator (`:`, a space).
pub fn is_valid_service_name(name: &str) -> bool {
    (1..=64).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// The principal an actor name stands for (`principal:<id>`, with or without
/// ` via service:<name>`), if any. Events written before the name spaces existed named a
/// principal bare (`<id>`, or `<id> (via service:<name>)`); such a name is read as the
/// principal it may be, so hiding a protected member errs towards hiding. Only
/// `service:` and `system:` names are taken to name no principal.
pub fn actor_principal(actor: &str) -> Option<&str> {
    if let Some(rest) = actor.strip_prefix("principal:") {
        return Some(rest.split_once(' ').map_or(rest, |(id, _)| id));
    }
    if actor.starts_with("service:") || actor.starts_with("system:") {
        return None;
    }
    Some(actor.split_once(" (via service:").map_or(actor, |(id, _)| id))
}

/// What a management call records.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AuditRecord {
    /// The chain the event is appended to.
    #[serde(skip)]
    pub chain: AuditChain,
    /// Who acted (an [`AuditActor`] name).
    pub actor: String,
    /// What was done, e.g. `member.add`.
    pub action: String,
    /// What it was done to, e.g. `principal:u1`.
    pub target: String,
    /// State before, when there was one.
    pub before: Option<serde_json::Value>,
    /// State after, when there is one.
    pub after: Option<serde_json::Value>,
    /// The request that caused it.
    pub request_id: Option<String>,
    /// The trace it ran in.
    pub trace_id: Option<String>,
}

/// A stored event.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AuditEvent {
    /// Position in the chain, from 1.
    pub seq: i64,
    /// Unix seconds.
    pub at: i64,
    /// Who acted.
    pub actor: String,
    /// What was done.
    pub action: String,
    /// What it was done to.
    pub target: String,
    /// State before.
    pub before: Option<serde_json::Value>,
    /// State after.
    pub after: Option<serde_json::Value>,
    /// Request id.
    pub request_id: Option<String>,
    /// Trace id.
    pub trace_id: Option<String>,
    /// The revision the event's write produced (one event per chain per revision, so it
    /// orders a chain's events and serves as the page cursor).
    pub revision: i64,
    /// sha256 (or `hmac-sha256:` HMAC) over the previous event's hash and this event's
    /// fields, hex.
    pub hash: String,
}

impl AuditEvent {
    /// Every principal the event names: as actor, in the target (`principal:<id>` parts)
    /// and in the before/after states (fields `principal`, `owner`, `subject`,
    /// `members`). Readers that must not see some principal leave such events out.
    pub fn principals(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        out.extend(actor_principal(&self.actor));
        out.extend(self.target.split('/').filter_map(|part| part.strip_prefix("principal:")));
        for state in [&self.before, &self.after].into_iter().flatten() {
            collect_principals(state, &mut out);
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Every account the event's states name (fields `account`, and a new account's `id`
    /// and `parent`): a principal hidden in any of them is hidden in the event.
    pub fn accounts(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for state in [&self.before, &self.after].into_iter().flatten() {
            collect_accounts(state, &mut out);
        }
        out.sort_unstable();
        out.dedup();
        out
    }
}

fn collect_accounts<'a>(value: &'a serde_json::Value, out: &mut Vec<&'a str>) {
    match value {
        serde_json::Value::Array(items) => items.iter().for_each(|v| collect_accounts(v, out)),
        serde_json::Value::Object(fields) => {
            let created = fields.get("kind").and_then(serde_json::Value::as_str) == Some("create_account");
            for (key, field) in fields {
                match (key.as_str(), field) {
                    ("account", serde_json::Value::String(id)) => out.push(id),
                    ("id" | "parent", serde_json::Value::String(id)) if created => out.push(id),
                    _ => collect_accounts(field, out),
                }
            }
        }
        _ => {}
    }
}

/// Walks a state for the fields that hold principal ids (the shapes of `Change`s and of
/// the engine's membership, grant, resource and group views).
fn collect_principals<'a>(value: &'a serde_json::Value, out: &mut Vec<&'a str>) {
    match value {
        serde_json::Value::Array(items) => items.iter().for_each(|v| collect_principals(v, out)),
        serde_json::Value::Object(fields) => {
            for (key, field) in fields {
                match (key.as_str(), field) {
                    ("principal" | "owner", serde_json::Value::String(id)) => out.push(id),
                    ("subject", serde_json::Value::String(subject)) => out.extend(subject.strip_prefix("principal:")),
                    ("members", serde_json::Value::Array(ids)) => out.extend(ids.iter().filter_map(|v| v.as_str())),
                    _ => collect_principals(field, out),
                }
            }
        }
        _ => {}
    }
}

/// What is wrong with a chain.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChainProblem {
    /// An event's hash does not match its fields and its predecessor (edited or replaced).
    Edited,
    /// Seqs are not contiguous: an event before the last was deleted.
    MissingEvent,
    /// The head counts more events than the table holds: the tail was deleted.
    Truncated,
    /// The chain has events but no head row.
    HeadMissing,
    /// The head does not match the last event (edited head, or events added past it).
    HeadMismatch,
    /// A key is configured, and an event carries a plain (unkeyed) hash.
    Unkeyed,
    /// An event carries a keyed hash and no key is configured to check it.
    KeyNeeded,
}

/// The result of checking a chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ChainReport {
    /// Whether every event's hash matches and the head matches the last event.
    pub ok: bool,
    /// Number of events checked.
    pub events: usize,
    /// The first event found wrong (or missing).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_bad_seq: Option<i64>,
    /// What is wrong.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<ChainProblem>,
    /// The head's seq, when it disagrees with the events.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub head_seq: Option<i64>,
}

impl ChainReport {
    pub(crate) fn ok(events: usize) -> ChainReport {
        ChainReport { ok: true, events, first_bad_seq: None, problem: None, head_seq: None }
    }

    pub(crate) fn bad(events: usize, seq: i64, problem: ChainProblem) -> ChainReport {
        ChainReport { ok: false, events, first_bad_seq: Some(seq), problem: Some(problem), head_seq: None }
    }
}

/// The key of a keyed chain (from `[audit] key_file`). Never printed.
#[derive(Clone)]
pub struct AuditKey(Arc<[u8]>);

impl AuditKey {
    /// A key from its bytes.
    pub fn new(bytes: &[u8]) -> AuditKey {
        AuditKey(bytes.into())
    }
}

impl fmt::Debug for AuditKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AuditKey(..)")
    }
}

/// HMAC-SHA256 (RFC 2104) over sha2's SHA-256.
fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    let mut block = [0u8; 64];
    if key.len() > block.len() {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(block.map(|b| b ^ 0x36));
    inner.update(message);
    let mut outer = Sha256::new();
    outer.update(block.map(|b| b ^ 0x5c));
    outer.update(inner.finalize());
    outer.finalize().into()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether a stored hash was made with a key.
pub(crate) fn is_keyed(hash: &str) -> bool {
    hash.starts_with(KEYED_PREFIX)
}

/// The fields an event's hash covers.
pub(crate) struct Fields<'a> {
    pub(crate) seq: i64,
    pub(crate) at: i64,
    pub(crate) actor: &'a str,
    pub(crate) action: &'a str,
    pub(crate) target: &'a str,
    pub(crate) before: Option<&'a str>,
    pub(crate) after: Option<&'a str>,
    pub(crate) request_id: Option<&'a str>,
    pub(crate) trace_id: Option<&'a str>,
    pub(crate) revision: i64,
}

/// The hash of an event, chained to the previous event's hash: HMAC-SHA256 with `key`
/// (marked `hmac-sha256:`), plain sha256 without.
pub(crate) fn chain_hash(key: Option<&AuditKey>, previous: &str, f: &Fields<'_>) -> String {
    // A JSON array is an unambiguous encoding of the fields (no separator tricks).
    let fields = serde_json::json!([
        previous,
        f.seq,
        f.at,
        f.actor,
        f.action,
        f.target,
        f.before,
        f.after,
        f.request_id,
        f.trace_id,
        f.revision
    ])
    .to_string();
    match key {
        Some(key) => format!("{KEYED_PREFIX}{}", hex(&hmac_sha256(&key.0, fields.as_bytes()))),
        None => hex(&Sha256::digest(fields.as_bytes())),
    }
}

/// A head's seal: with a key, HMAC over the chain, its seq and its hash, so a head rolled
/// back to an earlier event (a deleted tail) cannot be made to match without the key.
pub(crate) fn head_seal(key: Option<&AuditKey>, chain: &str, seq: i64, hash: &str) -> Option<String> {
    let key = key?;
    let fields = serde_json::json!(["head", chain, seq, hash]).to_string();
    Some(format!("{KEYED_PREFIX}{}", hex(&hmac_sha256(&key.0, fields.as_bytes()))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc_4231() {
        // Test case 2 of RFC 4231.
        let mac = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(hex(&mac), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
        // Test case 6: a key longer than the block.
        let mac = hmac_sha256(&[0xaa; 131], b"Test Using Larger Than Block-Size Key - Hash Key First");
        assert_eq!(hex(&mac), "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
    }

    #[test]
    fn hole17_actor_names_cannot_be_forged() {
        let spoof = AuditActor::Principal("service:bootstrap".into()).to_string();
        assert_eq!(spoof, "principal:service:bootstrap");
        assert_ne!(spoof, AuditActor::Service("bootstrap".into()).to_string());
        assert_eq!(actor_principal(&spoof), Some("service:bootstrap"));
        let via = AuditActor::ActingAs { principal: "al".into(), service: "web".into() }.to_string();
        assert_eq!(via, "principal:al via service:web");
        assert_eq!(actor_principal(&via), Some("al"));
        assert_eq!(actor_principal("service:web"), None);
        assert_eq!(actor_principal("system:cli"), None);
        // Names written before the name spaces: read as the principal they may be.
        assert_eq!(actor_principal("sa"), Some("sa"));
        assert_eq!(actor_principal("sa (via service:web)"), Some("sa"));
        assert!(is_valid_service_name("backend-2.eu_1"));
        for bad in ["", "a:b", "a b", "x via service:y", &"n".repeat(65)] {
            assert!(!is_valid_service_name(bad), "{bad:?}");
        }
    }

    #[test]
    fn events_name_their_principals() {
        let event = AuditEvent {
            seq: 1,
            at: 0,
            actor: "principal:al via service:web".into(),
            action: "grant.create".into(),
            target: "group:g/principal:bo".into(),
            before: Some(serde_json::json!([{ "grant": { "subject": "principal:cy", "role": "sue" } }])),
            after: Some(serde_json::json!({ "changes": [{ "kind": "add_resource", "owner": "di" },
                { "kind": "add_group", "group": "eve" }, { "group": { "members": ["fay"] } }] })),
            request_id: None,
            trace_id: None,
            revision: 1,
            hash: String::new(),
        };
        assert_eq!(event.principals(), vec!["al", "bo", "cy", "di", "fay"]);
        let created = AuditEvent {
            after: Some(serde_json::json!({ "changes": [{ "kind": "create_account", "id": "c1", "parent": "ag" },
                { "kind": "put_membership", "account": "c1", "principal": "boss" }] })),
            ..event
        };
        assert_eq!(created.accounts(), vec!["ag", "c1"]);
    }
}
