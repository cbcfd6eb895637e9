use sea_orm::entity::prelude::*;

/// A contact-form inquiry. The visitor's details and message are sealed (see
/// `site::service::open_inquiry`); only the topic and the timestamps are in the clear.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "contact_inquiry")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    #[sea_orm(unique)]
    pub public_id: String,
    pub topic: String,
    pub sealed_details: Vec<u8>,
    pub received_at: DateTimeUtc,
    pub practice_notified_at: Option<DateTimeUtc>,
    pub acknowledged_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

crate::sealed_row!(public_id; Column::SealedDetails => "sealed_details");
