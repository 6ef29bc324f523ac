//! Entity for table `pack_records`: the packs the database was last served with.

use sea_orm::entity::prelude::*;

/// A row of `pack_records`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "pack_records")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    /// Column `id`: the pack id.
    pub id: String,
    /// Column `version`: the pack's own version.
    pub version: String,
    /// Column `content_hash`: sha256 (hex) of the pack's manifest as JSON.
    pub content_hash: String,
    /// Column `recorded_at`: Unix seconds.
    pub recorded_at: i64,
}

/// No relations are navigated through the ORM.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
