//! P9 across the record (issue 14 §7): every read or write of a patient's record, whichever way
//! it comes (a server function, a list page, a note's PDF, a document's file, the record as PDF,
//! the zip, the FHIR bundle, a share link made or listed), adds exactly one audit entry, naming
//! the person, the patient and the action; a page made of several reads adds one per read and
//! never the same read twice. And P5 through the services, for every way into a record.

use super::export::{get, maria_with_a_record};
use crate::helpers::{backends, spawn_app, TestApp};
use app::audit::entity::audit_event;
use app::records::documents::model::Documents;
use app::records::notes::model::FiledNote;

use crate::helpers::caller_of;
use app::auth::context::SignedIn;
use app::auth::{can_with, Action, Grant, Resource, Role};
use app::records::model::{ChartItem, Severity};
use app::AppError;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use sea_orm::EntityTrait;

/// The ways into one patient's record that P5 draws from.
#[derive(Debug, Clone, Copy)]
enum Way {
    ReadChart,
    KeepHistory,
    ListNotes,
    ListDocuments,
    ExportPdf,
    ExportZip,
    ExportFhir,
    MakeShareLink,
    ListShareLinks,
    SeeWhoElse,
}

impl Way {
    const ALL: [Way; 10] = [
        Way::ReadChart,
        Way::KeepHistory,
        Way::ListNotes,
        Way::ListDocuments,
        Way::ExportPdf,
        Way::ExportZip,
        Way::ExportFhir,
        Way::MakeShareLink,
        Way::ListShareLinks,
        Way::SeeWhoElse,
    ];

    /// What the way does, to what, in the policy's words.
    fn on(self, patient_id: i32) -> (Action, Resource) {
        let chart = Resource::PatientChart { patient_id };
        match self {
            Way::ReadChart
            | Way::ListNotes
            | Way::ListDocuments
            | Way::ExportPdf
            | Way::ExportZip
            | Way::ExportFhir => (Action::Read, chart),
            Way::KeepHistory => (Action::Write, Resource::PatientHistory { patient_id }),
            Way::MakeShareLink => (Action::Write, Resource::ShareLinks { patient_id }),
            Way::ListShareLinks => (Action::Read, Resource::ShareLinks { patient_id }),
            Way::SeeWhoElse => (Action::Read, Resource::AccessGrants { patient_id }),
        }
    }

    /// Tries it, as `me`, on patient `patient`.
    async fn attempt(
        self,
        me: &SignedIn,
        patient: &str,
        practice: &app::site::model::Practice,
    ) -> Result<(), AppError> {
        use app::records::{documents, export, fhir, notes, service, share};
        let url = "http://localhost";
        match self {
            Way::ReadChart => service::chart(me, patient).await.map(drop),
            Way::KeepHistory => {
                let item = ChartItem::Allergy {
                    substance: "Latex".into(),
                    reaction: None,
                    severity: Severity::Mild,
                };
                service::save(me, patient, None, &item).await.map(drop)
            }
            Way::ListNotes => notes::service::notes_of(me, patient).await.map(drop),
            Way::ListDocuments => documents::service::list(me, patient).await.map(drop),
            Way::ExportPdf => {
                let whole = export::model::ExportChoice::whole();
                export::service::record_pdf(me, patient, &whole, practice)
                    .await
                    .map(drop)
            }
            Way::ExportZip => export::service::files_for_zip(me, patient).await.map(drop),
            Way::ExportFhir => fhir::service::everything(me, patient, url).await.map(drop),
            Way::MakeShareLink => {
                let new = share::model::NewShare {
                    label: "For Dr. Chen".into(),
                    chart: true,
                    notes: false,
                    documents: false,
                    days: 7,
                    passcode: String::new(),
                };
                share::service::create(me, patient, &new, url)
                    .await
                    .map(drop)
            }
            Way::ListShareLinks => share::service::list(me, patient).await.map(drop),
            Way::SeeWhoElse => app::grants::service::overview(me, patient).await.map(drop),
        }
    }
}

/// What one request added to the audit log.
async fn added_by<F: std::future::Future<Output = u16>>(
    app: &TestApp,
    request: F,
) -> (u16, Vec<audit_event::Model>) {
    let before = app.audit_rows().await.len();
    let status = request.await;
    let rows = app.audit_rows().await;
    (status, rows[before..].to_vec())
}

async fn call(app: &TestApp, client: &reqwest::Client, path: &str, form: &[(&str, &str)]) -> u16 {
    app.post_asking(client, path, form, "application/json")
        .await
        .status()
        .as_u16()
}

#[tokio::test]
async fn p9_each_read_or_write_of_a_record_is_exactly_one_audit_entry_whichever_way_it_comes() {
    for backend in backends() {
        let app = spawn_app(&backend).await;
        let record = maria_with_a_record(&app).await;
        let patient = record.patient.as_str();
        let (_, notes) = app
            .call::<Vec<FiledNote>>(&record.mine, "/api/records/my-notes", &[])
            .await;
        let visit = notes.expect("notes")[0].visit.appointment.clone();
        let (_, documents) = app
            .call::<Option<Documents>>(&record.mine, "/api/records/my-documents", &[])
            .await;
        let document = documents.expect("documents").expect("a record").documents[0]
            .public_id
            .clone();
        let (mine, physician) = (&record.mine, &record.physician);
        let note_pdf = format!("/portal/notes/{visit}.pdf");
        let portal_file = format!("/portal/documents/{document}");
        let dashboard_file = format!("/dashboard/documents/{document}");
        let dashboard_note = format!("/dashboard/visits/{visit}/note.pdf");
        let record_pdf = format!("/dashboard/patients/{patient}/record.pdf?chart=1&documents=1");
        let zip = format!("/dashboard/patients/{patient}/documents.zip");
        let fhir = format!("/fhir/Patient/{patient}/$everything");
        let share = [
            ("patient", patient),
            ("label", "For Dr. Chen"),
            ("chart", "1"),
            ("days", "7"),
            ("passcode", ""),
        ];

        // (who, what, the one action it must add)
        let singles: Vec<(&reqwest::Client, &str, &str)> = vec![
            (mine, "my chart", "chart.read"),
            (mine, "my notes", "visit_note.list"),
            (mine, "my documents", "document.list"),
            (mine, "my note's PDF", "visit_note.pdf"),
            (mine, "my file", "document.read"),
            (mine, "my record as PDF", "record.export_pdf"),
            (mine, "my files as a zip", "document.zip"),
            (mine, "my data as FHIR", "record.export_fhir"),
            (mine, "a share link made", "share_link.create"),
            (mine, "my share links", "share_link.list"),
            (physician, "the chart", "chart.read"),
            (physician, "the notes", "visit_note.list"),
            (physician, "the documents", "document.list"),
            (physician, "the note's PDF", "visit_note.pdf"),
            (physician, "a file", "document.read"),
            (physician, "the record as PDF", "record.export_pdf"),
            (physician, "the files as a zip", "document.zip"),
            (physician, "the FHIR bundle", "record.export_fhir"),
            (physician, "who else may open it", "access_grant.list"),
        ];
        for (who, what, action) in singles {
            let (status, added) = added_by(&app, async {
                match what {
                    "my chart" => call(&app, who, "/api/records/my-chart", &[]).await,
                    "my notes" => call(&app, who, "/api/records/my-notes", &[]).await,
                    "my documents" => call(&app, who, "/api/records/my-documents", &[]).await,
                    "my note's PDF" => get(&app, who, &note_pdf).await.0,
                    "my file" => get(&app, who, &portal_file).await.0,
                    "my record as PDF" => get(&app, who, "/portal/record.pdf?chart=1").await.0,
                    "my files as a zip" => get(&app, who, "/portal/documents.zip").await.0,
                    "my data as FHIR" => get(&app, who, "/portal/my-data.json").await.0,
                    "a share link made" => {
                        call(&app, who, "/api/records/shares/create", &share).await
                    }
                    "my share links" => {
                        call(&app, who, "/api/records/shares", &[("patient", patient)]).await
                    }
                    "the chart" => {
                        call(&app, who, "/api/records/chart", &[("patient", patient)]).await
                    }
                    "the notes" => {
                        call(&app, who, "/api/records/notes", &[("patient", patient)]).await
                    }
                    "the documents" => {
                        call(&app, who, "/api/records/documents", &[("patient", patient)]).await
                    }
                    "the note's PDF" => get(&app, who, &dashboard_note).await.0,
                    "a file" => get(&app, who, &dashboard_file).await.0,
                    "the record as PDF" => get(&app, who, &record_pdf).await.0,
                    "the files as a zip" => get(&app, who, &zip).await.0,
                    "the FHIR bundle" => get(&app, who, &fhir).await.0,
                    "who else may open it" => {
                        call(&app, who, "/api/grants", &[("patient", patient)]).await
                    }
                    other => unreachable!("{other}"),
                }
            })
            .await;
            assert_eq!(status, 200, "{what} on {}", app.backend);
            let actions: Vec<&str> = added.iter().map(|r| r.action.as_str()).collect();
            assert_eq!(actions, [action], "{what} on {}", app.backend);
            let row = &added[0];
            assert_eq!(row.outcome, "allowed", "{what}");
            assert_eq!(row.patient_id.as_deref(), Some(patient), "{what}");
            let by = if std::ptr::eq(who, mine) {
                &record.maria
            } else {
                &record.doctor
            };
            assert_eq!(row.actor_user_id, Some(by.id), "{what}");
        }

        // Pages: the list of patients is one read; a page made of several parts reads each
        // once (hydration reuses what the server sent; nothing is read twice).
        for (who, page, must) in [
            (
                physician,
                "/dashboard".to_owned(),
                vec!["patient_directory.read"],
            ),
            (
                physician,
                format!("/dashboard/patients/{patient}"),
                vec!["chart.read", "visit_note.list", "document.list"],
            ),
            (mine, "/portal/shares".to_owned(), vec!["share_link.list"]),
            (mine, "/portal".to_owned(), vec!["chart.read"]),
        ] {
            let (status, added) = added_by(&app, async { get(&app, who, &page).await.0 }).await;
            assert_eq!(status, 200, "{page} on {}", app.backend);
            let actions: Vec<&str> = added.iter().map(|r| r.action.as_str()).collect();
            for action in &must {
                assert!(actions.contains(action), "{page}: {action} in {actions:?}");
            }
            // (A read that names several patients, as the agenda does, adds one per patient.)
            let mut reads: Vec<(&str, Option<&str>)> = added
                .iter()
                .map(|r| (r.action.as_str(), r.patient_id.as_deref()))
                .collect();
            let count = reads.len();
            reads.sort_unstable();
            reads.dedup();
            assert_eq!(reads.len(), count, "{page}: a read done twice: {added:?}");
            assert!(
                added.iter().all(|r| r.outcome == "allowed"),
                "{page}: {added:?}"
            );
        }
        app.stop().await;
    }
}

/// The grant states a person can be in for one patient.
#[derive(Debug, Clone, Copy)]
enum State {
    None,
    Active,
    Expired,
    Revoked,
    NotYet,
}

/// P5 through the services: for random people (every role), grant states (none, active,
/// expired, revoked, not yet started; care or emergency), patients and every way into a record
/// (read the chart, keep the history, list notes and documents, export as PDF, zip or FHIR, make
/// or list share links, see who else may open it), the access succeeds exactly when the policy
/// allows that action on that resource for the grant the person holds then, and each attempt,
/// allowed or not, adds exactly one audit entry naming the person and the patient.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn p5_every_way_into_a_record_opens_iff_the_policy_allows_for_the_grant_held() {
    use app::grants::entity::access_grant;
    use sea_orm::{ActiveModelTrait, Set};
    for backend in backends() {
        let app = spawn_app(&backend).await;
        let mut people = vec![
            app.create_patient("p1@example.com", "Ann One").await,
            app.create_patient("p2@example.com", "Ben Two").await,
        ];
        people.push(app.create_user(Role::Physician, "doc@example.com").await);
        people.push(app.create_user(Role::Staff, "staff@example.com").await);
        people.push(app.create_user(Role::Staff, "staff2@example.com").await);
        people.push(app.create_user(Role::Admin, "admin@example.com").await);
        let patients: Vec<(String, i32)> = people
            .iter()
            .filter_map(|p| p.patient_public_id.clone().zip(p.patient_id))
            .collect();
        let doctor = people[2].id;
        let mut signed = Vec::new();
        for person in &people {
            signed.push(app.acting_as(person).await);
        }
        let handle = tokio::runtime::Handle::current();
        let mut runner = TestRunner::new(Config {
            cases: 64,
            ..Config::default()
        });
        let states = prop::sample::select(vec![
            State::None,
            State::Active,
            State::Expired,
            State::Revoked,
            State::NotYet,
        ]);
        let kinds = prop::sample::select(vec![Grant::Care, Grant::BreakGlass]);
        let practice = app::site::service::load_site_content(&app.db, app.clock_now())
            .await
            .expect("site")
            .expect("the demo practice")
            .practice;
        let strategy = (
            0..people.len(),
            0..patients.len(),
            states,
            kinds,
            prop::sample::select(Way::ALL.to_vec()),
        );
        let result = runner.run(&strategy, |(who, whose, state, kind, way)| {
            let person = &people[who];
            let (public_id, row_id) = &patients[whose];
            tokio::task::block_in_place(|| {
                handle.block_on(async {
                    // Start from no grants, then give this person the state drawn.
                    access_grant::Entity::delete_many()
                        .exec(&app.db)
                        .await
                        .expect("clear");
                    let now = app.clock_now();
                    let (from, until, revoked) = match state {
                        State::None => (now, now, None),
                        State::Active => (
                            now - chrono::Duration::hours(1),
                            now + chrono::Duration::hours(1),
                            None,
                        ),
                        State::Expired => (
                            now - chrono::Duration::hours(2),
                            now - chrono::Duration::seconds(1),
                            None,
                        ),
                        State::Revoked => (
                            now - chrono::Duration::hours(1),
                            now + chrono::Duration::hours(1),
                            Some(now - chrono::Duration::minutes(1)),
                        ),
                        State::NotYet => (
                            now + chrono::Duration::hours(1),
                            now + chrono::Duration::hours(2),
                            None,
                        ),
                    };
                    if !matches!(state, State::None) {
                        let id = uuid::Uuid::new_v4().simple().to_string();
                        access_grant::ActiveModel {
                            reason: Set(app::grants::service::seal_reason(
                                &app.keyring,
                                &id,
                                "test",
                            )
                            .expect("seal")),
                            public_id: Set(id),
                            patient_id: Set(*row_id),
                            user_id: Set(person.id),
                            kind: Set(kind),
                            granted_by: Set(doctor),
                            created_at: Set(from),
                            expires_at: Set(until),
                            revoked_at: Set(revoked),
                            ..Default::default()
                        }
                        .insert(&app.db)
                        .await
                        .expect("grant");
                    }
                    let held = matches!(state, State::Active).then_some(kind);
                    let caller = caller_of(&app, person, person.patient_id);
                    let (action, resource) = way.on(*row_id);
                    let allowed = can_with(&caller.actor, action, &resource, held);
                    let before = app.audit_count().await;
                    let outcome = way.attempt(&signed[who], public_id, &practice).await;
                    prop_assert_eq!(
                        app.audit_count().await,
                        before + 1,
                        "one audit entry per attempt"
                    );
                    prop_assert_eq!(
                        outcome.is_ok(),
                        allowed,
                        "{:?} {:?} {:?} {:?}: {:?}",
                        person.role,
                        state,
                        kind,
                        way,
                        outcome.err()
                    );
                    let last = app.audit_rows().await.pop().expect("a row");
                    prop_assert_eq!(last.outcome, if allowed { "allowed" } else { "denied" });
                    prop_assert_eq!(last.actor_user_id, Some(person.id));
                    prop_assert_eq!(last.patient_id.as_deref(), Some(public_id.as_str()));
                    Ok(())
                })
            })
        });
        if let Err(e) = result {
            panic!("{} on {}", e, app.backend);
        }
        app.stop().await;
    }
}
