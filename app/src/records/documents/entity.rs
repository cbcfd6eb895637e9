//! The `document` table: one row per file in the record. The bytes are in object storage under
//! `documents/<public_id>`, sealed with the row's own data key; the key and the label (title and
//! original file name) are sealed here with the keyring, bound to the public id, so `bedside
//! keys rotate` re-wraps the key and never rewrites the object.

pub mod document {
    use crate::crypto::stream::DataKey;
    use crate::crypto::Encrypted;
    use crate::records::documents::model::{DocumentKind, MediaType};
    use sea_orm::entity::prelude::*;
    use serde::{Deserialize, Serialize};

    /// What a document is called: the title shown and the name the file came with (used again
    /// for a download).
    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct Label {
        pub title: String,
        pub file_name: String,
    }

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "document")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        #[sea_orm(unique)]
        pub public_id: String,
        pub patient_id: i32,
        /// The visit whose note it is attached to.
        pub appointment_id: Option<i32>,
        pub kind: DocumentKind,
        pub document_date: Date,
        pub media_type: MediaType,
        pub size_bytes: i64,
        pub label: Encrypted<Label>,
        pub data_key: Encrypted<DataKey>,
        pub uploaded_by: i32,
        pub uploaded_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}

    crate::sealed_row!(public_id; Column::Label => "label", Column::DataKey => "data_key");
}

/// The object a document's bytes are kept as.
pub fn object_name(public_id: &str) -> String {
    format!("{OBJECT_FOLDER}/{public_id}")
}

/// Where documents' objects are (the sweeper lists it).
pub const OBJECT_FOLDER: &str = "documents";
