//! The patient table. Date of birth and phone are sealed (AES-256-GCM, bound to this table,
//! the column and the row's public id), so the entity does not derive `Serialize`.

pub mod patient {
    use crate::crypto::Encrypted;
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "patient")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        #[sea_orm(unique)]
        pub public_id: String,
        pub user_id: Option<i32>,
        /// Empty for rows written sealed: the name is in `sealed_legal_name` (read it with
        /// `patients::service::legal_name`).
        pub legal_name: String,
        pub date_of_birth: Encrypted<chrono::NaiveDate>,
        pub phone: Option<Encrypted<String>>,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
        pub sealed_legal_name: Option<Encrypted<String>>,
        /// What the patient likes to be called (sealed; `None` until they say).
        pub preferred_name: Option<Encrypted<String>>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        /// The account the patient signs in with, if any.
        #[sea_orm(
            belongs_to = "crate::auth::entity::user_account::Entity",
            from = "Column::UserId",
            to = "crate::auth::entity::user_account::Column::Id"
        )]
        Account,
    }

    impl Related<crate::auth::entity::user_account::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::Account.def()
        }
    }

    impl ActiveModelBehavior for ActiveModel {}

    crate::sealed_row!(
        public_id;
        Column::DateOfBirth => "date_of_birth",
        Column::Phone => "phone",
        Column::SealedLegalName => "legal_name",
        Column::PreferredName => "preferred_name",
    );
}
