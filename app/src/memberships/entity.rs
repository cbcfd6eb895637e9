//! Membership tables. The profile's address and emergency contact are sealed, so these
//! entities do not derive `Serialize`.

pub mod membership {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "membership")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        #[sea_orm(unique)]
        pub public_id: String,
        #[sea_orm(unique)]
        pub patient_id: i32,
        pub tier_id: i32,
        pub billing_period: crate::memberships::model::BillingPeriod,
        pub status: crate::memberships::model::MembershipStatus,
        pub processor_customer_id: Option<String>,
        pub processor_subscription_id: Option<String>,
        pub current_period_start: Option<DateTimeUtc>,
        pub current_period_end: Option<DateTimeUtc>,
        pub commitment_ends_at: Option<DateTimeUtc>,
        pub activated_at: Option<DateTimeUtc>,
        pub suspended_at: Option<DateTimeUtc>,
        pub cancelled_at: Option<DateTimeUtc>,
        pub created_at: DateTimeUtc,
        pub pending_tier_id: Option<i32>,
        pub pending_billing_period: Option<crate::memberships::model::BillingPeriod>,
        pub change_at: Option<DateTimeUtc>,
        pub cancel_at: Option<DateTimeUtc>,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        #[sea_orm(
            belongs_to = "crate::site::entity::membership_tier::Entity",
            from = "Column::TierId",
            to = "crate::site::entity::membership_tier::Column::Id"
        )]
        Tier,
    }

    impl Related<crate::site::entity::membership_tier::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::Tier.def()
        }
    }

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod membership_consent {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "membership_consent")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        pub membership_id: i32,
        pub document: String,
        pub version: String,
        pub accepted_at: DateTimeUtc,
        pub ip: Option<String>,
        pub user_agent: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod patient_profile {
    use crate::crypto::Encrypted;
    use crate::memberships::model::{EmergencyContact, PostalAddress};
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "patient_profile")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        #[sea_orm(unique)]
        pub patient_id: i32,
        pub address: Encrypted<PostalAddress>,
        pub emergency_contact: Encrypted<EmergencyContact>,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}

    crate::sealed_row!(
        owner crate::patients::entity::patient::Entity, patient_id;
        Column::Address => "address",
        Column::EmergencyContact => "emergency_contact",
    );
}

pub mod household_member {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "household_member")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        pub membership_id: i32,
        #[sea_orm(unique)]
        pub patient_id: i32,
        pub relationship: String,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
