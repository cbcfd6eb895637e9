use app::crypto::{CryptoError, Encrypted, FieldContext, Keyring};
use app::mail::{outbox_attachment, outbox_email, MailError, Mailer, OutgoingEmail};
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, TransactionTrait,
};

/// Keeps every email in the `outbox_email` table instead of sending it: the default on a
/// machine with no SMTP server, and what the demo and the tests read. Bodies and files are
/// sealed (they hold links that sign people in and patients' names); read them with
/// [`open_email`] and [`attachments`].
#[derive(Debug, Clone)]
pub struct OutboxMailer {
    db: DatabaseConnection,
    keyring: Keyring,
    from: String,
}

impl OutboxMailer {
    pub fn new(db: DatabaseConnection, keyring: Keyring, from: String) -> Self {
        OutboxMailer { db, keyring, from }
    }
}

fn body_context(id: &str) -> FieldContext<'_> {
    FieldContext {
        table: "outbox_email",
        column: "sealed_body",
        row: id,
    }
}

fn file_context(email_id: &str) -> FieldContext<'_> {
    FieldContext {
        table: "outbox_attachment",
        column: "content",
        row: email_id,
    }
}

#[async_trait::async_trait]
impl Mailer for OutboxMailer {
    async fn send(&self, email: OutgoingEmail) -> Result<(), MailError> {
        let failed = |e: sea_orm::DbErr| MailError::Transport(format!("outbox: {e}"));
        let unsealable = |e: CryptoError| MailError::Transport(format!("outbox: {e}"));
        // The email and its files are kept together or not at all. The row's id is bound into
        // the ciphertext, so the body is written once the row exists.
        let txn = self.db.begin().await.map_err(failed)?;
        let row = outbox_email::ActiveModel {
            from_address: Set(self.from.clone()),
            to_address: Set(email.to),
            reply_to: Set(email.reply_to),
            subject: Set(email.subject),
            text_body: Set(String::new()),
            created_at: Set(Utc::now()),
            sealed_body: Set(None),
            ..Default::default()
        }
        .insert(&txn)
        .await
        .map_err(failed)?;
        let id = row.id.to_string();
        let sealed = Encrypted::seal(&self.keyring, &body_context(&id), &email.text_body)
            .map_err(unsealable)?;
        let mut row: outbox_email::ActiveModel = row.into();
        row.sealed_body = Set(Some(sealed));
        let row = row.update(&txn).await.map_err(failed)?;
        let files: Vec<_> = email
            .attachments
            .into_iter()
            .map(|file| outbox_attachment::ActiveModel {
                email_id: Set(row.id),
                filename: Set(file.filename),
                content_type: Set(file.content_type),
                content: Set(self.keyring.encrypt(&file_context(&id), &file.content)),
                sealed: Set(true),
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

/// An outbox email as it was sent, opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenedEmail {
    pub id: i32,
    pub from_address: String,
    pub to_address: String,
    pub reply_to: Option<String>,
    pub subject: String,
    pub text_body: String,
    pub created_at: DateTime<Utc>,
}

/// Opens `row`'s body (a row written before sealing has it in plain text).
pub fn open_email(keyring: &Keyring, row: outbox_email::Model) -> Result<OpenedEmail, CryptoError> {
    let text_body = match &row.sealed_body {
        Some(sealed) => sealed.open(keyring, &body_context(&row.id.to_string()))?,
        None => row.text_body,
    };
    Ok(OpenedEmail {
        id: row.id,
        from_address: row.from_address,
        to_address: row.to_address,
        reply_to: row.reply_to,
        subject: row.subject,
        text_body,
        created_at: row.created_at,
    })
}

/// A file attached to an outbox email, opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenedAttachment {
    pub filename: String,
    pub content_type: String,
    pub content: Vec<u8>,
}

/// The files attached to outbox email `email_id`, opened.
pub async fn attachments(
    db: &DatabaseConnection,
    keyring: &Keyring,
    email_id: i32,
) -> anyhow::Result<Vec<OpenedAttachment>> {
    let rows = outbox_attachment::Entity::find()
        .filter(outbox_attachment::Column::EmailId.eq(email_id))
        .order_by_asc(outbox_attachment::Column::Id)
        .all(db)
        .await?;
    rows.into_iter()
        .map(|row| {
            let content = if row.sealed {
                keyring.decrypt(&file_context(&email_id.to_string()), &row.content)?
            } else {
                row.content
            };
            Ok(OpenedAttachment {
                filename: row.filename,
                content_type: row.content_type,
                content,
            })
        })
        .collect()
}

/// The newest `limit` emails in the outbox, newest first, opened.
pub async fn latest(
    db: &DatabaseConnection,
    keyring: &Keyring,
    limit: u64,
) -> anyhow::Result<Vec<OpenedEmail>> {
    let rows = outbox_email::Entity::find()
        .order_by_desc(outbox_email::Column::Id)
        .limit(limit)
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|row| open_email(keyring, row))
        .collect::<Result<_, _>>()?)
}

/// Seals the bodies and files of emails written before the outbox was sealed (migration 23 has
/// no keys), and empties their plain text. Returns how many emails it sealed.
pub async fn seal_old_rows(db: &DatabaseConnection, keyring: &Keyring) -> anyhow::Result<u64> {
    let old = outbox_email::Entity::find()
        .filter(outbox_email::Column::SealedBody.is_null())
        .all(db)
        .await?;
    let mut sealed = 0;
    for row in old {
        let id = row.id.to_string();
        let txn = db.begin().await?;
        let body = Encrypted::seal(keyring, &body_context(&id), &row.text_body)?;
        let mut active: outbox_email::ActiveModel = row.into();
        active.sealed_body = Set(Some(body));
        active.text_body = Set(String::new());
        let row = active.update(&txn).await?;
        let files = outbox_attachment::Entity::find()
            .filter(outbox_attachment::Column::EmailId.eq(row.id))
            .filter(outbox_attachment::Column::Sealed.eq(false))
            .all(&txn)
            .await?;
        for file in files {
            let content = keyring.encrypt(&file_context(&id), &file.content);
            let mut file: outbox_attachment::ActiveModel = file.into();
            file.content = Set(content);
            file.sealed = Set(true);
            file.update(&txn).await?;
        }
        txn.commit().await?;
        sealed += 1;
    }
    Ok(sealed)
}
