//! Roster's storage: sea-orm entities and the repository, over SQLite (embedded default,
//! WAL) and PostgreSQL. The database is authoritative: every management call is one
//! transaction that writes its changes, its audit events and the new revision, or nothing.
//! On start the engine snapshot is rebuilt from it ([`Store::load`]); afterwards each
//! replica follows the change feed every commit appends to ([`FeedEntry`]).

pub mod audit;
pub mod entities;
mod feed;
mod load;
mod store;
mod transfer;
mod upgrade;

pub use audit::{
    AuditActor, AuditChain, AuditEvent, AuditKey, AuditRecord, ChainProblem, ChainReport, PLATFORM_CHAIN,
    actor_principal, is_valid_service_name,
};
pub use feed::{FEED_CHANNEL, FeedEntry, FeedOp};
pub use sea_orm::{ConnectionTrait, DbBackend, sqlx};
pub use store::{ChainPage, InviteRecord, Store, StoreError, StoreOp, TokenRecord, WriteLock};
pub use transfer::{EXPORT_FORMAT, EXPORT_VERSION, Imported, Record};
pub use upgrade::{PackChange, PackMigration, Stranded, StrandedKind, UpgradeReport, content_hash};
