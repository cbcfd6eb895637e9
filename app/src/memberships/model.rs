//! What enrollment collects, as typed and as checked, and what the portal shows of a membership.

use crate::auth::model::check_new_password;
use crate::domain::{BoundedText, Email, PhoneNumber};
use crate::error::FieldErrors;
use crate::site::model::MembershipTier;
use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

/// How many dependents the enrollment form has room for (the largest household a tier allows).
pub const MAX_DEPENDENTS_ON_FORM: usize = 4;

/// The two ways a membership is paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sea_orm::DeriveValueType))]
#[cfg_attr(feature = "ssr", sea_orm(value_type = "String"))]
pub enum BillingPeriod {
    Monthly,
    Annual,
}

impl BillingPeriod {
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "monthly" => Some(BillingPeriod::Monthly),
            "annual" => Some(BillingPeriod::Annual),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            BillingPeriod::Monthly => "monthly",
            BillingPeriod::Annual => "annual",
        }
    }

    /// "a month" / "a year", after a price.
    pub fn per(self) -> &'static str {
        match self {
            BillingPeriod::Monthly => "a month",
            BillingPeriod::Annual => "a year",
        }
    }

    pub fn months(self) -> u32 {
        match self {
            BillingPeriod::Monthly => 1,
            BillingPeriod::Annual => 12,
        }
    }

    /// Of a tier's two prices, the one for this period, in cents.
    pub fn pick(self, monthly_cents: i64, annual_cents: i64) -> i64 {
        match self {
            BillingPeriod::Monthly => monthly_cents,
            BillingPeriod::Annual => annual_cents,
        }
    }

    /// "monthly" / "yearly", after "billed".
    pub fn billed(self) -> &'static str {
        match self {
            BillingPeriod::Monthly => "monthly",
            BillingPeriod::Annual => "yearly",
        }
    }
}

crate::stored_as_text!(BillingPeriod, "billing period");

/// Where a membership stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sea_orm::DeriveValueType))]
#[cfg_attr(feature = "ssr", sea_orm(value_type = "String"))]
pub enum MembershipStatus {
    /// Waiting for the email to be confirmed and the first payment.
    Pending,
    Active,
    /// A renewal payment failed; it is being retried and the membership still works.
    PastDue,
    /// Every retry failed: booking and messaging wait for a payment.
    Suspended,
    Cancelled,
}

impl MembershipStatus {
    pub const ALL: [MembershipStatus; 5] = [
        MembershipStatus::Pending,
        MembershipStatus::Active,
        MembershipStatus::PastDue,
        MembershipStatus::Suspended,
        MembershipStatus::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MembershipStatus::Pending => "pending",
            MembershipStatus::Active => "active",
            MembershipStatus::PastDue => "past_due",
            MembershipStatus::Suspended => "suspended",
            MembershipStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == value)
    }

    pub fn label(self) -> &'static str {
        match self {
            MembershipStatus::Pending => "Not active yet",
            MembershipStatus::Active => "Active",
            MembershipStatus::PastDue => "Payment overdue",
            MembershipStatus::Suspended => "Suspended",
            MembershipStatus::Cancelled => "Cancelled",
        }
    }
}

crate::stored_as_text!(MembershipStatus, "membership status");

/// The enrollment form as typed: every field a string, so a refused form comes back exactly as
/// the visitor left it (apart from the password, which is never sent back).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct EnrollmentForm {
    pub tier: String,
    pub period: String,
    pub legal_name: String,
    pub date_of_birth: String,
    pub email: String,
    pub phone: String,
    pub street: String,
    pub street2: String,
    pub city: String,
    pub region: String,
    pub postal_code: String,
    pub emergency_name: String,
    pub emergency_relationship: String,
    pub emergency_phone: String,
    pub dependent1_name: String,
    pub dependent1_dob: String,
    pub dependent1_relationship: String,
    pub dependent2_name: String,
    pub dependent2_dob: String,
    pub dependent2_relationship: String,
    pub dependent3_name: String,
    pub dependent3_dob: String,
    pub dependent3_relationship: String,
    pub dependent4_name: String,
    pub dependent4_dob: String,
    pub dependent4_relationship: String,
    pub agree_membership: Option<String>,
    pub agree_privacy: Option<String>,
    pub password: String,
}

impl EnrollmentForm {
    /// The dependent rows as typed: (name, date of birth, relationship), field prefix.
    pub fn dependent_rows(&self) -> [(&str, &str, &str, &'static str); MAX_DEPENDENTS_ON_FORM] {
        [
            (
                self.dependent1_name.as_str(),
                self.dependent1_dob.as_str(),
                self.dependent1_relationship.as_str(),
                "dependent1",
            ),
            (
                self.dependent2_name.as_str(),
                self.dependent2_dob.as_str(),
                self.dependent2_relationship.as_str(),
                "dependent2",
            ),
            (
                self.dependent3_name.as_str(),
                self.dependent3_dob.as_str(),
                self.dependent3_relationship.as_str(),
                "dependent3",
            ),
            (
                self.dependent4_name.as_str(),
                self.dependent4_dob.as_str(),
                self.dependent4_relationship.as_str(),
                "dependent4",
            ),
        ]
    }

    /// The form with the password emptied, to show again.
    pub fn without_password(mut self) -> Self {
        self.password.clear();
        self
    }
}

/// A postal address (sealed at rest with the patient's profile).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostalAddress {
    pub street: String,
    pub street2: Option<String>,
    pub city: String,
    pub region: String,
    pub postal_code: String,
}

/// Whom to call in an emergency (sealed at rest).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmergencyContact {
    pub name: String,
    pub relationship: String,
    pub phone: String,
}

/// How a dependent is related to the member.
pub const RELATIONSHIPS: [(&str, &str); 3] = [
    ("partner", "Spouse or partner"),
    ("child", "Child"),
    ("other", "Other household member"),
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dependent {
    pub legal_name: String,
    pub date_of_birth: NaiveDate,
    pub relationship: &'static str,
}

/// An enrollment that passed every check: the types are the proof.
#[derive(Debug, Clone)]
pub struct Enrollment {
    pub tier_slug: String,
    pub period: BillingPeriod,
    pub legal_name: String,
    pub date_of_birth: NaiveDate,
    pub email: Email,
    pub phone: PhoneNumber,
    pub address: PostalAddress,
    pub emergency: EmergencyContact,
    pub dependents: Vec<Dependent>,
    pub password: String,
}

/// A date typed as `YYYY-MM-DD` (what `<input type=date>` sends), no later than `today` and
/// no more than 120 years before it.
pub fn parse_birth_date(value: &str, today: NaiveDate) -> Result<NaiveDate, &'static str> {
    let value = value.trim();
    if value.is_empty() {
        return Err("Please enter a date of birth.");
    }
    let date = NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .map_err(|_| "Please enter the date as YYYY-MM-DD, for example 1984-03-12.")?;
    if date > today {
        return Err("A date of birth cannot be in the future.");
    }
    if today.year() - date.year() > 120 {
        return Err("Please check the year: that is more than 120 years ago.");
    }
    Ok(date)
}

/// Whole years from `born` to `today`.
pub fn age_on(born: NaiveDate, today: NaiveDate) -> i32 {
    let mut age = today.year() - born.year();
    if (today.month(), today.day()) < (born.month(), born.day()) {
        age -= 1;
    }
    age
}

fn text<const MAX: usize>(
    errors: &mut FieldErrors,
    field: &str,
    value: &str,
    what: &str,
) -> Option<String> {
    match BoundedText::<1, MAX>::parse(value, what) {
        Ok(text) => Some(text.as_str().to_owned()),
        Err(message) => {
            errors.add(field, message);
            None
        }
    }
}

impl Enrollment {
    /// Checks everything typed against `tier` (the one chosen on the form). Every problem is
    /// reported at once, each under its field.
    pub fn parse(
        form: &EnrollmentForm,
        tier: &MembershipTier,
        today: NaiveDate,
    ) -> Result<Enrollment, FieldErrors> {
        let mut errors = FieldErrors::default();
        let period = BillingPeriod::parse(&form.period);
        if period.is_none() {
            errors.add("period", "Please choose monthly or annual billing.");
        }
        let legal_name = text::<120>(
            &mut errors,
            "legal_name",
            &form.legal_name,
            "your legal name",
        );
        let date_of_birth = match parse_birth_date(&form.date_of_birth, today) {
            Ok(date) if age_on(date, today) < 18 => {
                errors.add(
                    "date_of_birth",
                    "The member who signs up must be 18 or older. A parent or guardian can join and add children as dependents.",
                );
                None
            }
            Ok(date) => Some(date),
            Err(message) => {
                errors.add("date_of_birth", message);
                None
            }
        };
        let email = Email::parse(&form.email)
            .map_err(|message| errors.add("email", message))
            .ok();
        let phone = PhoneNumber::parse(&form.phone)
            .map_err(|message| errors.add("phone", message))
            .ok();
        let street = text::<200>(&mut errors, "street", &form.street, "your street address");
        let city = text::<100>(&mut errors, "city", &form.city, "your city or town");
        let region = text::<100>(&mut errors, "region", &form.region, "your state");
        let postal_code = match form.postal_code.trim() {
            "" => {
                errors.add("postal_code", "Please enter your ZIP code.");
                None
            }
            code if code.len() <= 12
                && code
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == ' ') =>
            {
                Some(code.to_owned())
            }
            _ => {
                errors.add(
                    "postal_code",
                    "Please enter a ZIP code of letters, digits and dashes, for example 04101.",
                );
                None
            }
        };
        let street2 = Some(form.street2.trim().chars().take(200).collect::<String>())
            .filter(|s| !s.is_empty());
        let emergency_name = text::<120>(
            &mut errors,
            "emergency_name",
            &form.emergency_name,
            "an emergency contact's name",
        );
        let emergency_relationship = text::<60>(
            &mut errors,
            "emergency_relationship",
            &form.emergency_relationship,
            "how they are related to you",
        );
        let emergency_phone = PhoneNumber::parse(&form.emergency_phone)
            .map_err(|message| errors.add("emergency_phone", message))
            .ok();
        let mut dependents = Vec::new();
        for (name, dob, relationship, prefix) in form.dependent_rows() {
            if name.trim().is_empty() && dob.trim().is_empty() {
                continue;
            }
            let name = text::<120>(
                &mut errors,
                &format!("{prefix}_name"),
                name,
                "the dependent's legal name",
            );
            let dob = parse_birth_date(dob, today)
                .map_err(|message| errors.add(&format!("{prefix}_dob"), message))
                .ok();
            let relationship = RELATIONSHIPS
                .iter()
                .find(|(value, _)| *value == relationship)
                .map(|(value, _)| *value);
            if relationship.is_none() {
                errors.add(
                    &format!("{prefix}_relationship"),
                    "Please choose how they are related to you.",
                );
            }
            if let (Some(legal_name), Some(date_of_birth), Some(relationship)) =
                (name, dob, relationship)
            {
                dependents.push(Dependent {
                    legal_name,
                    date_of_birth,
                    relationship,
                });
            }
        }
        let allowed = usize::try_from(tier.max_dependents).unwrap_or(0);
        if dependents.len() > allowed {
            errors.add(
                "dependents",
                if allowed == 0 {
                    format!(
                        "The {} membership covers one person. Choose the Family membership to add dependents.",
                        tier.name
                    )
                } else {
                    format!(
                        "The {} membership covers up to {allowed} dependents.",
                        tier.name
                    )
                },
            );
        }
        if form.agree_membership.is_none() {
            errors.add(
                "agree_membership",
                "Please read and accept the membership agreement to join.",
            );
        }
        if form.agree_privacy.is_none() {
            errors.add(
                "agree_privacy",
                "Please confirm you have read the notice of privacy practices.",
            );
        }
        if let Err(problem) = check_new_password(&form.password, &form.email) {
            errors.add("password", problem.to_string());
        }
        match (
            period,
            legal_name,
            date_of_birth,
            email,
            phone,
            street,
            city,
            region,
            postal_code,
            emergency_name,
            emergency_relationship,
            emergency_phone,
        ) {
            (
                Some(period),
                Some(legal_name),
                Some(date_of_birth),
                Some(email),
                Some(phone),
                Some(street),
                Some(city),
                Some(region),
                Some(postal_code),
                Some(emergency_name),
                Some(emergency_relationship),
                Some(emergency_phone),
            ) if errors.is_empty() => Ok(Enrollment {
                tier_slug: tier.slug.clone(),
                period,
                legal_name,
                date_of_birth,
                email,
                phone,
                address: PostalAddress {
                    street,
                    street2,
                    city,
                    region,
                    postal_code,
                },
                emergency: EmergencyContact {
                    name: emergency_name,
                    relationship: emergency_relationship,
                    phone: emergency_phone.as_str().to_owned(),
                },
                dependents,
                password: form.password.clone(),
            }),
            _ => Err(errors),
        }
    }
}

/// What moving to another membership (or billing period) does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PlanChange {
    /// A dearer membership, same billing period: it starts now, and the difference for the rest
    /// of the paid period is charged today.
    UpgradeNow { charge_now_cents: i64 },
    /// Cheaper, or another billing period: it starts when the paid period ends; nothing is
    /// charged or refunded now.
    AtPeriodEnd,
}

/// The difference between two prices for what is left of a period, in cents, rounded to the
/// nearest cent (never negative).
pub fn proration_cents(
    old_price_cents: i64,
    new_price_cents: i64,
    period_start: chrono::DateTime<chrono::Utc>,
    period_end: chrono::DateTime<chrono::Utc>,
    now: chrono::DateTime<chrono::Utc>,
) -> i64 {
    let total = (period_end - period_start).num_seconds().max(1);
    let left = (period_end - now).num_seconds().clamp(0, total);
    let difference = i128::from((new_price_cents - old_price_cents).max(0));
    let cents = (difference * i128::from(left) * 2 + i128::from(total)) / (2 * i128::from(total));
    i64::try_from(cents).unwrap_or(0)
}

/// What moving from (`old_price`, `old_period`) to (`new_price`, `new_period`) does.
pub fn plan_change(
    old_price_cents: i64,
    old_period: BillingPeriod,
    new_price_cents: i64,
    new_period: BillingPeriod,
    prorated_difference_cents: i64,
) -> PlanChange {
    if new_period == old_period && new_price_cents > old_price_cents {
        PlanChange::UpgradeNow {
            charge_now_cents: prorated_difference_cents,
        }
    } else {
        PlanChange::AtPeriodEnd
    }
}

/// Another membership a member could move to, with what moving does, stated before they
/// confirm.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanOption {
    pub slug: String,
    pub name: String,
    pub period: BillingPeriod,
    pub price_cents: i64,
    pub change: PlanChange,
    /// When an at-period-end change starts.
    pub starts_on: String,
}

/// A patient's membership as the portal shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MembershipOverview {
    pub public_id: String,
    pub tier_name: String,
    pub period: BillingPeriod,
    pub price_cents: i64,
    pub status: MembershipStatus,
    pub email_confirmed: bool,
    pub email: String,
    /// Paid through this day (the practice's calendar), once paid.
    pub paid_through: Option<String>,
    pub commitment_ends: Option<String>,
    pub dependents: Vec<String>,
    pub invoices: Vec<crate::billing::model::InvoiceSummary>,
    /// A payment is owed now: the first one, or a failed renewal.
    pub payment_due: bool,
    /// When the next retry of a failed payment is planned.
    pub next_retry: Option<String>,
    /// Memberships the member can move to (active memberships only).
    pub options: Vec<PlanOption>,
    /// A move already planned for the end of the period: (membership name, day).
    pub pending_change: Option<(String, String)>,
    /// The day the membership would end if cancelled now.
    pub would_end_on: Option<String>,
    /// The day a cancelled membership ends.
    pub ends_on: Option<String>,
    /// Sent back with each change form of this page: a double-submitted form is the same
    /// request to the payment processor (its idempotency key), a new page is a new one.
    pub form_key: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tier(dependents: i32) -> MembershipTier {
        MembershipTier {
            slug: "family".into(),
            name: "Family".into(),
            tagline: String::new(),
            monthly_price_cents: 34_900,
            annual_price_cents: 379_000,
            visits_per_year: None,
            includes_in_person: true,
            includes_telemedicine: true,
            includes_home_visits: true,
            max_dependents: dependents,
            commitment_months: 12,
            cancellation_policy: String::new(),
            late_cancellation_policy: String::new(),
            benefits: vec![],
            featured: false,
            booking_horizon_days: 60,
            same_day_booking: true,
            extra_visit_fee_cents: None,
            home_visit_fee_cents: None,
            late_fee_cents: Some(4_000),
        }
    }

    pub fn filled() -> EnrollmentForm {
        EnrollmentForm {
            tier: "family".into(),
            period: "monthly".into(),
            legal_name: "Ana Ruiz".into(),
            date_of_birth: "1980-02-29".into(),
            email: "ana.ruiz@example.com".into(),
            phone: "(207) 555-0101".into(),
            street: "12 Pine St".into(),
            city: "Portland".into(),
            region: "ME".into(),
            postal_code: "04101".into(),
            emergency_name: "Luis Ruiz".into(),
            emergency_relationship: "Husband".into(),
            emergency_phone: "207-555-0102".into(),
            agree_membership: Some("on".into()),
            agree_privacy: Some("on".into()),
            password: "lantern harbor quietly 42".into(),
            ..Default::default()
        }
    }

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 27).expect("date")
    }

    #[test]
    fn a_complete_form_becomes_an_enrollment() {
        let enrollment = Enrollment::parse(&filled(), &tier(4), today()).expect("valid");
        assert_eq!(enrollment.period, BillingPeriod::Monthly);
        assert_eq!(enrollment.address.street2, None);
        assert!(enrollment.dependents.is_empty());
    }

    #[test]
    fn every_problem_is_reported_under_its_own_field() {
        let mut form = filled();
        form.date_of_birth = "2030-01-01".into();
        form.phone = "call me".into();
        form.email = "ana@".into();
        form.postal_code = "<04101>".into();
        form.agree_privacy = None;
        form.password = "short".into();
        let errors = Enrollment::parse(&form, &tier(4), today()).expect_err("invalid");
        for field in [
            "date_of_birth",
            "phone",
            "email",
            "postal_code",
            "agree_privacy",
            "password",
        ] {
            assert!(errors.get(field).is_some(), "{field}: {errors:?}");
        }
        assert_eq!(errors.len(), 6);
    }

    #[test]
    fn a_minor_cannot_sign_up_as_the_member() {
        let mut form = filled();
        form.date_of_birth = "2010-05-01".into();
        let errors = Enrollment::parse(&form, &tier(4), today()).expect_err("minor");
        assert!(errors
            .get("date_of_birth")
            .is_some_and(|m| m.contains("18")));
    }

    #[test]
    fn dependents_are_kept_when_the_tier_allows_them_and_refused_when_not() {
        let mut form = filled();
        form.dependent1_name = "Sofia Ruiz".into();
        form.dependent1_dob = "2015-06-01".into();
        form.dependent1_relationship = "child".into();
        let enrollment = Enrollment::parse(&form, &tier(4), today()).expect("valid");
        assert_eq!(enrollment.dependents.len(), 1);
        assert_eq!(enrollment.dependents[0].relationship, "child");
        let errors = Enrollment::parse(&form, &tier(0), today()).expect_err("no room");
        assert!(errors.get("dependents").is_some());
    }

    #[test]
    fn a_half_filled_dependent_row_says_what_is_missing() {
        let mut form = filled();
        form.dependent2_name = "Sofia Ruiz".into();
        let errors = Enrollment::parse(&form, &tier(4), today()).expect_err("missing");
        assert!(errors.get("dependent2_dob").is_some());
        assert!(errors.get("dependent2_relationship").is_some());
    }

    #[test]
    fn an_upgrade_charges_the_difference_for_what_is_left_of_the_period() {
        use chrono::{Duration, TimeZone, Utc};
        let start = Utc
            .with_ymd_and_hms(2026, 11, 1, 0, 0, 0)
            .single()
            .expect("t");
        let end = start + Duration::days(30);
        assert_eq!(proration_cents(19_900, 34_900, start, end, start), 15_000);
        assert_eq!(
            proration_cents(19_900, 34_900, start, end, start + Duration::days(15)),
            7_500
        );
        assert_eq!(proration_cents(19_900, 34_900, start, end, end), 0);
        assert_eq!(proration_cents(19_900, 12_900, start, end, start), 0);
        assert_eq!(
            plan_change(
                19_900,
                BillingPeriod::Monthly,
                34_900,
                BillingPeriod::Monthly,
                7_500
            ),
            PlanChange::UpgradeNow {
                charge_now_cents: 7_500
            }
        );
        assert_eq!(
            plan_change(
                19_900,
                BillingPeriod::Monthly,
                12_900,
                BillingPeriod::Monthly,
                0
            ),
            PlanChange::AtPeriodEnd
        );
        assert_eq!(
            plan_change(
                19_900,
                BillingPeriod::Monthly,
                215_000,
                BillingPeriod::Annual,
                0
            ),
            PlanChange::AtPeriodEnd
        );
    }

    proptest::proptest! {
        #[test]
        fn proration_is_never_more_than_the_difference_and_shrinks_as_the_period_passes(
            old in 0i64..500_000, raise in 0i64..500_000, days in 1i64..400, a in 0i64..400, b in 0i64..400,
        ) {
            use chrono::{Duration, TimeZone, Utc};
            let start = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).single().expect("t");
            let end = start + Duration::days(days);
            let (early, late) = (a.min(b), a.max(b));
            let at = |d: i64| start + Duration::hours(d * days * 24 / 400);
            let first = proration_cents(old, old + raise, start, end, at(early));
            let second = proration_cents(old, old + raise, start, end, at(late));
            proptest::prop_assert!(first <= raise && first >= 0);
            proptest::prop_assert!(second <= first);
        }
    }

    #[test]
    fn age_counts_whole_years_including_leap_day_birthdays() {
        let born = NaiveDate::from_ymd_opt(1980, 2, 29).expect("date");
        assert_eq!(
            age_on(born, NaiveDate::from_ymd_opt(2026, 2, 28).expect("d")),
            45
        );
        assert_eq!(
            age_on(born, NaiveDate::from_ymd_opt(2026, 3, 1).expect("d")),
            46
        );
    }
}
