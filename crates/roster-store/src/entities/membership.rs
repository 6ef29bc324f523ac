//! Entity for table `memberships`: memberships (active and soft-removed).

use sea_orm::entity::prelude::*;

/// A row of `memberships`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "memberships")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    /// Column `account_id`.
    pub account_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    /// Column `principal_id`.
    pub principal_id: String,
    /// Column `role_id`.
    pub role_id: String,
    /// Column `external`.
    pub external: bool,
    /// Column `status`.
    pub status: String,
    /// Column `expires_at`.
    pub expires_at: Option<i64>,
    /// Column `single_holder_role`.
    pub single_holder_role: Option<String>,
}

/// No relations are navigated through the ORM; foreign keys live in the schema.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
