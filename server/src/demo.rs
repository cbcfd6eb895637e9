//! `bedside seed-demo`: a complete demo practice, so a fresh checkout shows a real website.

use app::appointments::VisitType;
use app::site::entity::{membership_tier, practice, practice_service};
use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, TransactionTrait,
};

fn list(items: &[&str]) -> String {
    serde_json::to_string(items).unwrap_or_else(|_| "[]".to_owned())
}

/// Seeds the demo practice unless a practice exists already, and its schedule unless one
/// exists. Returns whether it seeded the practice.
pub async fn seed(db: &DatabaseConnection) -> anyhow::Result<bool> {
    seed_schedule(db).await?;
    if practice::Entity::find().count(db).await? > 0 {
        // A demo database from before the membership agreement existed gets it now.
        practice::Entity::update_many()
            .col_expr(
                practice::Column::MembershipAgreement,
                MEMBERSHIP_AGREEMENT.into(),
            )
            .col_expr(
                practice::Column::MembershipAgreementVersion,
                MEMBERSHIP_AGREEMENT_VERSION.into(),
            )
            .filter(practice::Column::MembershipAgreementVersion.eq(""))
            .exec(db)
            .await?;
        return Ok(false);
    }
    let txn = db.begin().await?;
    practice::ActiveModel {
        name: Set("Harbor Street Medicine".into()),
        tagline: Set("Unhurried care from a physician who knows you.".into()),
        intro: Set("A small membership practice in Portland, Maine. Visits that start on time and last as long as you need, a direct line to your doctor, and care that follows you from the exam room to your home.".into()),
        physician_name: Set("Dr. Elena Marsh".into()),
        physician_credentials: Set("MD, FACP · Internal Medicine".into()),
        physician_photo: Set("/images/dr-elena-marsh.svg".into()),
        physician_photo_alt: Set("Portrait of Dr. Elena Marsh in a white coat".into()),
        physician_bio: Set("Dr. Marsh has practised internal medicine since 2008, first as a hospitalist at Maine Medical Center and then for ten years in a busy primary-care group. She opened Harbor Street Medicine in 2019 to practise the way she was trained to: with time to listen, to explain, and to follow through. She limits her practice to 400 members so that every patient can reach her directly, and she still makes home visits to members who cannot easily come in.".into()),
        practicing_since: Set(2008),
        specialties: Set(list(&["Adult primary care", "Preventive medicine", "Diabetes and heart disease", "Healthy ageing and care of older adults"])),
        board_certifications: Set(list(&["American Board of Internal Medicine", "Obesity Medicine (ABOM)"])),
        education: Set(list(&["MD, University of Vermont Larner College of Medicine", "Residency in Internal Medicine, Maine Medical Center", "Fellow of the American College of Physicians"])),
        street: Set("214 Harbor Street, Suite 3".into()),
        locality: Set("Portland".into()),
        region: Set("ME".into()),
        postal_code: Set("04101".into()),
        phone: Set("(207) 555-0142".into()),
        email: Set("hello@harborstreetmedicine.example".into()),
        hours: Set(serde_json::to_string(&serde_json::json!([
            {"days": "Monday – Thursday", "hours": "8:00 am – 5:30 pm"},
            {"days": "Friday", "hours": "8:00 am – 3:00 pm"},
            {"days": "Saturday & Sunday", "hours": "Members' on-call line"}
        ]))?),
        time_zone: Set("America/New_York".into()),
        privacy_notice: Set(PRIVACY_NOTICE.into()),
        privacy_notice_version: Set("2026-11-01".into()),
        membership_agreement: Set(MEMBERSHIP_AGREEMENT.into()),
        membership_agreement_version: Set(MEMBERSHIP_AGREEMENT_VERSION.into()),
        updated_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&txn)
    .await?;

    let services: [(&str, &str, &str, &str, &[&str]); 5] = [
        ("in-person-visits", "In-person visits", "Unhurried visits in our Harbor Street office, usually the same or the next day.",
         "Visits are booked for 30 to 60 minutes, start on time, and happen with Dr. Marsh herself. Bring every question: there is time for all of them. Routine in-office tests such as ECGs, strep and urine tests are included.",
         &["Same-day or next-day appointments", "30–60 minute visits with your physician", "In-office tests included", "Blood draws on site at wholesale lab prices"]),
        ("telemedicine", "Video visits", "See your doctor from home or work over a secure video call.",
         "Many concerns don't need a trip to the office. Video visits run in your browser, with no app to install, and are protected like an in-person visit: only you and your physician can join.",
         &["Secure video in the browser", "Follow-ups, medication reviews, new concerns", "Secure messaging between visits"]),
        ("preventive-care", "Preventive care", "An annual physical that actually looks ahead, with a plan you keep.",
         "Your yearly exam includes a full history, a physical examination, age-appropriate screening and vaccines, and a written plan. We track your screenings and remind you when something is due.",
         &["Comprehensive annual physical", "Screening and vaccine tracking", "Personal prevention plan", "Nutrition and activity coaching"]),
        ("chronic-disease-management", "Chronic disease management", "Steady, close care for diabetes, high blood pressure, heart and lung conditions.",
         "Long-term conditions improve with frequent, unhurried contact. We review your readings between visits, adjust treatment early, and coordinate with your specialists so that nothing falls through the cracks.",
         &["Regular check-ins between visits", "Home readings reviewed by your physician", "Coordination with specialists and hospitals", "Medication reviews"]),
        ("home-visits", "Home visits", "For members who cannot easily come to us, we come to you.",
         "Home visits are part of the Family membership and available to other members for a fee. They suit older adults, new parents and anyone recovering from illness or surgery within 15 miles of the office.",
         &["Within 15 miles of the office", "Included in the Family membership", "Ideal after a hospital stay"]),
    ];
    for (order, (slug, name, summary, description, highlights)) in services.into_iter().enumerate()
    {
        practice_service::ActiveModel {
            slug: Set(slug.into()),
            name: Set(name.into()),
            summary: Set(summary.into()),
            description: Set(description.into()),
            highlights: Set(list(highlights)),
            sort_order: Set(i32::try_from(order)?),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
    }

    struct Tier<'a> {
        slug: &'a str,
        name: &'a str,
        tagline: &'a str,
        monthly: i64,
        annual: i64,
        visits: Option<i32>,
        home: bool,
        dependents: i32,
        commitment: i32,
        cancel: &'a str,
        horizon: i32,
        same_day: bool,
        extra_fee: Option<i64>,
        home_fee: Option<i64>,
        late_fee: Option<i64>,
        benefits: &'a [&'a str],
        featured: bool,
    }
    let tiers = [
        Tier { slug: "essential", name: "Essential", tagline: "For healthy adults who want a doctor they can reach.",
            monthly: 12_900, annual: 139_000, visits: Some(6), home: false, dependents: 0, commitment: 3,
            cancel: "Cancel any time after the first 3 months with 30 days' notice. Leaving earlier costs the remaining months of the 3-month commitment.",
            horizon: 30, same_day: false, extra_fee: Some(9_500), home_fee: None, late_fee: None,
            benefits: &["6 visits a year, in person or by video", "Annual physical and prevention plan", "Secure messaging, answered within one business day", "Wholesale prices on labs and common medicines"], featured: false },
        Tier { slug: "complete", name: "Complete", tagline: "Unlimited visits and a direct line to Dr. Marsh.",
            monthly: 19_900, annual: 215_000, visits: None, home: false, dependents: 0, commitment: 6,
            cancel: "Cancel any time after the first 6 months with 30 days' notice. Leaving earlier costs the remaining months of the 6-month commitment.",
            horizon: 60, same_day: true, extra_fee: None, home_fee: Some(15_000), late_fee: Some(4_000),
            benefits: &["Unlimited visits, in person or by video", "Same-day or next-day appointments", "Direct phone and text line to your physician", "Chronic condition management", "Home visits at $150 each"], featured: true },
        Tier { slug: "family", name: "Family", tagline: "Complete care for your household, including home visits.",
            monthly: 34_900, annual: 379_000, visits: None, home: true, dependents: 4, commitment: 12,
            cancel: "Cancel at the end of your 12-month commitment with 30 days' notice. Leaving earlier costs half of the remaining months.",
            horizon: 90, same_day: true, extra_fee: None, home_fee: None, late_fee: Some(4_000),
            benefits: &["Everything in Complete for you", "Up to 4 dependents (partner and children)", "Home visits included", "Newborn and well-child care", "After-hours on-call line"], featured: false },
    ];
    for (order, t) in tiers.iter().enumerate() {
        membership_tier::ActiveModel {
            slug: Set(t.slug.into()),
            name: Set(t.name.into()),
            tagline: Set(t.tagline.into()),
            monthly_price_cents: Set(t.monthly),
            annual_price_cents: Set(t.annual),
            visits_per_year: Set(t.visits),
            includes_in_person: Set(true),
            includes_telemedicine: Set(true),
            includes_home_visits: Set(t.home),
            max_dependents: Set(t.dependents),
            commitment_months: Set(t.commitment),
            cancellation_policy: Set(t.cancel.into()),
            // What the pages show is said from `late_fee_cents`; kept for older readers.
            late_cancellation_policy: Set(app::appointments::benefits::late_policy_text(
                app::appointments::benefits::LatePolicy::from_fee(t.late_fee),
                t.visits,
            )),
            booking_horizon_days: Set(t.horizon),
            same_day_booking: Set(t.same_day),
            extra_visit_fee_cents: Set(t.extra_fee),
            home_visit_fee_cents: Set(t.home_fee),
            late_fee_cents: Set(t.late_fee),
            benefits: Set(list(t.benefits)),
            featured: Set(t.featured),
            active: Set(true),
            sort_order: Set(i32::try_from(order)?),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
    }
    txn.commit().await?;
    Ok(true)
}

/// The version of the membership agreement the demo practice shows; consents name it.
pub const MEMBERSHIP_AGREEMENT_VERSION: &str = "2026-11-01";

const MEMBERSHIP_AGREEMENT: &str = "This agreement is between you (the member) and Harbor Street Medicine (the practice). It describes what your membership includes and what it costs. It is not health insurance.

## What the membership includes
The services listed for your membership tier on our memberships page, for you and for any dependents you add where your tier allows them. Care outside the practice (hospital care, specialists, imaging, emergency care) is not included; we recommend keeping insurance for it.

## Fees and billing
You pay your tier's fee monthly or yearly, in advance, by card, through our payment processor; we never see or store your card number. If a payment fails we try again three times over five days and tell you each time; after the last failure your membership is suspended until the fee is paid.

## Commitment and cancelling
Your tier names its commitment period and how to cancel. You may upgrade at any time (the difference is charged for the rest of the period) and downgrade at the end of a period. Visits cancelled less than 24 hours ahead follow your tier's late-cancellation policy.

## Emergencies
The membership does not replace emergency care. In an emergency, call 911.

## Privacy
We protect your health information as our notice of privacy practices describes.";

const PRIVACY_NOTICE: &str = "This notice describes how medical information about you may be used and disclosed, and how you can get access to this information. Please review it carefully.

## Our commitment

Harbor Street Medicine is required by law to keep your health information private, to give you this notice of our legal duties and privacy practices, and to follow the notice that is currently in effect.

## How we use your health information

We use your information to treat you (for example, to share results with a specialist you are referred to), to run the practice (for example, to review the quality of our care), and to bill your membership. Because we do not bill insurance for membership services, your visit details are not sent to an insurer unless you ask us to.

## What we protect, and how

Your records, messages and documents are encrypted when they are stored. Every time someone opens your record, our system writes down who it was, when, and why; these entries cannot be changed. Only you, your physician and staff you have authorised can read your records.

## Information from this website

When you write to us through the contact form, we keep your name, contact details and message so that we can answer. We do not sell your information, we do not use advertising trackers, and this website sets no cookies until you sign in to the patient portal.

## Your rights

You may see and get a copy of your records, ask us to correct them, ask for a list of those with whom we have shared them, ask us to limit what we share, and choose how we contact you. Ask us in writing or through the patient portal; we will answer within 30 days.

## Questions and complaints

If you believe your privacy rights have been violated, you may contact our privacy officer at the address below, or the U.S. Department of Health and Human Services Office for Civil Rights. We will never retaliate against you for filing a complaint.";

/// A demo account, as `seed-demo` prints it.
#[derive(Debug, Clone)]
pub struct DemoAccount {
    pub role: app::auth::Role,
    pub name: String,
    pub email: String,
    pub password: String,
    /// The authenticator key, for accounts with two-step sign-in on.
    pub mfa_key: Option<String>,
}

/// Where `seed-demo` writes the demo accounts (readable by the owner only).
pub const DEMO_ACCOUNTS_FILE: &str = "demo-accounts.txt";

/// A random passphrase: four words and two digits (demo accounts only).
fn demo_password() -> String {
    use rand::Rng;
    const WORDS: [&str; 32] = [
        "harbor", "lantern", "violet", "cedar", "meadow", "pebble", "willow", "copper", "amber",
        "falcon", "orchard", "maple", "tide", "heron", "granite", "saffron", "juniper", "marble",
        "quartz", "thistle", "beacon", "canyon", "ember", "fjord", "glacier", "hollow", "island",
        "kestrel", "lichen", "mosaic", "nectar", "osprey",
    ];
    let mut rng = rand::rng();
    let words: Vec<&str> = (0..4)
        .map(|_| WORDS[rng.random_range(0..WORDS.len())])
        .collect();
    format!("{}-{:02}", words.join("-"), rng.random_range(10..100))
}

/// Creates the demo practice's people (physician, staff, admin, two patients) unless any account
/// exists. Passwords are random per installation; they are written to `data_dir/demo-accounts.txt`.
pub async fn seed_accounts(
    identity: &app::auth::service::Identity,
    objects: &app::storage::Objects,
    data_dir: &std::path::Path,
) -> anyhow::Result<Option<Vec<DemoAccount>>> {
    use app::auth::{service::NewAccount, Role};
    use app::patients::service::{create, NewPatient};
    if app::auth::entity::user_account::Entity::find()
        .count(identity.db())
        .await?
        > 0
    {
        return Ok(None);
    }
    let people = [
        (
            Role::Physician,
            "Dr. Elena Marsh",
            "dr.marsh@harborstreetmedicine.example",
            None,
        ),
        (
            Role::Staff,
            "Sam Whitaker",
            "frontdesk@harborstreetmedicine.example",
            None,
        ),
        (
            Role::Admin,
            "Priya Natarajan",
            "admin@harborstreetmedicine.example",
            None,
        ),
        (
            Role::Patient,
            "Maria Lopez",
            "maria.lopez@example.com",
            Some(("1984-03-12", "(207) 555-0187")),
        ),
        (
            Role::Patient,
            "James Okafor",
            "james.okafor@example.com",
            Some(("1957-09-30", "(207) 555-0164")),
        ),
    ];
    let mut accounts = Vec::new();
    let mut physician = None;
    for (role, name, email, patient) in people {
        let password = demo_password();
        let user = identity
            .create_account(&NewAccount {
                email: email.into(),
                display_name: name.into(),
                role,
                password: password.clone(),
            })
            .await
            .map_err(|e| anyhow::anyhow!("creating {email}: {e:?}"))?;
        if role == Role::Physician {
            physician = Some(user.id);
        }
        let mfa_key = if role.requires_mfa() {
            let secret = app::auth::totp::new_secret();
            identity
                .enable_mfa_with_secret(user.id, &secret)
                .await
                .map_err(|e| anyhow::anyhow!("turning on MFA for {email}: {e:?}"))?;
            Some(app::auth::totp::manual_key(&secret))
        } else {
            None
        };
        if let Some((dob, phone)) = patient {
            let record = create(
                identity.db(),
                identity.keyring(),
                &NewPatient {
                    user_id: Some(user.id),
                    legal_name: name.into(),
                    date_of_birth: chrono::NaiveDate::parse_from_str(dob, "%Y-%m-%d")?,
                    phone: app::domain::PhoneNumber::parse(phone).ok(),
                },
                identity.now(),
            )
            .await
            .map_err(|e| anyhow::anyhow!("creating the patient record of {email}: {e:?}"))?;
            demo_membership(identity, user.id, record.id)
                .await
                .map_err(|e| anyhow::anyhow!("creating the membership of {email}: {e:?}"))?;
            // Recorded by the physician (created first).
            let by = physician.unwrap_or(user.id);
            for item in crate::demo_chart::chart_of(name) {
                app::records::service::file(
                    identity.db(),
                    identity.keyring(),
                    record.id,
                    by,
                    &item,
                    identity.now(),
                )
                .await
                .map_err(|e| anyhow::anyhow!("filing the chart of {email}: {e:?}"))?;
            }
            crate::demo_visits::file(
                identity.db(),
                identity.keyring(),
                record.id,
                name,
                by,
                identity.now(),
            )
            .await?;
            if let Some((dob, _)) = patient {
                lab_report(identity, objects, record.id, name, dob, by).await?;
            }
            crate::demo_messages::file(identity, record.id, user.id, by, name).await?;
        }
        accounts.push(DemoAccount {
            role,
            name: name.into(),
            email: email.into(),
            password,
            mfa_key,
        });
    }
    std::fs::create_dir_all(data_dir)?;
    let path = data_dir.join(DEMO_ACCOUNTS_FILE);
    let _ = std::fs::remove_file(&path);
    crate::keys::write_private(&path, &describe_accounts(&accounts))?;
    Ok(Some(accounts))
}

/// Files the demo lab report of patient `name`, collected nine days ago, as the physician.
async fn lab_report(
    identity: &app::auth::service::Identity,
    objects: &app::storage::Objects,
    patient_id: i32,
    name: &str,
    born: &str,
    by: i32,
) -> anyhow::Result<()> {
    use app::records::documents::model::{DocumentDetails, DocumentKind, MediaType};
    use app::records::documents::service::{file, NewDocument, NewFile};
    let collected = (identity.now() - chrono::Duration::days(9)).date_naive();
    let Some((title, bytes)) = crate::demo_lab::report_of(name, born, collected)? else {
        return Ok(());
    };
    let public_id = uuid::Uuid::new_v4().simple().to_string();
    let row = NewDocument {
        public_id: &public_id,
        patient_id,
        appointment_id: None,
        details: DocumentDetails {
            kind: DocumentKind::LabResult,
            date: collected,
            title: title.clone(),
        },
        file: NewFile {
            file_name: format!("{}.pdf", title.to_lowercase().replace(' ', "-")),
            media_type: MediaType::Pdf,
        },
        size: bytes.len() as u64,
        by,
        at: identity.now(),
    };
    file(identity.db(), identity.keyring(), objects, row, bytes)
        .await
        .map_err(|e| anyhow::anyhow!("filing the lab report of {name}: {e:?}"))
}

/// The demo patients are members already: a confirmed address and a paid month of the Complete
/// membership (paid outside the processor, so nothing renews it and visit charges are left for
/// the practice to collect: the demo's own joins show the payment flow).
async fn demo_membership(
    identity: &app::auth::service::Identity,
    user_id: i32,
    patient_id: i32,
) -> anyhow::Result<()> {
    use app::auth::entity::user_account;
    let db = identity.db();
    let now = identity.now();
    user_account::Entity::update_many()
        .col_expr(user_account::Column::EmailVerifiedAt, Some(now).into())
        .filter(user_account::Column::Id.eq(user_id))
        .exec(db)
        .await?;
    active_membership(db, patient_id, "complete", now).await?;
    Ok(())
}

/// Makes `patient_id` an active member of the tier `tier_slug` from `now`, with a month paid
/// outside the processor (the demo's members, and tests that are about something else).
pub async fn active_membership(
    db: &DatabaseConnection,
    patient_id: i32,
    tier_slug: &str,
    now: chrono::DateTime<Utc>,
) -> anyhow::Result<app::memberships::entity::membership::Model> {
    use app::memberships::entity::membership;
    let tier = membership_tier::Entity::find()
        .filter(membership_tier::Column::Slug.eq(tier_slug))
        .one(db)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no membership tier {tier_slug}"))?;
    let months = u32::try_from(tier.commitment_months).unwrap_or(0);
    Ok(membership::ActiveModel {
        public_id: Set(uuid::Uuid::new_v4().simple().to_string()),
        patient_id: Set(patient_id),
        tier_id: Set(tier.id),
        billing_period: Set(app::memberships::model::BillingPeriod::Monthly),
        status: Set(app::memberships::model::MembershipStatus::Active),
        current_period_start: Set(Some(now)),
        current_period_end: Set(now.checked_add_months(chrono::Months::new(1))),
        commitment_ends_at: Set(now.checked_add_months(chrono::Months::new(months))),
        activated_at: Set(Some(now)),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?)
}

/// The demo accounts as printed and written to the file.
pub fn describe_accounts(accounts: &[DemoAccount]) -> String {
    let mut text =
        String::from("Demo accounts (development only; passwords are random per installation):\n");
    for account in accounts {
        text.push_str(&format!(
            "  {:<13} {:<40} password: {}\n",
            account.role.label(),
            account.email,
            account.password
        ));
        if let Some(key) = &account.mfa_key {
            text.push_str(&format!(
                "  {:<13} two-step sign-in key: {key}  (or run: bedside mfa-code {})\n",
                "", account.email
            ));
        }
    }
    text
}

/// The current authenticator code of an account (`bedside mfa-code`, development only): lets a
/// person trying the demo sign in as the physician without an authenticator app.
pub async fn current_mfa_code(
    db: &DatabaseConnection,
    keyring: &app::crypto::Keyring,
    email: &str,
    now: chrono::DateTime<Utc>,
) -> anyhow::Result<String> {
    use app::auth::entity::user_account;
    use sea_orm::{ColumnTrait, QueryFilter};
    let user = user_account::Entity::find()
        .filter(user_account::Column::Email.eq(email.trim().to_lowercase()))
        .one(db)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no account uses {email}"))?;
    let sealed = user
        .mfa_secret
        .ok_or_else(|| anyhow::anyhow!("{email} has no authenticator set up"))?;
    let secret: Vec<u8> = sealed
        .open(
            keyring,
            &app::crypto::FieldContext {
                table: "user_account",
                column: "mfa_secret",
                row: &user.public_id,
            },
        )
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let step = app::auth::totp::step_of(u64::try_from(now.timestamp()).unwrap_or(0));
    Ok(app::auth::totp::code_at_step(&secret, step))
}

/// Dr. Marsh's week (America/New_York): office visits Monday to Friday mornings and Monday and
/// Wednesday afternoons, video visits over lunch, home visits Tuesday and Thursday afternoons.
pub async fn seed_schedule(db: &DatabaseConnection) -> anyhow::Result<()> {
    use app::appointments::entity::{schedule_setting, visit_length, weekly_hours};
    if schedule_setting::Entity::find().count(db).await? > 0 {
        return Ok(());
    }
    let txn = db.begin().await?;
    schedule_setting::ActiveModel {
        id: Set(1),
        time_zone: Set("America/New_York".into()),
        revision: Set(0),
    }
    .insert(&txn)
    .await?;
    for (visit_type, minutes, buffer) in [
        (VisitType::InPerson, 30, 10),
        (VisitType::Telemedicine, 20, 5),
        (VisitType::HomeVisit, 60, 30),
    ] {
        visit_length::ActiveModel {
            visit_type: Set(visit_type),
            minutes: Set(minutes),
            buffer_minutes: Set(buffer),
        }
        .insert(&txn)
        .await?;
    }
    let h = |hour: i32, minute: i32| hour * 60 + minute;
    let mut hours = Vec::new();
    for weekday in 0..5i16 {
        hours.push((VisitType::InPerson, weekday, h(8, 0), h(12, 0)));
        hours.push((VisitType::Telemedicine, weekday, h(12, 0), h(13, 0)));
    }
    for weekday in [0i16, 2] {
        hours.push((VisitType::InPerson, weekday, h(13, 30), h(17, 0)));
    }
    for weekday in [1i16, 3] {
        hours.push((VisitType::HomeVisit, weekday, h(13, 30), h(17, 0)));
    }
    for (visit_type, weekday, start, end) in hours {
        weekly_hours::ActiveModel {
            visit_type: Set(visit_type),
            weekday: Set(weekday),
            start_minute: Set(start),
            end_minute: Set(end),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
    }
    txn.commit().await?;
    Ok(())
}
