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
    /// Show the newest emails in the local outbox.
    Outbox {
        /// How many emails to show.
        #[arg(long, default_value_t = 10)]
        limit: u64,
    },
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
            let conn = db::connect(&settings).await?;
            db::migrate(&conn).await?;
            if demo::seed(&conn).await? {
                println!("Seeded the demo practice, Harbor Street Medicine.");
            } else {
                println!("A practice exists already; nothing seeded.");
            }
        }
        Command::Outbox { limit } => {
            let conn = db::connect(&settings).await?;
            db::migrate(&conn).await?;
            let emails = mail::outbox::latest(&conn, limit).await?;
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
                    "subject: {}\n\n{}\n{}",
                    email.subject,
                    email.text_body.trim_end(),
                    "-".repeat(72)
                );
            }
        }
    }
    Ok(())
}
