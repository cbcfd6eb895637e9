use sea_orm::entity::prelude::*;

/// Wrong passwords for one account from one client address (an IPv6 client by its /64), with
/// the back-off that grows for this pair only, and when this pair last signed in successfully.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sign_in_client")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub user_id: i32,
    pub client_key: String,
    pub failures: i32,
    pub locked_until: Option<DateTimeUtc>,
    pub last_success_at: Option<DateTimeUtc>,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
