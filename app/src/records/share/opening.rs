//! Opening a share link (server only), the same way for both who open one: a SMART Health Links
//! app posting for the manifest, and a person in the practice's viewer page. No session: the
//! link's secret (stored only as its SHA-256) and, when the link has one, its passcode are the
//! access. A wrong passcode's attempt is reserved in one UPDATE before the check, so guesses
//! sent at once cannot together pass the link's lifetime cap. Every use is kept (when, who the
//! recipient said they were, from where, how, what came of it) and audited.

use super::entity::{share_access, share_link};
use super::model::{
    AccessOutcome, AccessVia, LinkEnded, SharedRecord, SharedView, ViewerAsk, MAX_PASSCODE_FAILURES,
};
use crate::audit::model::Outcome;
use crate::audit::service::{self as audit, ClientInfo};
use crate::auth::password::Verified;
use crate::auth::service::Identity;
use crate::crypto::{Encrypted, FieldContext, Keyring};
use crate::patients::entity::patient;
use crate::AppError;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};

pub(super) fn content_context(public_id: &str) -> FieldContext<'_> {
    FieldContext {
        table: "share_link",
        column: "content",
        row: public_id,
    }
}

pub(super) fn detail_context(link_public_id: &str) -> FieldContext<'_> {
    FieldContext {
        table: "share_access",
        column: "detail",
        row: link_public_id,
    }
}

pub(super) fn open_content(
    keyring: &Keyring,
    link: &share_link::Model,
) -> Result<share_link::Content, AppError> {
    link.content
        .open(keyring, &content_context(&link.public_id))
        .map_err(|e| AppError::internal(format_args!("opening share link {}: {e}", link.id)))
}

/// Why `link` opens nothing at `now`, if it does not.
pub(super) fn ended(link: &share_link::Model, now: DateTime<Utc>) -> Option<LinkEnded> {
    if link.revoked_at.is_some() {
        Some(LinkEnded::Revoked)
    } else if link.expires_at <= now {
        Some(LinkEnded::Expired)
    } else if link.passcode_failures >= MAX_PASSCODE_FAILURES {
        Some(LinkEnded::Locked)
    } else {
        None
    }
}

pub(super) async fn find(
    conn: &impl sea_orm::ConnectionTrait,
    secret: &str,
) -> Result<Option<share_link::Model>, AppError> {
    Ok(share_link::Entity::find()
        .filter(
            share_link::Column::SecretHash.eq(crate::auth::session::sha256_hex(secret.as_bytes())),
        )
        .one(conn)
        .await?)
}

/// Who is asking to open a link, and how.
pub(super) struct Asking<'a> {
    pub recipient: &'a str,
    pub passcode: Option<&'a str>,
    pub via: AccessVia,
    /// One document's file (its public id and title), when that is what is asked for.
    pub file: Option<(&'a str, &'a str)>,
}

/// A link that may be opened now, with its patient and what it shares.
pub(super) struct Admitted {
    pub link: share_link::Model,
    pub owner: patient::Model,
    pub content: share_link::Content,
}

/// What asking to open a link came to.
pub(super) enum Admission {
    Unknown,
    /// Kept as a refused use.
    Ended(LinkEnded),
    /// Kept as a refused use.
    WrongPasscode {
        remaining: i32,
    },
    /// Not kept yet: the caller keeps the use (`used`) once it has what it hands out.
    Open(Box<Admitted>),
}

/// Checks link `secret` and its passcode for `asking`.
pub(super) async fn admit(
    identity: &Identity,
    client: &ClientInfo,
    secret: &str,
    asking: &Asking<'_>,
) -> Result<Admission, AppError> {
    let db = identity.db();
    let Some(link) = find(db, secret).await? else {
        return Ok(Admission::Unknown);
    };
    let owner = patient::Entity::find_by_id(link.patient_id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::internal("a share link without its patient"))?;
    if let Some(why) = ended(&link, identity.now()) {
        used(
            identity,
            client,
            &link,
            &owner,
            asking,
            AccessOutcome::Closed,
        )
        .await?;
        return Ok(Admission::Ended(why));
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
                asking,
                AccessOutcome::Closed,
            )
            .await?;
            return Ok(Admission::Ended(LinkEnded::Locked));
        }
        let given = asking.passcode.unwrap_or_default();
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
                asking,
                AccessOutcome::WrongPasscode,
            )
            .await?;
            let failures = share_link::Entity::find_by_id(link.id)
                .one(db)
                .await?
                .map_or(MAX_PASSCODE_FAILURES, |l| l.passcode_failures);
            return Ok(Admission::WrongPasscode {
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
    let content = open_content(identity.keyring(), &link)?;
    Ok(Admission::Open(Box::new(Admitted {
        link,
        owner,
        content,
    })))
}

/// Keeps one use of `link` in its log and in the audit log (an opened link is a read of the
/// record by someone outside the practice; the rest are refusals).
pub(super) async fn used(
    identity: &Identity,
    client: &ClientInfo,
    link: &share_link::Model,
    owner: &patient::Model,
    asking: &Asking<'_>,
    outcome: AccessOutcome,
) -> Result<(), AppError> {
    let (db, keyring, now) = (identity.db(), identity.keyring(), identity.now());
    let recipient: String = asking.recipient.trim().chars().take(200).collect();
    let from = match (&client.ip, &client.user_agent) {
        (Some(ip), Some(agent)) => {
            format!("{ip} ({})", agent.chars().take(120).collect::<String>())
        }
        (Some(ip), None) => ip.clone(),
        (None, _) => "unknown".to_owned(),
    };
    let detail = share_access::Detail {
        recipient,
        from,
        via: Some(asking.via),
        file: asking.file.map(|(_, title)| title.to_owned()),
    };
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
    let mut event = audit::event(
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
    event.detail = asking.file.map(|(id, _)| format!("document {id}"));
    audit::record_alone(db, keyring.audit_seal(), now, client, &event).await?;
    Ok(())
}

/// "December 14, 2026", in the practice's time zone.
pub(super) async fn day_of(
    conn: &impl sea_orm::ConnectionTrait,
    at: DateTime<Utc>,
) -> Result<String, AppError> {
    let tz = crate::appointments::service::schedule::practice_time_zone(conn).await?;
    Ok(at.with_timezone(&tz).format("%B %-d, %Y").to_string())
}

/// What the viewer shows at link `secret` before anything is opened: the form, or why it
/// opens nothing. Reads no record and keeps no use (a link previewer fetching the address
/// opens nothing).
pub async fn glance(identity: &Identity, secret: &str) -> Result<SharedView, AppError> {
    let db = identity.db();
    let Some(link) = find(db, secret).await? else {
        return Ok(SharedView::Unknown);
    };
    if let Some(why) = ended(&link, identity.now()) {
        return Ok(SharedView::Ended(why));
    }
    let content = open_content(identity.keyring(), &link)?;
    Ok(SharedView::Ask(ViewerAsk {
        label: content.label,
        passcode: link.passcode_hash.is_some(),
        expires: day_of(db, link.expires_at).await?,
        ..ViewerAsk::default()
    }))
}

/// Opens link `secret` in the viewer for `recipient` (who must say who they are: the patient
/// sees it), with `passcode` when the link has one.
pub async fn open_in_browser(
    identity: &Identity,
    client: &ClientInfo,
    secret: &str,
    recipient: &str,
    passcode: &str,
) -> Result<SharedView, AppError> {
    let recipient = recipient.trim();
    if recipient.is_empty() || recipient.chars().count() > 200 {
        let SharedView::Ask(mut ask) = glance(identity, secret).await? else {
            return glance(identity, secret).await;
        };
        ask.errors.add(
            "recipient",
            "Enter your name (at most 200 characters): the person who shared this sees who opened it.",
        );
        return Ok(SharedView::Ask(ask));
    }
    let asking = Asking {
        recipient,
        passcode: Some(passcode),
        via: AccessVia::Browser,
        file: None,
    };
    let admitted = match admit(identity, client, secret, &asking).await? {
        Admission::Unknown => return Ok(SharedView::Unknown),
        Admission::Ended(why) => return Ok(SharedView::Ended(why)),
        Admission::WrongPasscode { remaining } => {
            let SharedView::Ask(mut ask) = glance(identity, secret).await? else {
                return glance(identity, secret).await;
            };
            ask.recipient = recipient.to_owned();
            ask.remaining = Some(remaining);
            ask.errors.add(
                "passcode",
                "That passcode is not right. Check it with the person who shared this link.",
            );
            return Ok(SharedView::Ask(ask));
        }
        Admission::Open(admitted) => admitted,
    };
    let Admitted {
        link,
        owner,
        content,
    } = *admitted;
    let (db, keyring) = (identity.db(), identity.keyring());
    let profile = crate::patients::service::open_profile(keyring, &owner)?;
    let chart = if content.chart {
        Some(crate::records::service::current_entries(db, keyring, owner.id).await?)
    } else {
        None
    };
    let notes = if content.notes {
        Some(crate::records::notes::service::filed_of(db, keyring, &owner, true).await?)
    } else {
        None
    };
    let documents = if content.documents {
        Some(crate::records::documents::service::in_record_as(db, keyring, owner.id, false).await?)
    } else {
        None
    };
    let record = SharedRecord {
        label: content.label.clone(),
        patient_name: profile.legal_name.clone(),
        born: profile.date_of_birth.format("%B %-d, %Y").to_string(),
        expires: day_of(db, link.expires_at).await?,
        chart,
        notes,
        documents,
        files_at: format!("/shl/{secret}/view/files/"),
        viewing: super::pass::viewing_pass(keyring, &link.public_id, recipient, identity.now()),
    };
    used(
        identity,
        client,
        &link,
        &owner,
        &asking,
        AccessOutcome::Opened,
    )
    .await?;
    Ok(SharedView::Record(Box::new(record)))
}
