//! Entity for table `custom_roles`: custom account roles, as manifest JSON.

use sea_orm::entity::prelude::*;

/// A row of `custom_roles`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "custom_roles")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    /// Column `account_id`.
    pub account_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    /// Column `role_id`.
    pub role_id: String,
    /// Column `definition`.
    pub definition: String,
    /// Column `seq`.
    pub seq: i64,
}

/// No relations are navigated through the ORM; foreign keys live in the schema.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
