//! The `custos` command line. Each subcommand lives in its own module; this file only parses
//! arguments and reports errors.

mod demo;
mod inspect;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Custos: a PostgreSQL-compatible database for customer-360 data with built-in retrieval.
#[derive(Parser)]
#[command(name = "custos", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the PostgreSQL wire protocol (not available yet: see the README's status).
    Serve {
        /// Data directory (created on first start).
        #[arg(long)]
        data_dir: PathBuf,
        /// Address to listen on, e.g. 127.0.0.1:5433.
        #[arg(long, default_value = "127.0.0.1:5433")]
        listen: String,
    },
    /// Create (or top up) a data directory with the generated customer-360 demo dataset:
    /// customers, accounts, interactions and support tickets.
    Demo {
        /// Data directory (created when absent).
        #[arg(long)]
        data_dir: PathBuf,
        /// Number of customers to generate (accounts, interactions and tickets scale with it).
        #[arg(long, default_value_t = 2_000)]
        customers: usize,
    },
    /// Describe a data directory: tables, columns, indexes, row counts, segments, and what
    /// recovery found.
    Inspect {
        /// Data directory.
        #[arg(long)]
        data_dir: PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Serve { data_dir, listen } => Err(format!(
            "the PostgreSQL wire-protocol server is not built yet (data dir {}, listen {listen}); \
             `custos demo` and `custos inspect` work on the storage engine today",
            data_dir.display()
        )),
        Command::Demo {
            data_dir,
            customers,
        } => demo::load(&data_dir, customers).map_err(|e| e.to_string()),
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
