//! Bearer tokens: `rst_<id>_<secret>`. Only sha256 of the secret is stored; the presented
//! secret's hash is compared in constant time. Service tokens act for the platform (or as
//! the principal named by `Roster-Act-As`); principal tokens always act as their principal.

use std::sync::RwLock;
use std::sync::atomic::{AtomicU64, Ordering};
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
/// How long an id the database did not know is answered "unknown" without asking again.
const TOKEN_MISS_TTL: Duration = Duration::from_secs(30);

/// Token records by id, as last read from the database, and ids it did not know.
#[derive(Debug, Default)]
pub(crate) struct TokenCache {
    records: RwLock<HashMap<String, (TokenRecord, Instant)>>,
    /// Ids the database did not know, and when it said so: a client repeating an unknown
    /// token is answered from here, not from the database. New tokens get fresh random
    /// ids, so this never hides one.
    misses: RwLock<HashMap<String, Instant>>,
    /// Lookups answered from `records`, from `misses`, and by the database (for metrics).
    lookups: [AtomicU64; 3],
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

    fn known_missing(&self, id: &str) -> bool {
        let misses = self.misses.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        misses.get(id).is_some_and(|read| read.elapsed() < TOKEN_MISS_TTL)
    }

    fn put_missing(&self, id: &str) {
        let mut misses = self.misses.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        if misses.len() >= TOKEN_CACHE_CAPACITY {
            misses.clear();
        }
        misses.insert(id.to_owned(), Instant::now());
    }

    /// Lookups answered so far: from the cache, from the cache of unknown ids, by the
    /// database.
    pub(crate) fn counts(&self) -> (u64, u64, u64) {
        let [hits, negative_hits, misses] = &self.lookups;
        (hits.load(Ordering::Relaxed), negative_hits.load(Ordering::Relaxed), misses.load(Ordering::Relaxed))
    }

    fn count(&self, which: usize) {
        self.lookups[which].fetch_add(1, Ordering::Relaxed);
    }

    /// Drops a token so its next use reads the database (after a revoke).
    pub(crate) fn forget(&self, id: &str) {
        self.records.write().unwrap_or_else(std::sync::PoisonError::into_inner).remove(id);
    }

    /// Drops every cached token (after a snapshot rebuild skipped part of the feed).
    pub(crate) fn clear(&self) {
        self.records.write().unwrap_or_else(std::sync::PoisonError::into_inner).clear();
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
        Some(record) => {
            cache.count(0);
            record
        }
        None if cache.known_missing(id) => {
            cache.count(1);
            return Err(unauthenticated("unknown token"));
        }
        None => {
            cache.count(2);
            match store.token(id).await? {
                Some(record) => {
                    cache.put(record.clone());
                    record
                }
                None => {
                    cache.put_missing(id);
                    return Err(unauthenticated("unknown token"));
                }
            }
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

#[cfg(test)]
mod tests {
    use super::*;
    use roster_store::ConnectionTrait;

    #[tokio::test]
    async fn an_unknown_token_id_asks_the_database_once() {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display());
        let store = Store::connect(&url).await.expect("store");
        store.migrate().await.expect("migrate");
        let cache = TokenCache::default();
        let unknown = Some("Bearer rst_0123456789abcdef_00");
        let first = authenticate(&store, &cache, unknown, None).await.expect_err("unknown");
        assert_eq!(first.code, Code::Unauthenticated);
        // With the table gone, only an answer from the cache can still be a 401.
        store.connection().execute_unprepared("DROP TABLE tokens").await.expect("drop");
        let again = authenticate(&store, &cache, unknown, None).await.expect_err("still unknown");
        assert_eq!(again.code, Code::Unauthenticated, "{}", again.detail);
        let other = authenticate(&store, &cache, Some("Bearer rst_fedcba9876543210_00"), None).await;
        assert_eq!(other.expect_err("no table").code, Code::Internal, "a new id does go to the database");
    }
}
