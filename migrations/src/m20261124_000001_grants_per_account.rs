//! Grant ids scoped per account: the primary key becomes `(account_id, id)`, so an id
//! taken in one tenant neither blocks nor reveals anything in another. The table is
//! rebuilt (SQLite cannot change a primary key in place); rows are copied as they are.

use sea_orm_migration::prelude::*;

use crate::m20261123_000001_initial::run_all;

/// Grant ids unique per account.
pub(crate) struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261124_000001_grants_per_account"
    }
}

const COLUMNS: &str = "id, account_id, subject_principal, subject_group, resource_name, role_id, expires_at, seq";

fn rebuild(primary_key: &str) -> Vec<String> {
    vec![
        format!(
            "CREATE TABLE grants_rebuilt (
                id TEXT NOT NULL,
                account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
                subject_principal TEXT,
                subject_group TEXT,
                resource_name TEXT,
                role_id TEXT NOT NULL,
                expires_at BIGINT,
                seq BIGINT NOT NULL,
                PRIMARY KEY ({primary_key}),
                CHECK ((subject_principal IS NULL) <> (subject_group IS NULL)),
                FOREIGN KEY (account_id, resource_name) REFERENCES resources (account_id, name) ON DELETE CASCADE,
                FOREIGN KEY (account_id, subject_group) REFERENCES roster_groups (account_id, group_id) ON DELETE CASCADE
            )"
        ),
        format!("INSERT INTO grants_rebuilt ({COLUMNS}) SELECT {COLUMNS} FROM grants"),
        "DROP TABLE grants".to_owned(),
        "ALTER TABLE grants_rebuilt RENAME TO grants".to_owned(),
        "CREATE INDEX grants_by_account ON grants (account_id, resource_name)".to_owned(),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let statements = rebuild("account_id, id");
        run_all(manager, &statements.iter().map(String::as_str).collect::<Vec<_>>()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let statements = rebuild("id");
        run_all(manager, &statements.iter().map(String::as_str).collect::<Vec<_>>()).await
    }
}
