//! Entity for table `roster_groups`: groups of principals inside an account.

use sea_orm::entity::prelude::*;

/// A row of `roster_groups`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "roster_groups")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    /// Column `account_id`.
    pub account_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    /// Column `group_id`.
    pub group_id: String,
    /// Column `seq`.
    pub seq: i64,
}

/// No relations are navigated through the ORM; foreign keys live in the schema.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
