//! Entity for table `resources`: resources in their accounts' trees.

use sea_orm::entity::prelude::*;

/// A row of `resources`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "resources")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    /// Column `account_id`.
    pub account_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    /// Column `name`.
    pub name: String,
    /// Column `parent_name`.
    pub parent_name: Option<String>,
    /// Column `owner_id`.
    pub owner_id: Option<String>,
    /// Column `seq`.
    pub seq: i64,
}

/// No relations are navigated through the ORM; foreign keys live in the schema.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
