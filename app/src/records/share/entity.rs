//! Share links' tables (see migration 30). Sealed: what a link shares, its label and key
//! (bound to the link's public id); who used it and from where (bound to the link's too).

pub mod share_link {
    use crate::crypto::Encrypted;
    use sea_orm::entity::prelude::*;
    use serde::{Deserialize, Serialize};

    /// What a link shares, its label and the files' key, sealed as one value.
    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct Content {
        pub label: String,
        pub chart: bool,
        pub notes: bool,
        pub documents: bool,
        /// The files' key, base64url (it is also in the link).
        pub key: String,
    }

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "share_link")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        #[sea_orm(unique)]
        pub public_id: String,
        /// SHA-256 of the manifest URL's secret (hex): the secret itself is never stored.
        #[sea_orm(unique)]
        pub secret_hash: String,
        pub patient_id: i32,
        pub created_by: i32,
        pub content: Encrypted<Content>,
        pub passcode_hash: Option<String>,
        pub passcode_failures: i32,
        pub created_at: DateTimeUtc,
        pub expires_at: DateTimeUtc,
        pub revoked_at: Option<DateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}

    crate::sealed_row!(public_id; Column::Content => "content");
}

pub mod share_access {
    use crate::crypto::Encrypted;
    use crate::records::share::model::AccessOutcome;
    use sea_orm::entity::prelude::*;
    use serde::{Deserialize, Serialize};

    /// Who asked (as they said) and from where.
    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct Detail {
        pub recipient: String,
        pub from: String,
        /// How it was used (absent in uses kept before this was recorded).
        #[serde(default)]
        pub via: Option<crate::records::share::model::AccessVia>,
        /// The file downloaded, by its title, when the use was one document's file.
        #[serde(default)]
        pub file: Option<String>,
    }

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "share_access")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        pub link_id: i32,
        pub at: DateTimeUtc,
        pub outcome: AccessOutcome,
        pub detail: Encrypted<Detail>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}

    crate::sealed_row!(owner super::share_link::Entity, link_id; Column::Detail => "detail");
}
