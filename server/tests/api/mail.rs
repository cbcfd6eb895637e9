//! The SMTP mailer against a real (tiny) SMTP server started by the test.

use app::mail::{Mailer, OutgoingEmail};
use bedside::mail::SmtpMailer;
use bedside::settings::{SmtpSecurity, SmtpSettings};
use secrecy::SecretString;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

#[derive(Debug, Default, Clone)]
struct Received {
    auth: Vec<String>,
    mail_from: Vec<String>,
    rcpt_to: Vec<String>,
    data: String,
}

/// An SMTP server that speaks just enough RFC 5321 (EHLO, AUTH PLAIN, MAIL, RCPT, DATA, QUIT)
/// to receive one message and record what it was sent.
async fn smtp_sink() -> (u16, Arc<Mutex<Received>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let received = Arc::new(Mutex::new(Received::default()));
    let record = received.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let record = record.clone();
            tokio::spawn(async move {
                let (read, mut write) = stream.into_split();
                let mut lines = BufReader::new(read).lines();
                write.write_all(b"220 sink.test ESMTP ready\r\n").await.ok();
                let mut in_data = false;
                while let Ok(Some(line)) = lines.next_line().await {
                    if in_data {
                        if line == "." {
                            in_data = false;
                            write.write_all(b"250 2.0.0 queued\r\n").await.ok();
                        } else if let Ok(mut r) = record.lock() {
                            r.data.push_str(&line);
                            r.data.push('\n');
                        }
                        continue;
                    }
                    let upper = line.to_ascii_uppercase();
                    let reply: &[u8] = if upper.starts_with("EHLO") {
                        b"250-sink.test\r\n250-AUTH PLAIN LOGIN\r\n250 8BITMIME\r\n"
                    } else if upper.starts_with("AUTH PLAIN") {
                        if let Ok(mut r) = record.lock() {
                            r.auth.push(line[10..].trim().to_owned());
                        }
                        b"235 2.7.0 accepted\r\n"
                    } else if upper.starts_with("MAIL FROM:") {
                        if let Ok(mut r) = record.lock() {
                            r.mail_from.push(line[10..].trim().to_owned());
                        }
                        b"250 2.1.0 ok\r\n"
                    } else if upper.starts_with("RCPT TO:") {
                        if let Ok(mut r) = record.lock() {
                            r.rcpt_to.push(line[8..].trim().to_owned());
                        }
                        b"250 2.1.5 ok\r\n"
                    } else if upper == "DATA" {
                        in_data = true;
                        b"354 end with .\r\n"
                    } else if upper == "QUIT" {
                        write.write_all(b"221 bye\r\n").await.ok();
                        break;
                    } else if upper == "RSET" || upper == "NOOP" {
                        b"250 ok\r\n"
                    } else {
                        b"502 not implemented\r\n"
                    };
                    write.write_all(reply).await.ok();
                }
            });
        }
    });
    (port, received)
}

#[tokio::test]
async fn the_smtp_mailer_delivers_recipients_subject_and_body() {
    let (port, received) = smtp_sink().await;
    let settings = SmtpSettings {
        host: "127.0.0.1".into(),
        port,
        security: SmtpSecurity::None,
        username: Some("practice".into()),
        password: Some(SecretString::from("relay-password")),
        timeout_seconds: 5,
    };
    let mailer =
        SmtpMailer::new(&settings, "Harbor Street Medicine <hello@harbor.test>").expect("mailer");
    mailer
        .send(OutgoingEmail {
            to: "ann@example.com".into(),
            reply_to: Some("front-desk@harbor.test".into()),
            subject: "We received your message".into(),
            text_body: "Dear Ann,\n\nThank you for writing.\n".into(),
            ..Default::default()
        })
        .await
        .expect("sent");
    let got = received.lock().expect("lock").clone();
    assert_eq!(got.mail_from, vec!["<hello@harbor.test>"]);
    assert_eq!(got.rcpt_to, vec!["<ann@example.com>"]);
    assert_eq!(
        got.auth.len(),
        1,
        "authenticated with the configured credentials"
    );
    assert!(
        got.data.contains("Subject: We received your message"),
        "{}",
        got.data
    );
    assert!(
        got.data.contains("Reply-To: front-desk@harbor.test"),
        "{}",
        got.data
    );
    assert!(got.data.contains("To: ann@example.com"), "{}", got.data);
    assert!(got.data.contains("Thank you for writing."), "{}", got.data);
}

#[tokio::test]
async fn an_attachment_goes_as_a_multipart_email_with_its_file_name_and_type() {
    let (port, received) = smtp_sink().await;
    let settings = SmtpSettings {
        host: "127.0.0.1".into(),
        port,
        security: SmtpSecurity::None,
        username: None,
        password: None,
        timeout_seconds: 5,
    };
    let mailer =
        SmtpMailer::new(&settings, "Harbor Street Medicine <hello@harbor.test>").expect("mailer");
    mailer
        .send(OutgoingEmail {
            to: "ann@example.com".into(),
            subject: "Your visit is booked".into(),
            text_body: "See the calendar entry.\n".into(),
            attachments: vec![app::mail::Attachment {
                filename: "visit.ics".into(),
                content_type: "text/calendar; method=PUBLISH; charset=utf-8".into(),
                content: b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n".to_vec(),
            }],
            ..Default::default()
        })
        .await
        .expect("sent");
    let data = received.lock().expect("lock").data.clone();
    assert!(data.contains("multipart/mixed"), "{data}");
    assert!(data.contains("See the calendar entry."), "{data}");
    assert!(data.contains("filename=\"visit.ics\""), "{data}");
    assert!(data.contains("text/calendar"), "{data}");
}

#[tokio::test]
async fn an_unreachable_smtp_server_is_an_error_not_a_silent_success() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    let settings = SmtpSettings {
        host: "127.0.0.1".into(),
        port,
        security: SmtpSecurity::None,
        username: None,
        password: None,
        timeout_seconds: 2,
    };
    let mailer = SmtpMailer::new(&settings, "hello@harbor.test").expect("mailer");
    let sent = mailer
        .send(OutgoingEmail {
            to: "ann@example.com".into(),
            reply_to: None,
            subject: "x".into(),
            text_body: "y".into(),
            ..Default::default()
        })
        .await;
    assert!(sent.is_err());
}

#[tokio::test]
async fn starttls_is_required_when_configured() {
    // The sink offers no STARTTLS: a mailer configured for it must refuse to send in clear text.
    let (port, received) = smtp_sink().await;
    let settings = SmtpSettings {
        host: "127.0.0.1".into(),
        port,
        security: SmtpSecurity::Starttls,
        username: None,
        password: None,
        timeout_seconds: 5,
    };
    let mailer = SmtpMailer::new(&settings, "hello@harbor.test").expect("mailer");
    let sent = mailer
        .send(OutgoingEmail {
            to: "ann@example.com".into(),
            reply_to: None,
            subject: "x".into(),
            text_body: "y".into(),
            ..Default::default()
        })
        .await;
    assert!(sent.is_err());
    assert!(
        received.lock().expect("lock").rcpt_to.is_empty(),
        "nothing sent without TLS"
    );
}
