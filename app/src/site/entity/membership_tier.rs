use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "membership_tier")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    #[sea_orm(unique)]
    pub slug: String,
    pub name: String,
    pub tagline: String,
    pub monthly_price_cents: i64,
    pub annual_price_cents: i64,
    pub visits_per_year: Option<i32>,
    pub includes_in_person: bool,
    pub includes_telemedicine: bool,
    pub includes_home_visits: bool,
    pub max_dependents: i32,
    pub commitment_months: i32,
    pub cancellation_policy: String,
    pub late_cancellation_policy: String,
    pub benefits: String,
    pub featured: bool,
    pub active: bool,
    pub sort_order: i32,
    pub booking_horizon_days: i32,
    pub same_day_booking: bool,
    pub extra_visit_fee_cents: Option<i64>,
    pub home_visit_fee_cents: Option<i64>,
    pub late_fee_cents: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
