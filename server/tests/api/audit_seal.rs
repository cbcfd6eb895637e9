//! The audit log resists its own database (issue 12 §5): every entry is sealed with an HMAC
//! under a key kept with the encryption keys, `bedside audit verify` checks the seals and
//! exits 1 naming the first bad entry, and an anchor kept outside the database shows when the
//! newest entries were removed. Each attack below is what someone with write access to the
//! database (and the table owner's right to drop its triggers) can do.

use crate::helpers::{backends, spawn_app, TestApp};
use app::audit::entity::{audit_chain_head, audit_event};
use app::audit::service::{self as audit, chain_hash};
use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, QueryOrder, Set};

/// Runs the `bedside` binary against `app`'s database and keys: (succeeded, what it printed).
fn bedside(app: &TestApp, args: &[&str]) -> (bool, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_bedside"))
        .args(args)
        .env("BEDSIDE_DATABASE_URL", &app.settings.database_url)
        .env("BEDSIDE_DATA_DIR", &app.settings.data_dir)
        .env("BEDSIDE_LEPTOS_CONFIG", &app.settings.leptos_config)
        .output()
        .expect("run bedside");
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// An app with five audit entries (sign-ins) and an anchor taken after them.
async fn logged(backend: &crate::helpers::Backend) -> (TestApp, String) {
    let app = spawn_app(backend).await;
    let maria = app.create_patient("maria@example.com", "Maria Lopez").await;
    for _ in 0..5 {
        let _ = app.signed_in(&maria).await;
    }
    let anchors = app.settings.data_dir.join("anchors.jsonl");
    let anchors = anchors.to_string_lossy().into_owned();
    let (ok, out) = bedside(&app, &["audit", "anchor", "--to", &anchors]);
    assert!(ok, "{out}");
    let (ok, out) = bedside(&app, &["audit", "verify", "--anchor", &anchors]);
    assert!(ok && out.contains("intact"), "{} {out}", app.backend);
    (app, anchors)
}

/// Drops the triggers that keep the log and its seals append-only, as the tables' owner could.
async fn lift_append_only(app: &TestApp) {
    let statements: &[&str] = if app.backend == "postgres" {
        &[
            "DROP TRIGGER audit_event_append_only ON audit_event",
            "DROP TRIGGER audit_event_no_truncate ON audit_event",
            "DROP TRIGGER audit_seal_append_only ON audit_seal",
        ]
    } else {
        &[
            "DROP TRIGGER audit_event_no_update",
            "DROP TRIGGER audit_event_no_delete",
            "DROP TRIGGER audit_seal_no_delete",
        ]
    };
    for statement in statements {
        app.db
            .execute_unprepared(statement)
            .await
            .expect("drop a trigger");
    }
}

/// Makes the hash chain whole again after the rows were changed: every row's `prev_hash` and
/// `hash` recomputed in order, and the head moved to the last row, as an attacker who knows
/// the (public) algorithm would.
async fn rehash(app: &TestApp) {
    let rows = audit_event::Entity::find()
        .order_by_asc(audit_event::Column::Seq)
        .all(&app.db)
        .await
        .expect("rows");
    let mut prev = "0".repeat(64);
    let mut last = (0, prev.clone());
    for mut row in rows {
        row.prev_hash = prev.clone();
        row.hash = chain_hash(&row);
        prev = row.hash.clone();
        last = (row.seq, row.hash.clone());
        let mut active: audit_event::ActiveModel = row.clone().into();
        active.prev_hash = Set(row.prev_hash.clone());
        active.hash = Set(row.hash.clone());
        active.update(&app.db).await.expect("rehash");
    }
    audit_chain_head::ActiveModel {
        id: Set(1),
        seq: Set(last.0),
        hash: Set(last.1),
    }
    .update(&app.db)
    .await
    .expect("move the head");
}

#[tokio::test]
async fn an_edited_entry_with_its_chain_made_again_is_found_by_its_seal() {
    for backend in backends() {
        let (app, anchors) = logged(&backend).await;
        lift_append_only(&app).await;
        app.db
            .execute_unprepared("UPDATE audit_event SET outcome = 'denied' WHERE seq = 3")
            .await
            .expect("edit");
        rehash(&app).await;
        let chain = audit::verify(&app.db, None).await.expect("verify");
        assert!(
            chain.is_intact(),
            "the chain alone no longer shows it: {:?}",
            chain.problems
        );

        let (ok, out) = bedside(&app, &["audit", "verify"]);
        assert!(!ok, "{} {out}", app.backend);
        assert!(out.contains("row 3's seal does not match"), "{out}");
        assert!(out.contains("First bad entry: 3"), "{out}");
        let (ok, out) = bedside(&app, &["audit", "verify", "--anchor", &anchors]);
        assert!(!ok && out.contains("First bad entry: 3"), "{out}");
    }
}

#[tokio::test]
async fn a_deleted_entry_is_found_even_when_the_rest_are_renumbered_and_rehashed() {
    for backend in backends() {
        let (app, _) = logged(&backend).await;
        lift_append_only(&app).await;
        app.db
            .execute_unprepared("DELETE FROM audit_event WHERE seq = 2")
            .await
            .expect("delete");
        let (ok, out) = bedside(&app, &["audit", "verify"]);
        assert!(
            !ok && out.contains("First bad entry: 2"),
            "{} {out}",
            app.backend
        );

        // Close the gap, renumber, rehash: the chain is whole, the seals are not.
        for seq in 3..=6 {
            app.db
                .execute_unprepared(&format!(
                    "UPDATE audit_event SET seq = {} WHERE seq = {seq}",
                    seq - 1
                ))
                .await
                .expect("renumber");
        }
        rehash(&app).await;
        assert!(audit::verify(&app.db, None)
            .await
            .expect("verify")
            .is_intact());
        let (ok, out) = bedside(&app, &["audit", "verify"]);
        assert!(!ok, "{out}");
        assert!(out.contains("First bad entry: 2"), "{out}");
    }
}

#[tokio::test]
async fn removing_the_newest_entries_is_found_by_the_anchor() {
    for backend in backends() {
        let (app, anchors) = logged(&backend).await;
        lift_append_only(&app).await;
        let newest = audit_event::Entity::find()
            .order_by_desc(audit_event::Column::Seq)
            .one(&app.db)
            .await
            .expect("read")
            .expect("rows");
        app.db
            .execute_unprepared(&format!(
                "DELETE FROM audit_event WHERE seq >= {}",
                newest.seq - 1
            ))
            .await
            .expect("truncate");
        rehash(&app).await;
        // Chain and seals of what is left are intact: only the anchor can tell.
        let (ok, out) = bedside(&app, &["audit", "verify"]);
        assert!(ok, "{} {out}", app.backend);
        let (ok, out) = bedside(&app, &["audit", "verify", "--anchor", &anchors]);
        assert!(!ok, "{out}");
        assert!(out.contains("the newest rows were removed"), "{out}");
        assert!(
            out.contains(&format!("First bad entry: {}", newest.seq)),
            "{out}"
        );

        // An anchor edited to match the shortened log does not pass either.
        let mut forged = std::fs::read_to_string(&anchors).expect("anchors");
        forged = forged.replace(
            &format!("\"seq\":{}", newest.seq),
            &format!("\"seq\":{}", newest.seq - 2),
        );
        std::fs::write(&anchors, forged).expect("forge");
        let (ok, out) = bedside(&app, &["audit", "verify", "--anchor", &anchors]);
        assert!(
            !ok && out.contains("the anchor's own seal does not match"),
            "{out}"
        );
    }
}

#[tokio::test]
async fn entries_written_before_seals_existed_are_sealed_on_the_first_start_only() {
    for backend in backends() {
        let app = spawn_app(&backend).await;
        let maria = app.create_patient("maria@example.com", "Maria Lopez").await;
        let _ = app.signed_in(&maria).await;
        // As migration 25 found an older log: entries, no seals.
        lift_append_only(&app).await;
        app.db
            .execute_unprepared("DELETE FROM audit_seal")
            .await
            .expect("unseal");
        let report = audit::verify(&app.db, Some(app.keyring.audit_seal()))
            .await
            .expect("verify");
        assert_eq!(report.first_bad, Some(1), "{:?}", report.problems);

        // The first start with seals: no anchor was ever exported.
        let never = app.settings.data_dir.join("no-anchors-yet.jsonl");
        bedside::sealing::seal_audit_history(&app.db, &app.keyring, &never)
            .await
            .expect("seal");
        let report = audit::verify(&app.db, Some(app.keyring.audit_seal()))
            .await
            .expect("verify");
        assert!(report.is_intact(), "{} {:?}", app.backend, report.problems);

        // Once an anchor has gone out, a missing seal is tampering, not history to seal, even
        // when every seal is gone.
        let anchors = app.settings.data_dir.join("anchors.jsonl");
        bedside::audit_anchor::export(&app.db, app.keyring.audit_seal(), &anchors, app.clock_now())
            .await
            .expect("anchor");
        app.db
            .execute_unprepared("DELETE FROM audit_seal")
            .await
            .expect("remove the seals");
        bedside::sealing::seal_audit_history(&app.db, &app.keyring, &anchors)
            .await
            .expect("no-op");
        let report = audit::verify(&app.db, Some(app.keyring.audit_seal()))
            .await
            .expect("verify");
        assert_eq!(report.first_bad, Some(1));
        assert!(report
            .problems
            .iter()
            .any(|p| p.contains("row 1 has no seal")));
    }
}
