//! Entity for table `group_members`: group membership.

use sea_orm::entity::prelude::*;

/// A row of `group_members`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "group_members")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    /// Column `account_id`.
    pub account_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    /// Column `group_id`.
    pub group_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    /// Column `principal_id`.
    pub principal_id: String,
}

/// No relations are navigated through the ORM; foreign keys live in the schema.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
