//! Share links' rules and database work (server only). A patient makes a link to parts of their
//! record (audited); the link's manifest URL holds 256 random bits that are stored only as
//! their SHA-256; a passcode is an argon2id hash. The patient lists their links with every use,
//! and revokes them. A recipient's app asks for the manifest (`manifest`); how a link is opened
//! and each use kept is `opening`'s, shared with the viewer page.

use super::entity::{share_access, share_link};
use super::jwe;
use super::link::ShlPayload;
use super::model::{
    parts_label, AccessOutcome, AccessVia, NewShare, ShareAccess, ShareCreated, ShareSummary,
};
use super::opening::{
    admit, content_context, detail_context, ended, open_content, used, Admission, Admitted, Asking,
};
use crate::audit::service::ClientInfo;
use crate::auth::context::SignedIn;
use crate::auth::service::Identity;
use crate::auth::{Action, Resource};
use crate::crypto::Encrypted;
use crate::patients::service::{open_patient, open_patient_by_id, OpenPatient};
use crate::records::export::model::ExportChoice;
use crate::AppError;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};

fn random_text() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

fn links(patient_id: i32) -> Resource {
    Resource::ShareLinks { patient_id }
}

/// The manifest URL of a link whose secret is `secret`.
pub fn manifest_url(public_url: &str, secret: &str) -> String {
    format!("{}/shl/{secret}", public_url.trim_end_matches('/'))
}

/// Makes a link to the parts of patient `patient`'s record that `new` names. One audited write.
pub async fn create(
    me: &SignedIn,
    patient: &str,
    new: &NewShare,
    public_url: &str,
) -> Result<ShareCreated, AppError> {
    let problems = new.problems();
    if !problems.is_empty() {
        return Err(AppError::Validation(problems));
    }
    // Hashed before the write begins: argon2 takes a moment, and no lock is held meanwhile.
    let passcode = new.passcode.trim();
    let passcode_hash = if passcode.is_empty() {
        None
    } else {
        Some(
            me.identity()
                .hasher()
                .hash(passcode)
                .await
                .map_err(|e| e.into_app_error())?,
        )
    };
    let OpenPatient { row, permit } =
        open_patient(me, patient, Action::Write, links, "share_link.create").await?;
    let (secret, key) = (random_text(), random_text());
    let public_id = uuid::Uuid::new_v4().simple().to_string();
    let content = share_link::Content {
        label: new.label.trim().to_owned(),
        chart: new.chart,
        notes: new.notes,
        documents: new.documents,
        key: key.clone(),
    };
    let now = me.now();
    let expires_at = now + chrono::Duration::days(new.days);
    share_link::ActiveModel {
        public_id: Set(public_id.clone()),
        secret_hash: Set(crate::auth::session::sha256_hex(secret.as_bytes())),
        patient_id: Set(row.id),
        created_by: Set(me.auth.user_id),
        content: Set(
            Encrypted::seal(me.keyring(), &content_context(&public_id), &content)
                .map_err(|e| AppError::internal(format_args!("sealing a share link: {e}")))?,
        ),
        passcode_hash: Set(passcode_hash.clone()),
        passcode_failures: Set(0),
        created_at: Set(now),
        expires_at: Set(expires_at),
        revoked_at: Set(None),
        ..Default::default()
    }
    .insert(permit.txn())
    .await?;
    permit.commit().await?;
    let manifest = manifest_url(public_url, &secret);
    let viewer = format!("{manifest}/view");
    let payload = ShlPayload {
        url: manifest,
        flag: passcode_hash.map(|_| "P".to_owned()),
        key,
        label: Some(content.label),
        exp: Some(expires_at.timestamp()),
    };
    let shlink = payload.to_link();
    Ok(ShareCreated {
        public_id,
        address: format!("{viewer}#{shlink}"),
        shlink,
    })
}

/// Patient `patient`'s links, newest first, each with its uses. One audited read.
pub async fn list(me: &SignedIn, patient: &str) -> Result<Vec<ShareSummary>, AppError> {
    let OpenPatient { row, permit } =
        open_patient(me, patient, Action::Read, links, "share_link.list").await?;
    let txn = permit.txn();
    let (keyring, now) = (me.keyring(), me.now());
    let tz = crate::appointments::service::schedule::practice_time_zone(txn).await?;
    let day =
        |at: chrono::DateTime<chrono::Utc>| at.with_timezone(&tz).format("%B %-d, %Y").to_string();
    let moment = |at: chrono::DateTime<chrono::Utc>| {
        at.with_timezone(&tz)
            .format("%B %-d, %Y, %-I:%M %P")
            .to_string()
    };
    let links = share_link::Entity::find()
        .filter(share_link::Column::PatientId.eq(row.id))
        .order_by_desc(share_link::Column::Id)
        .all(txn)
        .await?;
    let uses = share_access::Entity::find()
        .filter(share_access::Column::LinkId.is_in(links.iter().map(|l| l.id)))
        .order_by_desc(share_access::Column::Id)
        .all(txn)
        .await?;
    let mut out = Vec::with_capacity(links.len());
    for link in links {
        let content = open_content(keyring, &link)?;
        let mut accesses = Vec::new();
        for used in uses.iter().filter(|u| u.link_id == link.id) {
            let detail = used
                .detail
                .open(keyring, &detail_context(&link.public_id))
                .map_err(|e| {
                    AppError::internal(format_args!("opening share access {}: {e}", used.id))
                })?;
            accesses.push(ShareAccess {
                at: used.at,
                when: moment(used.at),
                outcome: used.outcome,
                recipient: detail.recipient,
                from: detail.from,
                via: detail.via,
                file: detail.file,
            });
        }
        out.push(ShareSummary {
            label: content.label,
            created_at: link.created_at,
            expires_at: link.expires_at,
            revoked_at: link.revoked_at,
            created: day(link.created_at),
            expires: moment(link.expires_at),
            passcode: link.passcode_hash.is_some(),
            parts: parts_label(content.chart, content.notes, content.documents),
            ended: ended(&link, now),
            accesses,
            public_id: link.public_id,
        });
    }
    permit.commit().await?;
    Ok(out)
}

/// Ends link `public_id` now (it opens nothing after). One audited write.
pub async fn revoke(me: &SignedIn, public_id: &str) -> Result<(), AppError> {
    let Some(link) = share_link::Entity::find()
        .filter(share_link::Column::PublicId.eq(public_id))
        .one(me.db())
        .await?
    else {
        crate::auth::guard::record_missing(
            me.db(),
            me.now(),
            &me.caller,
            "share_link.revoke",
            "share_link",
            public_id,
        )
        .await?;
        return Err(AppError::NotFound("That link".into()));
    };
    let OpenPatient { permit, .. } = open_patient_by_id(
        me,
        link.patient_id,
        Action::Write,
        links,
        "share_link.revoke",
    )
    .await?;
    share_link::Entity::update_many()
        .col_expr(share_link::Column::RevokedAt, Expr::value(Some(me.now())))
        .filter(share_link::Column::Id.eq(link.id))
        .filter(share_link::Column::RevokedAt.is_null())
        .exec(permit.txn())
        .await?;
    permit.commit().await
}

/// A manifest request's body (the specification's names).
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ManifestRequest {
    pub recipient: String,
    #[serde(default)]
    pub passcode: Option<String>,
    #[serde(default)]
    pub embedded_length_max: Option<usize>,
}

/// What a manifest request comes to.
#[derive(Debug, Clone, PartialEq)]
pub enum ManifestAnswer {
    /// The manifest: `{"files": [...]}`.
    Files(serde_json::Value),
    /// No such link, or it expired, was revoked or is locked (404, as the specification says).
    Closed,
    /// A passcode is needed and this one is wrong (401 with `remainingAttempts`).
    WrongPasscode { remaining: i32 },
}

/// Answers a manifest request for the link whose secret is `secret`.
pub async fn manifest(
    identity: &Identity,
    client: &ClientInfo,
    secret: &str,
    request: &ManifestRequest,
    public_url: &str,
) -> Result<ManifestAnswer, AppError> {
    let asking = Asking {
        recipient: &request.recipient,
        passcode: request.passcode.as_deref(),
        via: AccessVia::App,
        file: None,
    };
    let admitted = match admit(identity, client, secret, &asking).await? {
        Admission::Unknown | Admission::Ended(_) => return Ok(ManifestAnswer::Closed),
        Admission::WrongPasscode { remaining } => {
            return Ok(ManifestAnswer::WrongPasscode { remaining })
        }
        Admission::Open(admitted) => admitted,
    };
    let Admitted {
        link,
        owner,
        content,
    } = *admitted;
    let (db, keyring, now) = (identity.db(), identity.keyring(), identity.now());
    let parts = ExportChoice {
        chart: content.chart,
        notes: if content.notes {
            None
        } else {
            Some(Vec::new())
        },
        documents: content.documents,
    };
    let documents = if content.documents {
        crate::records::documents::service::in_record_as(db, keyring, owner.id, false).await?
    } else {
        Vec::new()
    };
    let record_documents = documents.clone();
    let record = crate::records::fhir::service::Record {
        parts: &parts,
        documents,
        links: None,
    };
    let base = public_url.trim_end_matches('/');
    let bundle =
        crate::records::fhir::service::bundle_of(db, keyring, &owner, record, base, now).await?;
    let key: [u8; 32] = URL_SAFE_NO_PAD
        .decode(&content.key)
        .ok()
        .and_then(|k| k.try_into().ok())
        .ok_or_else(|| AppError::internal("a share link's key is not 32 bytes"))?;
    let file = jwe::encrypt(&key, "application/fhir+json", bundle.to_string().as_bytes());
    used(
        identity,
        client,
        &link,
        &owner,
        &asking,
        AccessOutcome::Opened,
    )
    .await?;
    // Each document's file by `location` (fetched with GET, good for an hour): a 25 MB scan
    // does not belong inline in the manifest, whatever `embeddedLengthMax` says.
    let mut files =
        vec![serde_json::json!({ "contentType": "application/fhir+json", "embedded": file })];
    for d in &record_documents {
        let pass = super::pass::location_pass(
            keyring,
            &link.public_id,
            &d.public_id,
            &request.recipient,
            now,
        );
        files.push(serde_json::json!({
            "contentType": "application/fhir+json",
            "location": format!("{}/files/{pass}", manifest_url(base, secret)),
        }));
    }
    Ok(ManifestAnswer::Files(serde_json::json!({ "files": files })))
}
