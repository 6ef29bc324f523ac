//! Entity for table `change_feed`: one row per commit, its changes in order.

use sea_orm::entity::prelude::*;

/// A row of `change_feed`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "change_feed")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    /// Column `revision`: the revision the commit made.
    pub revision: i64,
    /// Column `committed_at`: Unix seconds.
    pub committed_at: i64,
    /// Column `accounts`: JSON array of the accounts the commit touched.
    pub accounts: String,
    /// Column `changes`: JSON array of [`crate::FeedOp`].
    pub changes: String,
}

/// No relations are navigated through the ORM.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
