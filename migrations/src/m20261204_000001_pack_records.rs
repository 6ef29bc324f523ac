//! The packs the database was last served with: each pack's id, version and content hash,
//! so a changed pack is noticed (logged and audited) at start-up.

use sea_orm_migration::prelude::*;

use crate::m20261123_000001_initial::run_all;

/// The pack records table.
pub(crate) struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261204_000001_pack_records"
    }
}

const UP: &[&str] = &["CREATE TABLE pack_records (
        id TEXT NOT NULL PRIMARY KEY,
        version TEXT NOT NULL,
        content_hash TEXT NOT NULL,
        recorded_at BIGINT NOT NULL
    )"];

const DOWN: &[&str] = &["DROP TABLE pack_records"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_all(manager, UP).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_all(manager, DOWN).await
    }
}
