//! Anchored audit heads: one row per chain (an account, or `#platform` for the platform
//! trail) with its last seq and hash, written in the same transaction as each event, so
//! deleting the last events of a chain no longer verifies. Existing chains get their head
//! from their last event; existing accounts and (when tokens exist) the platform trail with
//! no event yet get a seq-0 head. With an audit key the head is sealed (HMAC over chain, seq and
//! hash), so rolling it back to an earlier event needs the key. Events are also indexed by
//! revision, the page cursor.

use sea_orm_migration::prelude::*;

use crate::m20261123_000001_initial::run_all;

/// The `audit_heads` table.
pub(crate) struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261124_000002_audit_heads"
    }
}

const UP: &[&str] = &[
    "CREATE TABLE audit_heads (
        chain TEXT NOT NULL PRIMARY KEY,
        seq BIGINT NOT NULL,
        hash TEXT NOT NULL,
        seal TEXT
    )",
    "INSERT INTO audit_heads (chain, seq, hash)
        SELECT e.account_id, e.seq, e.hash FROM audit_events e
        WHERE e.seq = (SELECT MAX(m.seq) FROM audit_events m WHERE m.account_id = e.account_id)",
    // A chain that has no events yet still gets a head (seq 0): a missing head then always
    // means a deleted chain, which no write may quietly start afresh.
    "INSERT INTO audit_heads (chain, seq, hash)
        SELECT a.id, 0, '' FROM accounts a
        WHERE NOT EXISTS (SELECT 1 FROM audit_heads h WHERE h.chain = a.id)",
    "INSERT INTO audit_heads (chain, seq, hash)
        SELECT '#platform', 0, '' WHERE EXISTS (SELECT 1 FROM tokens)
        AND NOT EXISTS (SELECT 1 FROM audit_heads h WHERE h.chain = '#platform')",
    "CREATE INDEX audit_events_by_revision ON audit_events (account_id, revision)",
];

const DOWN: &[&str] = &["DROP INDEX audit_events_by_revision", "DROP TABLE audit_heads"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_all(manager, UP).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_all(manager, DOWN).await
    }
}
