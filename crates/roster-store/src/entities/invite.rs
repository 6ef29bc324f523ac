//! Entity for table `invites`: invitations; only the token's hash is kept.

use sea_orm::entity::prelude::*;

/// A row of `invites`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "invites")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    /// Column `id`.
    pub id: String,
    /// Column `account_id`.
    pub account_id: String,
    /// Column `email`.
    pub email: String,
    /// Column `role_id`.
    pub role_id: Option<String>,
    /// Column `resource_name`.
    pub resource_name: Option<String>,
    /// Column `token_hash`.
    pub token_hash: String,
    /// Column `expires_at`.
    pub expires_at: i64,
    /// Column `status`.
    pub status: String,
    /// Column `created_by`.
    pub created_by: String,
    /// Column `created_at`.
    pub created_at: i64,
}

/// No relations are navigated through the ORM; foreign keys live in the schema.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
