//! Entity for table `audit_heads`: each audit chain's last seq and hash, anchored so a
//! deleted tail is detected.

use sea_orm::entity::prelude::*;

/// A row of `audit_heads`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_heads")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    /// Column `chain`: an account id, or `#platform`.
    pub chain: String,
    /// Column `seq`: the last event's seq (the number of events).
    pub seq: i64,
    /// Column `hash`: the last event's hash.
    pub hash: String,
    /// Column `seal`: with an audit key, HMAC over the chain, seq and hash; else NULL.
    pub seal: Option<String>,
}

/// No relations are navigated through the ORM.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
