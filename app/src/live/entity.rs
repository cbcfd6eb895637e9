//! The `live_cursor` and `live_event` tables (migration 32).

pub mod live_cursor {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "live_cursor")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub user_id: i32,
        /// The number of this person's newest event.
        pub seq: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod live_event {
    use crate::live::model::LiveKind;
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "live_event")]
    pub struct Model {
        /// A random id (hex), by which the one-process bus finds the row once committed.
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub user_id: i32,
        pub seq: i64,
        pub kind: LiveKind,
        pub subject: Option<String>,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
