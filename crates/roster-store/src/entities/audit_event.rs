//! Entity for table `audit_events`: the append-only, hash-chained audit log.

use sea_orm::entity::prelude::*;

/// A row of `audit_events`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_events")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    /// Column `account_id`: the chain, an account id or `#platform` (the platform trail).
    pub account_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    /// Column `seq`.
    pub seq: i64,
    /// Column `at`.
    pub at: i64,
    /// Column `actor`.
    pub actor: String,
    /// Column `action`.
    pub action: String,
    /// Column `target`.
    pub target: String,
    /// Column `before_state`.
    pub before_state: Option<String>,
    /// Column `after_state`.
    pub after_state: Option<String>,
    /// Column `request_id`.
    pub request_id: Option<String>,
    /// Column `trace_id`.
    pub trace_id: Option<String>,
    /// Column `revision`.
    pub revision: i64,
    /// Column `hash`.
    pub hash: String,
}

/// No relations are navigated through the ORM; foreign keys live in the schema.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
