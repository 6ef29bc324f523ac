//! The change feed: every commit appends its changes, in the same transaction, under the
//! revision it made. Replicas follow it to stay in step with each other; consumers read
//! it through the watch endpoint. Rows older than the retention are pruned.

use sea_orm_migration::prelude::*;

use crate::m20261123_000001_initial::run_all;

/// The feed table.
pub(crate) struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261124_000004_change_feed"
    }
}

const UP: &[&str] = &[
    "CREATE TABLE change_feed (
        revision BIGINT NOT NULL PRIMARY KEY,
        committed_at BIGINT NOT NULL,
        accounts TEXT NOT NULL,
        changes TEXT NOT NULL
    )",
    "CREATE INDEX change_feed_by_time ON change_feed (committed_at)",
];

const DOWN: &[&str] = &["DROP TABLE change_feed"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_all(manager, UP).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_all(manager, DOWN).await
    }
}
