//! The record as FHIR R4 (issue 14 §6): `$everything` answers a Bundle with every kind of
//! resource the record holds, checked by an independent implementation (Python's
//! `fhir.resources`, R4 4.0.1 models, when the test command installed it); only what is in the
//! record (never a draft); one audit entry; nobody else gets it.

use super::export::{get, maria_with_a_record};
use crate::helpers::{backends, spawn_app, TestApp};
use app::auth::Role;
use serde_json::Value;
use std::collections::BTreeSet;

/// Checks `bundle` with `tools/fhir_check.py` when the test command set up its Python; the
/// checker's verdict, or `None` when it is not installed here.
pub(super) fn independent_check(bundle: &[u8]) -> Option<Result<String, String>> {
    let Ok(python) = std::env::var("BEDSIDE_TEST_CHECKERS") else {
        eprintln!(
            "not checked by fhir.resources: the test command installs it (BEDSIDE_TEST_CHECKERS)"
        );
        return None;
    };
    let file = tempfile::NamedTempFile::new().expect("temp file");
    std::fs::write(file.path(), bundle).expect("write");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../tools/fhir_check.py");
    let out = std::process::Command::new(python)
        .arg(script)
        .arg(file.path())
        .output()
        .expect("run the FHIR checker");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let errors = String::from_utf8_lossy(&out.stderr).into_owned();
    Some(if out.status.success() {
        Ok(text)
    } else {
        Err(errors)
    })
}

async fn fill_the_chart(app: &TestApp, client: &reqwest::Client, patient: &str) {
    for fields in [
        vec![
            ("section", "problem"),
            ("condition", "Migraine without aura"),
            ("onset", "2012"),
            ("status", "active"),
        ],
        vec![
            ("section", "medication"),
            ("medication", "Sumatriptan"),
            ("dose", "50 mg"),
            ("how_taken", "At onset"),
            ("started", "2021-04-09"),
        ],
        vec![
            ("section", "family_history"),
            ("relative", "Mother"),
            ("family_condition", "Type 2 diabetes"),
        ],
        vec![
            ("section", "emergency_contact"),
            ("contact_name", "Luis Lopez"),
            ("relationship", "Husband"),
            ("phone", "(207) 555-0133"),
        ],
        vec![
            ("section", "insurance"),
            ("payer", "Anthem"),
            ("member_id", "YRP482913650"),
            ("group_number", "0042718"),
        ],
        vec![
            ("section", "immunization"),
            ("vaccine", "Tdap"),
            ("given_on", "2021-06-14"),
        ],
    ] {
        let mut form = vec![("patient", patient)];
        form.extend(fields);
        let (status, answer) = app
            .call::<()>(client, "/api/records/chart/save", &form)
            .await;
        assert_eq!(status, 200, "{form:?}: {answer:?}");
    }
}

#[tokio::test]
async fn everything_is_a_valid_r4_bundle_of_the_record_and_one_audited_read() {
    for backend in backends() {
        let app = spawn_app(&backend).await;
        let record = maria_with_a_record(&app).await;
        fill_the_chart(&app, &record.physician, &record.patient).await;
        let path = format!("/fhir/Patient/{}/$everything", record.patient);

        let before = app.audit_count().await;
        let (status, kind, bytes) = get(&app, &record.physician, &path).await;
        assert_eq!(
            (status, kind.as_str()),
            (200, "application/fhir+json"),
            "{}",
            app.backend
        );
        assert_eq!(
            app.audit_count().await,
            before + 1,
            "one audit entry per export"
        );
        let bundle: Value = serde_json::from_slice(&bytes).expect("JSON");
        assert_eq!(bundle["resourceType"], "Bundle");
        assert_eq!(bundle["type"], "searchset");
        let kinds: BTreeSet<&str> = bundle["entry"]
            .as_array()
            .expect("entries")
            .iter()
            .map(|e| e["resource"]["resourceType"].as_str().expect("a type"))
            .collect();
        for expected in [
            "Patient",
            "Condition",
            "AllergyIntolerance",
            "MedicationStatement",
            "MedicationRequest",
            "Immunization",
            "FamilyMemberHistory",
            "Encounter",
            "DocumentReference",
            "Coverage",
        ] {
            assert!(
                kinds.contains(expected),
                "{}: {expected} in {kinds:?}",
                app.backend
            );
        }
        let text = String::from_utf8_lossy(&bytes);
        assert!(text.contains("Luis Lopez") && text.contains("YRP482913650"));
        assert!(
            !text.contains("DRAFT ONLY"),
            "a draft is not part of the record"
        );
        let patient = &bundle["entry"][0]["resource"];
        assert_eq!(patient["birthDate"], "1984-03-12");
        assert_eq!(patient["name"][0]["family"], "Lopez");
        if let Some(verdict) = independent_check(&bytes) {
            match verdict {
                Ok(summary) => println!("{}: {summary}", app.backend),
                Err(errors) => panic!("{}: not valid FHIR R4:\n{errors}", app.backend),
            }
        }

        // Maria downloads hers from the portal, as a file; it is the same record.
        let response = app.get_with(&record.mine, "/portal/my-data.json").await;
        assert_eq!(response.status().as_u16(), 200);
        let disposition = response.headers()[reqwest::header::CONTENT_DISPOSITION]
            .to_str()
            .expect("ascii")
            .to_owned();
        assert!(disposition.starts_with("attachment; filename=\"health-record-"));
        let hers: Value = response.json().await.expect("JSON");
        // The same record, less the file attached to a note still in draft (the practice's
        // until it is signed).
        assert_eq!(
            hers["total"].as_u64().map(|n| n + 1),
            bundle["total"].as_u64(),
            "{}",
            app.backend
        );
        assert!(bundle.to_string().contains("\"ecg\"") && !hers.to_string().contains("\"ecg\""));
        // Her document links point into the portal, the physician's into the dashboard.
        assert!(hers.to_string().contains("/portal/documents/"));
        assert!(bundle.to_string().contains("/dashboard/documents/"));

        // Anyone else: refused and recorded.
        let desk = app.create_user(Role::Staff, "desk@example.com").await;
        let james = app
            .create_patient("james@example.com", "James Okafor")
            .await;
        for who in [&desk, &james] {
            let client = app.signed_in(who).await;
            let (status, _, body) = get(&app, &client, &path).await;
            assert_eq!(status, 403, "{}", app.backend);
            assert!(!String::from_utf8_lossy(&body).contains("Lopez"));
        }
        let signed_out = app.new_browser();
        let (status, _, _) = get(&app, &signed_out, &path).await;
        assert_eq!(status, 401, "{}", app.backend);
        let _ = &record.maria;
        app.stop().await;
    }
}
