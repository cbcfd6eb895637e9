//! Files attached to outbox emails (see [`super::outbox_email`]).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "outbox_attachment")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub email_id: i32,
    pub filename: String,
    pub content_type: String,
    /// The file's bytes; sealed (AES-256-GCM bound to the email's id) when `sealed`.
    pub content: Vec<u8>,
    pub sealed: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
