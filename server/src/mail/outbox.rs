use app::mail::{outbox_email, MailError, Mailer, OutgoingEmail};
use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, DatabaseConnection, EntityTrait, QueryOrder, QuerySelect,
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
        outbox_email::ActiveModel {
            from_address: Set(self.from.clone()),
            to_address: Set(email.to),
            reply_to: Set(email.reply_to),
            subject: Set(email.subject),
            text_body: Set(email.text_body),
            created_at: Set(Utc::now()),
            ..Default::default()
        }
        .insert(&self.db)
        .await
        .map(|_| ())
        .map_err(|e| MailError::Transport(format!("outbox: {e}")))
    }
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
