use app::crypto::{CryptoError, Encrypted, FieldContext, Keyring};
use app::sms::{outbox_sms, OutgoingSms, SmsError, SmsSender};
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, TransactionTrait,
};

/// Keeps every text in the `outbox_sms` table instead of sending it: the default with no SMS
/// provider, and what the demo and the tests read. The words are sealed; read them with
/// [`open_text`].
#[derive(Debug, Clone)]
pub struct OutboxSms {
    db: DatabaseConnection,
    keyring: Keyring,
    from: String,
}

impl OutboxSms {
    pub fn new(db: DatabaseConnection, keyring: Keyring, from: String) -> Self {
        OutboxSms { db, keyring, from }
    }
}

fn body_context(id: &str) -> FieldContext<'_> {
    FieldContext {
        table: "outbox_sms",
        column: "sealed_body",
        row: id,
    }
}

async fn seal_row(
    conn: &impl sea_orm::ConnectionTrait,
    keyring: &Keyring,
    row: outbox_sms::Model,
    body: &str,
) -> anyhow::Result<()> {
    let sealed = Encrypted::seal(
        keyring,
        &body_context(&row.id.to_string()),
        &body.to_owned(),
    )?;
    let mut row: outbox_sms::ActiveModel = row.into();
    row.sealed_body = Set(Some(sealed));
    row.body = Set(String::new());
    row.update(conn).await?;
    Ok(())
}

#[async_trait::async_trait]
impl SmsSender for OutboxSms {
    async fn send(&self, sms: OutgoingSms) -> Result<(), SmsError> {
        let failed = |e: &dyn std::fmt::Display| SmsError::Transport(format!("outbox: {e}"));
        // The row's id is bound into the ciphertext, so the text is written once the row exists.
        let txn = self.db.begin().await.map_err(|e| failed(&e))?;
        let row = outbox_sms::ActiveModel {
            from_number: Set(self.from.clone()),
            to_number: Set(sms.to),
            body: Set(String::new()),
            created_at: Set(Utc::now()),
            sealed_body: Set(None),
            ..Default::default()
        }
        .insert(&txn)
        .await
        .map_err(|e| failed(&e))?;
        seal_row(&txn, &self.keyring, row, &sms.body)
            .await
            .map_err(|e| failed(&e))?;
        txn.commit().await.map_err(|e| failed(&e))
    }
}

/// An outbox text as it was sent, opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenedText {
    pub id: i32,
    pub from_number: String,
    pub to_number: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

/// Opens `row`'s words (a row written before sealing has them in plain text).
pub fn open_text(keyring: &Keyring, row: outbox_sms::Model) -> Result<OpenedText, CryptoError> {
    let body = match &row.sealed_body {
        Some(sealed) => sealed.open(keyring, &body_context(&row.id.to_string()))?,
        None => row.body,
    };
    Ok(OpenedText {
        id: row.id,
        from_number: row.from_number,
        to_number: row.to_number,
        body,
        created_at: row.created_at,
    })
}

/// The newest `limit` texts in the outbox, newest first, opened.
pub async fn latest(
    db: &DatabaseConnection,
    keyring: &Keyring,
    limit: u64,
) -> anyhow::Result<Vec<OpenedText>> {
    let rows = outbox_sms::Entity::find()
        .order_by_desc(outbox_sms::Column::Id)
        .limit(limit)
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|row| open_text(keyring, row))
        .collect::<Result<_, _>>()?)
}

/// Seals texts written before the outbox was sealed (migration 23 has no keys), and empties
/// their plain text. Returns how many it sealed.
pub async fn seal_old_rows(db: &DatabaseConnection, keyring: &Keyring) -> anyhow::Result<u64> {
    let old = outbox_sms::Entity::find()
        .filter(outbox_sms::Column::SealedBody.is_null())
        .all(db)
        .await?;
    let mut sealed = 0;
    for row in old {
        let body = row.body.clone();
        seal_row(db, keyring, row, &body).await?;
        sealed += 1;
    }
    Ok(sealed)
}
