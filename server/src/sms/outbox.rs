use app::sms::{outbox_sms, OutgoingSms, SmsError, SmsSender};
use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, DatabaseConnection, EntityTrait, QueryOrder, QuerySelect,
};

/// Keeps every text in the `outbox_sms` table instead of sending it: the default with no SMS
/// provider, and what the demo and the tests read.
#[derive(Debug, Clone)]
pub struct OutboxSms {
    db: DatabaseConnection,
    from: String,
}

impl OutboxSms {
    pub fn new(db: DatabaseConnection, from: String) -> Self {
        OutboxSms { db, from }
    }
}

#[async_trait::async_trait]
impl SmsSender for OutboxSms {
    async fn send(&self, sms: OutgoingSms) -> Result<(), SmsError> {
        outbox_sms::ActiveModel {
            from_number: Set(self.from.clone()),
            to_number: Set(sms.to),
            body: Set(sms.body),
            created_at: Set(Utc::now()),
            ..Default::default()
        }
        .insert(&self.db)
        .await
        .map(|_| ())
        .map_err(|e| SmsError::Transport(format!("outbox: {e}")))
    }
}

/// The newest `limit` texts in the outbox, newest first.
pub async fn latest(
    db: &DatabaseConnection,
    limit: u64,
) -> Result<Vec<outbox_sms::Model>, sea_orm::DbErr> {
    outbox_sms::Entity::find()
        .order_by_desc(outbox_sms::Column::Id)
        .limit(limit)
        .all(db)
        .await
}
