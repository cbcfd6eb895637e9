//! Private calendar feeds (RFC 5545): a link a calendar app subscribes to, for a patient's own
//! visits or the practice's booked times.
//!
//! The link carries a 256-bit random token; Bedside keeps only its SHA-256, shows the link once
//! and turns it off on request (a new link turns the old one off). A calendar app cannot sign
//! in, so the token is the credential: each fetch is checked against the policy as the feed's
//! owner and audited.
//!
//! What a feed says is the minimum: a patient's feed lists their visits with kind, time and
//! place; the practice's feed lists booked times and the kind of visit only, never who or why,
//! because a phone's calendar syncs to services the practice does not control. The details are
//! one click away in Bedside.

use super::entity::{appointment, calendar_feed};
use super::model::VisitType;
use crate::audit::service::ClientInfo;
use crate::auth::context::SignedIn;
use crate::auth::entity::user_account;
use crate::auth::guard::{self, Caller};
use crate::auth::policy::Actor;
use crate::auth::{Action, Resource, Role};
use crate::patients::entity::patient;
use crate::site::model::Practice;
use crate::AppError;
use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use rand::RngCore;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, Set,
    TransactionTrait,
};
use sha2::{Digest, Sha256};

/// Where feeds are served: `/calendar/<token>.ics`.
pub const PATH_PREFIX: &str = "/calendar/";

fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Whether an account of `role` may have a feed: patients (their visits), the physician and
/// staff (the practice's booked times). The administrator sees no visits.
pub fn offered_to(role: Role) -> bool {
    matches!(role, Role::Patient | Role::Physician | Role::Staff)
}

/// When the account's current feed was made, if it has one.
pub async fn active_since(
    db: &DatabaseConnection,
    user_id: i32,
) -> Result<Option<DateTime<Utc>>, AppError> {
    Ok(calendar_feed::Entity::find()
        .filter(calendar_feed::Column::UserId.eq(user_id))
        .filter(calendar_feed::Column::RevokedAt.is_null())
        .order_by_desc(calendar_feed::Column::CreatedAt)
        .one(db)
        .await?
        .map(|feed| feed.created_at))
}

async fn record(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    caller: &Caller,
    action: &str,
) -> Result<(), AppError> {
    let event = crate::audit::service::event(
        Some(caller.audit_actor()),
        action,
        "calendar_feed",
        None,
        None,
        crate::audit::Outcome::Allowed,
    );
    crate::audit::service::record_alone(db, &caller.seal, now, &caller.client, &event).await?;
    Ok(())
}

/// Makes a new feed for the caller (turning off any earlier one) and returns its token, which is
/// shown once.
pub async fn create(me: &SignedIn) -> Result<String, AppError> {
    let (db, now, caller) = (me.db(), me.now(), &me.caller);
    if !offered_to(caller.actor.role) {
        return Err(AppError::Forbidden);
    }
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let txn = db.begin().await?;
    revoke_in(&txn, caller.actor.user_id, now).await?;
    calendar_feed::ActiveModel {
        user_id: Set(caller.actor.user_id),
        token_hash: Set(hash(&token)),
        created_at: Set(now),
        revoked_at: Set(None),
        last_used_at: Set(None),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    record(db, now, caller, "calendar_feed.create").await?;
    Ok(token)
}

async fn revoke_in(
    conn: &impl sea_orm::ConnectionTrait,
    user_id: i32,
    now: DateTime<Utc>,
) -> Result<u64, AppError> {
    Ok(calendar_feed::Entity::update_many()
        .col_expr(calendar_feed::Column::RevokedAt, Some(now).into())
        .filter(calendar_feed::Column::UserId.eq(user_id))
        .filter(calendar_feed::Column::RevokedAt.is_null())
        .exec(conn)
        .await?
        .rows_affected)
}

/// Turns off every feed of an account whose password was changed or reset: a calendar link is a
/// way in that does not ask for the password, so it ends with the sessions ("sign out
/// everywhere"). Audited when there was one to end.
pub async fn end_for_account(
    db: &DatabaseConnection,
    seal: &crate::crypto::AuditSeal,
    now: DateTime<Utc>,
    owner: &crate::audit::service::AuditActor,
    client: &crate::audit::service::ClientInfo,
) -> Result<(), AppError> {
    if revoke_in(db, owner.user_id, now).await? > 0 {
        let event = crate::audit::service::event(
            Some(owner.clone()),
            "calendar_feed.ended_with_password",
            "calendar_feed",
            None,
            None,
            crate::audit::Outcome::Allowed,
        );
        crate::audit::service::record_alone(db, seal, now, client, &event).await?;
    }
    Ok(())
}

/// Turns the caller's feed off: its link stops working at once.
pub async fn revoke(me: &SignedIn) -> Result<(), AppError> {
    let (db, now, caller) = (me.db(), me.now(), &me.caller);
    if revoke_in(db, caller.actor.user_id, now).await? > 0 {
        record(db, now, caller, "calendar_feed.revoke").await?;
    }
    Ok(())
}

/// How far a feed reaches: a month back, a year ahead (the practice's: three months).
const PAST_DAYS: i64 = 30;

/// The calendar behind `token`, or `None` for a link that is unknown, turned off, or whose
/// account is disabled (all answered alike). Each fetch is checked and audited as the owner.
pub async fn render(
    db: &DatabaseConnection,
    seal: &crate::crypto::AuditSeal,
    now: DateTime<Utc>,
    token: &str,
    client: &ClientInfo,
    practice: &Practice,
    time_zone: chrono_tz::Tz,
) -> Result<Option<String>, AppError> {
    let Some(feed) = calendar_feed::Entity::find()
        .filter(calendar_feed::Column::TokenHash.eq(hash(token)))
        .filter(calendar_feed::Column::RevokedAt.is_null())
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let Some(owner) = user_account::Entity::find_by_id(feed.user_id)
        .one(db)
        .await?
        .filter(|u| u.disabled_at.is_none())
    else {
        return Ok(None);
    };
    let role = owner.role;
    let own_patient = if role == Role::Patient {
        patient::Entity::find()
            .filter(patient::Column::UserId.eq(owner.id))
            .one(db)
            .await?
    } else {
        None
    };
    let caller = Caller {
        actor: Actor {
            user_id: owner.id,
            role,
            patient_id: own_patient.as_ref().map(|p| p.id),
        },
        session_ref: Some("calendar-feed".into()),
        client: client.clone(),
        seal: seal.clone(),
    };
    let (resource, patient_public_id, until) = match &own_patient {
        Some(p) => (
            Resource::Appointments { patient_id: p.id },
            Some(p.public_id.clone()),
            now + Duration::days(365),
        ),
        None => (Resource::Agenda, None, now + Duration::days(90)),
    };
    let permit = match guard::permit(
        db,
        now,
        &caller,
        Action::Read,
        resource,
        patient_public_id,
        "calendar_feed.read",
    )
    .await
    {
        Ok(permit) => permit,
        Err(AppError::Forbidden) => return Ok(None),
        Err(other) => return Err(other),
    };
    let mut query = appointment::Entity::find()
        .filter(appointment::Column::Status.eq(super::model::VisitStatus::Booked))
        .filter(appointment::Column::StartsAt.gte(now - Duration::days(PAST_DAYS)))
        .filter(appointment::Column::StartsAt.lt(until))
        .order_by_asc(appointment::Column::StartsAt);
    if let Some(p) = &own_patient {
        query = query.filter(appointment::Column::PatientId.eq(p.id));
    }
    let visits = query.all(permit.txn()).await?;
    calendar_feed::Entity::update_many()
        .col_expr(calendar_feed::Column::LastUsedAt, Some(now).into())
        .filter(calendar_feed::Column::Id.eq(feed.id))
        .exec(permit.txn())
        .await?;
    permit.commit().await?;
    Ok(Some(calendar(
        &visits,
        own_patient.is_some(),
        practice,
        time_zone,
        now,
    )))
}

fn calendar(
    visits: &[appointment::Model],
    patients_own: bool,
    practice: &Practice,
    time_zone: chrono_tz::Tz,
    now: DateTime<Utc>,
) -> String {
    use icalendar::{Component, Event, EventLike, EventStatus};
    let mut calendar = super::ics::new_calendar();
    let name = if patients_own {
        format!("{} visits", practice.name)
    } else {
        format!("{} booked visits", practice.name)
    };
    calendar.name(&name);
    calendar.timezone(time_zone.name());
    calendar.append_property(("REFRESH-INTERVAL;VALUE=DURATION", "PT1H"));
    calendar.append_property(("X-PUBLISHED-TTL", "PT1H"));
    for visit in visits {
        let kind = visit.visit_type;
        let (summary, location) = if patients_own {
            (
                format!("{} with {}", kind.label(), practice.name),
                match kind {
                    VisitType::InPerson => format!(
                        "{}, {}",
                        practice.address.street,
                        practice.address.second_line()
                    ),
                    VisitType::Telemedicine => "Video visit".into(),
                    VisitType::HomeVisit => "At your home".into(),
                },
            )
        } else {
            (format!("{} (booked)", kind.label()), String::new())
        };
        let mut event = Event::new();
        event
            .uid(&format!("{}@bedside", visit.public_id))
            .add_property("DTSTAMP", now.format("%Y%m%dT%H%M%SZ").to_string())
            .summary(&summary)
            .starts(visit.starts_at)
            .ends(visit.ends_at)
            .status(EventStatus::Confirmed);
        if !location.is_empty() {
            event.location(&location);
        }
        calendar.push(event.done());
    }
    calendar.done().to_string()
}
