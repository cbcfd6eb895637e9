//! The built-in processor's own books (`local_*` tables). Their stored words are enums, as in
//! Bedside's own tables: an unknown word is an error when read.

/// What a checkout is for (`local_checkout.mode`, Stripe's words).
#[derive(Debug, Clone, Copy, PartialEq, Eq, sea_orm::DeriveValueType)]
#[sea_orm(value_type = "String")]
pub enum CheckoutKind {
    /// The first payment of a membership, which starts its subscription.
    Subscription,
    /// A new card saved for later charges.
    Setup,
}

app::stored_words!(CheckoutKind, "local checkout mode", {
    Subscription => "subscription",
    Setup => "setup",
});

/// Whether a checkout page was completed (`local_checkout.status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, sea_orm::DeriveValueType)]
#[sea_orm(value_type = "String")]
pub enum CheckoutStatus {
    Open,
    Complete,
}

app::stored_words!(CheckoutStatus, "local checkout status", {
    Open => "open",
    Complete => "complete",
});

/// How often a subscription renews (`interval`, Stripe's words).
#[derive(Debug, Clone, Copy, PartialEq, Eq, sea_orm::DeriveValueType)]
#[sea_orm(value_type = "String")]
pub enum Interval {
    Month,
    Year,
}

app::stored_words!(Interval, "billing interval", {
    Month => "month",
    Year => "year",
});

impl Interval {
    pub fn months(self) -> u32 {
        match self {
            Interval::Month => 1,
            Interval::Year => 12,
        }
    }
}

/// Whether a subscription still renews (`local_subscription.status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, sea_orm::DeriveValueType)]
#[sea_orm(value_type = "String")]
pub enum SubscriptionStatus {
    Active,
    Canceled,
}

app::stored_words!(SubscriptionStatus, "local subscription status", {
    Active => "active",
    Canceled => "canceled",
});

/// Whether an invoice is paid (`local_invoice.status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, sea_orm::DeriveValueType)]
#[sea_orm(value_type = "String")]
pub enum LocalInvoiceStatus {
    Open,
    Paid,
}

app::stored_words!(LocalInvoiceStatus, "local invoice status", {
    Open => "open",
    Paid => "paid",
});

/// A Stripe test card and what it does (`local_customer.card_behaviour`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, sea_orm::DeriveValueType)]
#[sea_orm(value_type = "String")]
pub enum TestCard {
    Succeeds,
    Declined,
    FailsWhenCharged,
}

app::stored_words!(TestCard, "test card", {
    Succeeds => "succeeds",
    Declined => "declined",
    FailsWhenCharged => "fails_on_charge",
});

pub mod local_checkout {
    use sea_orm::entity::prelude::*;
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "local_checkout")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        #[sea_orm(unique)]
        pub session_id: String,
        pub mode: super::CheckoutKind,
        pub membership_ref: String,
        pub customer_email: String,
        pub customer_id: Option<String>,
        pub description: String,
        pub amount_cents: i64,
        pub interval: super::Interval,
        pub success_url: String,
        pub cancel_url: String,
        pub status: super::CheckoutStatus,
        pub created_at: DateTimeUtc,
    }
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}
    impl ActiveModelBehavior for ActiveModel {}
}

pub mod local_customer {
    use sea_orm::entity::prelude::*;
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "local_customer")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        #[sea_orm(unique)]
        pub customer_id: String,
        pub email: String,
        pub card_brand: Option<String>,
        pub card_last4: Option<String>,
        pub card_behaviour: Option<super::TestCard>,
        pub created_at: DateTimeUtc,
    }
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}
    impl ActiveModelBehavior for ActiveModel {}
}

pub mod local_subscription {
    use sea_orm::entity::prelude::*;
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "local_subscription")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        #[sea_orm(unique)]
        pub subscription_id: String,
        pub customer_id: String,
        pub membership_ref: String,
        pub description: String,
        pub amount_cents: i64,
        pub interval: super::Interval,
        pub status: super::SubscriptionStatus,
        pub current_period_start: DateTimeUtc,
        pub current_period_end: DateTimeUtc,
        pub created_at: DateTimeUtc,
        pub next_amount_cents: Option<i64>,
        pub next_interval: Option<super::Interval>,
        pub cancel_at: Option<DateTimeUtc>,
    }
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}
    impl ActiveModelBehavior for ActiveModel {}
}

pub mod local_invoice {
    use sea_orm::entity::prelude::*;
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "local_invoice")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        #[sea_orm(unique)]
        pub invoice_id: String,
        pub subscription_id: String,
        pub description: String,
        pub amount_cents: i64,
        pub period_start: DateTimeUtc,
        pub period_end: DateTimeUtc,
        pub status: super::LocalInvoiceStatus,
        pub attempts: i32,
        pub created_at: DateTimeUtc,
        pub amount_refunded_cents: Option<i64>,
    }
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}
    impl ActiveModelBehavior for ActiveModel {}
}

/// An amount for a subscription's next invoice (`invoice_id` set once it is billed).
pub mod local_invoice_item {
    use sea_orm::entity::prelude::*;
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "local_invoice_item")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        #[sea_orm(unique)]
        pub item_id: String,
        pub subscription_id: String,
        pub invoice_id: Option<String>,
        pub kind: app::billing::model::ChargeKind,
        pub description: String,
        pub amount_cents: i64,
        pub created_at: DateTimeUtc,
    }
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}
    impl ActiveModelBehavior for ActiveModel {}
}

pub mod local_request {
    use sea_orm::entity::prelude::*;
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "local_request")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        #[sea_orm(unique)]
        pub idempotency_key: String,
        pub response: String,
        pub created_at: DateTimeUtc,
    }
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}
    impl ActiveModelBehavior for ActiveModel {}
}
