//! The `custos` command line. Each subcommand lives in its own module; this file only parses
//! arguments and reports errors.

mod auth;
mod config;
mod connection;
mod copy;
mod demo;
mod inspect;
mod registry;
mod serve;
mod server;
mod tls;
mod types;
mod wire;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use config::{FileSettings, ServeConfig};

/// Custos: a PostgreSQL-compatible database for customer-360 data with built-in retrieval.
#[derive(Parser)]
#[command(name = "custos", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Options of `custos serve`. Each may also be set in the `--config` file (same name with
/// underscores); a flag wins over the file.
#[derive(Args)]
struct ServeArgs {
    /// Data directory (created on first start). On the first start of an empty directory the
    /// superuser `custos` is created with the password in the environment variable
    /// CUSTOS_PASSWORD (or a generated one, printed once on stderr).
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Address and port to listen on [default: 127.0.0.1:5433].
    #[arg(long, value_name = "ADDRESS:PORT")]
    listen: Option<String>,
    /// TOML file with any of these settings: data_dir, listen, max_connections, model_dir,
    /// authentication_timeout_seconds, shutdown_timeout_seconds, and for rag_answer()
    /// llm_endpoint, llm_model, llm_api_key_env, llm_timeout_seconds.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Most client connections at once; more are refused with "sorry, too many clients
    /// already" [default: 100].
    #[arg(long, value_name = "N")]
    max_connections: Option<usize>,
    /// Directory of the embedding model files (fetched by scripts/fetch-models).
    #[arg(long, value_name = "DIR")]
    model_dir: Option<PathBuf>,
    /// Seconds a client may take to start up and authenticate [default: 60].
    #[arg(long, value_name = "SECONDS")]
    authentication_timeout_seconds: Option<u64>,
    /// On SIGTERM or SIGINT, seconds to wait for busy connections to finish before exiting
    /// [default: 10].
    #[arg(long, value_name = "SECONDS")]
    shutdown_timeout_seconds: Option<u64>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the PostgreSQL wire protocol (version 3, SCRAM-SHA-256 authentication) on a data
    /// directory until SIGTERM or SIGINT, which shut down gracefully.
    Serve(ServeArgs),
    /// Create a data directory with the generated customer-360 demo dataset: customers,
    /// accounts, interactions and support tickets whose descriptions are embedded (needs the
    /// embedding model: scripts/fetch-models).
    Demo {
        /// Data directory (created when absent).
        #[arg(long)]
        data_dir: PathBuf,
        /// Number of customers to generate (accounts, interactions and tickets scale with it).
        #[arg(long, default_value_t = 2_000)]
        customers: usize,
        /// Directory of the embedding model files [default: $CUSTOS_MODEL_DIR].
        #[arg(long, value_name = "DIR")]
        model_dir: Option<PathBuf>,
    },
    /// Describe a data directory: tables, columns, indexes, row counts, segments, and what
    /// recovery found.
    Inspect {
        /// Data directory.
        #[arg(long)]
        data_dir: PathBuf,
    },
}

fn serve(args: ServeArgs) -> Result<(), String> {
    let file = match &args.config {
        Some(path) => FileSettings::load(path)?,
        None => FileSettings::default(),
    };
    let flags = FileSettings {
        data_dir: args.data_dir,
        listen: args.listen,
        max_connections: args.max_connections,
        model_dir: args.model_dir,
        authentication_timeout_seconds: args.authentication_timeout_seconds,
        shutdown_timeout_seconds: args.shutdown_timeout_seconds,
        ..FileSettings::default()
    };
    serve::run(ServeConfig::resolve(flags, file)?)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Serve(args) => serve(args),
        Command::Demo {
            data_dir,
            customers,
            model_dir,
        } => demo::load(&data_dir, customers, model_dir),
        Command::Inspect { data_dir } => inspect::run(&data_dir).map_err(|e| e.to_string()),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("custos: error: {message}");
            ExitCode::FAILURE
        }
    }
}
