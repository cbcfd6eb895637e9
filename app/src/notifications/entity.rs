//! The `notification` table (migration 10).

pub mod notification {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "notification")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        pub user_id: i32,
        /// Empty for rows written sealed: the words are in `sealed_title` and `sealed_body`.
        pub title: String,
        pub body: String,
        pub link: Option<String>,
        pub created_at: DateTimeUtc,
        pub read_at: Option<DateTimeUtc>,
        /// AES-256-GCM, bound to this row's id (migration 23).
        pub sealed_title: Option<crate::crypto::Encrypted<String>>,
        pub sealed_body: Option<crate::crypto::Encrypted<String>>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}

    crate::sealed_row!(
        id;
        Column::SealedTitle => "sealed_title",
        Column::SealedBody => "sealed_body",
    );
}
