//! The visit notes' tables. What a note and an addendum say is sealed (AES-256-GCM, bound to the
//! table, the column and the row's public id), so the entities do not derive `Serialize`.

pub mod visit_note {
    use crate::crypto::Encrypted;
    use crate::records::notes::model::{NoteBody, NoteStatus};
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "visit_note")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        #[sea_orm(unique)]
        pub public_id: String,
        /// One note per visit.
        #[sea_orm(unique)]
        pub appointment_id: i32,
        pub patient_id: i32,
        pub status: NoteStatus,
        /// Counts the saves: a save made from an older version is refused.
        pub version: i32,
        pub content: Encrypted<NoteBody>,
        pub author_id: i32,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
        pub signed_by: Option<i32>,
        pub signed_at: Option<DateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}

    crate::sealed_row!(public_id; Column::Content => "content");
}

pub mod visit_note_addendum {
    use crate::crypto::Encrypted;
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "visit_note_addendum")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        #[sea_orm(unique)]
        pub public_id: String,
        pub note_id: i32,
        pub text: Encrypted<String>,
        pub written_by: i32,
        pub written_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}

    crate::sealed_row!(public_id; Column::Text => "text");
}
