//! An index of resources by parent: deleting a resource (a subtree, or a type's originals
//! in a pack upgrade) checks its children through the parent foreign key, which without
//! it scans the whole account for each deleted row.

use sea_orm_migration::prelude::*;

use crate::m20261123_000001_initial::run_all;

/// The resources-by-parent index.
pub(crate) struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261204_000002_resources_by_parent"
    }
}

const UP: &[&str] = &["CREATE INDEX resources_by_parent ON resources (account_id, parent_name)"];

const DOWN: &[&str] = &["DROP INDEX resources_by_parent"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_all(manager, UP).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_all(manager, DOWN).await
    }
}
