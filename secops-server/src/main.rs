//! The `secops` command.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use secops_server::config::Config;
use secops_server::state::AppState;
use secops_store::{ConnectOptions, Store};

#[derive(Parser)]
#[command(
    name = "secops",
    version,
    about = "Security-operations AI agents: the reference server"
)]
struct Cli {
    /// Configuration file (TOML); `SECOPS_*` environment variables override it.
    #[arg(long, global = true, env = "SECOPS_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API (migrates an embedded SQLite database on start).
    Serve,
    /// Apply database migrations; with `--app-role`, also create and grant the PostgreSQL application role.
    Migrate {
        /// PostgreSQL role to create (NOBYPASSRLS) and grant.
        #[arg(long)]
        app_role: Option<String>,
    },
    /// Print the OpenAPI document.
    Openapi,
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("secops: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<(), Box<dyn std::error::Error>> {
    match cli.command {
        Command::Openapi => {
            println!("{}", secops_server::openapi_json()?);
            Ok(())
        }
        Command::Migrate { app_role } => {
            let config = Config::load(cli.config.as_deref())?;
            let store = Store::connect(
                &config.database_url,
                ConnectOptions {
                    require_restricted_role: false,
                    max_connections: 2,
                },
            )
            .await?;
            store.migrate().await?;
            if let Some(role) = app_role {
                store.provision_app_role(&role).await?;
            }
            println!("migrations applied");
            Ok(())
        }
        Command::Serve => {
            let config = Config::load(cli.config.as_deref())?;
            let sqlite = config.database_url.starts_with("sqlite:");
            let store = Store::connect(&config.database_url, ConnectOptions::default()).await?;
            if sqlite {
                // The embedded default needs no separate step; PostgreSQL is migrated by the owner role.
                store.migrate().await?;
            }
            store.ready().await?;
            let provider = match secops_llm::config::provider_from_env() {
                Ok(p) => Some(p),
                Err(e) => {
                    eprintln!("secops: model calls are unavailable: {e}");
                    None
                }
            };
            let listen = config.listen;
            let app = secops_server::app(AppState::new(store, config, provider));
            let listener = tokio::net::TcpListener::bind(listen).await?;
            println!("secops: serving on http://{listen}");
            axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = tokio::signal::ctrl_c().await;
                })
                .await?;
            Ok(())
        }
    }
}
