//! Messaging's tables (migrations 33–36). Sealed: a conversation's subject (bound to its public
//! id) and a message's body (bound to its conversation's and its own public ids, so a body
//! moved to another message or conversation does not open).

pub mod conversation {
    use crate::crypto::Encrypted;
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "conversation")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        #[sea_orm(unique)]
        pub public_id: String,
        pub patient_id: i32,
        pub subject: Encrypted<String>,
        pub started_by: i32,
        pub created_at: DateTimeUtc,
        pub last_message_at: DateTimeUtc,
        /// The number of its newest message.
        pub last_seq: i64,
        /// Who in the practice looks after it.
        pub assigned_to: Option<i32>,
        /// When the practice marked it done (a new message opens it again).
        pub done_at: Option<DateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}

    crate::sealed_row!(public_id; Column::Subject => "subject");
}

pub mod message {
    use crate::crypto::Encrypted;
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "message")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        #[sea_orm(unique)]
        pub public_id: String,
        pub conversation_id: i32,
        /// Its place in the conversation: 1, 2, 3, … in the order the server took them.
        pub seq: i64,
        pub sender_id: i32,
        pub body: Encrypted<String>,
        /// Written by the practice's automatic reply, not a person.
        pub automatic: bool,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}

    /// What the body is bound to: `<conversation public id>/<message public id>`.
    pub fn bound_to(conversation: &str, message: &str) -> String {
        format!("{conversation}/{message}")
    }

    /// What key rotation re-encrypts.
    impl crate::crypto::SealedRow for Model {
        fn sealed_columns() -> Vec<crate::crypto::SealedColumn<Column>> {
            crate::sealed![Column::Body => "body"]
        }

        async fn bound_to(&self, db: &sea_orm::DatabaseConnection) -> Result<String, DbErr> {
            let conversation =
                crate::messages::entity::conversation::Entity::find_by_id(self.conversation_id)
                    .one(db)
                    .await?
                    .ok_or_else(|| {
                        DbErr::RecordNotFound(format!("the conversation of message {}", self.id))
                    })?;
            Ok(bound_to(&conversation.public_id, &self.public_id))
        }
    }
}

pub mod message_receipt {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "message_receipt")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub message_id: i32,
        #[sea_orm(primary_key, auto_increment = false)]
        pub user_id: i32,
        pub read_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod message_attachment {
    use sea_orm::entity::prelude::*;

    /// Document `document_id` (of the patient's record) came with message `message_id`.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "message_attachment")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        pub message_id: i32,
        #[sea_orm(unique)]
        pub document_id: i32,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod message_notice {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "message_notice")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        pub conversation_id: i32,
        pub user_id: i32,
        /// `email` or `text`.
        pub channel: String,
        pub sent_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod message_preference {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "message_preference")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub user_id: i32,
        pub by_email: bool,
        pub by_text: bool,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod message_auto_reply {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "message_auto_reply")]
    pub struct Model {
        /// Always 1: the practice has one.
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: i32,
        pub enabled: bool,
        pub body: String,
        pub updated_by: Option<i32>,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
