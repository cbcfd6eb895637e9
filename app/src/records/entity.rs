//! The chart's tables. What an entry says is sealed (AES-256-GCM, bound to the table, the column
//! and the entry's public id; a version's to the entry's public id and the version), so the
//! entities do not derive `Serialize`.

pub mod chart_entry {
    use crate::crypto::Encrypted;
    use crate::records::model::{ChartItem, ChartSection};
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "chart_entry")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        #[sea_orm(unique)]
        pub public_id: String,
        pub patient_id: i32,
        pub section: ChartSection,
        pub version: i32,
        pub content: Encrypted<ChartItem>,
        /// The account that made the current version.
        pub updated_by: i32,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
        pub removed_at: Option<DateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}

    crate::sealed_row!(public_id; Column::Content => "content");
}

pub mod chart_entry_version {
    use crate::crypto::Encrypted;
    use crate::records::model::{ChartChange, ChartItem};
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "chart_entry_version")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        pub entry_id: i32,
        pub version: i32,
        pub change: ChartChange,
        pub content: Encrypted<ChartItem>,
        pub changed_by: i32,
        pub changed_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}

    /// Bound to the entry's public id and the version ("<entry>:<version>").
    impl crate::crypto::SealedRow for Model {
        fn sealed_columns() -> Vec<crate::crypto::SealedColumn<Column>> {
            crate::sealed![Column::Content => "content"]
        }

        async fn bound_to(
            &self,
            db: &sea_orm::DatabaseConnection,
        ) -> Result<String, sea_orm::DbErr> {
            super::chart_entry::Entity::find_by_id(self.entry_id)
                .one(db)
                .await?
                .map(|entry| super::version_binding(&entry.public_id, self.version))
                .ok_or_else(|| {
                    sea_orm::DbErr::RecordNotFound(format!("version {}'s entry", self.id))
                })
        }
    }
}

/// The row a version's sealed words are bound to.
pub fn version_binding(entry_public_id: &str, version: i32) -> String {
    format!("{entry_public_id}:{version}")
}
