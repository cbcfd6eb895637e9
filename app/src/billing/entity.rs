//! Invoices, their lines, and the processor events already handled.

pub mod invoice {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "invoice")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        #[sea_orm(unique)]
        pub public_id: String,
        #[sea_orm(unique)]
        pub number: String,
        pub membership_id: i32,
        #[sea_orm(unique)]
        pub processor_invoice_id: Option<String>,
        pub status: crate::billing::model::InvoiceStatus,
        pub currency: String,
        pub total_cents: i64,
        pub amount_paid_cents: i64,
        pub amount_refunded_cents: i64,
        pub failed_attempts: i32,
        pub period_start: Option<DateTimeUtc>,
        pub period_end: Option<DateTimeUtc>,
        pub issued_at: DateTimeUtc,
        pub paid_at: Option<DateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod invoice_line {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "invoice_line")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        pub invoice_id: i32,
        pub kind: crate::billing::model::LineKind,
        pub description: String,
        pub quantity: i32,
        pub unit_amount_cents: i64,
        pub amount_cents: i64,
        pub hsa_eligible: bool,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// A visit fee or late fee owed (once per visit and kind), sent to the processor to be billed
/// with the next membership invoice (`pending` until then; `collect` when the membership has no
/// processor subscription and the practice collects it itself).
pub mod visit_charge {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "visit_charge")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        #[sea_orm(unique)]
        pub public_id: String,
        pub membership_id: i32,
        pub appointment_id: i32,
        pub kind: crate::billing::model::ChargeKind,
        pub amount_cents: i64,
        pub description: String,
        pub status: crate::billing::model::ChargeStatus,
        pub created_at: DateTimeUtc,
        pub billed_at: Option<DateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod payment_event {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "payment_event")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        #[sea_orm(unique)]
        pub event_id: String,
        pub event_type: String,
        pub received_at: DateTimeUtc,
        pub outcome: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod invoice_document {
    use crate::crypto::Encrypted;
    use sea_orm::entity::prelude::*;

    /// An invoice's PDF, sealed (it names the member and their address).
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "invoice_document")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        #[sea_orm(unique)]
        pub invoice_id: i32,
        pub content: Encrypted<Vec<u8>>,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}

    crate::sealed_row!(
        owner super::invoice::Entity, invoice_id;
        Column::Content => "content",
    );
}

pub mod invoice_refund {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "invoice_refund")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        pub invoice_id: i32,
        #[sea_orm(unique)]
        pub processor_refund_id: String,
        pub amount_cents: i64,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
