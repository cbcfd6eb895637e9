//! The hub's tables (migration 37). A communication's copy (to whom, subject, words) is sealed,
//! bound to its public id; templates are the practice's own words and are kept as written.

pub mod communication {
    use crate::crypto::Encrypted;
    use crate::messages::hub::model::Channel;
    use sea_orm::entity::prelude::*;
    use serde::{Deserialize, Serialize};

    /// What was sent, kept sealed.
    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct Copy {
        /// The address or number it went to.
        pub to: String,
        /// Empty for a text.
        pub subject: String,
        pub body: String,
    }

    /// `queued` until the job sends it, then `sent`; `retrying` after a failed try.
    pub const QUEUED: &str = "queued";
    pub const SENT: &str = "sent";
    pub const RETRYING: &str = "retrying";

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "communication")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        #[sea_orm(unique)]
        pub public_id: String,
        pub patient_id: i32,
        pub channel: Channel,
        pub sent_by: i32,
        pub created_at: DateTimeUtc,
        pub copy: Encrypted<Copy>,
        pub status: String,
        pub sent_at: Option<DateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}

    crate::sealed_row!(public_id; Column::Copy => "copy");
}

pub mod message_template {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "message_template")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        #[sea_orm(unique)]
        pub public_id: String,
        pub name: String,
        pub subject: String,
        pub body: String,
        pub updated_by: Option<i32>,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
