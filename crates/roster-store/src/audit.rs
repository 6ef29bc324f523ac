//! The audit trail: append-only events, hash-chained per account so that editing or
//! deleting a row behind the daemon's back is detectable.

use serde::Serialize;
use sha2::{Digest, Sha256};

/// What a management call records.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AuditRecord {
    /// The account the event belongs to (its chain).
    pub account: String,
    /// Who acted: `service:<token name>` or a principal id.
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
    /// Position in the account's chain, from 1.
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
    /// The revision the event's write produced.
    pub revision: i64,
    /// sha256 over the previous event's hash and this event's fields, hex.
    pub hash: String,
}

/// The result of checking an account's chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ChainReport {
    /// Whether every event's hash matches.
    pub ok: bool,
    /// Number of events checked.
    pub events: usize,
    /// The first event whose hash does not match.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_bad_seq: Option<i64>,
}

/// The hash of an event, chained to the previous event's hash.
#[allow(clippy::too_many_arguments)]
pub(crate) fn chain_hash(
    previous: &str,
    seq: i64,
    at: i64,
    actor: &str,
    action: &str,
    target: &str,
    before: Option<&str>,
    after: Option<&str>,
    request_id: Option<&str>,
    trace_id: Option<&str>,
    revision: i64,
) -> String {
    // A JSON array is an unambiguous encoding of the fields (no separator tricks).
    let fields =
        serde_json::json!([previous, seq, at, actor, action, target, before, after, request_id, trace_id, revision]);
    format!("{:x}", Sha256::digest(fields.to_string().as_bytes()))
}
