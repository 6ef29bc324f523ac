//! Entity for table `tokens`: aPI tokens; only the secret's hash is kept.

use sea_orm::entity::prelude::*;

/// A row of `tokens`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "tokens")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    /// Column `id`.
    pub id: String,
    /// Column `name`.
    pub name: String,
    /// Column `principal_id`.
    pub principal_id: Option<String>,
    /// Column `secret_hash`.
    pub secret_hash: String,
    /// Column `created_at`.
    pub created_at: i64,
    /// Column `revoked_at`.
    pub revoked_at: Option<i64>,
}

/// No relations are navigated through the ORM; foreign keys live in the schema.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
