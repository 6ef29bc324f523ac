//! Roster's database schema, as sea-orm migrations: the only place the schema changes.
//! The DDL is plain SQL that SQLite and PostgreSQL both accept, so one text serves both.
//! Invariants live here as well as in code: unique memberships, one holder per
//! single-holder role per account, foreign keys with cascading deletes of subtrees.

pub use sea_orm_migration::MigratorTrait;
use sea_orm_migration::prelude::*;

mod m20261123_000001_initial;
mod m20261124_000001_grants_per_account;
mod m20261124_000002_audit_heads;
mod m20261124_000003_invite_pages;
mod m20261124_000004_change_feed;
mod m20261204_000001_pack_records;
mod m20261204_000002_resources_by_parent;

/// Runs Roster's migrations.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261123_000001_initial::Migration),
            Box::new(m20261124_000001_grants_per_account::Migration),
            Box::new(m20261124_000002_audit_heads::Migration),
            Box::new(m20261124_000003_invite_pages::Migration),
            Box::new(m20261124_000004_change_feed::Migration),
            Box::new(m20261204_000001_pack_records::Migration),
            Box::new(m20261204_000002_resources_by_parent::Migration),
        ]
    }
}
