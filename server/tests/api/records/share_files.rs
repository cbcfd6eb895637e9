//! A shared record's files in the viewer (issue 14 §5): the person who opened a link that shares
//! documents downloads each file, exactly as stored, for an hour; the patient sees which file was
//! downloaded and by whom; a changed pass, another link's pass, a file the link does not share
//! (a draft's attachment, or any file on a link without documents), an hour gone or a revoked
//! link give nothing.

use super::export::maria_with_a_record;
use super::share_viewer::{open, uses, viewer_path};
use crate::helpers::{backends, spawn_app};
use app::records::documents::model::Documents;
use app::records::share::model::{AccessOutcome, ShareCreated};

/// Every `action="…"` of the page's forms that asks for a file, and the viewing pass.
fn file_forms(page: &str) -> (Vec<String>, String) {
    let actions = page
        .split("action=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .filter(|action| action.contains("/view/files/"))
        .map(str::to_owned)
        .collect();
    let pass = page
        .split("name=\"viewing\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_default()
        .to_owned();
    (actions, pass)
}

#[tokio::test]
async fn the_viewer_downloads_a_shared_file_within_the_hour_and_the_patient_sees_which() {
    for backend in backends() {
        let app = spawn_app(&backend).await;
        let record = maria_with_a_record(&app).await;
        let make = |form: Vec<(&'static str, &'static str)>| {
            let (app, mine) = (&app, &record.mine);
            async move {
                let (status, created) = app
                    .call::<ShareCreated>(mine, "/api/records/shares/create", &form)
                    .await;
                assert_eq!(status, 200, "{created:?}");
                created.expect("made")
            }
        };
        let with_files = make(vec![
            ("label", "For Dr. Ruiz"),
            ("documents", "1"),
            ("days", "7"),
            ("passcode", "harbor-42"),
        ])
        .await;
        let other = make(vec![
            ("label", "For my sister"),
            ("documents", "1"),
            ("days", "7"),
        ])
        .await;
        let chart_only = make(vec![("label", "For my GP"), ("chart", "1"), ("days", "7")]).await;
        let recipient = app.new_browser();
        let path = viewer_path(&with_files);
        let form = [("recipient", "Dr. Ana Ruiz"), ("passcode", "harbor-42")];
        let (status, _, page) = open(&app, &recipient, &path, &form).await;
        assert_eq!(status, 200, "{}: {page}", app.backend);
        let (actions, pass) = file_forms(&page);
        // Her two lab reports; never the draft note's attachment.
        assert_eq!(actions.len(), 2, "{}: {page}", app.backend);
        assert!(
            !pass.is_empty() && !page.contains("harbor-42"),
            "a pass, never the passcode"
        );

        let download = |action: String, pass: String| {
            let (app, recipient) = (&app, &recipient);
            async move {
                let response = recipient
                    .post(format!("{}{action}", app.address))
                    .header("Origin", &app.address)
                    .form(&[("viewing", pass.as_str())])
                    .send()
                    .await
                    .expect("POST");
                let status = response.status().as_u16();
                let headers = response.headers().clone();
                (
                    status,
                    headers,
                    response.bytes().await.expect("body").to_vec(),
                )
            }
        };
        let (status, headers, bytes) = download(actions[0].clone(), pass.clone()).await;
        assert_eq!(status, 200, "{}", app.backend);
        assert_eq!(bytes, record.report, "the file exactly as stored");
        assert!(headers["content-disposition"]
            .to_str()
            .expect("ascii")
            .starts_with("attachment"));
        assert_eq!(headers["cache-control"], "no-store");
        // Maria sees who downloaded which file; the audit log names the document.
        let kept = &uses(&app, &record.mine).await;
        let link = kept
            .iter()
            .find(|l| l.public_id == with_files.public_id)
            .expect("the link");
        let last = &link.accesses[0];
        assert_eq!(
            (last.outcome, last.recipient.as_str(), last.file.as_deref()),
            (AccessOutcome::Opened, "Dr. Ana Ruiz", Some("Lipid panel")),
            "{}",
            app.backend
        );
        let document = actions[0].rsplit('/').next().expect("an id").to_owned();
        assert!(app
            .audit_rows()
            .await
            .iter()
            .any(|r| r.action == "share_link.open"
                && r.detail.as_deref() == Some(format!("document {document}").as_str())));

        // A changed pass, or another link's pass: the form again, nothing sent.
        let mut changed = pass.clone();
        changed.replace_range(10..11, if &pass[10..11] == "A" { "B" } else { "A" });
        let (status, _, body) = download(actions[0].clone(), changed).await;
        assert_eq!(status, 422, "{}", app.backend);
        assert!(String::from_utf8_lossy(&body).contains("Enter your name"));
        let (_, _, sister_page) = open(
            &app,
            &recipient,
            &viewer_path(&other),
            &[("recipient", "Lucia Lopez")],
        )
        .await;
        let (_, sister_pass) = file_forms(&sister_page);
        assert!(!sister_pass.is_empty(), "{sister_page}");
        let (status, _, _) = download(actions[0].clone(), sister_pass).await;
        assert_eq!(status, 422, "a pass is its own link's only");
        // A link that shares no documents offers no file, and gives none even to a good pass.
        let (_, _, gp_page) = open(
            &app,
            &recipient,
            &viewer_path(&chart_only),
            &[("recipient", "Dr. Okafor")],
        )
        .await;
        assert!(file_forms(&gp_page).0.is_empty(), "{gp_page}");
        let gp_pass = app::records::share::pass::viewing_pass(
            &app.keyring,
            &chart_only.public_id,
            "Dr. Okafor",
            app.clock_now(),
        );
        let gp_file = format!("{}/files/{document}", viewer_path(&chart_only));
        let (status, _, _) = download(gp_file, gp_pass).await;
        assert_eq!(status, 404, "{}", app.backend);

        // The draft's attachment, asked for by its id: not shared.
        let (_, all) = app
            .call::<Documents>(
                &record.physician,
                "/api/records/documents",
                &[("patient", record.patient.as_str())],
            )
            .await;
        let draft = all
            .expect("the physician's list")
            .documents
            .into_iter()
            .find(|d| d.visit.is_some())
            .expect("the draft's attachment");
        let draft_file = format!("{}/files/{}", path, draft.public_id);
        let (status, _, _) = download(draft_file, pass.clone()).await;
        assert_eq!(status, 404, "{}", app.backend);

        // An hour later: open the record again.
        app.clock
            .set(app.clock_now() + chrono::Duration::minutes(61));
        let (status, _, body) = download(actions[1].clone(), pass.clone()).await;
        assert_eq!(status, 422, "{}", app.backend);
        assert!(String::from_utf8_lossy(&body).contains("60 minutes"));
        // Revoked: 410, whatever the pass.
        let (_, _, page) = open(&app, &recipient, &path, &form).await;
        let (_, fresh) = file_forms(&page);
        // (Her own session has timed out meanwhile.)
        let mine = app.signed_in(&record.maria).await;
        let (status, _) = app
            .call::<()>(
                &mine,
                "/api/records/shares/revoke",
                &[("link", with_files.public_id.as_str())],
            )
            .await;
        assert_eq!(status, 200);
        let (status, _, body) = download(actions[1].clone(), fresh).await;
        assert_eq!(status, 410, "{}", app.backend);
        assert!(String::from_utf8_lossy(&body).contains("revoked"));
        app.stop().await;
    }
}
