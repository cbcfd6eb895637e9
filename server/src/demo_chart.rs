//! The demo patients' charts: what a real practice's chart holds, so the physician's dashboard
//! and the portal's health record look like they would on a working day.

use app::records::model::{ChartItem, ProblemStatus, Severity};
use chrono::NaiveDate;

fn date(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()
}

fn some(text: &str) -> Option<String> {
    Some(text.to_owned())
}

fn allergy(substance: &str, reaction: &str, severity: Severity) -> ChartItem {
    ChartItem::Allergy {
        substance: substance.into(),
        reaction: some(reaction),
        severity,
    }
}

fn problem(condition: &str, onset: &str, status: ProblemStatus) -> ChartItem {
    ChartItem::Problem {
        condition: condition.into(),
        onset: some(onset),
        status,
    }
}

fn medication(name: &str, dose: &str, how_taken: &str, started: &str) -> ChartItem {
    ChartItem::Medication {
        name: name.into(),
        dose: some(dose),
        how_taken: some(how_taken),
        started: date(started),
        stopped: None,
        prescriber: some("Dr. Elena Marsh"),
    }
}

fn immunization(vaccine: &str, given_on: &str) -> ChartItem {
    ChartItem::Immunization {
        vaccine: vaccine.into(),
        given_on: date(given_on),
        note: None,
    }
}

/// The chart of the demo patient called `name` (empty for anyone else).
pub fn chart_of(name: &str) -> Vec<ChartItem> {
    match name {
        "Maria Lopez" => vec![
            allergy("Penicillin", "Hives", Severity::Moderate),
            problem("Migraine without aura", "2012", ProblemStatus::Active),
            problem(
                "Seasonal allergic rhinitis",
                "childhood",
                ProblemStatus::Active,
            ),
            problem("Iron-deficiency anemia", "2019", ProblemStatus::Resolved),
            medication(
                "Sumatriptan",
                "50 mg",
                "By mouth at the start of a migraine, up to twice a day",
                "2021-04-09",
            ),
            medication(
                "Cetirizine",
                "10 mg",
                "By mouth once a day in spring and summer",
                "2020-05-01",
            ),
            immunization("Influenza (2026–27 season)", "2026-10-02"),
            immunization("Tdap", "2021-06-14"),
            ChartItem::FamilyHistory {
                relative: "Mother".into(),
                condition: "Type 2 diabetes, diagnosed at 55".into(),
            },
            ChartItem::EmergencyContact {
                name: "Luis Lopez".into(),
                relationship: some("Husband"),
                phone: "(207) 555-0133".into(),
            },
            ChartItem::Insurance {
                payer: "Anthem Blue Cross Blue Shield".into(),
                member_id: "YRP482913650".into(),
                group_number: some("0042718"),
            },
        ],
        "James Okafor" => vec![
            allergy("Shellfish", "Throat swelling", Severity::LifeThreatening),
            allergy("Sulfa drugs", "Rash", Severity::Mild),
            problem("Hypertension", "2009", ProblemStatus::Active),
            problem("Type 2 diabetes", "2015", ProblemStatus::Active),
            problem(
                "Osteoarthritis of the right knee",
                "2020",
                ProblemStatus::Active,
            ),
            medication("Lisinopril", "20 mg", "By mouth once a day", "2009-08-20"),
            medication(
                "Metformin",
                "1000 mg",
                "By mouth twice a day with meals",
                "2015-02-11",
            ),
            medication("Atorvastatin", "20 mg", "By mouth at night", "2016-01-05"),
            immunization("Shingrix (2 doses)", "2024-03-02"),
            immunization("Pneumococcal conjugate (PCV20)", "2023-11-15"),
            ChartItem::FamilyHistory {
                relative: "Father".into(),
                condition: "Heart attack at 62".into(),
            },
            ChartItem::EmergencyContact {
                name: "Grace Okafor".into(),
                relationship: some("Wife"),
                phone: "(207) 555-0119".into(),
            },
            ChartItem::Insurance {
                payer: "Medicare".into(),
                member_id: "1EG4-TE5-MK72".into(),
                group_number: None,
            },
        ],
        _ => Vec::new(),
    }
}
