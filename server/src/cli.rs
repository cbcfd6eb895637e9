//! The `bedside` command line.

use crate::{db, demo, mail, settings::Settings, startup, telemetry};
use clap::{Parser, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "bedside",
    version,
    about = "Bedside: the software of a concierge-medicine practice"
)]
pub struct Cli {
    /// A TOML settings file (default: ./bedside.toml when it exists).
    #[arg(long, global = true, env = "BEDSIDE_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Apply migrations, then serve the website and the app (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Load the demo practice into an empty database (does nothing when a practice exists).
    SeedDemo,
    /// Manage accounts.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// The audit log.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Encryption keys.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Print an account's current authenticator code (development only: the demo's physician
    /// can sign in without an authenticator app).
    MfaCode {
        /// The account's email address.
        email: String,
        /// The code at this time (RFC 3339) instead of now: a development server whose clock
        /// was moved (`GET /dev/clock` says its time).
        #[arg(long)]
        at: Option<chrono::DateTime<chrono::FixedOffset>>,
    },
    /// Show the newest emails (with their attachments) and text messages in the local outboxes.
    Outbox {
        /// How many emails, and how many texts, to show.
        #[arg(long, default_value_t = 10)]
        limit: u64,
    },
}

#[derive(Debug, Subcommand)]
enum AdminCommand {
    /// Create an account (the practice's first admin and physician start here). Prints a random
    /// first password unless one is given on standard input with --password-stdin.
    Create {
        #[arg(long)]
        email: String,
        /// The person's name as shown in the app.
        #[arg(long)]
        name: String,
        /// patient, physician, staff or admin.
        #[arg(long)]
        role: String,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Check the hash chain and every entry's seal: report any edited, deleted, reordered or
    /// unsealed entry. Exits 1, naming the first bad entry, if the log cannot be trusted.
    Verify {
        /// Also check that the log still holds the entry anchored last in this file (written by
        /// `bedside audit anchor` and by the server on a schedule): the newest entries were not
        /// removed.
        #[arg(long)]
        anchor: Option<std::path::PathBuf>,
    },
    /// Append the chain's sealed head to the anchor file (default: the configured one).
    Anchor {
        #[arg(long)]
        to: Option<std::path::PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
enum KeysCommand {
    /// Re-encrypt every sealed value under the active key.
    Rotate,
    /// Print a new random key for the settings (base64 of 32 bytes).
    Generate,
}

async fn identity_for(settings: &Settings) -> anyhow::Result<app::auth::service::Identity> {
    let conn = db::connect(settings).await?;
    db::migrate(&conn).await?;
    let keyring = crate::keys::load_keyring(settings)?;
    let clock = crate::dev_clock::clock_for_tools(settings)?;
    startup::identity(settings, &conn, &keyring, clock).await
}

pub async fn run() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let settings = Settings::load(cli.config.as_deref())?;
    telemetry::init(settings.log_format());
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let app = startup::Application::build(settings).await?;
            let url = app.url();
            tracing::info!(%url, "Bedside is listening");
            println!("Bedside is running at {url}");
            app.serve(startup::shutdown_signal()).await?;
            tracing::info!("stopped");
        }
        Command::Migrate => {
            let conn = db::connect(&settings).await?;
            db::migrate(&conn).await?;
            println!("Migrations applied.");
        }
        Command::SeedDemo => {
            crate::production::refuse_in_production(&settings, "seed-demo")?;
            let conn = db::connect(&settings).await?;
            db::migrate(&conn).await?;
            if demo::seed(&conn).await? {
                println!("Seeded the demo practice, Harbor Street Medicine.");
            } else {
                println!("A practice exists already; nothing seeded.");
            }
            let identity = identity_for(&settings).await?;
            let objects =
                app::storage::Objects::from_settings(&settings.storage, &settings.data_dir)?;
            if let Some(accounts) =
                demo::seed_accounts(&identity, &objects, &settings.data_dir).await?
            {
                print!("{}", demo::describe_accounts(&accounts));
                println!(
                    "(Saved in {}.)",
                    settings.data_dir.join(demo::DEMO_ACCOUNTS_FILE).display()
                );
            }
        }
        Command::Admin {
            command:
                AdminCommand::Create {
                    email,
                    name,
                    role,
                    password_stdin,
                },
        } => {
            let role = app::auth::Role::parse(&role).ok_or_else(|| {
                anyhow::anyhow!("unknown role {role:?}: use patient, physician, staff or admin")
            })?;
            let (password, generated) = if password_stdin {
                let mut line = String::new();
                std::io::stdin().read_line(&mut line)?;
                (line.trim_end_matches(['\r', '\n']).to_owned(), false)
            } else {
                let codes = app::auth::totp::new_recovery_codes();
                (codes.join("-").chars().take(29).collect::<String>(), true)
            };
            let identity = identity_for(&settings).await?;
            let new = app::auth::service::NewAccount {
                email: email.clone(),
                display_name: name,
                role,
                password: password.clone(),
            };
            match identity.create_account(&new).await {
                Ok(_) => {
                    println!("Created the {} account {email}.", role.as_str());
                    if generated {
                        println!(
                            "First password (shown once; change it after signing in): {password}"
                        );
                    }
                    if role.requires_mfa() {
                        println!("Two-step sign-in will be set up at the first sign-in.");
                    }
                }
                Err(app::AppError::Validation(errors)) => {
                    let problems: Vec<String> = errors
                        .0
                        .iter()
                        .map(|(field, m)| format!("{field}: {m}"))
                        .collect();
                    anyhow::bail!("the account was not created: {}", problems.join("; "));
                }
                Err(other) => anyhow::bail!("the account was not created: {other}"),
            }
        }
        Command::Audit {
            command: AuditCommand::Verify { anchor },
        } => {
            let conn = db::connect(&settings).await?;
            db::migrate(&conn).await?;
            let keyring = crate::keys::load_keyring(&settings)?;
            let seal = keyring.audit_seal();
            let report = app::audit::service::verify(&conn, Some(seal)).await?;
            let anchored = match &anchor {
                Some(file) => {
                    let newest = crate::audit_anchor::newest(file)?;
                    app::audit::service::check_anchor(&conn, seal, &newest)
                        .await?
                        .map(|problem| (newest.seq, problem))
                }
                None => None,
            };
            if report.is_intact() && anchored.is_none() {
                println!(
                    "The audit log is intact: {} entries, chain and seals verified{}.",
                    report.rows,
                    if anchor.is_some() {
                        ", the anchored entry is there"
                    } else {
                        ""
                    }
                );
            } else {
                println!(
                    "THE AUDIT LOG WAS TAMPERED WITH ({} entries read):",
                    report.rows
                );
                for problem in &report.problems {
                    println!("  - {problem}");
                }
                if let Some((_, problem)) = &anchored {
                    println!("  - {problem}");
                }
                let first = report
                    .first_bad
                    .into_iter()
                    .chain(anchored.map(|(seq, _)| seq))
                    .min();
                if let Some(first) = first {
                    println!("First bad entry: {first}");
                }
                std::process::exit(1);
            }
        }
        Command::Audit {
            command: AuditCommand::Anchor { to },
        } => {
            let conn = db::connect(&settings).await?;
            db::migrate(&conn).await?;
            let keyring = crate::keys::load_keyring(&settings)?;
            let file = to.unwrap_or_else(|| crate::audit_anchor::anchor_file(&settings));
            let now = crate::dev_clock::clock_for_tools(&settings)?.now();
            let anchor =
                crate::audit_anchor::export(&conn, keyring.audit_seal(), &file, now).await?;
            println!(
                "Anchored entry {} ({}) in {}.",
                anchor.seq,
                anchor.hash,
                file.display()
            );
        }
        Command::Keys {
            command: KeysCommand::Generate,
        } => {
            let key = app::crypto::MasterKey::generate(1);
            println!("{}", key.to_base64());
        }
        Command::Keys {
            command: KeysCommand::Rotate,
        } => {
            let conn = db::connect(&settings).await?;
            db::migrate(&conn).await?;
            let keyring = crate::keys::load_keyring(&settings)?;
            let total = crate::rotate::rows_to_check(&conn).await?;
            let bar = indicatif::ProgressBar::new(total);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{msg} [{bar:40}] {pos}/{len} rows ({eta} left)",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
                .progress_chars("=> "),
            );
            bar.set_message(format!(
                "Re-encrypting under key {}",
                keyring.active_key_id()
            ));
            let report = crate::rotate::rotate_all(&conn, &keyring, |n| bar.inc(n)).await?;
            bar.finish_and_clear();
            println!(
                "Checked {} rows; re-encrypted {} values under key {}.",
                report.rows_checked,
                report.values_rotated,
                keyring.active_key_id()
            );
        }
        Command::MfaCode { email, at } => {
            crate::production::refuse_in_production(&settings, "mfa-code")?;
            let conn = db::connect(&settings).await?;
            let keyring = crate::keys::load_keyring(&settings)?;
            let at = match at {
                Some(at) => at.with_timezone(&chrono::Utc),
                None => crate::dev_clock::clock_for_tools(&settings)?.now(),
            };
            let code = demo::current_mfa_code(&conn, &keyring, &email, at).await?;
            println!("{code}");
        }
        Command::Outbox { limit } => {
            let conn = db::connect(&settings).await?;
            db::migrate(&conn).await?;
            let keyring = crate::keys::load_keyring(&settings)?;
            let emails = mail::outbox::latest(&conn, &keyring, limit).await?;
            if emails.is_empty() {
                println!("The outbox is empty.");
            }
            for email in emails {
                println!(
                    "#{} {}  from {}  to {}",
                    email.id,
                    email.created_at.format("%Y-%m-%d %H:%M:%S UTC"),
                    email.from_address,
                    email.to_address
                );
                if let Some(reply_to) = &email.reply_to {
                    println!("reply-to {reply_to}");
                }
                println!(
                    "subject: {}\n\n{}",
                    email.subject,
                    email.text_body.trim_end()
                );
                for file in mail::outbox::attachments(&conn, &keyring, email.id).await? {
                    println!(
                        "\n[attached: {} ({}, {} bytes)]\n{}",
                        file.filename,
                        file.content_type,
                        file.content.len(),
                        if file.content_type.starts_with("text/") {
                            String::from_utf8_lossy(&file.content).trim_end().to_owned()
                        } else {
                            String::new()
                        }
                    );
                }
                println!("{}", "-".repeat(72));
            }
            let texts = crate::sms::outbox::latest(&conn, &keyring, limit).await?;
            if texts.is_empty() {
                println!("No text messages.");
            }
            for sms in texts {
                println!(
                    "text #{} {}  from {}  to {}\n{}\n{}",
                    sms.id,
                    sms.created_at.format("%Y-%m-%d %H:%M:%S UTC"),
                    sms.from_number,
                    sms.to_number,
                    sms.body,
                    "-".repeat(72)
                );
            }
        }
    }
    Ok(())
}
