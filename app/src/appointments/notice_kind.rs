//! The words of the `visit_notice` table: what a visit tells its patient, on which channel, and
//! how it went. Apart from the notices' rules so that the table's entity does not depend on them.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// One thing Bedside tells a patient about a visit (`visit_notice.kind`).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, sea_orm::DeriveValueType,
)]
#[serde(rename_all = "snake_case")]
#[sea_orm(value_type = "String")]
pub enum NoticeKind {
    /// "Your visit is booked", with the calendar entry, right after booking.
    Confirmation,
    /// Email, 7 days before (R10.1).
    WeekAhead,
    /// Text message, 24 hours before (R10.2).
    DayAhead,
    /// In-app notification, 2 hours before (R10.3).
    HoursAhead,
    /// "Your visit was moved", with the updated calendar entry, right after rescheduling.
    Moved,
    /// After the physician completes the visit: thanks, and a suggested follow-up time when
    /// the physician asked for one (R10.4, R10.5).
    FollowUp,
}

/// Where a notice goes (`visit_notice.channel`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, sea_orm::DeriveValueType)]
#[sea_orm(value_type = "String")]
pub enum Channel {
    Email,
    Sms,
    InApp,
}

crate::stored_words!(Channel, "notice channel", {
    Email => "email",
    Sms => "sms",
    InApp => "in_app",
});

crate::stored_words!(NoticeKind, "notice kind", {
    Confirmation => "confirmation",
    WeekAhead => "week_ahead",
    DayAhead => "day_ahead",
    HoursAhead => "hours_ahead",
    Moved => "moved",
    FollowUp => "follow_up",
});

impl NoticeKind {
    pub const REMINDERS: [NoticeKind; 3] = [
        NoticeKind::WeekAhead,
        NoticeKind::DayAhead,
        NoticeKind::HoursAhead,
    ];

    pub fn channel(self) -> Channel {
        match self {
            NoticeKind::Confirmation
            | NoticeKind::WeekAhead
            | NoticeKind::Moved
            | NoticeKind::FollowUp => Channel::Email,
            NoticeKind::DayAhead => Channel::Sms,
            NoticeKind::HoursAhead => Channel::InApp,
        }
    }

    /// How long before the visit a reminder goes out (`None` for the confirmation).
    pub fn lead(self) -> Option<Duration> {
        match self {
            NoticeKind::Confirmation | NoticeKind::Moved | NoticeKind::FollowUp => None,
            NoticeKind::WeekAhead => Some(Duration::days(7)),
            NoticeKind::DayAhead => Some(Duration::hours(24)),
            NoticeKind::HoursAhead => Some(Duration::hours(2)),
        }
    }

    /// The job key: one planned notice per visit, kind and start.
    pub fn job_key(self, appointment_public_id: &str, starts_at: DateTime<Utc>) -> String {
        format!(
            "visit:{appointment_public_id}:{}@{}",
            self.as_str(),
            starts_at.timestamp()
        )
    }
}

/// How a notice went (`visit_notice.status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, sea_orm::DeriveValueType)]
#[sea_orm(value_type = "String")]
pub enum NoticeStatus {
    Sent,
    /// Not sent, on purpose: the visit was cancelled, moved or had started, or the patient
    /// has no way to be reached on that channel.
    Skipped,
    Failed,
}

crate::stored_words!(NoticeStatus, "notice status", {
    Sent => "sent",
    Skipped => "skipped",
    Failed => "failed",
});
