//! Invites listed a page at a time, newest first: an index in that order per account, so
//! a page is a range read, not a sort of the account's invites.

use sea_orm_migration::prelude::*;

use crate::m20261123_000001_initial::run_all;

/// The index of the invite pages.
pub(crate) struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261124_000003_invite_pages"
    }
}

const UP: &[&str] = &["CREATE INDEX invites_by_account_created ON invites (account_id, created_at, id)"];

const DOWN: &[&str] = &["DROP INDEX invites_by_account_created"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_all(manager, UP).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_all(manager, DOWN).await
    }
}
