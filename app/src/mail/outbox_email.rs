//! The local outbox: emails kept in the database instead of sent, for a practice (or a demo)
//! with no SMTP server. Read with `bedside outbox`.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "outbox_email")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub from_address: String,
    pub to_address: String,
    pub reply_to: Option<String>,
    pub subject: String,
    /// Empty for rows written sealed; the body is in `sealed_body`.
    pub text_body: String,
    pub created_at: DateTimeUtc,
    /// The body, AES-256-GCM bound to this row's id (migration 23).
    pub sealed_body: Option<crate::crypto::Encrypted<String>>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

crate::sealed_row!(id; Column::SealedBody => "sealed_body");
