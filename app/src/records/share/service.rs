//! Share links' rules and database work (server only). A patient makes a link to parts of their
//! record (audited); the link's manifest URL holds 256 random bits that are stored only as
//! their SHA-256; a passcode is an argon2id hash, and wrong passcodes are counted for the
//! link's whole life, reserved before the check so parallel guesses cannot slip past the cap;
//! every use is kept (when, who the recipient said they were, from where, what came of it) and
//! audited; an expired, revoked or locked link opens nothing.

use super::entity::{share_access, share_link};
use super::jwe;
use super::link::ShlPayload;
use super::model::{
    AccessOutcome, NewShare, ShareAccess, ShareCreated, ShareSummary, MAX_PASSCODE_FAILURES,
};
use crate::audit::model::Outcome;
use crate::audit::service::{self as audit, ClientInfo};
use crate::auth::context::SignedIn;
use crate::auth::password::Verified;
use crate::auth::service::Identity;
use crate::auth::{Action, Resource};
use crate::crypto::{Encrypted, FieldContext, Keyring};
use crate::patients::entity::patient;
use crate::patients::service::{open_patient, OpenPatient};
use crate::records::export::model::ExportChoice;
use crate::AppError;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};

fn content_context(public_id: &str) -> FieldContext<'_> {
    FieldContext {
        table: "share_link",
        column: "content",
        row: public_id,
    }
}

fn detail_context(link_public_id: &str) -> FieldContext<'_> {
    FieldContext {
        table: "share_access",
        column: "detail",
        row: link_public_id,
    }
}

fn random_text() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

fn history(patient_id: i32) -> Resource {
    Resource::PatientHistory { patient_id }
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
        open_patient(me, patient, Action::Write, history, "share_link.create").await?;
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
    let payload = ShlPayload {
        url: manifest_url(public_url, &secret),
        flag: passcode_hash.map(|_| "P".to_owned()),
        key,
        label: Some(content.label),
        exp: Some(expires_at.timestamp()),
    };
    Ok(ShareCreated {
        public_id,
        shlink: payload.to_link(),
    })
}

fn open_content(
    keyring: &Keyring,
    link: &share_link::Model,
) -> Result<share_link::Content, AppError> {
    link.content
        .open(keyring, &content_context(&link.public_id))
        .map_err(|e| AppError::internal(format_args!("opening share link {}: {e}", link.id)))
}

/// Patient `patient`'s links, newest first, each with its uses. One audited read.
pub async fn list(me: &SignedIn, patient: &str) -> Result<Vec<ShareSummary>, AppError> {
    let OpenPatient { row, permit } =
        open_patient(me, patient, Action::Read, history, "share_link.list").await?;
    let txn = permit.txn();
    let keyring = me.keyring();
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
                outcome: used.outcome,
                recipient: detail.recipient,
                from: detail.from,
            });
        }
        out.push(ShareSummary {
            label: content.label,
            created_at: link.created_at,
            expires_at: link.expires_at,
            revoked_at: link.revoked_at,
            passcode: link.passcode_hash.is_some(),
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
    let owner = patient::Entity::find_by_id(link.patient_id)
        .one(me.db())
        .await?
        .ok_or_else(|| AppError::internal("a share link without its patient"))?;
    let OpenPatient { permit, .. } = open_patient(
        me,
        &owner.public_id,
        Action::Write,
        history,
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
    let (db, keyring, now) = (identity.db(), identity.keyring(), identity.now());
    let Some(link) = share_link::Entity::find()
        .filter(
            share_link::Column::SecretHash.eq(crate::auth::session::sha256_hex(secret.as_bytes())),
        )
        .one(db)
        .await?
    else {
        return Ok(ManifestAnswer::Closed);
    };
    let owner = patient::Entity::find_by_id(link.patient_id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::internal("a share link without its patient"))?;
    let closed = link.revoked_at.is_some()
        || link.expires_at <= now
        || link.passcode_failures >= MAX_PASSCODE_FAILURES;
    if closed {
        used(
            identity,
            client,
            &link,
            &owner,
            request,
            AccessOutcome::Closed,
        )
        .await?;
        return Ok(ManifestAnswer::Closed);
    }
    if let Some(stored) = &link.passcode_hash {
        // An attempt is taken before the passcode is checked, in one statement, so guesses sent
        // at once cannot together pass the cap; a right passcode gives its attempt back.
        let taken = share_link::Entity::update_many()
            .col_expr(
                share_link::Column::PasscodeFailures,
                Expr::col(share_link::Column::PasscodeFailures).add(1),
            )
            .filter(share_link::Column::Id.eq(link.id))
            .filter(share_link::Column::PasscodeFailures.lt(MAX_PASSCODE_FAILURES))
            .exec(db)
            .await?;
        if taken.rows_affected == 0 {
            used(
                identity,
                client,
                &link,
                &owner,
                request,
                AccessOutcome::Closed,
            )
            .await?;
            return Ok(ManifestAnswer::Closed);
        }
        let given = request.passcode.as_deref().unwrap_or_default();
        let verified = identity
            .hasher()
            .verify(given, Some(stored))
            .await
            .map_err(|e| e.into_app_error())?;
        if matches!(verified, Verified::No) {
            used(
                identity,
                client,
                &link,
                &owner,
                request,
                AccessOutcome::WrongPasscode,
            )
            .await?;
            let failures = share_link::Entity::find_by_id(link.id)
                .one(db)
                .await?
                .map_or(MAX_PASSCODE_FAILURES, |l| l.passcode_failures);
            return Ok(ManifestAnswer::WrongPasscode {
                remaining: std::cmp::max(MAX_PASSCODE_FAILURES - failures, 0),
            });
        }
        share_link::Entity::update_many()
            .col_expr(
                share_link::Column::PasscodeFailures,
                Expr::col(share_link::Column::PasscodeFailures).sub(1),
            )
            .filter(share_link::Column::Id.eq(link.id))
            .exec(db)
            .await?;
    }
    let content = open_content(keyring, &link)?;
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
        request,
        AccessOutcome::Opened,
    )
    .await?;
    Ok(ManifestAnswer::Files(serde_json::json!({
        "files": [{ "contentType": "application/fhir+json", "embedded": file }]
    })))
}

/// Keeps one use of `link` in its log and in the audit log (an opened link is a read of the
/// record by someone outside the practice; the rest are refusals).
async fn used(
    identity: &Identity,
    client: &ClientInfo,
    link: &share_link::Model,
    owner: &patient::Model,
    request: &ManifestRequest,
    outcome: AccessOutcome,
) -> Result<(), AppError> {
    let (db, keyring, now) = (identity.db(), identity.keyring(), identity.now());
    let recipient: String = request.recipient.chars().take(200).collect();
    let from = match (&client.ip, &client.user_agent) {
        (Some(ip), Some(agent)) => {
            format!("{ip} ({})", agent.chars().take(120).collect::<String>())
        }
        (Some(ip), None) => ip.clone(),
        (None, _) => "unknown".to_owned(),
    };
    let detail = share_access::Detail { recipient, from };
    share_access::ActiveModel {
        link_id: Set(link.id),
        at: Set(now),
        outcome: Set(outcome),
        detail: Set(
            Encrypted::seal(keyring, &detail_context(&link.public_id), &detail)
                .map_err(|e| AppError::internal(format_args!("sealing a share access: {e}")))?,
        ),
        ..Default::default()
    }
    .insert(db)
    .await?;
    let event = audit::event(
        None,
        match outcome {
            AccessOutcome::Opened => "share_link.open",
            AccessOutcome::WrongPasscode => "share_link.wrong_passcode",
            AccessOutcome::Closed => "share_link.closed",
        },
        "share_link",
        Some(link.public_id.clone()),
        Some(owner.public_id.clone()),
        match outcome {
            AccessOutcome::Opened => Outcome::Allowed,
            AccessOutcome::WrongPasscode => Outcome::Failed,
            AccessOutcome::Closed => Outcome::Denied,
        },
    );
    audit::record_alone(db, keyring.audit_seal(), now, client, &event).await?;
    Ok(())
}
