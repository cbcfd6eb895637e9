//! A shared record's files (server only). For a person in the viewer: opening the record hands
//! the page a viewing pass (`pass.rs`), which each document's download button posts back. For a
//! recipient's app: each document by its `location` in the manifest, as JWE. Either way a file
//! goes out only if the link still opens and shares documents, the pass has not run out, and
//! the document is one the patient sees in their own record (never a draft's attachment). Each
//! download, or refusal, is a use of the link kept with the file's title (the patient sees it)
//! and audited naming the document.

use super::entity::share_link;
use super::model::{AccessOutcome, AccessVia, LinkEnded, SharedView, ViewerAsk, VIEWING_MINUTES};
use super::opening::{ended, find, open_content, used, Asking};
use super::pass::{open_location, open_pass};
use crate::audit::service::ClientInfo;
use crate::auth::service::Identity;
use crate::patients::entity::patient;
use crate::records::documents::entity::document;
use crate::records::documents::model::DocumentSummary;
use crate::records::documents::service::{file_of, in_record_as, DocumentFile};
use crate::AppError;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

/// What asking for a shared file comes to.
pub enum SharedFile {
    /// The file, to stream.
    File(DocumentFile),
    /// The viewer page instead: the link opens nothing now (404 or 410), or the pass ran out
    /// (the form again, to open the record anew).
    View(SharedView),
    /// This link does not share that file.
    NotShared,
}

/// Document `document_id` of the record behind link `secret`, for the viewer holding `pass`.
pub async fn file_in_browser(
    identity: &Identity,
    client: &ClientInfo,
    secret: &str,
    pass: &str,
    document_id: &str,
) -> Result<SharedFile, AppError> {
    let (db, keyring, now) = (identity.db(), identity.keyring(), identity.now());
    let Some(link) = find(db, secret).await? else {
        return Ok(SharedFile::View(SharedView::Unknown));
    };
    let Some(recipient) = open_pass(keyring, &link.public_id, pass, now) else {
        return Ok(SharedFile::View(pass_ran_out(identity, &link).await?));
    };
    let ask = Ask {
        link,
        recipient: &recipient,
        document_id,
        via: AccessVia::Browser,
    };
    Ok(match hand_out(identity, client, ask).await? {
        HandedOut::File(found) => SharedFile::File(found.0),
        HandedOut::Ended(why) => SharedFile::View(SharedView::Ended(why)),
        HandedOut::NotShared => SharedFile::NotShared,
    })
}

/// One document's file for a recipient's app, found; [`seal`](Self::seal) makes the answer once
/// the bytes are read.
pub struct AppFile {
    pub file: DocumentFile,
    summary: DocumentSummary,
    patient: String,
    key: [u8; 32],
}

impl AppFile {
    /// The file as the specification serves a `location`: a compact JWE under the link's key,
    /// holding a FHIR Bundle with the document's `DocumentReference`, its bytes inline.
    pub fn seal(&self, bytes: &[u8], base: &str, now: DateTime<Utc>) -> String {
        use crate::records::fhir::resources;
        let mut reference = resources::document(&self.patient, &self.summary, None);
        reference["content"][0]["attachment"]["data"] = serde_json::json!(STANDARD.encode(bytes));
        let bundle = resources::bundle(
            &format!("shared-{}", self.summary.public_id),
            now,
            &format!("{}/fhir", base.trim_end_matches('/')),
            vec![reference],
        );
        let plain = bundle.to_string();
        super::jwe::encrypt(&self.key, "application/fhir+json", plain.as_bytes())
    }
}

/// The document a manifest's `location` `pass` names, for link `secret`, if the link still
/// opens and shares it and the location has not run out (kept as a use by the recipient the
/// manifest was asked for). `None`: 404, as for any link that opens nothing.
pub async fn file_for_app(
    identity: &Identity,
    client: &ClientInfo,
    secret: &str,
    pass: &str,
) -> Result<Option<AppFile>, AppError> {
    let (db, keyring, now) = (identity.db(), identity.keyring(), identity.now());
    let Some(link) = find(db, secret).await? else {
        return Ok(None);
    };
    let Some(location) = open_location(keyring, &link.public_id, pass, now) else {
        return Ok(None);
    };
    let content = open_content(keyring, &link)?;
    let key: [u8; 32] = URL_SAFE_NO_PAD
        .decode(&content.key)
        .ok()
        .and_then(|k| k.try_into().ok())
        .ok_or_else(|| AppError::internal("a share link's key is not 32 bytes"))?;
    let ask = Ask {
        link,
        recipient: &location.recipient,
        document_id: &location.document,
        via: AccessVia::App,
    };
    Ok(match hand_out(identity, client, ask).await? {
        HandedOut::File(found) => {
            let (file, shared) = *found;
            Some(AppFile {
                file,
                summary: shared.summary,
                patient: shared.patient,
                key,
            })
        }
        HandedOut::Ended(_) | HandedOut::NotShared => None,
    })
}

/// A document asked for through a link, by someone holding a good pass.
struct Ask<'a> {
    link: share_link::Model,
    recipient: &'a str,
    document_id: &'a str,
    via: AccessVia,
}

/// The document as it was shared: its summary and its patient's public id.
struct Shared {
    summary: DocumentSummary,
    patient: String,
}

enum HandedOut {
    File(Box<(DocumentFile, Shared)>),
    Ended(LinkEnded),
    NotShared,
}

/// Gives out `ask`'s file if the link still opens and shares it, keeping the use either way.
async fn hand_out(
    identity: &Identity,
    client: &ClientInfo,
    ask: Ask<'_>,
) -> Result<HandedOut, AppError> {
    let (db, keyring, now) = (identity.db(), identity.keyring(), identity.now());
    let link = &ask.link;
    let owner = patient::Entity::find_by_id(link.patient_id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::internal("a share link without its patient"))?;
    // Only what the patient sees in their own record, and only when the link shares documents.
    let shared = if open_content(keyring, link)?.documents {
        in_record_as(db, keyring, owner.id, false)
            .await?
            .into_iter()
            .find(|d| d.public_id == ask.document_id)
    } else {
        None
    };
    let title = shared.as_ref().map(|d| d.title.clone()).unwrap_or_default();
    let asking = Asking {
        recipient: ask.recipient,
        passcode: None,
        via: ask.via,
        file: Some((ask.document_id, &title)),
    };
    let summary = match (ended(link, now), shared) {
        (None, Some(summary)) => summary,
        (why, _) => {
            used(
                identity,
                client,
                link,
                &owner,
                &asking,
                AccessOutcome::Closed,
            )
            .await?;
            return Ok(why.map_or(HandedOut::NotShared, HandedOut::Ended));
        }
    };
    let row = document::Entity::find()
        .filter(document::Column::PublicId.eq(&summary.public_id))
        .one(db)
        .await?
        .ok_or_else(|| AppError::internal("a listed document without its row"))?;
    let file = file_of(keyring, &row)?;
    used(
        identity,
        client,
        link,
        &owner,
        &asking,
        AccessOutcome::Opened,
    )
    .await?;
    let shared = Shared {
        summary,
        patient: owner.public_id,
    };
    Ok(HandedOut::File(Box::new((file, shared))))
}

/// The viewer's form again, saying why: the hour after opening the record is over.
async fn pass_ran_out(
    identity: &Identity,
    link: &share_link::Model,
) -> Result<SharedView, AppError> {
    if let Some(why) = ended(link, identity.now()) {
        return Ok(SharedView::Ended(why));
    }
    let content = open_content(identity.keyring(), link)?;
    let mut ask = ViewerAsk {
        label: content.label,
        passcode: link.passcode_hash.is_some(),
        expires: super::opening::day_of(identity.db(), link.expires_at).await?,
        ..ViewerAsk::default()
    };
    ask.errors.add(
        "recipient",
        format!(
            "Files can be downloaded for {VIEWING_MINUTES} minutes after the record is opened. Enter your name to open it again."
        ),
    );
    Ok(SharedView::Ask(ask))
}
