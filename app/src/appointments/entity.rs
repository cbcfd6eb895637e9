//! The appointment tables (see migration 8 for how holds prevent double-booking).

pub mod appointment {
    use crate::crypto::Encrypted;
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "appointment")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        #[sea_orm(unique)]
        pub public_id: String,
        pub patient_id: i32,
        pub visit_type: String,
        pub starts_at: DateTimeUtc,
        pub ends_at: DateTimeUtc,
        pub reason: Encrypted<String>,
        pub status: String,
        pub created_at: DateTimeUtc,
        pub cancelled_at: Option<DateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod appointment_hold {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "appointment_hold")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub unit_start: DateTimeUtc,
        pub appointment_id: i32,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
