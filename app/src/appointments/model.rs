//! Wire types of visits.

use serde::{Deserialize, Serialize};

/// What a change on the patient's visit list did (the page says it in words).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum VisitChange {
    /// A visit cancelled: free, or on the late terms the patient confirmed.
    Cancelled { late: bool },
    /// A time offered from the waitlist, booked.
    OfferBooked,
    /// A held time let go, or the waitlist left.
    LeftWaitlist,
    /// Put on the waitlist of a day.
    Waitlisted,
}

/// A visit booked or moved: what the booking page (and a JSON client) is told.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Booked {
    /// The visit's public id.
    pub visit: String,
    pub visit_type: VisitType,
    pub starts_at: chrono::DateTime<chrono::Utc>,
    pub ends_at: chrono::DateTime<chrono::Utc>,
}

impl VisitChange {
    /// How the outcome goes into the address of the visit list (post/redirect/get).
    pub fn query(self) -> &'static str {
        match self {
            VisitChange::Cancelled { late: false } => "cancelled=1",
            VisitChange::Cancelled { late: true } => "cancelled=late",
            VisitChange::OfferBooked => "booked=1",
            VisitChange::LeftWaitlist => "left_waitlist=1",
            VisitChange::Waitlisted => "waitlisted=1",
        }
    }
}

/// How a visit happens. Stored as its `as_str` word (`in_person`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sea_orm::DeriveValueType))]
#[cfg_attr(feature = "ssr", sea_orm(value_type = "String"))]
pub enum VisitType {
    InPerson,
    Telemedicine,
    HomeVisit,
}

impl VisitType {
    pub const ALL: [VisitType; 3] = [
        VisitType::InPerson,
        VisitType::Telemedicine,
        VisitType::HomeVisit,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            VisitType::InPerson => "in_person",
            VisitType::Telemedicine => "telemedicine",
            VisitType::HomeVisit => "home_visit",
        }
    }

    pub fn parse(text: &str) -> Option<VisitType> {
        VisitType::ALL.into_iter().find(|v| v.as_str() == text)
    }

    pub fn label(self) -> &'static str {
        match self {
            VisitType::InPerson => "Office visit",
            VisitType::Telemedicine => "Video visit",
            VisitType::HomeVisit => "Home visit",
        }
    }
}

crate::stored_as_text!(VisitType, "visit type");

/// What a late cancellation cost (`appointment.late_outcome`), by the tier's late policy (P3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sea_orm::DeriveValueType))]
#[cfg_attr(feature = "ssr", sea_orm(value_type = "String"))]
#[serde(rename_all = "snake_case")]
pub enum LateOutcome {
    /// The tier's late-cancellation fee.
    LateFee,
    /// The visit's own fee (a visit outside the membership).
    VisitFee,
    /// The included visit stays used.
    Counted,
    /// Noted, nothing charged or counted.
    Recorded,
}

crate::stored_words!(LateOutcome, "late cancellation outcome", {
    LateFee => "late_fee",
    VisitFee => "visit_fee",
    Counted => "counted",
    Recorded => "recorded",
});

impl LateOutcome {
    /// As the patient's past visits say it.
    pub fn note(self) -> &'static str {
        match self {
            LateOutcome::LateFee => "Cancelled late: late-cancellation fee",
            LateOutcome::VisitFee => "Cancelled late: the visit fee applies",
            LateOutcome::Counted => "Cancelled late: counted as a visit",
            LateOutcome::Recorded => "Cancelled late",
        }
    }
}

/// A date on which the weekly hours do not apply (`schedule_exception.kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sea_orm::DeriveValueType))]
#[cfg_attr(feature = "ssr", sea_orm(value_type = "String"))]
#[serde(rename_all = "snake_case")]
pub enum ExceptionKind {
    /// A day off: no visits.
    Closed,
    /// Hours on that date only (a Saturday clinic), on top of the weekly hours.
    ExtraHours,
}

crate::stored_words!(ExceptionKind, "schedule exception kind", {
    Closed => "closed",
    ExtraHours => "extra_hours",
});

/// Where a visit is in its life (`appointment.status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sea_orm::DeriveValueType))]
#[cfg_attr(feature = "ssr", sea_orm(value_type = "String"))]
pub enum VisitStatus {
    Booked,
    Cancelled,
    /// The physician marked it done (R10.4); its time stays held.
    Completed,
    /// A freed time held for the first patient on the waitlist until they answer (not a visit
    /// yet: it is booked when they accept, deleted when they decline or the hold ends).
    Offered,
}

impl VisitStatus {
    pub const ALL: [VisitStatus; 4] = [
        VisitStatus::Booked,
        VisitStatus::Cancelled,
        VisitStatus::Completed,
        VisitStatus::Offered,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            VisitStatus::Booked => "booked",
            VisitStatus::Cancelled => "cancelled",
            VisitStatus::Completed => "completed",
            VisitStatus::Offered => "offered",
        }
    }

    pub fn parse(text: &str) -> Option<VisitStatus> {
        VisitStatus::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

crate::stored_as_text!(VisitStatus, "visit status");

/// Where a place on the waitlist stands (`waitlist_entry.status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sea_orm::DeriveValueType))]
#[cfg_attr(feature = "ssr", sea_orm(value_type = "String"))]
pub enum WaitlistStatus {
    Waiting,
    /// A freed time is held for this person.
    Offered,
    Booked,
    Declined,
    Expired,
    Withdrawn,
}

impl WaitlistStatus {
    pub const ALL: [WaitlistStatus; 6] = [
        WaitlistStatus::Waiting,
        WaitlistStatus::Offered,
        WaitlistStatus::Booked,
        WaitlistStatus::Declined,
        WaitlistStatus::Expired,
        WaitlistStatus::Withdrawn,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            WaitlistStatus::Waiting => "waiting",
            WaitlistStatus::Offered => "offered",
            WaitlistStatus::Booked => "booked",
            WaitlistStatus::Declined => "declined",
            WaitlistStatus::Expired => "expired",
            WaitlistStatus::Withdrawn => "withdrawn",
        }
    }

    pub fn parse(text: &str) -> Option<WaitlistStatus> {
        WaitlistStatus::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

crate::stored_as_text!(WaitlistStatus, "waitlist status");

/// `visit_length` is keyed by the kind of visit; keys are never made from a number.
#[cfg(feature = "ssr")]
impl sea_orm::TryFromU64 for VisitType {
    fn try_from_u64(_: u64) -> Result<Self, sea_orm::DbErr> {
        Err(sea_orm::DbErr::ConvertFromU64("VisitType"))
    }
}

/// One bookable time, as the booking page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlotOption {
    pub starts_at: chrono::DateTime<chrono::Utc>,
    /// "9:40 am", in the practice's time zone.
    pub time: String,
}

/// The free times of one day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DaySlots {
    /// "Tuesday, December 1".
    pub day: String,
    pub slots: Vec<SlotOption>,
}

/// What the booking page offers for one kind of visit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BookingOptions {
    pub visit_type: VisitType,
    pub offered: Vec<VisitType>,
    /// "Eastern Time (America/New_York)".
    pub time_zone: String,
    pub days: Vec<DaySlots>,
    /// What the membership says about booking this kind of visit.
    pub terms: BookingTerms,
    /// The time zone the times are shown in (IANA): the patient's own, or the practice's.
    pub zone: String,
    /// "The practice is in Eastern Time.", when the patient's zone is another.
    pub practice_zone_note: Option<String>,
    /// The days a patient may join the waitlist for (`YYYY-MM-DD`, "Tuesday, December 1").
    pub waitlist_days: Vec<(String, String)>,
}

/// A patient's place on the waitlist, as My visits shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaitlistItem {
    pub public_id: String,
    pub visit_type: VisitType,
    /// "Tuesday, December 1".
    pub day: String,
    /// The time held for the patient, when one is.
    pub offered: Option<String>,
    /// "3:40 pm": until when it is held.
    pub held_until: Option<String>,
    /// The membership's terms for the held time.
    pub terms: Option<String>,
    pub fee_cents: Option<i64>,
}

/// The time zones a patient can choose to see times in (IANA name, how it is said). The
/// practice's own zone is offered too when it is not one of these.
pub const TIME_ZONES: [(&str, &str); 12] = [
    ("America/New_York", "Eastern Time"),
    ("America/Chicago", "Central Time"),
    ("America/Denver", "Mountain Time"),
    ("America/Phoenix", "Arizona"),
    ("America/Los_Angeles", "Pacific Time"),
    ("America/Anchorage", "Alaska Time"),
    ("Pacific/Honolulu", "Hawaii Time"),
    ("America/Puerto_Rico", "Atlantic Time (Puerto Rico)"),
    ("Europe/London", "London"),
    ("Europe/Paris", "Central Europe (Paris, Berlin)"),
    ("Asia/Tokyo", "Tokyo"),
    ("Australia/Sydney", "Sydney"),
];

/// The membership's terms for a booking, said before the patient confirms (R2.5).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BookingTerms {
    /// Why this kind of visit cannot be booked now (no times are offered then).
    pub refusal: Option<String>,
    /// "Included in your Essential membership: this is visit 3 of 6 …".
    pub summary: Option<String>,
    /// The per-visit fee the booking form asks the patient to accept.
    pub fee_cents: Option<i64>,
    /// "Essential members book from tomorrow, up to 30 days ahead."
    pub window: Option<String>,
}

/// A booked visit in the patient's list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VisitSummary {
    pub public_id: String,
    pub visit_type: VisitType,
    pub when: String,
    pub starts_at: chrono::DateTime<chrono::Utc>,
    /// What cancelling now would mean.
    pub cancellation: CancellationTerms,
    /// "$150 visit fee, billed after the visit", for a visit that is not included.
    pub fee_note: Option<String>,
    /// Inside 24 hours: what cancelling now does, in words, and the token confirming it.
    pub late_terms: Option<String>,
    pub late_token: Option<String>,
}

/// A visit that is over or was cancelled, as the patient's history shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PastVisit {
    pub visit_type: VisitType,
    /// "Monday, November 2, 2026 at 9:00 am"
    pub when: String,
    pub cancelled: bool,
    /// "Cancelled late: $40 late fee" and the like.
    pub note: Option<String>,
}

/// The patient's visits: upcoming (soonest first) and past or cancelled (newest first).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VisitHistory {
    pub upcoming: Vec<VisitSummary>,
    pub past: Vec<PastVisit>,
    pub waitlist: Vec<WaitlistItem>,
}

/// What cancelling a visit means at a given moment (R2.4, P3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CancellationTerms {
    /// 24 hours or more before the start: free, the time is released at once.
    Free,
    /// Inside 24 hours: the membership's late policy applies, so it is not done online.
    Late,
    /// The visit has started or is over.
    Started,
}

/// How long before the start a visit can be cancelled free.
pub const FREE_CANCELLATION_HOURS: i64 = 24;

/// The terms of cancelling a visit that starts at `starts_at`, at `now`.
pub fn cancellation_terms(
    starts_at: chrono::DateTime<chrono::Utc>,
    now: chrono::DateTime<chrono::Utc>,
) -> CancellationTerms {
    if now >= starts_at {
        CancellationTerms::Started
    } else if starts_at - now >= chrono::Duration::hours(FREE_CANCELLATION_HOURS) {
        CancellationTerms::Free
    } else {
        CancellationTerms::Late
    }
}

/// One visit on the physician's agenda.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgendaItem {
    pub starts_at: chrono::DateTime<chrono::Utc>,
    /// "9:40 am – 10:10 am".
    pub time: String,
    pub patient_public_id: String,
    pub patient_name: String,
    pub visit_type: VisitType,
    pub reason: String,
    pub public_id: String,
    /// Completed (its note signed).
    pub completed: bool,
    /// The caller may document it: write, sign or read its note (the physician).
    pub can_document: bool,
}

/// The agenda of one day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgendaDay {
    /// "Today, Friday, November 27".
    pub day: String,
    pub visits: Vec<AgendaItem>,
}

/// Whether the agenda shows one day or seven.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AgendaSpan {
    Day,
    Week,
}

impl AgendaSpan {
    pub fn parse(text: &str) -> AgendaSpan {
        if text == "day" {
            AgendaSpan::Day
        } else {
            AgendaSpan::Week
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            AgendaSpan::Day => "day",
            AgendaSpan::Week => "week",
        }
    }

    pub fn days(self) -> i64 {
        match self {
            AgendaSpan::Day => 1,
            AgendaSpan::Week => 7,
        }
    }
}

/// One page of the physician's agenda, with the way to the neighbouring ones.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgendaPage {
    /// "Monday, November 30" or "Week of November 30, 2026".
    pub title: String,
    pub span: AgendaSpan,
    /// ISO dates (`2026-11-30`) for the links.
    pub first_day: String,
    pub previous: String,
    pub next: String,
    pub today: String,
    pub days: Vec<AgendaDay>,
}

/// The schedule as its settings page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduleView {
    pub time_zone: String,
    pub hours: Vec<HoursRow>,
    pub days_off: Vec<DayOffRow>,
    /// Hours added on particular dates.
    pub extra_hours: Vec<DayOffRow>,
    pub lengths: Vec<LengthRow>,
    pub can_edit: bool,
}

/// How long a kind of visit lasts, and the pause after it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LengthRow {
    pub visit_type: VisitType,
    pub minutes: i32,
    pub buffer_minutes: i32,
}

/// One block of weekly hours.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HoursRow {
    pub id: i32,
    pub visit_type: VisitType,
    /// "Monday".
    pub weekday: String,
    /// "8:00 am – 12:00 pm".
    pub time: String,
}

/// A day the practice is closed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayOffRow {
    pub id: i32,
    pub date: chrono::NaiveDate,
    pub label: String,
    pub note: Option<String>,
}

/// Parses "08:30" (the value of a time input) into minutes after midnight, on the five-minute
/// grid of the schedule.
pub fn parse_minutes(text: &str) -> Result<i32, ScheduleProblem> {
    let (h, m) = text
        .trim()
        .split_once(':')
        .ok_or(ScheduleProblem::TimeFormat)?;
    let (h, m): (i32, i32) = (
        h.parse().map_err(|_| ScheduleProblem::TimeFormat)?,
        m.get(..2)
            .unwrap_or(m)
            .parse()
            .map_err(|_| ScheduleProblem::TimeFormat)?,
    );
    if !(0..24).contains(&h) || !(0..60).contains(&m) {
        return Err(ScheduleProblem::TimeOfDay);
    }
    if m % 5 != 0 {
        return Err(ScheduleProblem::FiveMinuteSteps);
    }
    Ok(h * 60 + m)
}

/// Why a change to the schedule was not saved: a stable code (the address of a plain form
/// post carries it, so a crafted link can only make the page say one of these) and the
/// sentence the physician reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ScheduleProblem {
    TimeFormat,
    TimeOfDay,
    FiveMinuteSteps,
    EndBeforeStart,
    Weekday,
    Date,
    PastDate,
    Overlap,
    VisitLength,
    Pause,
}

impl ScheduleProblem {
    pub const ALL: [ScheduleProblem; 10] = [
        ScheduleProblem::TimeFormat,
        ScheduleProblem::TimeOfDay,
        ScheduleProblem::FiveMinuteSteps,
        ScheduleProblem::EndBeforeStart,
        ScheduleProblem::Weekday,
        ScheduleProblem::Date,
        ScheduleProblem::PastDate,
        ScheduleProblem::Overlap,
        ScheduleProblem::VisitLength,
        ScheduleProblem::Pause,
    ];

    /// The stable code. Never changes once released.
    pub fn code(self) -> &'static str {
        match self {
            ScheduleProblem::TimeFormat => "time_format",
            ScheduleProblem::TimeOfDay => "time_of_day",
            ScheduleProblem::FiveMinuteSteps => "five_minutes",
            ScheduleProblem::EndBeforeStart => "end_before_start",
            ScheduleProblem::Weekday => "weekday",
            ScheduleProblem::Date => "date",
            ScheduleProblem::PastDate => "past_date",
            ScheduleProblem::Overlap => "overlap",
            ScheduleProblem::VisitLength => "visit_length",
            ScheduleProblem::Pause => "pause",
        }
    }

    pub fn from_code(code: &str) -> Option<ScheduleProblem> {
        Self::ALL.into_iter().find(|p| p.code() == code)
    }

    pub fn message(self) -> &'static str {
        match self {
            ScheduleProblem::TimeFormat => "Enter a time like 08:30.",
            ScheduleProblem::TimeOfDay => "Enter a time between 00:00 and 23:55.",
            ScheduleProblem::FiveMinuteSteps => "Use five-minute steps (like 08:30 or 08:35).",
            ScheduleProblem::EndBeforeStart => "The hours must end after they start.",
            ScheduleProblem::Weekday => "Choose a day of the week.",
            ScheduleProblem::Date => "Choose a date.",
            ScheduleProblem::PastDate => "Choose today or a later day.",
            ScheduleProblem::Overlap => {
                "These hours overlap hours already set for that day and kind of visit."
            }
            ScheduleProblem::VisitLength => "A visit lasts 5 to 240 minutes, in five-minute steps.",
            ScheduleProblem::Pause => {
                "The pause after a visit is 0 to 120 minutes, in five-minute steps."
            }
        }
    }
}

/// One form of the schedule page: `change` says which, and each form sends the fields its
/// change needs. Every field is read as text (numbers are checked by the change).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduleForm {
    pub change: ScheduleEdit,
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub visit_type: Option<String>,
    #[serde(default)]
    pub weekday: Option<String>,
    #[serde(default)]
    pub start: Option<String>,
    #[serde(default)]
    pub end: Option<String>,
    #[serde(default)]
    pub date: Option<String>,
    #[serde(default)]
    pub note: Option<String>,
    #[serde(default)]
    pub minutes: Option<String>,
    #[serde(default)]
    pub buffer_minutes: Option<String>,
}

/// The schedule's forms, by what they change (the `change` field of each form).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScheduleEdit {
    AddHours,
    RemoveHours,
    AddDayOff,
    RemoveDayOff,
    AddExtraHours,
    RemoveExtraHours,
    SetLength,
}

#[cfg(test)]
mod tests {
    use super::parse_minutes;

    #[test]
    fn times_are_read_from_time_inputs_on_a_five_minute_grid() {
        assert_eq!(parse_minutes("08:30"), Ok(510));
        assert_eq!(parse_minutes("13:05:00"), Ok(785));
        assert!(parse_minutes("8:07").is_err());
        assert!(parse_minutes("24:00").is_err());
        assert!(parse_minutes("noon").is_err());
    }

    proptest::proptest! {
        /// P3 (the rule): a visit is cancelled free exactly when 24 hours or more remain, is
        /// late inside 24 hours, and cannot be cancelled once started.
        #[test]
        fn p3_cancellation_is_free_exactly_up_to_24_hours_before_the_start(offset in -200_000i64..200_000) {
            use super::{cancellation_terms, CancellationTerms};
            let start = chrono::DateTime::from_timestamp(1_800_000_000, 0).expect("time");
            let now = start - chrono::Duration::seconds(offset);
            let terms = cancellation_terms(start, now);
            let expected = if offset <= 0 {
                CancellationTerms::Started
            } else if offset >= 24 * 3600 {
                CancellationTerms::Free
            } else {
                CancellationTerms::Late
            };
            proptest::prop_assert_eq!(terms, expected);
        }
    }

    #[test]
    fn every_schedule_problem_has_its_own_code_and_reads_back_from_it() {
        use super::ScheduleProblem;
        let mut codes: Vec<_> = ScheduleProblem::ALL.iter().map(|p| p.code()).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), ScheduleProblem::ALL.len());
        for problem in ScheduleProblem::ALL {
            assert_eq!(ScheduleProblem::from_code(problem.code()), Some(problem));
        }
        assert_eq!(parse_minutes("8:07"), Err(ScheduleProblem::FiveMinuteSteps));
        assert_eq!(parse_minutes("24:00"), Err(ScheduleProblem::TimeOfDay));
        assert_eq!(parse_minutes("noon"), Err(ScheduleProblem::TimeFormat));
    }
}
