//! The demo practice's visits: each patient's past visit with its signed note (Maria's migraine
//! visit three weeks ago, James's diabetes review ten days ago), James's visit this morning
//! waiting for its note, and Maria's visit later this week, so the dashboard's week, the
//! portal's *Visit notes* and the physician's timeline look like a working practice's.

use app::appointments::model::VisitStatus;
use app::appointments::service::calendar::{file_visit, FiledVisit};
use app::appointments::VisitType;
use app::records::notes::model::{NoteContent, Prescription};
use chrono::{DateTime, Datelike, Duration, NaiveTime, TimeZone, Utc, Weekday};

/// A past visit of the demo practice: when (days before today, the hour in Eastern Time), why,
/// and the note signed after it.
struct PastVisit {
    days_ago: i64,
    hour: u32,
    visit_type: VisitType,
    reason: &'static str,
    note: NoteContent,
}

fn rx(drug: &str, strength: &str, directions: &str, quantity: u32, refills: u32) -> Prescription {
    Prescription {
        drug: drug.into(),
        strength: strength.into(),
        directions: directions.into(),
        quantity,
        refills,
    }
}

fn visits_of(name: &str) -> Vec<PastVisit> {
    match name {
        "Maria Lopez" => vec![PastVisit {
            days_ago: 21,
            hour: 10,
            visit_type: VisitType::InPerson,
            reason: "Migraines more often since September",
            note: NoteContent {
                subjective: "Migraines have gone from about two a month to one a week since starting a new job in September, mostly late afternoon, with light sensitivity and nausea. Sumatriptan 50 mg helps within an hour but she has needed a second dose twice. Sleeping 6 hours a night; two to three coffees a day.".into(),
                objective: "BP 118/76, HR 72. Alert, no distress. Neurological exam normal: cranial nerves intact, fundi normal, strength and reflexes symmetric, normal gait.".into(),
                assessment: "Migraine without aura, increased frequency, likely related to sleep loss and caffeine. No red-flag features.".into(),
                plan: "Headache diary for 6 weeks. Sleep at least 7 hours; taper caffeine to one cup before noon. Sumatriptan 100 mg for attacks not relieved by 50 mg. If still weekly at follow-up, start preventive treatment.".into(),
                prescriptions: vec![rx(
                    "Sumatriptan",
                    "100 mg tablet",
                    "One tablet at the start of a migraine; may repeat once after 2 hours. No more than 2 in 24 hours.",
                    9,
                    2,
                )],
                follow_up_weeks: Some(6),
            },
        }],
        "James Okafor" => vec![PastVisit {
            days_ago: 10,
            hour: 9,
            visit_type: VisitType::InPerson,
            reason: "Diabetes and blood pressure review",
            note: NoteContent {
                subjective: "Routine review. Checks sugars most mornings, 120 to 150. Walking 30 minutes most days; right knee aches after longer walks. No chest pain, no shortness of breath, no numbness in the feet.".into(),
                objective: "BP 138/84, HR 68, weight 92 kg. Feet: pulses present, monofilament sensation intact, no ulcers. Right knee: crepitus, no effusion. HbA1c today 7.4%.".into(),
                assessment: "Type 2 diabetes, slightly above target (HbA1c 7.4%). Hypertension, above target. Osteoarthritis of the right knee, stable.".into(),
                plan: "Increase lisinopril to 40 mg daily; home blood pressure log for 2 weeks. Continue metformin. Lipid panel and kidney function before the next visit. Acetaminophen for the knee; avoid NSAIDs with the higher lisinopril dose.".into(),
                prescriptions: vec![rx(
                    "Lisinopril",
                    "40 mg tablet",
                    "One tablet by mouth once a day",
                    90,
                    3,
                )],
                follow_up_weeks: Some(12),
            },
        }],
        _ => Vec::new(),
    }
}

/// A visit booked for this week, not documented yet: when (weekdays from today, the time in
/// Eastern Time, on the demo schedule's grid) and why.
struct BookedVisit {
    weekdays_ahead: i64,
    hour: u32,
    minute: u32,
    visit_type: VisitType,
    reason: &'static str,
}

fn booked_of(name: &str) -> Vec<BookedVisit> {
    match name {
        // This morning's first visit (before it starts, the last weekday's): on the
        // physician's agenda, ready for its note.
        "James Okafor" => vec![BookedVisit {
            weekdays_ahead: 0,
            hour: 8,
            minute: 40,
            visit_type: VisitType::InPerson,
            reason: "Blood pressure log after the lisinopril increase",
        }],
        "Maria Lopez" => vec![BookedVisit {
            weekdays_ahead: 2,
            hour: 10,
            minute: 0,
            visit_type: VisitType::InPerson,
            reason: "Headache diary review",
        }],
        _ => Vec::new(),
    }
}

/// `hour:minute` Eastern on `day`.
fn at(day: chrono::NaiveDate, hour: u32, minute: u32, fallback: DateTime<Utc>) -> DateTime<Utc> {
    let tz = chrono_tz::America::New_York;
    let local = day.and_time(NaiveTime::from_hms_opt(hour, minute, 0).unwrap_or(NaiveTime::MIN));
    tz.from_local_datetime(&local)
        .earliest()
        .map_or(fallback, |t| t.with_timezone(&Utc))
}

fn weekend(day: chrono::NaiveDate) -> bool {
    matches!(day.weekday(), Weekday::Sat | Weekday::Sun)
}

/// The weekday `days_ago` days before `now` (a weekend goes back to Friday), at `hour` Eastern.
fn visit_time(now: DateTime<Utc>, days_ago: i64, hour: u32) -> DateTime<Utc> {
    let mut day = (now - Duration::days(days_ago))
        .with_timezone(&chrono_tz::America::New_York)
        .date_naive();
    while weekend(day) {
        day -= Duration::days(1);
    }
    at(day, hour, 0, now - Duration::days(days_ago))
}

/// The `ahead`-th weekday from today. For 0: today's visit if it has started, else the last
/// weekday's (a visit still waiting for its note), so the demo always has one to document.
fn weekday_from(now: DateTime<Utc>, ahead: i64, hour: u32, minute: u32) -> DateTime<Utc> {
    let mut day = now
        .with_timezone(&chrono_tz::America::New_York)
        .date_naive();
    if ahead == 0 {
        while weekend(day) || at(day, hour, minute, now) > now {
            day -= Duration::days(1);
        }
    }
    let mut left = ahead;
    while left > 0 {
        day += Duration::days(1);
        if !weekend(day) {
            left -= 1;
        }
    }
    at(day, hour, minute, now + Duration::days(ahead))
}

/// Files `name`'s visits: the past ones completed with their notes signed by the physician
/// `by`, and this week's booked.
pub async fn file(
    db: &sea_orm::DatabaseConnection,
    keyring: &app::crypto::Keyring,
    patient_id: i32,
    name: &str,
    by: i32,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    // Each visit: when, what kind, why, where it stands, and for a past one its note.
    let mut visits = Vec::new();
    for past in visits_of(name) {
        let starts_at = visit_time(now, past.days_ago, past.hour);
        let status = VisitStatus::Completed;
        visits.push((
            starts_at,
            past.visit_type,
            past.reason,
            status,
            Some(past.note),
        ));
    }
    for booked in booked_of(name) {
        let starts_at = weekday_from(now, booked.weekdays_ahead, booked.hour, booked.minute);
        let status = VisitStatus::Booked;
        visits.push((starts_at, booked.visit_type, booked.reason, status, None));
    }
    for (starts_at, visit_type, reason, status, note) in visits {
        let visit = FiledVisit {
            patient_id,
            visit_type,
            starts_at,
            minutes: 30,
            buffer_minutes: 10,
            reason,
            status,
        };
        let row = file_visit(db, keyring, &visit, now)
            .await
            .map_err(|e| anyhow::anyhow!("filing a demo visit: {e:?}"))?;
        if let Some(note) = note {
            let signed_at = starts_at + Duration::hours(3);
            app::records::notes::service::file_signed(db, keyring, &row, by, &note, signed_at)
                .await
                .map_err(|e| anyhow::anyhow!("filing a demo note: {e:?}"))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eastern(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .expect("time")
            .with_timezone(&Utc)
    }

    #[test]
    fn the_visit_to_document_has_always_started() {
        // Wednesday 9:30: this morning's 8:40. Wednesday 7:00: Tuesday's. Saturday: Friday's.
        for (now, expected) in [
            ("2026-06-17T09:30:00-04:00", "2026-06-17T08:40:00-04:00"),
            ("2026-06-17T07:00:00-04:00", "2026-06-16T08:40:00-04:00"),
            ("2026-06-20T12:00:00-04:00", "2026-06-19T08:40:00-04:00"),
            ("2026-06-22T06:00:00-04:00", "2026-06-19T08:40:00-04:00"),
        ] {
            assert_eq!(
                weekday_from(eastern(now), 0, 8, 40),
                eastern(expected),
                "{now}"
            );
        }
        // Two weekdays ahead of a Thursday is the Monday.
        assert_eq!(
            weekday_from(eastern("2026-06-18T09:30:00-04:00"), 2, 10, 0),
            eastern("2026-06-22T10:00:00-04:00")
        );
    }
}
