//! What a membership tier allows when booking (R2.5) and what cancelling late costs (R2.4,
//! P3), as plain rules over plain values: the service loads the tier and the visits already
//! counted, these decide, and the pages say the outcome in words before anyone confirms.

use super::model::VisitType;
use crate::domain::format_usd;
use chrono::{DateTime, Datelike, Months, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// A tier's booking rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TierRules {
    pub tier_name: String,
    /// Included visits per membership year; `None` is unlimited.
    pub visits_per_year: Option<i32>,
    /// The kinds of visit the membership includes.
    pub included: Vec<VisitType>,
    /// The fee for a home visit the tier does not include (`None`: not offered).
    pub home_visit_fee_cents: Option<i64>,
    /// The fee for a visit beyond the yearly allowance (`None`: no visits beyond it).
    pub extra_visit_fee_cents: Option<i64>,
    /// How many days ahead a member may book.
    pub booking_horizon_days: i64,
    /// Whether a visit may be booked for today.
    pub same_day_booking: bool,
    /// What cancelling inside 24 hours costs.
    pub late_policy: LatePolicy,
}

/// A tier's late-cancellation policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum LatePolicy {
    /// The visit counts as used (an included visit stays counted; a paid visit's fee stands).
    Counted,
    /// A late fee, in cents; an included visit is given back.
    Fee(i64),
}

impl LatePolicy {
    /// From a tier's `late_fee_cents`: a fee, or (none) the visit counts.
    pub fn from_fee(late_fee_cents: Option<i64>) -> LatePolicy {
        late_fee_cents.map_or(LatePolicy::Counted, LatePolicy::Fee)
    }
}

/// How a booked visit is paid for, agreed when booking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Coverage {
    /// Part of the membership (and, with an allowance, one of the year's visits).
    Included,
    /// A per-visit fee, in cents, billed after the visit.
    Fee(i64),
}

impl Coverage {
    /// The `appointment.coverage` column and its `fee_cents`.
    pub fn columns(self) -> (&'static str, Option<i64>) {
        match self {
            Coverage::Included => ("included", None),
            Coverage::Fee(cents) => ("fee", Some(cents)),
        }
    }

    /// Read back from the columns; anything [`columns`](Self::columns) does not write (an
    /// unknown word, a fee without its amount) is an error, never a default.
    pub fn from_columns(
        coverage: &str,
        fee_cents: Option<i64>,
    ) -> Result<Coverage, crate::stored::UnknownStoredValue> {
        match (coverage, fee_cents) {
            ("included", None) => Ok(Coverage::Included),
            ("fee", Some(cents)) => Ok(Coverage::Fee(cents)),
            _ => Err(crate::stored::UnknownStoredValue {
                kind: "visit coverage",
                value: format!("{coverage} ({fee_cents:?})"),
            }),
        }
    }
}

/// Why a tier's rules stop a booking. Each says what the patient can do instead.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Refusal {
    /// No membership, or one that is not active (pending, suspended, cancelled).
    NoActiveMembership,
    /// The tier does not include this kind of visit, and offers it for no fee.
    NotIncluded { tier: String, visit_type: VisitType },
    /// Every included visit of the year is used, and the tier has no fee for more.
    AllowanceUsed {
        tier: String,
        allowance: i32,
        renews_on: String,
    },
    /// Further ahead than the tier books.
    BeyondHorizon { tier: String, days: i64 },
    /// Today, where the tier books from tomorrow.
    SameDay { tier: String },
    /// The visit has a fee the patient did not accept (the page showed other terms, or none):
    /// these are the terms now.
    FeeNotAccepted { terms: String },
}

impl Refusal {
    /// The stable code (in addresses, in tests; `booking.` in front across features). Never
    /// changes once released.
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::NoActiveMembership => "membership",
            Refusal::NotIncluded { .. } => "not_included",
            Refusal::AllowanceUsed { .. } => "allowance",
            Refusal::BeyondHorizon { .. } => "horizon",
            Refusal::SameDay { .. } => "same_day",
            Refusal::FeeNotAccepted { .. } => "fee",
        }
    }

    pub fn message(&self) -> String {
        match self {
            Refusal::NoActiveMembership => "Booking visits is part of an active membership. Your membership page says what is needed to activate it.".to_owned(),
            Refusal::NotIncluded { tier, visit_type } => format!(
                "{}s are not part of the {tier} membership. Choose another kind of visit, or change your membership on the membership page.",
                visit_type.label()
            ),
            Refusal::AllowanceUsed { tier, allowance, renews_on } => format!(
                "You have used all {allowance} visits of this membership year ({tier}). Your visits renew on {renews_on}; for more visits before then, change your membership on the membership page, or call the practice."
            ),
            Refusal::BeyondHorizon { tier, days } => format!(
                "{tier} members can book up to {days} days ahead. Please choose an earlier time."
            ),
            Refusal::SameDay { tier } => format!(
                "{tier} members book from tomorrow on. For something that cannot wait, please call the practice."
            ),
            Refusal::FeeNotAccepted { terms } => format!(
                "The terms of this visit changed since the page was shown. {terms} Please read them and book again."
            ),
        }
    }
}

/// What booking a visit would mean, said before the patient confirms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quote {
    pub coverage: Coverage,
    /// Whether the visit takes one of the year's included visits.
    pub uses_allowance: bool,
    /// The terms in one sentence.
    pub terms: String,
}

/// The first instant of the membership year that contains `at`: years run from `anchor` (the
/// day the membership became active).
pub fn year_start(anchor: DateTime<Utc>, at: DateTime<Utc>) -> DateTime<Utc> {
    if at <= anchor {
        return anchor;
    }
    let mut years = u32::try_from(at.year() - anchor.year()).unwrap_or(0);
    loop {
        let start = anchor
            .checked_add_months(Months::new(12 * years))
            .unwrap_or(anchor);
        if start <= at || years == 0 {
            return start;
        }
        years -= 1;
    }
}

/// The first instant of the year after the one that starts at `start`.
pub fn year_end(start: DateTime<Utc>) -> DateTime<Utc> {
    start.checked_add_months(Months::new(12)).unwrap_or(start)
}

/// The terms of booking a `visit_type` visit when `used` included visits of its membership
/// year are taken (`renews_on`: the next year's first day, in words).
pub fn quote(
    rules: &TierRules,
    visit_type: VisitType,
    used: i32,
    renews_on: &str,
) -> Result<Quote, Refusal> {
    let tier = rules.tier_name.clone();
    let after = "billed with your next membership payment after the visit";
    if !rules.included.contains(&visit_type) {
        let fee = match visit_type {
            VisitType::HomeVisit => rules.home_visit_fee_cents,
            _ => None,
        };
        return match fee {
            Some(cents) => Ok(Quote {
                coverage: Coverage::Fee(cents),
                uses_allowance: false,
                terms: format!(
                    "{}s are not included in the {tier} membership: this one costs {}, {after}.",
                    visit_type.label(),
                    format_usd(cents)
                ),
            }),
            None => Err(Refusal::NotIncluded { tier, visit_type }),
        };
    }
    let Some(allowance) = rules.visits_per_year else {
        return Ok(Quote {
            coverage: Coverage::Included,
            uses_allowance: false,
            terms: format!("Included in your {tier} membership."),
        });
    };
    if used < allowance {
        let left = allowance - used - 1;
        return Ok(Quote {
            coverage: Coverage::Included,
            uses_allowance: true,
            terms: format!(
                "Included in your {tier} membership: this is visit {} of {allowance} this membership year, leaving {left}.",
                used + 1
            ),
        });
    }
    match rules.extra_visit_fee_cents {
        Some(cents) => Ok(Quote {
            coverage: Coverage::Fee(cents),
            uses_allowance: false,
            terms: format!(
                "You have used all {allowance} included visits of this membership year (they renew on {renews_on}): this visit costs {}, {after}.",
                format_usd(cents)
            ),
        }),
        None => Err(Refusal::AllowanceUsed {
            tier,
            allowance,
            renews_on: renews_on.to_owned(),
        }),
    }
}

/// Whether a visit on local day `day` may be booked on local day `today` (horizon, same day).
pub fn within_window(rules: &TierRules, today: NaiveDate, day: NaiveDate) -> Result<(), Refusal> {
    if day == today && !rules.same_day_booking {
        return Err(Refusal::SameDay {
            tier: rules.tier_name.clone(),
        });
    }
    if (day - today).num_days() > rules.booking_horizon_days {
        return Err(Refusal::BeyondHorizon {
            tier: rules.tier_name.clone(),
            days: rules.booking_horizon_days,
        });
    }
    Ok(())
}

/// The first and last local days a member may book from `today`.
pub fn window(rules: &TierRules, today: NaiveDate) -> (NaiveDate, NaiveDate) {
    let first = if rules.same_day_booking {
        today
    } else {
        today.succ_opt().unwrap_or(today)
    };
    (
        first,
        today + chrono::Duration::days(rules.booking_horizon_days),
    )
}

/// What cancelling a booked visit inside 24 hours does (P3): exactly the tier's policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LateEffect {
    /// Whether an included visit stays counted against the year's allowance.
    pub keeps_allowance: bool,
    /// What is charged, if anything.
    pub charge: Option<Charge>,
}

/// A charge that follows a visit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Charge {
    /// The visit's own fee (a paid visit that took place, or was cancelled late and counted).
    VisitFee(i64),
    /// The tier's late-cancellation fee.
    LateFee(i64),
}

impl Charge {
    pub fn cents(self) -> i64 {
        match self {
            Charge::VisitFee(cents) | Charge::LateFee(cents) => cents,
        }
    }

    /// The `visit_charge.kind` column.
    pub fn kind(self) -> crate::billing::model::ChargeKind {
        match self {
            Charge::VisitFee(_) => crate::billing::model::ChargeKind::VisitFee,
            Charge::LateFee(_) => crate::billing::model::ChargeKind::LateFee,
        }
    }
}

/// The late policy applied to a visit booked with `coverage` that took an included visit
/// (`used_allowance`).
pub fn late_effect(policy: LatePolicy, coverage: Coverage, used_allowance: bool) -> LateEffect {
    match (policy, coverage) {
        (LatePolicy::Counted, Coverage::Included) => LateEffect {
            keeps_allowance: used_allowance,
            charge: None,
        },
        (LatePolicy::Counted, Coverage::Fee(cents)) => LateEffect {
            keeps_allowance: false,
            charge: Some(Charge::VisitFee(cents)),
        },
        (LatePolicy::Fee(cents), _) => LateEffect {
            keeps_allowance: false,
            charge: Some(Charge::LateFee(cents)),
        },
    }
}

/// How every statement of late terms begins.
pub const LATE_TERMS_PREFIX: &str = "Cancelling now, less than 24 hours ahead,";

/// The late effect in one sentence ("Cancelling now … "), said before the patient confirms.
pub fn late_terms(effect: LateEffect, allowance: Option<i32>) -> String {
    let rest = match effect.charge {
        Some(Charge::LateFee(cents)) => format!(
            "costs the {} late-cancellation fee, billed with your next membership payment.",
            format_usd(cents)
        ),
        Some(Charge::VisitFee(cents)) => format!(
            "counts as the visit: its {} fee still applies.",
            format_usd(cents)
        ),
        None if effect.keeps_allowance => format!(
            "counts this visit as one of your {} visits this membership year.",
            allowance.unwrap_or_default()
        ),
        None => "is recorded as a late cancellation; nothing is charged.".to_owned(),
    };
    format!("{LATE_TERMS_PREFIX} {rest}")
}

/// A short token for the effect, sent back by the confirmation form: the cancellation goes
/// ahead only if the terms are still the ones the patient read.
pub fn late_token(effect: LateEffect) -> String {
    match effect.charge {
        Some(charge) => format!("{}:{}", charge.kind(), charge.cents()),
        None if effect.keeps_allowance => "counted".to_owned(),
        None => "recorded".to_owned(),
    }
}

/// The tier's late-cancellation policy as the memberships page says it.
pub fn late_policy_text(policy: LatePolicy, visits_per_year: Option<i32>) -> String {
    match (policy, visits_per_year) {
        (LatePolicy::Fee(cents), _) => format!(
            "A visit cancelled less than 24 hours ahead incurs a {} late-cancellation fee.",
            format_usd(cents)
        ),
        (LatePolicy::Counted, Some(n)) => format!(
            "A visit cancelled less than 24 hours ahead counts as one of your {n} yearly visits."
        ),
        (LatePolicy::Counted, None) => {
            "A visit cancelled less than 24 hours ahead is recorded as a late cancellation."
                .to_owned()
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_visit_s_coverage_reads_back_what_was_stored_and_nothing_else() {
        for coverage in [Coverage::Included, Coverage::Fee(9_500)] {
            let (word, cents) = coverage.columns();
            assert_eq!(Coverage::from_columns(word, cents), Ok(coverage));
        }
        assert!(Coverage::from_columns("free", None).is_err());
        assert!(Coverage::from_columns("fee", None).is_err());
    }

    use super::*;
    use chrono::TimeZone;
    use proptest::prelude::*;

    fn essential() -> TierRules {
        TierRules {
            tier_name: "Essential".into(),
            visits_per_year: Some(6),
            included: vec![VisitType::InPerson, VisitType::Telemedicine],
            home_visit_fee_cents: None,
            extra_visit_fee_cents: Some(9_500),
            booking_horizon_days: 30,
            same_day_booking: false,
            late_policy: LatePolicy::Counted,
        }
    }

    fn complete() -> TierRules {
        TierRules {
            tier_name: "Complete".into(),
            visits_per_year: None,
            included: vec![VisitType::InPerson, VisitType::Telemedicine],
            home_visit_fee_cents: Some(15_000),
            extra_visit_fee_cents: None,
            booking_horizon_days: 60,
            same_day_booking: true,
            late_policy: LatePolicy::Fee(4_000),
        }
    }

    #[test]
    fn included_visits_are_counted_until_the_allowance_is_used_then_cost_the_extra_fee() {
        let rules = essential();
        let first = quote(&rules, VisitType::InPerson, 0, "March 3, 2027").expect("ok");
        assert_eq!(first.coverage, Coverage::Included);
        assert!(first.uses_allowance);
        assert!(first.terms.contains("visit 1 of 6"), "{}", first.terms);
        let last = quote(&rules, VisitType::Telemedicine, 5, "March 3, 2027").expect("ok");
        assert!(last.terms.contains("leaving 0"), "{}", last.terms);
        let extra = quote(&rules, VisitType::InPerson, 6, "March 3, 2027").expect("ok");
        assert_eq!(extra.coverage, Coverage::Fee(9_500));
        assert!(!extra.uses_allowance);
        assert!(extra.terms.contains("$95"), "{}", extra.terms);
        assert!(extra.terms.contains("March 3, 2027"), "{}", extra.terms);
        let mut strict = essential();
        strict.extra_visit_fee_cents = None;
        assert_eq!(
            quote(&strict, VisitType::InPerson, 6, "March 3, 2027")
                .expect_err("refused")
                .code(),
            "allowance"
        );
    }

    #[test]
    fn a_kind_of_visit_the_tier_leaves_out_costs_its_fee_or_is_refused() {
        let paid = quote(&complete(), VisitType::HomeVisit, 0, "").expect("ok");
        assert_eq!(paid.coverage, Coverage::Fee(15_000));
        assert!(paid.terms.contains("$150"), "{}", paid.terms);
        let refused = quote(&essential(), VisitType::HomeVisit, 0, "").expect_err("refused");
        assert_eq!(refused.code(), "not_included");
        assert!(refused
            .message()
            .contains("Home visits are not part of the Essential"));
        let unlimited = quote(&complete(), VisitType::InPerson, 500, "").expect("ok");
        assert_eq!(unlimited.coverage, Coverage::Included);
        assert!(!unlimited.uses_allowance);
    }

    #[test]
    fn the_window_starts_tomorrow_without_same_day_visits_and_ends_at_the_horizon() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 1).expect("ok");
        let rules = essential();
        assert_eq!(
            within_window(&rules, today, today)
                .expect_err("refused")
                .code(),
            "same_day"
        );
        assert!(within_window(&rules, today, today.succ_opt().expect("ok")).is_ok());
        assert!(within_window(
            &rules,
            today,
            NaiveDate::from_ymd_opt(2026, 12, 31).expect("ok")
        )
        .is_ok());
        assert_eq!(
            within_window(
                &rules,
                today,
                NaiveDate::from_ymd_opt(2027, 1, 1).expect("ok")
            )
            .expect_err("refused")
            .code(),
            "horizon"
        );
        assert!(within_window(&complete(), today, today).is_ok());
        let (first, last) = window(&rules, today);
        assert_eq!(first, today.succ_opt().expect("ok"));
        assert_eq!(last, NaiveDate::from_ymd_opt(2026, 12, 31).expect("ok"));
    }

    #[test]
    fn membership_years_run_from_the_day_it_became_active() {
        let anchor = Utc
            .with_ymd_and_hms(2026, 3, 3, 15, 0, 0)
            .single()
            .expect("ok");
        let at = |y, m, d| {
            Utc.with_ymd_and_hms(y, m, d, 12, 0, 0)
                .single()
                .expect("ok")
        };
        assert_eq!(year_start(anchor, at(2026, 12, 1)), anchor);
        assert_eq!(
            year_start(anchor, at(2027, 3, 4)),
            Utc.with_ymd_and_hms(2027, 3, 3, 15, 0, 0)
                .single()
                .expect("ok")
        );
        assert_eq!(year_start(anchor, at(2027, 3, 3)), anchor);
        assert_eq!(year_start(anchor, at(2025, 1, 1)), anchor);
        assert_eq!(
            year_end(anchor),
            Utc.with_ymd_and_hms(2027, 3, 3, 15, 0, 0)
                .single()
                .expect("ok")
        );
        // A leap-day anchor keeps counting from the end of February.
        let leap = Utc
            .with_ymd_and_hms(2028, 2, 29, 0, 0, 0)
            .single()
            .expect("ok");
        assert_eq!(
            year_start(leap, at(2029, 3, 1)),
            Utc.with_ymd_and_hms(2029, 2, 28, 0, 0, 0)
                .single()
                .expect("ok")
        );
    }

    #[test]
    fn late_terms_say_what_will_happen() {
        let counted = late_effect(LatePolicy::Counted, Coverage::Included, true);
        assert!(late_terms(counted, Some(6)).contains("one of your 6 visits"));
        assert_eq!(late_token(counted), "counted");
        let fee = late_effect(LatePolicy::Fee(4_000), Coverage::Included, false);
        assert!(late_terms(fee, None).contains("$40 late-cancellation fee"));
        assert_eq!(late_token(fee), "late_fee:4000");
        let paid = late_effect(LatePolicy::Counted, Coverage::Fee(9_500), false);
        assert!(late_terms(paid, Some(6)).contains("$95 fee still applies"));
        assert_eq!(late_token(paid), "visit_fee:9500");
    }

    proptest! {
        /// P3's late half: inside 24 hours exactly the tier's policy applies. A counted policy
        /// never charges an included visit and never gives it back; a fee policy charges its fee
        /// and nothing else, and always gives the included visit back.
        #[test]
        fn p3_a_late_cancellation_applies_the_tiers_policy_and_nothing_else(
            fee in proptest::option::of(1i64..100_000),
            visit_fee in proptest::option::of(1i64..100_000),
            used_allowance in any::<bool>(),
        ) {
            let policy = fee.map(LatePolicy::Fee).unwrap_or(LatePolicy::Counted);
            let coverage = visit_fee.map(Coverage::Fee).unwrap_or(Coverage::Included);
            let used_allowance = used_allowance && coverage == Coverage::Included;
            let effect = late_effect(policy, coverage, used_allowance);
            match (policy, coverage) {
                (LatePolicy::Fee(f), _) => {
                    prop_assert_eq!(effect.charge, Some(Charge::LateFee(f)));
                    prop_assert!(!effect.keeps_allowance);
                }
                (LatePolicy::Counted, Coverage::Included) => {
                    prop_assert_eq!(effect.charge, None);
                    prop_assert_eq!(effect.keeps_allowance, used_allowance);
                }
                (LatePolicy::Counted, Coverage::Fee(v)) => {
                    prop_assert_eq!(effect.charge, Some(Charge::VisitFee(v)));
                    prop_assert!(!effect.keeps_allowance);
                }
            }
        }

        /// The allowance is a count: with `used` taken, a quote is included exactly while some
        /// are left, and beyond it never included.
        #[test]
        fn an_allowance_is_never_exceeded(allowance in 0i32..30, used in 0i32..40) {
            let mut rules = essential();
            rules.visits_per_year = Some(allowance);
            let quoted = quote(&rules, VisitType::InPerson, used, "");
            match quoted {
                Ok(q) if q.coverage == Coverage::Included => prop_assert!(used < allowance),
                Ok(q) => {
                    prop_assert!(used >= allowance);
                    prop_assert_eq!(q.coverage, Coverage::Fee(9_500));
                }
                Err(_) => prop_assert!(false, "the essential tier sells extra visits"),
            }
        }
    }
}
