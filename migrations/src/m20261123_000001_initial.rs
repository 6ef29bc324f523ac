//! The first schema: accounts, principals, memberships, resources, groups, grants, custom
//! roles, invites, tokens, the hash-chained audit log and the global revision.

use sea_orm_migration::prelude::*;

/// The initial schema.
pub(crate) struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261123_000001_initial"
    }
}

const UP: &[&str] = &[
    "CREATE TABLE roster_meta (
        id INTEGER NOT NULL PRIMARY KEY,
        revision BIGINT NOT NULL
    )",
    "INSERT INTO roster_meta (id, revision) VALUES (1, 0)",
    "CREATE TABLE accounts (
        id TEXT NOT NULL PRIMARY KEY,
        pack TEXT NOT NULL,
        parent_id TEXT REFERENCES accounts (id),
        name TEXT NOT NULL,
        seq BIGINT NOT NULL
    )",
    "CREATE TABLE principals (
        id TEXT NOT NULL PRIMARY KEY,
        email TEXT NOT NULL,
        name TEXT NOT NULL
    )",
    "CREATE TABLE custom_roles (
        account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
        role_id TEXT NOT NULL,
        definition TEXT NOT NULL,
        seq BIGINT NOT NULL,
        PRIMARY KEY (account_id, role_id)
    )",
    "CREATE TABLE memberships (
        account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
        principal_id TEXT NOT NULL,
        role_id TEXT NOT NULL,
        external BOOLEAN NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('active', 'removed')),
        expires_at BIGINT,
        single_holder_role TEXT,
        PRIMARY KEY (account_id, principal_id)
    )",
    // One holder per single-holder role per account: the column is set only for the
    // holder of such a role, and NULLs do not collide.
    "CREATE UNIQUE INDEX memberships_single_holder ON memberships (account_id, single_holder_role)",
    "CREATE TABLE resources (
        account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        parent_name TEXT,
        owner_id TEXT,
        seq BIGINT NOT NULL,
        PRIMARY KEY (account_id, name),
        FOREIGN KEY (account_id, parent_name) REFERENCES resources (account_id, name) ON DELETE CASCADE
    )",
    "CREATE TABLE roster_groups (
        account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
        group_id TEXT NOT NULL,
        seq BIGINT NOT NULL,
        PRIMARY KEY (account_id, group_id)
    )",
    "CREATE TABLE group_members (
        account_id TEXT NOT NULL,
        group_id TEXT NOT NULL,
        principal_id TEXT NOT NULL,
        PRIMARY KEY (account_id, group_id, principal_id),
        FOREIGN KEY (account_id, group_id) REFERENCES roster_groups (account_id, group_id) ON DELETE CASCADE
    )",
    "CREATE TABLE grants (
        id TEXT NOT NULL PRIMARY KEY,
        account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
        subject_principal TEXT,
        subject_group TEXT,
        resource_name TEXT,
        role_id TEXT NOT NULL,
        expires_at BIGINT,
        seq BIGINT NOT NULL,
        CHECK ((subject_principal IS NULL) <> (subject_group IS NULL)),
        FOREIGN KEY (account_id, resource_name) REFERENCES resources (account_id, name) ON DELETE CASCADE,
        FOREIGN KEY (account_id, subject_group) REFERENCES roster_groups (account_id, group_id) ON DELETE CASCADE
    )",
    "CREATE INDEX grants_by_account ON grants (account_id, resource_name)",
    "CREATE TABLE invites (
        id TEXT NOT NULL PRIMARY KEY,
        account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
        email TEXT NOT NULL,
        role_id TEXT,
        resource_name TEXT,
        token_hash TEXT NOT NULL UNIQUE,
        expires_at BIGINT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('pending', 'accepted', 'revoked')),
        created_by TEXT NOT NULL,
        created_at BIGINT NOT NULL
    )",
    "CREATE TABLE tokens (
        id TEXT NOT NULL PRIMARY KEY,
        name TEXT NOT NULL,
        principal_id TEXT,
        secret_hash TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        revoked_at BIGINT
    )",
    // Append-only, hash-chained per account; no foreign key so the trail outlives what it
    // describes.
    "CREATE TABLE audit_events (
        account_id TEXT NOT NULL,
        seq BIGINT NOT NULL,
        at BIGINT NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        target TEXT NOT NULL,
        before_state TEXT,
        after_state TEXT,
        request_id TEXT,
        trace_id TEXT,
        revision BIGINT NOT NULL,
        hash TEXT NOT NULL,
        PRIMARY KEY (account_id, seq)
    )",
];

const DOWN: &[&str] = &[
    "DROP TABLE audit_events",
    "DROP TABLE tokens",
    "DROP TABLE invites",
    "DROP TABLE grants",
    "DROP TABLE group_members",
    "DROP TABLE roster_groups",
    "DROP TABLE resources",
    "DROP TABLE memberships",
    "DROP TABLE custom_roles",
    "DROP TABLE principals",
    "DROP TABLE accounts",
    "DROP TABLE roster_meta",
];

pub(crate) async fn run_all(manager: &SchemaManager<'_>, statements: &[&str]) -> Result<(), DbErr> {
    let db = manager.get_connection();
    for statement in statements {
        db.execute_unprepared(statement).await?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_all(manager, UP).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_all(manager, DOWN).await
    }
}
