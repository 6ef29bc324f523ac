//! Entity for table `grants`: role grants on resources, to principals or groups.

use sea_orm::entity::prelude::*;

/// A row of `grants`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "grants")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    /// Column `id` (unique within its account).
    pub id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    /// Column `account_id`.
    pub account_id: String,
    /// Column `subject_principal`.
    pub subject_principal: Option<String>,
    /// Column `subject_group`.
    pub subject_group: Option<String>,
    /// Column `resource_name`.
    pub resource_name: Option<String>,
    /// Column `role_id`.
    pub role_id: String,
    /// Column `expires_at`.
    pub expires_at: Option<i64>,
    /// Column `seq`.
    pub seq: i64,
}

/// No relations are navigated through the ORM; foreign keys live in the schema.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
