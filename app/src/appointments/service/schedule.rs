//! The practice's schedule: stored (weekly hours, visit lengths, days off and extra hours),
//! kept in memory while unchanged, shown on its settings page and changed there by the
//! physician; and the time zone each person sees times in.

use crate::appointments::availability::Schedule;
use crate::appointments::model::{ExceptionKind, VisitType};
use crate::auth::context::SignedIn;
use crate::auth::guard;
use crate::auth::{Action, Resource};
use crate::{AppError, FieldErrors};
use chrono::{DateTime, Duration, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};

/// The practice's time zone (the schedule's), UTC until a schedule is set up.
pub async fn practice_time_zone(
    db: &impl sea_orm::ConnectionTrait,
) -> Result<chrono_tz::Tz, AppError> {
    use crate::appointments::entity::schedule_setting;
    Ok(schedule_setting::Entity::find_by_id(1)
        .one(db)
        .await?
        .and_then(|s| s.time_zone.parse().ok())
        .unwrap_or(chrono_tz::UTC))
}

/// The stored schedule, if the practice has set one up.
pub async fn load_schedule(
    db: &impl sea_orm::ConnectionTrait,
) -> Result<Option<Schedule>, AppError> {
    use crate::appointments::entity::schedule_setting;
    match schedule_setting::Entity::find_by_id(1).one(db).await? {
        Some(setting) => Ok(Some(schedule_of(db, &setting).await?)),
        None => Ok(None),
    }
}

/// The schedule kept in memory while the database says it is current: one small read
/// (`schedule_setting`, whose `revision` the database raises on every change to hours, visit
/// lengths or days off) instead of four. Shared by a server's requests.
#[derive(Debug, Clone, Default)]
pub struct ScheduleCache {
    current: std::sync::Arc<std::sync::Mutex<Option<CachedSchedule>>>,
}

#[derive(Debug)]
struct CachedSchedule {
    revision: i64,
    time_zone: String,
    schedule: std::sync::Arc<Schedule>,
}

impl ScheduleCache {
    /// The stored schedule (as [`load_schedule`]), from memory when nothing changed since.
    pub async fn load(
        &self,
        db: &impl sea_orm::ConnectionTrait,
    ) -> Result<Option<std::sync::Arc<Schedule>>, AppError> {
        use crate::appointments::entity::schedule_setting;
        let Some(setting) = schedule_setting::Entity::find_by_id(1).one(db).await? else {
            return Ok(None);
        };
        if let Some(cached) = self
            .lock()
            .as_ref()
            .filter(|c| c.revision == setting.revision && c.time_zone == setting.time_zone)
        {
            return Ok(Some(cached.schedule.clone()));
        }
        // Read after the revision: what is loaded is at least that current, so keeping it
        // under that revision can only cause one more load, never a stale schedule.
        let schedule = std::sync::Arc::new(schedule_of(db, &setting).await?);
        *self.lock() = Some(CachedSchedule {
            revision: setting.revision,
            time_zone: setting.time_zone,
            schedule: schedule.clone(),
        });
        Ok(Some(schedule))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<CachedSchedule>> {
        self.current
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The hours, visit lengths and days off of the schedule whose setting is `setting`.
async fn schedule_of(
    db: &impl sea_orm::ConnectionTrait,
    setting: &crate::appointments::entity::schedule_setting::Model,
) -> Result<Schedule, AppError> {
    use crate::appointments::availability::{DateException, VisitLength, WeeklyHours};
    use crate::appointments::entity::{schedule_exception, visit_length, weekly_hours};
    let time_zone: chrono_tz::Tz = setting
        .time_zone
        .parse()
        .map_err(|_| AppError::internal(format_args!("unknown time zone {}", setting.time_zone)))?;
    let lengths = visit_length::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|row| VisitLength {
            visit_type: row.visit_type,
            minutes: i64::from(row.minutes),
            buffer_minutes: i64::from(row.buffer_minutes),
        })
        .collect();
    let hours = weekly_hours::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|row| {
            let weekday = u8::try_from(row.weekday)
                .ok()
                .and_then(|day| chrono::Weekday::try_from(day).ok());
            match (
                weekday,
                minute_time(row.start_minute),
                minute_time(row.end_minute),
            ) {
                (Some(weekday), Some(start), Some(end)) => Ok(WeeklyHours {
                    visit_type: row.visit_type,
                    weekday,
                    start,
                    end,
                }),
                _ => Err(not_hours("weekly_hours", row.id)),
            }
        })
        .collect::<Result<_, AppError>>()?;
    let exceptions = schedule_exception::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|row| match row.kind {
            ExceptionKind::Closed => Ok(DateException::Closed { date: row.on_date }),
            ExceptionKind::ExtraHours => {
                let start = row.start_minute.and_then(minute_time);
                let end = row.end_minute.and_then(minute_time);
                match (row.visit_type, start, end) {
                    (Some(visit_type), Some(start), Some(end)) => Ok(DateException::ExtraHours {
                        date: row.on_date,
                        visit_type,
                        start,
                        end,
                    }),
                    _ => Err(not_hours("schedule_exception", row.id)),
                }
            }
        })
        .collect::<Result<_, AppError>>()?;
    Ok(Schedule {
        time_zone,
        hours,
        lengths,
        exceptions,
    })
}

/// A stored row of hours that does not describe hours (a weekday or minute out of range, extra
/// hours without their kind of visit): an error, never hours quietly left out.
fn not_hours(table: &str, id: i32) -> AppError {
    AppError::internal(format_args!(
        "{table} row {id} does not describe hours (weekday, minutes or kind of visit)"
    ))
}

fn minute_time(minute: i32) -> Option<chrono::NaiveTime> {
    let seconds = u32::try_from(minute).ok()?.checked_mul(60)?;
    chrono::NaiveTime::from_num_seconds_from_midnight_opt(seconds.min(86_399), 0)
}

fn clock_label(minute: i32) -> String {
    minute_time(minute).map_or_else(String::new, |t| t.format("%-I:%M %P").to_string())
}

const WEEKDAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

/// The schedule for its settings page (physician and staff).
pub async fn schedule_view(
    me: &SignedIn,
) -> Result<crate::appointments::model::ScheduleView, AppError> {
    let (db, now, caller) = (me.db(), me.now(), &me.caller);
    use crate::appointments::entity::{schedule_exception, schedule_setting, weekly_hours};
    use crate::appointments::model::{DayOffRow, HoursRow, LengthRow, ScheduleView};
    use sea_orm::QueryOrder;
    let permit = guard::permit(
        db,
        now,
        caller,
        Action::Read,
        Resource::Schedule,
        None,
        "schedule.read",
    )
    .await?;
    let time_zone = schedule_setting::Entity::find_by_id(1)
        .one(permit.txn())
        .await?
        .map_or_else(|| "not set".to_owned(), |s| s.time_zone);
    let hours = weekly_hours::Entity::find()
        .order_by_asc(weekly_hours::Column::VisitType)
        .order_by_asc(weekly_hours::Column::Weekday)
        .order_by_asc(weekly_hours::Column::StartMinute)
        .all(permit.txn())
        .await?
        .into_iter()
        .filter_map(|row| {
            Some(HoursRow {
                id: row.id,
                visit_type: row.visit_type,
                weekday: WEEKDAYS
                    .get(usize::try_from(row.weekday).ok()?)?
                    .to_string(),
                time: format!(
                    "{} – {}",
                    clock_label(row.start_minute),
                    clock_label(row.end_minute)
                ),
            })
        })
        .collect();
    let today = now.date_naive() - Duration::days(1);
    let exceptions = schedule_exception::Entity::find()
        .filter(schedule_exception::Column::OnDate.gte(today))
        .order_by_asc(schedule_exception::Column::OnDate)
        .order_by_asc(schedule_exception::Column::StartMinute)
        .all(permit.txn())
        .await?;
    let mut days_off = Vec::new();
    let mut extra_hours = Vec::new();
    for row in exceptions {
        let label = row.on_date.format("%A, %B %-d, %Y").to_string();
        match row.kind {
            ExceptionKind::Closed => days_off.push(DayOffRow {
                id: row.id,
                date: row.on_date,
                label,
                note: row.note,
            }),
            ExceptionKind::ExtraHours => {
                let kind = row.visit_type.map_or("Visits", VisitType::label);
                extra_hours.push(DayOffRow {
                    id: row.id,
                    date: row.on_date,
                    label,
                    note: Some(format!(
                        "{kind} · {} – {}",
                        clock_label(row.start_minute.unwrap_or(0)),
                        clock_label(row.end_minute.unwrap_or(0))
                    )),
                });
            }
        }
    }
    let mut lengths: Vec<LengthRow> = crate::appointments::entity::visit_length::Entity::find()
        .all(permit.txn())
        .await?
        .into_iter()
        .map(|row| LengthRow {
            visit_type: row.visit_type,
            minutes: row.minutes,
            buffer_minutes: row.buffer_minutes,
        })
        .collect();
    lengths.sort_by_key(|l| l.visit_type);
    permit.commit().await?;
    Ok(ScheduleView {
        time_zone,
        hours,
        days_off,
        extra_hours,
        lengths,
        can_edit: crate::auth::can(&caller.actor, Action::Write, &Resource::Schedule),
    })
}

/// A change to the schedule, from its settings page.
#[derive(Debug, Clone)]
pub enum ScheduleChange {
    AddHours {
        visit_type: VisitType,
        weekday: i16,
        start: String,
        end: String,
    },
    RemoveHours {
        id: i32,
    },
    AddDayOff {
        date: String,
        note: String,
    },
    RemoveDayOff {
        id: i32,
    },
    /// Hours on one date only (a Saturday clinic), on top of the weekly hours.
    AddExtraHours {
        visit_type: VisitType,
        date: String,
        start: String,
        end: String,
    },
    RemoveExtraHours {
        id: i32,
    },
    /// How long a kind of visit lasts and the pause after it (new bookings only).
    SetLength {
        visit_type: VisitType,
        minutes: String,
        buffer_minutes: String,
    },
}

/// Applies `change` (physician only), audited; input that does not fit is refused with its
/// [`ScheduleProblem`](crate::appointments::model::ScheduleProblem).
pub async fn change_schedule(me: &SignedIn, change: &ScheduleChange) -> Result<(), AppError> {
    let (db, now, caller) = (me.db(), me.now(), &me.caller);
    use crate::appointments::entity::{schedule_exception, weekly_hours};
    use crate::appointments::model::{parse_minutes, ScheduleProblem};
    let hours = |start: &str, end: &str| match (parse_minutes(start)?, parse_minutes(end)?) {
        (start, end) if start < end => Ok((start, end)),
        _ => Err(ScheduleProblem::EndBeforeStart),
    };
    let checked = match change {
        ScheduleChange::AddHours {
            weekday,
            start,
            end,
            ..
        } => {
            if !(0..7).contains(weekday) {
                return Err(ScheduleProblem::Weekday.into());
            }
            Some(hours(start, end)?)
        }
        ScheduleChange::AddDayOff { date, .. } => {
            check_future_date(db, now, date).await?;
            None
        }
        ScheduleChange::AddExtraHours {
            date, start, end, ..
        } => {
            check_future_date(db, now, date).await?;
            Some(hours(start, end)?)
        }
        ScheduleChange::SetLength {
            minutes,
            buffer_minutes,
            ..
        } => {
            let five = |text: &str, min: i32, max: i32| {
                text.trim()
                    .parse::<i32>()
                    .ok()
                    .filter(|m| (min..=max).contains(m) && m % 5 == 0)
            };
            let minutes = five(minutes, 5, 240).ok_or(ScheduleProblem::VisitLength)?;
            let buffer = five(buffer_minutes, 0, 120).ok_or(ScheduleProblem::Pause)?;
            Some((minutes, buffer))
        }
        ScheduleChange::RemoveHours { .. }
        | ScheduleChange::RemoveDayOff { .. }
        | ScheduleChange::RemoveExtraHours { .. } => None,
    };
    let permit = guard::permit(
        db,
        now,
        caller,
        Action::Write,
        Resource::Schedule,
        None,
        "schedule.update",
    )
    .await?;
    match change {
        ScheduleChange::AddHours {
            visit_type,
            weekday,
            ..
        } => {
            let (start, end) = checked.unwrap_or_default();
            let overlapping = weekly_hours::Entity::find()
                .filter(weekly_hours::Column::VisitType.eq(*visit_type))
                .filter(weekly_hours::Column::Weekday.eq(*weekday))
                .filter(weekly_hours::Column::StartMinute.lt(end))
                .filter(weekly_hours::Column::EndMinute.gt(start))
                .one(permit.txn())
                .await?;
            if overlapping.is_some() {
                return Err(ScheduleProblem::Overlap.into());
            }
            weekly_hours::ActiveModel {
                visit_type: Set(*visit_type),
                weekday: Set(*weekday),
                start_minute: Set(start),
                end_minute: Set(end),
                ..Default::default()
            }
            .insert(permit.txn())
            .await?;
        }
        ScheduleChange::RemoveHours { id } => {
            weekly_hours::Entity::delete_by_id(*id)
                .exec(permit.txn())
                .await?;
        }
        ScheduleChange::AddDayOff { date, note } => {
            let day = chrono::NaiveDate::parse_from_str(date.trim(), "%Y-%m-%d")
                .map_err(|_| AppError::internal("a checked date did not parse"))?;
            let note = note.trim();
            schedule_exception::ActiveModel {
                on_date: Set(day),
                kind: Set(ExceptionKind::Closed),
                note: Set((!note.is_empty()).then(|| note.chars().take(200).collect())),
                ..Default::default()
            }
            .insert(permit.txn())
            .await?;
        }
        ScheduleChange::RemoveDayOff { id } | ScheduleChange::RemoveExtraHours { id } => {
            schedule_exception::Entity::delete_by_id(*id)
                .exec(permit.txn())
                .await?;
        }
        ScheduleChange::AddExtraHours {
            visit_type, date, ..
        } => {
            let day = chrono::NaiveDate::parse_from_str(date.trim(), "%Y-%m-%d")
                .map_err(|_| AppError::internal("a checked date did not parse"))?;
            let (start, end) = checked.unwrap_or_default();
            schedule_exception::ActiveModel {
                on_date: Set(day),
                kind: Set(ExceptionKind::ExtraHours),
                visit_type: Set(Some(*visit_type)),
                start_minute: Set(Some(start)),
                end_minute: Set(Some(end)),
                note: Set(None),
                ..Default::default()
            }
            .insert(permit.txn())
            .await?;
        }
        ScheduleChange::SetLength { visit_type, .. } => {
            use crate::appointments::entity::visit_length;
            let (minutes, buffer) = checked.unwrap_or((30, 0));
            let row = visit_length::ActiveModel {
                visit_type: Set(*visit_type),
                minutes: Set(minutes),
                buffer_minutes: Set(buffer),
            };
            visit_length::Entity::insert(row)
                .on_conflict(
                    sea_orm::sea_query::OnConflict::column(visit_length::Column::VisitType)
                        .update_columns([
                            visit_length::Column::Minutes,
                            visit_length::Column::BufferMinutes,
                        ])
                        .to_owned(),
                )
                .exec(permit.txn())
                .await?;
        }
    }
    permit.commit().await
}

/// A date of today or later in the practice's time zone (not UTC's: a US evening is already
/// tomorrow in UTC).
async fn check_future_date(
    db: &sea_orm::DatabaseConnection,
    now: DateTime<Utc>,
    date: &str,
) -> Result<(), AppError> {
    use crate::appointments::model::ScheduleProblem;
    let today = match load_schedule(db).await? {
        Some(schedule) => now.with_timezone(&schedule.time_zone).date_naive(),
        None => now.date_naive(),
    };
    match chrono::NaiveDate::parse_from_str(date.trim(), "%Y-%m-%d") {
        Ok(day) if day < today => Err(ScheduleProblem::PastDate.into()),
        Ok(_) => Ok(()),
        Err(_) => Err(ScheduleProblem::Date.into()),
    }
}

/// "Eastern Time" for the zones of the practice's country, the IANA name elsewhere.
pub fn zone_label(tz: chrono_tz::Tz) -> String {
    match tz.name() {
        "America/Detroit" => "Eastern Time".into(),
        "America/Phoenix" => "Mountain Time".into(),
        name => crate::appointments::model::TIME_ZONES
            .iter()
            .find(|(zone, _)| *zone == name)
            .map(|(_, label)| (*label).to_owned())
            .unwrap_or_else(|| name.replace('_', " ")),
    }
}

/// The zone `user_id` sees times in: their own when they chose one, else the practice's.
pub async fn viewer_zone(
    db: &impl sea_orm::ConnectionTrait,
    user_id: i32,
    practice: chrono_tz::Tz,
) -> Result<chrono_tz::Tz, AppError> {
    use crate::auth::entity::user_account;
    Ok(user_account::Entity::find_by_id(user_id)
        .one(db)
        .await?
        .and_then(|u| u.time_zone)
        .and_then(|zone| zone.parse().ok())
        .unwrap_or(practice))
}

/// Keeps `zone` (an IANA name) as the zone the signed-in person sees times in; an empty value
/// goes back to following the practice.
pub async fn set_viewer_zone(me: &SignedIn, zone: &str) -> Result<(), AppError> {
    let (db, user_id) = (me.db(), me.auth.user_id);
    use crate::auth::entity::user_account;
    let zone = zone.trim();
    let stored = if zone.is_empty() {
        None
    } else {
        let parsed: chrono_tz::Tz = zone.parse().map_err(|_| {
            let mut errors = FieldErrors::default();
            errors.add("time_zone", "Please choose one of the time zones listed.");
            AppError::Validation(errors)
        })?;
        Some(parsed.name().to_owned())
    };
    user_account::Entity::update_many()
        .col_expr(user_account::Column::TimeZone, stored.into())
        .filter(user_account::Column::Id.eq(user_id))
        .exec(db)
        .await?;
    Ok(())
}
