//! Entity for table `accounts`: accounts (top-level and child).

use sea_orm::entity::prelude::*;

/// A row of `accounts`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "accounts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    /// Column `id`.
    pub id: String,
    /// Column `pack`.
    pub pack: String,
    /// Column `parent_id`.
    pub parent_id: Option<String>,
    /// Column `name`.
    pub name: String,
    /// Column `seq`.
    pub seq: i64,
}

/// No relations are navigated through the ORM; foreign keys live in the schema.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
