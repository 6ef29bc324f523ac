//! Migrations carry existing data: a database made by the first schema keeps its grants
//! when grant ids become scoped per account.

use std::sync::Arc;

use roster_migrations::{Migrator, MigratorTrait};
use roster_store::Store;
use sea_orm::{ConnectionTrait, Database};

#[tokio::test]
async fn grants_survive_the_move_to_per_account_ids() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("roster.db").display());
    let db = Database::connect(url.clone()).await.expect("sqlite");
    Migrator::up(&db, Some(1)).await.expect("the first schema");
    for statement in [
        "INSERT INTO accounts (id, pack, parent_id, name, seq) VALUES ('acme', 'docs', NULL, 'Acme', 1)",
        "INSERT INTO principals (id, email, name) VALUES ('ed', 'ed@example.com', 'Ed')",
        "INSERT INTO memberships (account_id, principal_id, role_id, external, status, expires_at, single_holder_role) \
         VALUES ('acme', 'ed', 'editor', FALSE, 'active', NULL, NULL)",
        "INSERT INTO grants (id, account_id, subject_principal, subject_group, resource_name, role_id, expires_at, seq) \
         VALUES ('g1', 'acme', 'ed', NULL, NULL, 'editor', NULL, 3)",
    ] {
        db.execute_unprepared(statement).await.unwrap_or_else(|e| panic!("{statement}: {e}"));
    }
    Migrator::up(&db, None).await.expect("the later migrations");
    // The same id in another account is now allowed.
    db.execute_unprepared(
        "INSERT INTO accounts (id, pack, parent_id, name, seq) VALUES ('other', 'docs', NULL, 'O', 4)",
    )
    .await
    .expect("account");
    db.execute_unprepared(
        "INSERT INTO grants (id, account_id, subject_principal, subject_group, resource_name, role_id, expires_at, seq) \
         VALUES ('g1', 'other', 'ed', NULL, NULL, 'editor', NULL, 5)",
    )
    .await
    .expect("g1 is free in another account");
    drop(db);
    let manifest = roster_core::PackManifest::from_json(
        r#"{"schema_version":1,"id":"docs","version":"1","title":"Docs",
        "resource_types":[{"name":"account"}],
        "permissions":[{"id":"doc.view"}],
        "roles":[{"id":"editor","title":"Editor","rank":50,"permissions":["doc.view"]}]}"#,
    )
    .expect("test pack parses");
    let pack = Arc::new(roster_core::validate(manifest).expect("valid"));
    let mut engine = roster_core::Engine::new([pack]);
    let store = Store::connect(&url).await.expect("store");
    store.load(&mut engine).await.expect("the migrated database loads");
    assert!(engine.grant("acme", "g1").is_some());
    assert!(engine.grant("other", "g1").is_some());
}

/// sha256 of an event as the first schema's daemon chained it.
fn plain_hash(previous: &str, seq: i64, action: &str) -> String {
    use sha2::Digest;
    let fields = serde_json::json!([previous, seq, 100, "service:bootstrap", action, "t", null, null, null, null, seq]);
    sha2::Sha256::digest(fields.to_string().as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test]
async fn hole19_existing_chains_get_their_head_when_migrated() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("roster.db").display());
    let db = Database::connect(url.clone()).await.expect("sqlite");
    Migrator::up(&db, Some(2)).await.expect("the schema before audit heads");
    let mut previous = String::new();
    for seq in 1..=3 {
        let hash = plain_hash(&previous, seq, "member.add");
        db.execute_unprepared(&format!(
            "INSERT INTO audit_events (account_id, seq, at, actor, action, target, revision, hash) \
             VALUES ('acme', {seq}, 100, 'service:bootstrap', 'member.add', 't', {seq}, '{hash}')"
        ))
        .await
        .expect("event");
        previous = hash;
    }
    Migrator::up(&db, None).await.expect("the audit heads");
    let store = Store::connect(&url).await.expect("store");
    let acme = roster_store::AuditChain::account("acme");
    let report = store.verify_audit(&acme).await.expect("verify");
    assert!(report.ok && report.events == 3, "{report:?}");
    db.execute_unprepared("DELETE FROM audit_events WHERE seq = 3").await.expect("truncate");
    let report = store.verify_audit(&acme).await.expect("verify");
    assert_eq!((report.ok, report.problem), (false, Some(roster_store::ChainProblem::Truncated)));
}
