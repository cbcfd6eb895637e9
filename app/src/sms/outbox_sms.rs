//! The local SMS outbox: text messages kept in the database instead of sent, for a practice
//! (or a demo) with no SMS provider. Read with `bedside outbox`.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "outbox_sms")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub from_number: String,
    pub to_number: String,
    /// Empty for rows written sealed; the text is in `sealed_body`.
    pub body: String,
    pub created_at: DateTimeUtc,
    /// The text, AES-256-GCM bound to this row's id (migration 23).
    pub sealed_body: Option<crate::crypto::Encrypted<String>>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

crate::sealed_row!(id; Column::SealedBody => "sealed_body");
