//! Words that hold links, names or what happened to a patient are sealed where they rest: the
//! local outboxes (emails, their files, texts) and the notification centre (issue 12 §6). Rows
//! written before sealing are sealed when the server starts.

use crate::helpers::{backends, spawn_app, TestApp};
use app::mail::{outbox_attachment, outbox_email, Attachment, Mailer, OutgoingEmail};
use app::notifications::entity::notification;
use app::sms::{outbox_sms, OutgoingSms, SmsSender};
use bedside::mail::OutboxMailer;
use bedside::sms::OutboxSms;
use sea_orm::{ActiveModelTrait, EntityTrait, Set};

const LINK: &str = "https://harbor.test/signin/reset?token=secret-token-123";
const NAME: &str = "Maria Lopez";

/// The one row of table `E` (the test wrote one).
async fn only<E: EntityTrait>(app: &TestApp) -> E::Model {
    E::find()
        .one(&app.db)
        .await
        .expect("read")
        .expect("one row")
}

/// Whether `bytes` holds `needle` anywhere.
fn holds(bytes: &[u8], needle: &str) -> bool {
    bytes.windows(needle.len()).any(|w| w == needle.as_bytes())
}

async fn send_one_of_each(app: &TestApp) {
    let mailer = OutboxMailer::new(
        app.db.clone(),
        app.keyring.clone(),
        "practice@harbor.test".into(),
    );
    mailer
        .send(OutgoingEmail {
            to: "maria@example.com".into(),
            reply_to: None,
            subject: "Reset your password".into(),
            text_body: format!("Hello {NAME},\n\n{LINK}\n"),
            attachments: vec![Attachment {
                filename: "visit.ics".into(),
                content_type: "text/calendar".into(),
                content: format!("SUMMARY:Visit for {NAME}").into_bytes(),
            }],
        })
        .await
        .expect("sent");
    OutboxSms::new(app.db.clone(), app.keyring.clone(), "+12075550100".into())
        .send(OutgoingSms {
            to: "+12075550143".into(),
            body: format!("{NAME}, your visit is tomorrow. {LINK}"),
        })
        .await
        .expect("texted");
    let maria = app.create_patient("maria@example.com", NAME).await;
    let txn = sea_orm::TransactionTrait::begin(&app.db)
        .await
        .expect("begin");
    app::notifications::service::create(
        &txn,
        &app.keyring,
        maria.id,
        &format!("A time opened up for {NAME}"),
        &format!("Book it: {LINK}"),
        None,
        app.clock_now(),
    )
    .await
    .expect("notified");
    txn.commit().await.expect("commit");
}

#[tokio::test]
async fn outbox_emails_files_texts_and_notifications_are_sealed_at_rest_and_open_again() {
    for backend in backends() {
        let app = spawn_app(&backend).await;
        send_one_of_each(&app).await;

        let email = only::<outbox_email::Entity>(&app).await;
        assert_eq!(email.text_body, "", "{}", app.backend);
        let sealed = email.sealed_body.clone().expect("sealed").into_bytes();
        assert!(!holds(&sealed, LINK) && !holds(&sealed, NAME));
        assert!(app.open_email(email.clone()).text_body.contains(LINK));

        let file = only::<outbox_attachment::Entity>(&app).await;
        assert!(file.sealed && !holds(&file.content, NAME));
        let opened = bedside::mail::outbox::attachments(&app.db, &app.keyring, email.id)
            .await
            .expect("files");
        assert_eq!(
            opened[0].content,
            format!("SUMMARY:Visit for {NAME}").into_bytes()
        );

        let text = only::<outbox_sms::Entity>(&app).await;
        assert_eq!(text.body, "");
        assert!(!holds(
            &text.sealed_body.clone().expect("sealed").into_bytes(),
            NAME
        ));
        let texts = bedside::sms::outbox::latest(&app.db, &app.keyring, 10)
            .await
            .expect("texts");
        assert!(texts[0].body.starts_with(NAME));

        let row = only::<notification::Entity>(&app).await;
        assert_eq!((row.title.as_str(), row.body.as_str()), ("", ""));
        assert!(!holds(
            &row.sealed_title.clone().expect("sealed").into_bytes(),
            NAME
        ));
        let title =
            app::notifications::service::newest_unread_title(&app.db, &app.keyring, row.user_id)
                .await
                .expect("title");
        assert_eq!(title, Some(format!("A time opened up for {NAME}")));

        // Another row's ciphertext does not open here: each is bound to its own row.
        let mut moved: outbox_email::ActiveModel = email.clone().into();
        moved.id = sea_orm::ActiveValue::NotSet;
        let copy = moved.insert(&app.db).await.expect("copy");
        assert!(bedside::mail::outbox::open_email(&app.keyring, copy).is_err());
    }
}

#[tokio::test]
async fn rows_written_before_sealing_are_sealed_when_the_server_starts() {
    for backend in backends() {
        let app = spawn_app(&backend).await;
        let now = app.clock_now();
        // As migration 23 left them: plain text, nothing sealed.
        let email = outbox_email::ActiveModel {
            from_address: Set("practice@harbor.test".into()),
            to_address: Set("maria@example.com".into()),
            reply_to: Set(None),
            subject: Set("Reset your password".into()),
            text_body: Set(format!("Hello {NAME}, {LINK}")),
            created_at: Set(now),
            sealed_body: Set(None),
            ..Default::default()
        }
        .insert(&app.db)
        .await
        .expect("old email");
        outbox_attachment::ActiveModel {
            email_id: Set(email.id),
            filename: Set("visit.ics".into()),
            content_type: Set("text/calendar".into()),
            content: Set(NAME.as_bytes().to_vec()),
            sealed: Set(false),
            ..Default::default()
        }
        .insert(&app.db)
        .await
        .expect("old file");
        outbox_sms::ActiveModel {
            from_number: Set("+12075550100".into()),
            to_number: Set("+12075550143".into()),
            body: Set(format!("{NAME}: tomorrow")),
            created_at: Set(now),
            sealed_body: Set(None),
            ..Default::default()
        }
        .insert(&app.db)
        .await
        .expect("old text");
        let maria = app.create_patient("maria@example.com", NAME).await;
        notification::ActiveModel {
            user_id: Set(maria.id),
            title: Set(format!("For {NAME}")),
            body: Set("Old words".into()),
            link: Set(None),
            created_at: Set(now),
            read_at: Set(None),
            sealed_title: Set(None),
            sealed_body: Set(None),
            ..Default::default()
        }
        .insert(&app.db)
        .await
        .expect("old notification");

        bedside::sealing::seal_old_rows(&app.db, &app.keyring)
            .await
            .expect("sealed");

        let email = only::<outbox_email::Entity>(&app).await;
        assert_eq!(email.text_body, "", "{}", app.backend);
        assert_eq!(
            app.open_email(email.clone()).text_body,
            format!("Hello {NAME}, {LINK}")
        );
        let file = only::<outbox_attachment::Entity>(&app).await;
        assert!(file.sealed && !holds(&file.content, NAME));
        let files = bedside::mail::outbox::attachments(&app.db, &app.keyring, email.id)
            .await
            .expect("files");
        assert_eq!(files[0].content, NAME.as_bytes());
        let text = only::<outbox_sms::Entity>(&app).await;
        assert_eq!(text.body, "");
        let row = only::<notification::Entity>(&app).await;
        assert_eq!(row.title, "");
        let title =
            app::notifications::service::newest_unread_title(&app.db, &app.keyring, maria.id)
                .await
                .expect("title");
        assert_eq!(title, Some(format!("For {NAME}")));

        // A second start finds nothing left to do.
        bedside::sealing::seal_old_rows(&app.db, &app.keyring)
            .await
            .expect("again");
        assert_eq!(
            app.open_email(only::<outbox_email::Entity>(&app).await)
                .text_body,
            format!("Hello {NAME}, {LINK}")
        );
    }
}

#[tokio::test]
async fn names_are_sealed_and_the_directory_still_sorts_and_finds_them() {
    use app::auth::entity::user_account;
    use app::patients::entity::patient;
    for backend in backends() {
        let app = spawn_app(&backend).await;
        let doctor = app
            .create_user(app::auth::Role::Physician, "doc@example.com")
            .await;
        for (email, name) in [
            ("maria@example.com", NAME),
            ("james@example.com", "James O'Connor"),
            ("ana@example.com", "Ana María Ruiz"),
        ] {
            app.create_patient(email, name).await;
        }
        for row in patient::Entity::find()
            .all(&app.db)
            .await
            .expect("patients")
        {
            assert_eq!(row.legal_name, "", "{}", app.backend);
            let sealed = row.sealed_legal_name.clone().expect("sealed").into_bytes();
            assert!(!holds(&sealed, "Maria") && !holds(&sealed, "James") && !holds(&sealed, "Ana"));
        }
        for row in user_account::Entity::find()
            .all(&app.db)
            .await
            .expect("accounts")
        {
            assert_eq!(row.display_name, "");
            assert!(row.sealed_display_name.is_some());
        }

        let me = app.acting_as(&doctor).await;
        let listed = |query: &'static str| {
            let me = me.clone();
            async move {
                app::patients::service::directory(&me, query)
                    .await
                    .expect("directory")
                    .into_iter()
                    .map(|p| p.legal_name)
                    .collect::<Vec<_>>()
            }
        };
        assert_eq!(
            listed("").await,
            vec!["Ana María Ruiz", "James O'Connor", NAME],
            "sorted by name once opened"
        );
        assert_eq!(listed("lopez").await, vec![NAME], "any case");
        assert_eq!(
            listed("ma ruiz").await,
            vec!["Ana María Ruiz"],
            "every word"
        );
        assert!(listed("nobody").await.is_empty());

        // The signed-in header greets by the opened name.
        let page = app
            .get_with(&app.signed_in(&doctor).await, "/dashboard?q=lopez")
            .await
            .text()
            .await
            .expect("page");
        assert!(page.contains("Test Physician"), "{}", app.backend);
        assert!(
            page.contains(NAME)
                && !page.contains("James O&#39;Connor")
                && !page.contains("James O'Connor")
        );
    }
}

#[tokio::test]
async fn names_written_before_sealing_are_sealed_when_the_server_starts() {
    use app::auth::entity::user_account;
    use app::patients::entity::patient;
    for backend in backends() {
        let app = spawn_app(&backend).await;
        let maria = app.create_patient("maria@example.com", NAME).await;
        // As migration 24 left them: names in plain text, nothing sealed.
        let row = only::<patient::Entity>(&app).await;
        let mut old: patient::ActiveModel = row.into();
        old.legal_name = Set(NAME.into());
        old.sealed_legal_name = Set(None);
        old.update(&app.db).await.expect("old shape");
        let account = user_account::Entity::find_by_id(maria.id)
            .one(&app.db)
            .await
            .expect("read")
            .expect("one");
        let mut old: user_account::ActiveModel = account.into();
        old.display_name = Set(NAME.into());
        old.sealed_display_name = Set(None);
        old.update(&app.db).await.expect("old shape");

        bedside::sealing::seal_old_rows(&app.db, &app.keyring)
            .await
            .expect("sealed");

        let row = only::<patient::Entity>(&app).await;
        assert_eq!(row.legal_name, "", "{}", app.backend);
        assert_eq!(
            app::patients::service::legal_name(&app.keyring, &row).expect("open"),
            NAME
        );
        let account = user_account::Entity::find_by_id(maria.id)
            .one(&app.db)
            .await
            .expect("read")
            .expect("one");
        assert_eq!(account.display_name, "");
        assert_eq!(
            app::auth::service::display_name(&app.keyring, &account).expect("open"),
            NAME
        );
    }
}
