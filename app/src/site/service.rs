//! The public website's rules and database work (server only).

use super::entity::{contact_inquiry, membership_tier, practice, practice_service};
use super::model::{
    years_of_experience, Address, ContactInquiry, MembershipTier, OpeningHours, Physician,
    Practice, Service, SiteContent,
};
use crate::crypto::{FieldContext, Keyring, SealedField};
use crate::error::AppError;
use crate::mail::{Mailer, OutgoingEmail};
use chrono::{DateTime, Datelike, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder,
};
use std::sync::{Arc, RwLock};

fn json_list<T: serde::de::DeserializeOwned>(column: &str, text: &str) -> Result<Vec<T>, AppError> {
    serde_json::from_str(text).map_err(|e| AppError::internal(format_args!("{column}: {e}")))
}

/// Loads the practice's public content; `None` while no practice has been set up.
pub async fn load_site_content(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
) -> Result<Option<SiteContent>, AppError> {
    let Some(p) = practice::Entity::find()
        .order_by_asc(practice::Column::Id)
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let services = practice_service::Entity::find()
        .order_by_asc(practice_service::Column::SortOrder)
        .all(db)
        .await?
        .into_iter()
        .map(Service::try_from)
        .collect::<Result<Vec<_>, AppError>>()?;
    let tiers = membership_tier::Entity::find()
        .filter(membership_tier::Column::Active.eq(true))
        .order_by_asc(membership_tier::Column::SortOrder)
        .all(db)
        .await?
        .into_iter()
        .map(MembershipTier::try_from)
        .collect::<Result<Vec<_>, AppError>>()?;
    let practice = Practice {
        physician: Physician {
            years_of_experience: years_of_experience(p.practicing_since, now.year()),
            specialties: json_list("practice.specialties", &p.specialties)?,
            board_certifications: json_list(
                "practice.board_certifications",
                &p.board_certifications,
            )?,
            education: json_list("practice.education", &p.education)?,
            name: p.physician_name,
            credentials: p.physician_credentials,
            photo: p.physician_photo,
            photo_alt: p.physician_photo_alt,
            bio: p.physician_bio,
        },
        hours: json_list::<OpeningHours>("practice.hours", &p.hours)?,
        address: Address {
            street: p.street,
            locality: p.locality,
            region: p.region,
            postal_code: p.postal_code,
        },
        name: p.name,
        tagline: p.tagline,
        intro: p.intro,
        phone: p.phone,
        email: p.email,
        time_zone: p.time_zone,
        privacy_notice: p.privacy_notice,
        privacy_notice_version: p.privacy_notice_version,
        membership_agreement: p.membership_agreement,
        membership_agreement_version: p.membership_agreement_version,
    };
    Ok(Some(SiteContent {
        practice,
        services,
        tiers,
    }))
}

/// The public content, kept in memory so that public pages cost no database round trip.
///
/// Each Bedside process refreshes it on a timer and after an edit of its own, so several
/// processes agree within one refresh period without any coordination between them.
#[derive(Debug, Default, Clone)]
pub struct SiteContentStore {
    current: Arc<RwLock<Option<Arc<SiteContent>>>>,
}

impl SiteContentStore {
    pub fn current(&self) -> Option<Arc<SiteContent>> {
        self.current.read().ok().and_then(|guard| guard.clone())
    }

    /// The practice's name, for emails and titles ("Bedside" before the content is loaded).
    pub fn practice_name(&self) -> String {
        self.current()
            .map_or_else(|| "Bedside".to_owned(), |site| site.practice.name.clone())
    }

    /// Reloads from the database as of `now` (the clock's: the physician's years of practice
    /// follow it); on failure the previous content stays in place.
    pub async fn refresh(
        &self,
        db: &impl ConnectionTrait,
        now: DateTime<Utc>,
    ) -> Result<(), AppError> {
        let loaded = load_site_content(db, now).await?.map(Arc::new);
        if let Ok(mut guard) = self.current.write() {
            *guard = loaded;
        }
        Ok(())
    }
}

/// What a visitor sent, as sealed in `contact_inquiry.sealed_details`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct InquiryDetails {
    pub name: String,
    pub email: String,
    pub phone: Option<String>,
    pub message: String,
    pub client_ip: Option<String>,
}

fn details_context(public_id: &str) -> FieldContext<'_> {
    FieldContext {
        table: "contact_inquiry",
        column: "sealed_details",
        row: public_id,
    }
}

/// Stores a validated inquiry, its personal details and message encrypted, and returns its id.
pub async fn record_inquiry(
    db: &impl ConnectionTrait,
    keyring: &Keyring,
    inquiry: &ContactInquiry,
    client_ip: Option<String>,
    now: DateTime<Utc>,
) -> Result<i32, AppError> {
    let public_id = random_public_id();
    let details = InquiryDetails {
        name: inquiry.name.as_str().to_owned(),
        email: inquiry.email.as_str().to_owned(),
        phone: inquiry.phone.as_ref().map(|p| p.as_str().to_owned()),
        message: inquiry.message.as_str().to_owned(),
        client_ip,
    };
    let sealed = SealedField::seal(keyring, &details_context(&public_id), &details)
        .map_err(AppError::internal)?;
    let row = contact_inquiry::ActiveModel {
        public_id: Set(public_id),
        topic: Set(inquiry.topic.value().to_owned()),
        sealed_details: Set(sealed.into_bytes()),
        received_at: Set(now),
        practice_notified_at: Set(None),
        acknowledged_at: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(row.id)
}

/// Decrypts what the visitor sent with `row`.
pub fn open_inquiry(
    keyring: &Keyring,
    row: &contact_inquiry::Model,
) -> Result<InquiryDetails, AppError> {
    SealedField::<InquiryDetails>::from_bytes(row.sealed_details.clone())
        .open(keyring, &details_context(&row.public_id))
        .map_err(|e| AppError::internal(format_args!("contact inquiry {}: {e}", row.id)))
}

/// 128 random bits, hex: a row identity that reveals nothing and never repeats in practice.
fn random_public_id() -> String {
    use rand::RngCore as _;
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The email that tells the practice about a new inquiry; replies go straight to the visitor.
pub fn practice_notification(
    practice: &Practice,
    id: i32,
    inquiry: &ContactInquiry,
) -> OutgoingEmail {
    let phone = inquiry.phone.as_ref().map_or("not given", |p| p.as_str());
    OutgoingEmail {
        to: practice.email.clone(),
        reply_to: Some(inquiry.email.as_str().to_owned()),
        subject: format!("New inquiry #{id}: {}", inquiry.topic.label()),
        text_body: format!(
            "A visitor wrote through the contact form of {practice_name}.\n\n\
             Name:  {name}\nEmail: {email}\nPhone: {phone}\nTopic: {topic}\n\n\
             {message}\n\n\
             Reply to this email to answer {name} directly.\n",
            practice_name = practice.name,
            name = inquiry.name.as_str(),
            email = inquiry.email.as_str(),
            topic = inquiry.topic.label(),
            message = inquiry.message.as_str(),
        ),
        ..Default::default()
    }
}

/// The automatic acknowledgement to the visitor: a fixed text. It repeats neither the message
/// (the visitor may have written about their health, and email is not a place to echo that)
/// nor the name: anyone can type any address into the form, so whatever the form echoed could
/// be sent, under the practice's name, to a stranger (spam, phishing).
pub fn visitor_acknowledgement(practice: &Practice, inquiry: &ContactInquiry) -> OutgoingEmail {
    let hours = practice
        .hours
        .iter()
        .map(|h| format!("  {}: {}", h.days, h.hours))
        .collect::<Vec<_>>()
        .join("\n");
    OutgoingEmail {
        to: inquiry.email.as_str().to_owned(),
        reply_to: Some(practice.email.clone()),
        subject: format!("We received your message — {}", practice.name),
        text_body: format!(
            "Hello,\n\n\
             Thank you for contacting {practice_name}. Your message has reached our team, and \
             we answer every inquiry within one business day.\n\n\
             Our hours:\n{hours}\n\n\
             If your concern is urgent, please call us at {phone}. In an emergency, call 911.\n\n\
             Warm regards,\n{physician} and the team at {practice_name}\n{street}\n{line2}\n",
            practice_name = practice.name,
            phone = practice.phone,
            physician = practice.physician.name,
            street = practice.address.street,
            line2 = practice.address.second_line(),
        ),
        ..Default::default()
    }
}

/// Emails the practice and acknowledges the visitor, recording each that went out; an email
/// recorded as sent is not sent again, so this can be retried safely. Returns whether both have
/// gone out. A mail failure is logged and leaves the inquiry stored: nothing the visitor sent
/// is lost, and the job scheduler tries again.
pub async fn notify_about_inquiry(
    db: &impl ConnectionTrait,
    mailer: &dyn Mailer,
    practice: &Practice,
    row: &contact_inquiry::Model,
    inquiry: &ContactInquiry,
    now: DateTime<Utc>,
) -> Result<bool, AppError> {
    let id = row.id;
    let mut update = contact_inquiry::ActiveModel {
        id: Set(id),
        ..Default::default()
    };
    let mut all_sent = true;
    if row.practice_notified_at.is_none() {
        match mailer
            .send(practice_notification(practice, id, inquiry))
            .await
        {
            Ok(()) => update.practice_notified_at = Set(Some(now)),
            Err(e) => {
                all_sent = false;
                tracing::error!(inquiry = id, error = %e, "could not email the practice about an inquiry");
            }
        }
    }
    if row.acknowledged_at.is_none() {
        match mailer
            .send(visitor_acknowledgement(practice, inquiry))
            .await
        {
            Ok(()) => update.acknowledged_at = Set(Some(now)),
            Err(e) => {
                all_sent = false;
                tracing::error!(inquiry = id, error = %e, "could not acknowledge an inquiry");
            }
        }
    }
    if update.is_changed() {
        update.update(db).await?;
    }
    Ok(all_sent)
}

/// A published service as pages show it (its highlights are stored as a JSON list).
impl TryFrom<practice_service::Model> for Service {
    type Error = AppError;

    fn try_from(s: practice_service::Model) -> Result<Self, AppError> {
        Ok(Service {
            highlights: json_list("practice_service.highlights", &s.highlights)?,
            slug: s.slug,
            name: s.name,
            summary: s.summary,
            description: s.description,
        })
    }
}

/// A tier as pages show it (its benefits are stored as a JSON list).
impl TryFrom<membership_tier::Model> for MembershipTier {
    type Error = AppError;

    fn try_from(t: membership_tier::Model) -> Result<Self, AppError> {
        Ok(MembershipTier {
            benefits: json_list("membership_tier.benefits", &t.benefits)?,
            slug: t.slug,
            name: t.name,
            tagline: t.tagline,
            monthly_price_cents: t.monthly_price_cents,
            annual_price_cents: t.annual_price_cents,
            visits_per_year: t.visits_per_year,
            includes_in_person: t.includes_in_person,
            includes_telemedicine: t.includes_telemedicine,
            includes_home_visits: t.includes_home_visits,
            max_dependents: t.max_dependents,
            commitment_months: t.commitment_months,
            cancellation_policy: t.cancellation_policy,
            late_cancellation_policy: crate::appointments::benefits::late_policy_text(
                crate::appointments::benefits::LatePolicy::from_fee(t.late_fee_cents),
                t.visits_per_year,
            ),
            featured: t.featured,
            booking_horizon_days: t.booking_horizon_days,
            same_day_booking: t.same_day_booking,
            extra_visit_fee_cents: t.extra_visit_fee_cents,
            home_visit_fee_cents: t.home_visit_fee_cents,
            late_fee_cents: t.late_fee_cents,
        })
    }
}
