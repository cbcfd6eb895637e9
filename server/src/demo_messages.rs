//! The demo patients' conversations with the practice: one answered and thanked (the thanks not
//! yet read), one just sent, so the physician's inbox and the portal's messages look as they
//! would on a working day.

use chrono::{DateTime, Duration, Utc};

/// A message as it was sent: who, the words, when.
type Sent<'a> = (i32, &'a str, DateTime<Utc>);

/// Files patient `name`'s conversations (`patient_user`: their account; `physician`: hers).
pub async fn file(
    identity: &app::auth::service::Identity,
    patient_id: i32,
    patient_user: i32,
    physician: i32,
    name: &str,
) -> anyhow::Result<()> {
    let now = identity.now();
    let ago = |minutes: i64| now - Duration::minutes(minutes);
    let (subject, messages): (&str, Vec<Sent>) = match name {
        "Maria Lopez" => (
            "Home blood pressure readings",
            vec![
                (
                    patient_user,
                    "My home readings this week have been around 138/88 in the mornings. Should I change anything before my next visit?",
                    ago(2 * 24 * 60),
                ),
                (
                    physician,
                    "Thank you for sending these. Keep taking the lisinopril as you are, and log your readings morning and evening; we will go over the log together at your visit.",
                    ago(2 * 24 * 60 - 180),
                ),
                (patient_user, "Will do. Thank you!", ago(24 * 60)),
            ],
        ),
        "James Okafor" => (
            "Knee after the weekend run",
            vec![(
                patient_user,
                "My right knee has been swollen since Saturday's run. Ice helps a little. Should I come in?",
                ago(180),
            )],
        ),
        _ => return Ok(()),
    };
    app::messages::service::file(
        identity.db(),
        identity.keyring(),
        patient_id,
        subject,
        &messages,
    )
    .await
    .map_err(|e| anyhow::anyhow!("filing the messages of {name}: {e:?}"))?;
    Ok(())
}
