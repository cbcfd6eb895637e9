use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "practice")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub name: String,
    pub tagline: String,
    pub intro: String,
    pub physician_name: String,
    pub physician_credentials: String,
    pub physician_photo: String,
    pub physician_photo_alt: String,
    pub physician_bio: String,
    pub practicing_since: i32,
    pub specialties: String,
    pub board_certifications: String,
    pub education: String,
    pub street: String,
    pub locality: String,
    pub region: String,
    pub postal_code: String,
    pub phone: String,
    pub email: String,
    pub hours: String,
    pub time_zone: String,
    pub privacy_notice: String,
    pub privacy_notice_version: String,
    pub membership_agreement: String,
    pub membership_agreement_version: String,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
