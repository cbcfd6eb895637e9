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
        pub visit_type: crate::appointments::VisitType,
        pub starts_at: DateTimeUtc,
        pub ends_at: DateTimeUtc,
        pub reason: Encrypted<String>,
        pub status: crate::appointments::model::VisitStatus,
        pub created_at: DateTimeUtc,
        pub cancelled_at: Option<DateTimeUtc>,
        /// `included` or `fee` (then `fee_cents`), agreed when booking.
        pub coverage: String,
        pub fee_cents: Option<i64>,
        /// What a cancellation inside 24 hours did: `counted`, `recorded`, `visit_fee` or
        /// `late_fee`.
        pub late_outcome: Option<crate::appointments::model::LateOutcome>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        #[sea_orm(
            belongs_to = "crate::patients::entity::patient::Entity",
            from = "Column::PatientId",
            to = "crate::patients::entity::patient::Column::Id"
        )]
        Patient,
    }

    impl Related<crate::patients::entity::patient::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::Patient.def()
        }
    }

    impl ActiveModelBehavior for ActiveModel {}

    crate::sealed_row!(public_id; Column::Reason => "reason");
}

/// The included visits of a membership year, numbered: unique per (membership, year, number),
/// so no year ever holds more than the allowance, whatever runs at once.
pub mod allowance_use {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "allowance_use")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        pub membership_id: i32,
        pub year_start: DateTimeUtc,
        pub ordinal: i32,
        #[sea_orm(unique)]
        pub appointment_id: i32,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// A patient waiting for a time on a day (see migration 19).
pub mod waitlist_entry {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "waitlist_entry")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        #[sea_orm(unique)]
        pub public_id: String,
        pub patient_id: i32,
        pub visit_type: crate::appointments::VisitType,
        pub day: Date,
        pub status: crate::appointments::model::WaitlistStatus,
        pub appointment_id: Option<i32>,
        pub offered_until: Option<DateTimeUtc>,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
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

pub mod schedule_setting {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "schedule_setting")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: i32,
        pub time_zone: String,
        /// Raised by the database whenever hours, visit lengths or days off change.
        pub revision: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod visit_length {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "visit_length")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub visit_type: crate::appointments::VisitType,
        pub minutes: i32,
        pub buffer_minutes: i32,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod weekly_hours {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "weekly_hours")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        pub visit_type: crate::appointments::VisitType,
        pub weekday: i16,
        pub start_minute: i32,
        pub end_minute: i32,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod schedule_exception {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "schedule_exception")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        pub on_date: Date,
        pub kind: crate::appointments::model::ExceptionKind,
        pub visit_type: Option<crate::appointments::VisitType>,
        pub start_minute: Option<i32>,
        pub end_minute: Option<i32>,
        pub note: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod visit_notice {
    use sea_orm::entity::prelude::*;

    /// How one notice about one visit went (see migration 10).
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "visit_notice")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        pub appointment_id: i32,
        pub kind: crate::appointments::notice_kind::NoticeKind,
        /// The start the notice was about (a moved visit is reminded again).
        pub visit_starts_at: DateTimeUtc,
        pub channel: crate::appointments::notice_kind::Channel,
        pub status: crate::appointments::notice_kind::NoticeStatus,
        pub attempts: i32,
        pub detail: Option<String>,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod calendar_feed {
    use sea_orm::entity::prelude::*;

    /// A private calendar link (migration 11); only the token's SHA-256 is kept.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "calendar_feed")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        pub user_id: i32,
        #[sea_orm(unique)]
        pub token_hash: String,
        pub created_at: DateTimeUtc,
        pub revoked_at: Option<DateTimeUtc>,
        pub last_used_at: Option<DateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
