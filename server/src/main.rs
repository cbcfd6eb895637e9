use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    match bedside::cli::run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("bedside: {error:#}");
            ExitCode::FAILURE
        }
    }
}
