//! The access grants' table (see migration 31). Sealed: the reason, bound to the grant's
//! public id.

pub mod access_grant {
    use crate::auth::Grant;
    use crate::crypto::Encrypted;
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "access_grant")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        #[sea_orm(unique)]
        pub public_id: String,
        pub patient_id: i32,
        /// The person let in.
        pub user_id: i32,
        pub kind: Grant,
        /// Why (the physician's words for a staff member; the administrator's for an emergency
        /// read).
        pub reason: Encrypted<String>,
        pub granted_by: i32,
        pub created_at: DateTimeUtc,
        pub expires_at: DateTimeUtc,
        pub revoked_at: Option<DateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}

    crate::sealed_row!(public_id; Column::Reason => "reason");
}
