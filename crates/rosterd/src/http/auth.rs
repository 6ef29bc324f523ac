//! Bearer tokens: `rst_<id>_<secret>`. Only sha256 of the secret is stored; the presented
//! secret's hash is compared in constant time. Service tokens act for the platform (or as
//! the principal named by `Roster-Act-As`); principal tokens always act as their principal.

use std::sync::RwLock;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use std::collections::HashMap;
use subtle::ConstantTimeEq;

use roster_core::Actor;
use roster_store::{AuditActor, Store, TokenRecord};

use super::problem::{ApiError, Code};

/// Who is calling, once the token checks out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Caller {
    /// A platform backend; `act_as` when it sent `Roster-Act-As`.
    Service { name: String, act_as: Option<String> },
    /// A principal's own token.
    Principal { id: String },
}

impl Caller {
    /// The actor the management rules judge.
    pub(crate) fn actor(&self) -> Actor {
        match self {
            Caller::Service { act_as: None, .. } => Actor::Service,
            Caller::Service { act_as: Some(id), .. } | Caller::Principal { id } => Actor::Principal(id.clone()),
        }
    }

    /// How the audit trail names the actor: name spaces no id can forge
    /// (`principal:<id>`, `service:<name>`, `principal:<id> via service:<name>`).
    pub(crate) fn audit_name(&self) -> String {
        let actor = match self {
            Caller::Service { name, act_as: None } => AuditActor::Service(name.clone()),
            Caller::Service { name, act_as: Some(id) } => {
                AuditActor::ActingAs { principal: id.clone(), service: name.clone() }
            }
            Caller::Principal { id } => AuditActor::Principal(id.clone()),
        };
        actor.to_string()
    }

    /// Whether this is the platform itself (no principal to judge).
    pub(crate) fn is_platform(&self) -> bool {
        matches!(self, Caller::Service { act_as: None, .. })
    }
}

/// A new random token: (id, secret, full token text).
pub(crate) fn generate() -> Result<(String, String, String), ApiError> {
    let mut bytes = [0u8; 40];
    getrandom::fill(&mut bytes).map_err(|e| ApiError::new(Code::Internal, format!("no randomness: {e}")))?;
    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
    let id = hex(&bytes[..8]);
    let secret = hex(&bytes[8..]);
    let token = format!("rst_{id}_{secret}");
    Ok((id, secret, token))
}

/// sha256 hex of a secret.
pub(crate) fn hash(secret: &str) -> String {
    format!("{:x}", Sha256::digest(secret.as_bytes()))
}

/// How long a token read from the database is trusted without reading it again. Revoking
/// through this daemon takes effect at once ([`TokenCache::forget`]); the bound covers
/// changes made to the table by anything else.
const TOKEN_CACHE_TTL: Duration = Duration::from_secs(30);
/// Most tokens held; past it the cache starts over (tokens are few; this bounds memory
/// against a flood of distinct valid tokens).
const TOKEN_CACHE_CAPACITY: usize = 10_000;

/// Token records by id, as last read from the database. Unknown ids always go to the
/// database, so a token created by `rosterd token create` works at once.
#[derive(Debug, Default)]
pub(crate) struct TokenCache {
    records: RwLock<HashMap<String, (TokenRecord, Instant)>>,
}

impl TokenCache {
    fn get(&self, id: &str) -> Option<TokenRecord> {
        let records = self.records.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        records.get(id).filter(|(_, read)| read.elapsed() < TOKEN_CACHE_TTL).map(|(record, _)| record.clone())
    }

    fn put(&self, record: TokenRecord) {
        let mut records = self.records.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        if records.len() >= TOKEN_CACHE_CAPACITY {
            records.clear();
        }
        records.insert(record.id.clone(), (record, Instant::now()));
    }

    /// Drops a token so its next use reads the database (after a revoke).
    pub(crate) fn forget(&self, id: &str) {
        self.records.write().unwrap_or_else(std::sync::PoisonError::into_inner).remove(id);
    }
}

/// Checks an `Authorization` header value and an optional `Roster-Act-As`.
pub(crate) async fn authenticate(
    store: &Store,
    cache: &TokenCache,
    header: Option<&str>,
    act_as: Option<&str>,
) -> Result<Caller, ApiError> {
    let unauthenticated = |why: &str| ApiError::new(Code::Unauthenticated, why.to_owned());
    let header = header.ok_or_else(|| unauthenticated("missing `Authorization: Bearer <token>`"))?;
    let token = header
        .strip_prefix("Bearer ")
        .ok_or_else(|| unauthenticated("the Authorization header must be `Bearer <token>`"))?;
    let (id, secret) = token
        .strip_prefix("rst_")
        .and_then(|rest| rest.split_once('_'))
        .ok_or_else(|| unauthenticated("unknown token"))?;
    let record = match cache.get(id) {
        Some(record) => record,
        None => {
            let record: TokenRecord = store.token(id).await?.ok_or_else(|| unauthenticated("unknown token"))?;
            cache.put(record.clone());
            record
        }
    };
    let matches: bool = hash(secret).as_bytes().ct_eq(record.secret_hash.as_bytes()).into();
    if !matches {
        return Err(unauthenticated("unknown token"));
    }
    if record.revoked_at.is_some() {
        return Err(unauthenticated("the token was revoked"));
    }
    match (record.principal, act_as) {
        (Some(_), Some(_)) => Err(ApiError::forbidden("a principal token cannot act as someone else (Roster-Act-As)")),
        (Some(id), None) => Ok(Caller::Principal { id }),
        (None, Some(who)) if !roster_core::ids::is_valid_id(who) => {
            Err(ApiError::invalid("header Roster-Act-As: not a valid principal id"))
        }
        (None, act_as) => Ok(Caller::Service { name: record.name, act_as: act_as.map(str::to_owned) }),
    }
}
