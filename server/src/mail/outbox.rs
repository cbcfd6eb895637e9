use app::mail::{outbox_attachment, outbox_email, MailError, Mailer, OutgoingEmail};
use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, TransactionTrait,
};

/// Keeps every email in the `outbox_email` table instead of sending it: the default on a
/// machine with no SMTP server, and what the demo and the tests read.
#[derive(Debug, Clone)]
pub struct OutboxMailer {
    db: DatabaseConnection,
    from: String,
}

impl OutboxMailer {
    pub fn new(db: DatabaseConnection, from: String) -> Self {
        OutboxMailer { db, from }
    }
}

#[async_trait::async_trait]
impl Mailer for OutboxMailer {
    async fn send(&self, email: OutgoingEmail) -> Result<(), MailError> {
        let failed = |e: sea_orm::DbErr| MailError::Transport(format!("outbox: {e}"));
        // The email and its files are kept together or not at all.
        let txn = self.db.begin().await.map_err(failed)?;
        let row = outbox_email::ActiveModel {
            from_address: Set(self.from.clone()),
            to_address: Set(email.to),
            reply_to: Set(email.reply_to),
            subject: Set(email.subject),
            text_body: Set(email.text_body),
            created_at: Set(Utc::now()),
            ..Default::default()
        }
        .insert(&txn)
        .await
        .map_err(failed)?;
        let files: Vec<_> = email
            .attachments
            .into_iter()
            .map(|file| outbox_attachment::ActiveModel {
                email_id: Set(row.id),
                filename: Set(file.filename),
                content_type: Set(file.content_type),
                content: Set(file.content),
                ..Default::default()
            })
            .collect();
        if !files.is_empty() {
            outbox_attachment::Entity::insert_many(files)
                .exec_without_returning(&txn)
                .await
                .map_err(failed)?;
        }
        txn.commit().await.map_err(failed)
    }
}

/// The files attached to outbox email `email_id`.
pub async fn attachments(
    db: &DatabaseConnection,
    email_id: i32,
) -> Result<Vec<outbox_attachment::Model>, sea_orm::DbErr> {
    outbox_attachment::Entity::find()
        .filter(outbox_attachment::Column::EmailId.eq(email_id))
        .order_by_asc(outbox_attachment::Column::Id)
        .all(db)
        .await
}

/// The newest `limit` emails in the outbox, newest first.
pub async fn latest(
    db: &DatabaseConnection,
    limit: u64,
) -> Result<Vec<outbox_email::Model>, sea_orm::DbErr> {
    outbox_email::Entity::find()
        .order_by_desc(outbox_email::Column::Id)
        .limit(limit)
        .all(db)
        .await
}
