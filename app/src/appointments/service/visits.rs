//! What visits there are: a patient's own (upcoming, past, waiting for) and the physician's
//! agenda. Both reads are audited (P9).

use super::calendar::{reason_of, status};
use super::changes::late_terms_of;
use super::schedule::zone_label;
use crate::appointments::availability::Schedule;
use crate::appointments::entity::appointment;
use crate::appointments::{allowance, benefits};
use crate::audit::{service as audit, Outcome};
use crate::auth::context::SignedIn;
use crate::auth::guard;
use crate::auth::{Action, Resource};
use crate::patients::entity::patient;
use crate::AppError;
use chrono::{DateTime, Duration, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

/// The signed-in patient's visits, upcoming and from the past year (one audited read: the list
/// names them); nothing for someone without a patient record.
pub async fn my_visits(
    me: &SignedIn,
    schedule: &Schedule,
    shown_in: chrono_tz::Tz,
) -> Result<crate::appointments::model::VisitHistory, AppError> {
    use crate::appointments::model::{PastVisit, VisitHistory, VisitSummary};
    use sea_orm::{QueryOrder, QuerySelect};
    let (Some(patient_id), Some(patient_public_id)) =
        (me.auth.patient_id, me.auth.patient_public_id.as_deref())
    else {
        return Ok(VisitHistory::default());
    };
    let now = me.now();
    let permit = guard::permit(
        me.db(),
        now,
        &me.caller,
        Action::Read,
        Resource::Appointments { patient_id },
        Some(patient_public_id.to_owned()),
        "appointments.list",
    )
    .await?;
    let upcoming = appointment::Entity::find()
        .filter(appointment::Column::PatientId.eq(patient_id))
        .filter(appointment::Column::Status.eq(status::BOOKED))
        .filter(appointment::Column::EndsAt.gt(now))
        .order_by_asc(appointment::Column::StartsAt)
        .all(permit.txn())
        .await?;
    let past = appointment::Entity::find()
        .filter(appointment::Column::PatientId.eq(patient_id))
        .filter(
            sea_orm::Condition::any()
                .add(appointment::Column::Status.is_in([status::CANCELLED, status::COMPLETED]))
                .add(
                    sea_orm::Condition::all()
                        .add(appointment::Column::Status.eq(status::BOOKED))
                        .add(appointment::Column::EndsAt.lte(now)),
                ),
        )
        .filter(appointment::Column::StartsAt.gt(now - Duration::days(365)))
        .order_by_desc(appointment::Column::StartsAt)
        .limit(20)
        .all(permit.txn())
        .await?;
    // Inside 24 hours the page states the late terms before the patient confirms.
    let mut late = std::collections::HashMap::new();
    for row in &upcoming {
        if crate::appointments::model::cancellation_terms(row.starts_at, now)
            == crate::appointments::model::CancellationTerms::Late
        {
            let (effect, allowance_count) = late_terms_of(permit.txn(), row).await?;
            late.insert(
                row.id,
                (
                    benefits::late_terms(effect, allowance_count),
                    benefits::late_token(effect),
                ),
            );
        }
    }
    let waitlist = crate::appointments::waitlist::entries_of(
        permit.txn(),
        patient_id,
        now,
        schedule,
        shown_in,
    )
    .await?;
    permit.commit().await?;
    let local = |at: DateTime<Utc>| at.with_timezone(&shown_in);
    // Another zone than the practice's is named with each time.
    let zone = if shown_in == schedule.time_zone {
        String::new()
    } else {
        format!(" ({})", zone_label(shown_in))
    };
    Ok(VisitHistory {
        waitlist,
        upcoming: upcoming
            .into_iter()
            .map(|row| {
                let (late_terms, late_token) = late.remove(&row.id).unzip();
                let coverage = allowance::coverage_of(&row)?;
                Ok(VisitSummary {
                    visit_type: row.visit_type,
                    when: format!(
                        "{}{zone}",
                        local(row.starts_at).format("%A, %B %-d at %-I:%M %P")
                    ),
                    starts_at: row.starts_at,
                    cancellation: crate::appointments::model::cancellation_terms(
                        row.starts_at,
                        now,
                    ),
                    fee_note: match coverage {
                        benefits::Coverage::Fee(cents) => Some(format!(
                            "{} visit fee, billed after the visit",
                            crate::domain::format_usd(cents)
                        )),
                        benefits::Coverage::Included => None,
                    },
                    late_terms,
                    late_token,
                    public_id: row.public_id,
                })
            })
            .collect::<Result<_, AppError>>()?,
        past: past
            .into_iter()
            .map(|row| PastVisit {
                visit_type: row.visit_type,
                when: format!(
                    "{}{zone}",
                    local(row.starts_at).format("%A, %B %-d, %Y at %-I:%M %P")
                ),
                cancelled: row.status == status::CANCELLED,
                note: row.late_outcome.map(|outcome| outcome.note().to_owned()),
            })
            .collect(),
    })
}

/// The physician's agenda from today for `days` days: every booked visit with its patient and
/// reason. One audit entry per patient shown, in the read's transaction (P9).
pub async fn agenda(
    me: &SignedIn,
    schedule: &Schedule,
    first_day: chrono::NaiveDate,
    days: i64,
) -> Result<Vec<crate::appointments::model::AgendaDay>, AppError> {
    let (db, keyring, now, caller) = (me.db(), me.keyring(), me.now(), &me.caller);
    use crate::appointments::model::{AgendaDay, AgendaItem};
    let tz = schedule.time_zone;
    let today = now.with_timezone(&tz).date_naive();
    let midnight = |date: chrono::NaiveDate| {
        crate::appointments::availability::instant(tz, date.and_time(chrono::NaiveTime::MIN))
            .or_else(|| {
                // A zone whose midnight is skipped by a clock change starts the day at 1:00.
                crate::appointments::availability::instant(tz, date.and_hms_opt(1, 0, 0)?)
            })
            .unwrap_or(now)
    };
    let from = midnight(first_day);
    let to = midnight(first_day + Duration::days(days));
    let mut permit = guard::permit(
        db,
        now,
        caller,
        Action::Read,
        Resource::Agenda,
        None,
        "agenda.read",
    )
    .await?;
    let rows = appointment::Entity::find()
        .filter(appointment::Column::Status.is_in([status::BOOKED, status::COMPLETED]))
        .filter(appointment::Column::StartsAt.gte(from))
        .filter(appointment::Column::StartsAt.lt(to))
        .all(permit.txn())
        .await?;
    let patient_ids: Vec<i32> = rows.iter().map(|r| r.patient_id).collect();
    let patients: std::collections::HashMap<i32, patient::Model> = patient::Entity::find()
        .filter(patient::Column::Id.is_in(patient_ids))
        .all(permit.txn())
        .await?
        .into_iter()
        .map(|p| (p.id, p))
        .collect();
    let mut seen = std::collections::BTreeSet::new();
    for row in &rows {
        if let Some(p) = patients.get(&row.patient_id) {
            if seen.insert(p.public_id.clone()) {
                let event = audit::event(
                    Some(caller.audit_actor()),
                    "appointments.read",
                    "appointments",
                    None,
                    Some(p.public_id.clone()),
                    Outcome::Allowed,
                );
                permit.record_also(event);
            }
        }
    }
    let mut items: Vec<AgendaItem> = Vec::with_capacity(rows.len());
    for row in rows {
        let Some(patient) = patients.get(&row.patient_id) else {
            continue;
        };
        let visit_type = row.visit_type;
        let reason = reason_of(keyring, &row)?;
        let (start, end) = (
            row.starts_at.with_timezone(&tz),
            row.ends_at.with_timezone(&tz),
        );
        items.push(AgendaItem {
            starts_at: row.starts_at,
            time: format!(
                "{} – {}",
                start.format("%-I:%M %P"),
                end.format("%-I:%M %P")
            ),
            patient_public_id: patient.public_id.clone(),
            patient_name: crate::patients::service::legal_name(keyring, patient)?,
            visit_type,
            reason,
            can_document: (row.status == status::BOOKED || row.status == status::COMPLETED)
                && crate::auth::policy::can(
                    &caller.actor,
                    Action::Write,
                    &Resource::PatientChart {
                        patient_id: row.patient_id,
                    },
                ),
            completed: row.status == status::COMPLETED,
            public_id: row.public_id.clone(),
        });
    }
    permit.commit().await?;
    items.sort_by_key(|i| i.starts_at);
    let mut days_out: Vec<AgendaDay> = Vec::new();
    for item in items {
        let date = item.starts_at.with_timezone(&tz).date_naive();
        let label = if date == today {
            format!("Today, {}", date.format("%A, %B %-d"))
        } else {
            date.format("%A, %B %-d").to_string()
        };
        match days_out.last_mut() {
            Some(day) if day.day == label => day.visits.push(item),
            _ => days_out.push(AgendaDay {
                day: label,
                visits: vec![item],
            }),
        }
    }
    Ok(days_out)
}
