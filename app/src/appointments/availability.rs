//! Free slots from the physician's weekly hours, date exceptions and existing visits.
//!
//! Hours are wall-clock times in the practice's time zone ("Mondays 9:00 to 12:00"), so slots
//! are laid out in local time and only then turned into instants. Across a daylight-saving
//! change this keeps every slot at its wall-clock time: a 9:00 slot is at 9:00 on both sides of
//! the change. A wall-clock time that does not exist (the hour skipped in spring) has no slot;
//! one that happens twice (the hour repeated in autumn) has one slot, at its first occurrence.

use super::model::VisitType;
use chrono::{
    DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc, Weekday,
};
use chrono_tz::Tz;

/// The hours one visit type is offered on one weekday, local time (`end` after `start`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WeeklyHours {
    pub visit_type: VisitType,
    pub weekday: Weekday,
    pub start: NaiveTime,
    pub end: NaiveTime,
}

/// How long a visit type takes, and the gap kept after it (travel, notes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VisitLength {
    pub visit_type: VisitType,
    pub minutes: i64,
    pub buffer_minutes: i64,
}

/// A change to one date: closed all day (vacation), or extra hours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateException {
    Closed {
        date: NaiveDate,
    },
    ExtraHours {
        date: NaiveDate,
        visit_type: VisitType,
        start: NaiveTime,
        end: NaiveTime,
    },
}

/// Everything that decides when the physician can be booked.
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    pub time_zone: Tz,
    pub hours: Vec<WeeklyHours>,
    pub lengths: Vec<VisitLength>,
    pub exceptions: Vec<DateException>,
}

/// Time already taken (a booked visit with its buffer), as instants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Busy {
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
}

/// A bookable visit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Slot {
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
}

impl Schedule {
    pub fn length_of(&self, visit_type: VisitType) -> Option<VisitLength> {
        self.lengths
            .iter()
            .copied()
            .find(|l| l.visit_type == visit_type)
    }

    /// The local windows `visit_type` is offered on `date`.
    pub fn windows(&self, visit_type: VisitType, date: NaiveDate) -> Vec<(NaiveTime, NaiveTime)> {
        let closed = self
            .exceptions
            .iter()
            .any(|e| matches!(e, DateException::Closed { date: d } if *d == date));
        let mut windows: Vec<(NaiveTime, NaiveTime)> = if closed {
            Vec::new()
        } else {
            self.hours
                .iter()
                .filter(|h| {
                    h.visit_type == visit_type && h.weekday == date.weekday() && h.start < h.end
                })
                .map(|h| (h.start, h.end))
                .collect()
        };
        windows.extend(self.exceptions.iter().filter_map(|e| match e {
            DateException::ExtraHours {
                date: d,
                visit_type: v,
                start,
                end,
            } if *d == date && *v == visit_type && start < end => Some((*start, *end)),
            _ => None,
        }));
        windows.sort();
        windows
    }

    /// Whether the practice works at local time `at` (within any visit type's window that day).
    pub fn working_at(&self, at: NaiveDateTime) -> bool {
        VisitType::ALL.iter().any(|visit_type| {
            self.windows(*visit_type, at.date())
                .iter()
                .any(|(start, end)| *start <= at.time() && at.time() < *end)
        })
    }

    /// The wall-clock starts of `visit_type` on `date`, before time zones and bookings: from
    /// each window's start, every visit plus its buffer, while the visit fits in the window.
    pub fn local_starts(&self, visit_type: VisitType, date: NaiveDate) -> Vec<NaiveDateTime> {
        let Some(length) = self.length_of(visit_type) else {
            return Vec::new();
        };
        let visit = Duration::minutes(length.minutes.max(1));
        let step = visit + Duration::minutes(length.buffer_minutes.max(0));
        let mut starts = Vec::new();
        for (start, end) in self.windows(visit_type, date) {
            let window_end = date.and_time(end);
            let mut at = date.and_time(start);
            while at + visit <= window_end {
                starts.push(at);
                at += step;
            }
        }
        starts.sort();
        starts.dedup();
        starts
    }
}

/// The instant of a wall-clock time in `tz`: `None` if it does not exist (spring forward), the
/// first occurrence if it happens twice (fall back).
pub fn instant(tz: Tz, local: NaiveDateTime) -> Option<DateTime<Utc>> {
    tz.from_local_datetime(&local)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
}

/// Free slots of `visit_type` from `from` to `to` (local dates, inclusive), not overlapping
/// `busy`, starting after `not_before`.
pub fn free_slots(
    schedule: &Schedule,
    visit_type: VisitType,
    from: NaiveDate,
    to: NaiveDate,
    busy: &[Busy],
    not_before: DateTime<Utc>,
) -> Vec<Slot> {
    let Some(length) = schedule.length_of(visit_type) else {
        return Vec::new();
    };
    let visit = Duration::minutes(length.minutes.max(1));
    let buffer = Duration::minutes(length.buffer_minutes.max(0));
    let mut slots = Vec::new();
    let mut date = from;
    while date <= to {
        for local in schedule.local_starts(visit_type, date) {
            let Some(starts_at) = instant(schedule.time_zone, local) else {
                continue;
            };
            let ends_at = starts_at + visit;
            // The buffer after this visit must be free too.
            let taken = busy
                .iter()
                .any(|b| starts_at < b.ends_at && b.starts_at < ends_at + buffer);
            if starts_at >= not_before && !taken {
                slots.push(Slot { starts_at, ends_at });
            }
        }
        match date.succ_opt() {
            Some(next) => date = next,
            None => break,
        }
    }
    slots.sort();
    slots.dedup();
    slots
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn time(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).expect("time")
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("date")
    }

    fn every_day(visit_type: VisitType, start: NaiveTime, end: NaiveTime) -> Vec<WeeklyHours> {
        [
            Weekday::Mon,
            Weekday::Tue,
            Weekday::Wed,
            Weekday::Thu,
            Weekday::Fri,
            Weekday::Sat,
            Weekday::Sun,
        ]
        .into_iter()
        .map(|weekday| WeeklyHours {
            visit_type,
            weekday,
            start,
            end,
        })
        .collect()
    }

    fn schedule(tz: Tz, start: NaiveTime, end: NaiveTime, minutes: i64, buffer: i64) -> Schedule {
        Schedule {
            time_zone: tz,
            hours: every_day(VisitType::InPerson, start, end),
            lengths: vec![VisitLength {
                visit_type: VisitType::InPerson,
                minutes,
                buffer_minutes: buffer,
            }],
            exceptions: Vec::new(),
        }
    }

    fn long_ago() -> DateTime<Utc> {
        DateTime::<Utc>::MIN_UTC
    }

    /// The free slots of one day, with nothing in the past.
    fn slots_on(s: &Schedule, visit_type: VisitType, day: NaiveDate, busy: &[Busy]) -> Vec<Slot> {
        free_slots(s, visit_type, day, day, busy, long_ago())
    }

    /// The slots' starting times on the wall clock of `tz`, as `format` writes them.
    fn wall_clock(slots: &[Slot], tz: Tz, format: &str) -> Vec<String> {
        slots
            .iter()
            .map(|s| s.starts_at.with_timezone(&tz).format(format).to_string())
            .collect()
    }

    #[test]
    fn a_morning_of_half_hour_visits_with_ten_minute_buffers() {
        let s = schedule(
            chrono_tz::America::New_York,
            time(9, 0),
            time(12, 0),
            30,
            10,
        );
        let slots = slots_on(&s, VisitType::InPerson, date(2026, 6, 1), &[]);
        let local = wall_clock(&slots, chrono_tz::America::New_York, "%H:%M");
        assert_eq!(local, ["09:00", "09:40", "10:20", "11:00"]);
        assert_eq!(slots[0].starts_at.to_rfc3339(), "2026-06-01T13:00:00+00:00");
    }

    #[test]
    fn a_closed_day_has_no_slots_and_extra_hours_add_some() {
        let mut s = schedule(chrono_tz::America::New_York, time(9, 0), time(10, 0), 30, 0);
        s.exceptions.push(DateException::Closed {
            date: date(2026, 6, 1),
        });
        s.exceptions.push(DateException::ExtraHours {
            date: date(2026, 6, 2),
            visit_type: VisitType::InPerson,
            start: time(17, 0),
            end: time(18, 0),
        });
        assert!(slots_on(&s, VisitType::InPerson, date(2026, 6, 1), &[]).is_empty());
        assert_eq!(
            slots_on(&s, VisitType::InPerson, date(2026, 6, 2), &[]).len(),
            4
        );
        assert!(slots_on(&s, VisitType::Telemedicine, date(2026, 6, 2), &[]).is_empty());
    }

    #[test]
    fn a_booked_visit_and_its_buffer_take_the_slots_they_overlap() {
        let s = schedule(chrono_tz::Europe::Berlin, time(9, 0), time(11, 0), 30, 0);
        let all = slots_on(&s, VisitType::InPerson, date(2026, 6, 1), &[]);
        assert_eq!(all.len(), 4);
        let busy = [Busy {
            starts_at: all[1].starts_at,
            ends_at: all[1].ends_at,
        }];
        let free = slots_on(&s, VisitType::InPerson, date(2026, 6, 1), &busy);
        assert_eq!(free, vec![all[0], all[2], all[3]]);
        // A slot whose buffer would run into the booked visit is not free either.
        let buffered = schedule(chrono_tz::Europe::Berlin, time(9, 0), time(11, 0), 30, 15);
        let free = slots_on(&buffered, VisitType::InPerson, date(2026, 6, 1), &busy);
        assert!(free.iter().all(|s| !(s.starts_at < busy[0].ends_at
            && busy[0].starts_at < s.ends_at + Duration::minutes(15))));
    }

    #[test]
    fn the_skipped_hour_has_no_slot_and_the_repeated_hour_has_one() {
        let ny = chrono_tz::America::New_York;
        // 2026-03-08: 2:00 → 3:00. Hours 1:00–4:00, hourly visits: 1:00, 3:00 (2:00 does not exist).
        let s = schedule(ny, time(1, 0), time(4, 0), 60, 0);
        let spring = slots_on(&s, VisitType::InPerson, date(2026, 3, 8), &[]);
        let local = wall_clock(&spring, ny, "%H:%M");
        assert_eq!(local, ["01:00", "03:00"]);
        // 2026-11-01: 2:00 → 1:00. The 1:00 slot exists once, at its first occurrence (EDT).
        let autumn = slots_on(&s, VisitType::InPerson, date(2026, 11, 1), &[]);
        let local = wall_clock(&autumn, ny, "%H:%M %Z");
        assert_eq!(local, ["01:00 EDT", "02:00 EST", "03:00 EST"]);
    }

    /// Days around the 2026 DST changes of both zones.
    fn dst_dates() -> impl Strategy<Value = (Tz, NaiveDate)> {
        prop::sample::select(vec![
            (chrono_tz::America::New_York, date(2026, 3, 6)),
            (chrono_tz::America::New_York, date(2026, 10, 30)),
            (chrono_tz::Europe::Berlin, date(2026, 3, 27)),
            (chrono_tz::Europe::Berlin, date(2026, 10, 23)),
        ])
    }

    proptest! {
        /// Across DST changes: every slot is at a wall-clock time the schedule defines (none
        /// shifted), every such time that exists has a slot (none missing), and no instant
        /// appears twice (none duplicated).
        #[test]
        fn slots_stay_on_their_wall_clock_times_across_daylight_saving_changes(
            (tz, first) in dst_dates(),
            start_minute in 0u32..(24 * 60 - 30),
            length in 30u32..(10 * 60),
            minutes in prop::sample::select(vec![15i64, 20, 30, 45, 60, 90]),
            buffer in prop::sample::select(vec![0i64, 5, 10, 15, 30]),
        ) {
            let start = time(start_minute / 60, start_minute % 60);
            let end_minute = (start_minute + length).min(24 * 60 - 1);
            let end = time(end_minute / 60, end_minute % 60);
            let s = schedule(tz, start, end, minutes, buffer);
            let last = first + Duration::days(5);
            let slots = free_slots(&s, VisitType::InPerson, first, last, &[], long_ago());
            // No duplicates: strictly increasing instants.
            for pair in slots.windows(2) {
                prop_assert!(pair[0].starts_at < pair[1].starts_at);
            }
            let mut expected = Vec::new();
            let mut day = first;
            while day <= last {
                expected.extend(s.local_starts(VisitType::InPerson, day));
                day = day.succ_opt().expect("date");
            }
            let exists: Vec<NaiveDateTime> = expected
                .iter()
                .copied()
                .filter(|l| instant(tz, *l).is_some())
                .collect();
            // None missing, none extra, none shifted: the slots, read back in local time, are
            // exactly the defined wall-clock times that exist.
            let back: Vec<NaiveDateTime> = slots.iter().map(|s| s.starts_at.with_timezone(&tz).naive_local()).collect();
            prop_assert_eq!(back, exists);
            for slot in &slots {
                prop_assert_eq!(slot.ends_at - slot.starts_at, Duration::minutes(minutes));
            }
        }
    }
}
