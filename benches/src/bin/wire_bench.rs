//! `wire_bench`: the custos server against PostgreSQL 15 on the same machine, in one run,
//! through real clients, printing speed ratios (issue 3's benchmark).
//!
//! Both servers are started on free loopback ports in temporary directories
//! ([`custos_benches::wire::servers`]) and load the same deterministic data set
//! ([`custos_benches::wire::dataset`]): 100 branches, 1,000 tellers, and 1,000,000 accounts
//! (20,000 with `--quick`). Then, on each server:
//!
//! - **COPY**: `psql -c "\copy accounts FROM 'accounts.csv' WITH (FORMAT csv)"` into an empty
//!   table with its primary key; rows/s from psql's `\timing` (connection start-up excluded).
//!   The table is dropped and created again before each repeat.
//! - **Lookups**: pgbench with a custom script (`\set aid random(1, rows)`, then
//!   `SELECT abalance FROM accounts WHERE aid = :aid;`), `-n -M prepared -T <s>`, with 1 client
//!   (`-j 1`) and 8 clients (`-j 2`); tps without the initial connection time.
//! - **GROUP BY** over all accounts (100 groups) and a **3-table join** (accounts, tellers,
//!   branches, grouped by region), each through one tokio-postgres connection with the simple
//!   query protocol: one warm-up run, then timed runs. Both servers must return the same rows
//!   (compared sorted); a difference fails the run.
//!
//! Between the load and the reads, PostgreSQL gets `VACUUM ANALYZE` and `CHECKPOINT` (what
//! autovacuum and the checkpointer would do shortly anyway, done now so that they do not run
//! during measurements) and custos gets `ANALYZE`. Runs alternate between the servers (custos
//! first on even repeats, PostgreSQL first on odd ones) so that a burst of load from other
//! work on the shared machine does not fall on one side only; each figure is a median.
//!
//! Usage: `wire_bench [--quick] [--rows N] [--seconds S] [--repeats R] [--query-repeats Q]
//! [--only PARTS]`.
//! Progress goes to stderr; one line per measurement and then a Markdown table (for the
//! README) go to stdout. The exit status is 1 if anything failed or the results differed.

use std::error::Error;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use custos_benches::wire::dataset::{self, DataFiles};
use custos_benches::wire::measure::{
    compare_results, execute, psql_copy, run_pgbench, timed_query, TextRows,
};
use custos_benches::wire::report::{
    cpu_model, format_number, load_average, markdown_table, total_memory_gib, Comparison, Unit,
};
use custos_benches::wire::servers::{custos_binary, postgres_bin_dir, Server, ServerKind};
use tempfile::TempDir;
use tokio::runtime::Runtime;

type BenchResult<T> = Result<T, Box<dyn Error>>;

/// Seed of the accounts' generator: every run loads the same bytes.
const SEED: u64 = 3;
/// The servers, in the order of [`Bench::servers`].
const CUSTOS: usize = 0;
const POSTGRES: usize = 1;
/// Issue 3's targets, as speed ratios custos/PostgreSQL.
const LOOKUP_TARGET: f64 = 1.0;
const COPY_TARGET: f64 = 1.0;
const GROUP_BY_TARGET: f64 = 2.0;

const USAGE: &str =
    "usage: wire_bench [--quick] [--rows N] [--seconds S] [--repeats R] [--query-repeats Q]
                  [--only PARTS]
  --quick            smoke run: 20,000 rows, 2-second pgbench runs, 1 repeat (well under a minute)
  --rows N           accounts loaded (default 1000000)
  --seconds S        duration of each pgbench run (default 10)
  --repeats R        COPY loads and pgbench runs per server (default 3)
  --query-repeats Q  timed runs of each query per server, after one warm-up (default 5)
  --only PARTS       comma-separated subset of copy,lookups,queries (default: all); the
                     accounts are always loaded, timed only when copy is among the parts
Needs `custos` beside this executable (cargo build --release -p custos-server) or CUSTOS_BIN,
and PostgreSQL 15 in /usr/lib/postgresql/15/bin or CUSTOS_REFERENCE_PG_BIN.";

/// Sizes of one run, from the command line.
#[derive(Debug, Clone)]
struct Settings {
    rows: usize,
    pgbench_seconds: u64,
    repeats: usize,
    query_repeats: usize,
    /// Upper bound on one COPY or one query.
    statement_timeout: Duration,
    quick: bool,
    /// The parts measured (`--only`).
    parts: Parts,
}

/// The measurements of a run: `--only copy,lookups,queries`.
#[derive(Debug, Clone, Copy)]
struct Parts {
    copy: bool,
    lookups: bool,
    queries: bool,
}

impl Parts {
    const ALL: Parts = Parts {
        copy: true,
        lookups: true,
        queries: true,
    };

    fn parse(list: &str) -> Result<Parts, String> {
        let mut parts = Parts {
            copy: false,
            lookups: false,
            queries: false,
        };
        for name in list
            .split(',')
            .map(str::trim)
            .filter(|name| !name.is_empty())
        {
            match name {
                "copy" => parts.copy = true,
                "lookups" => parts.lookups = true,
                "queries" => parts.queries = true,
                other => {
                    return Err(format!(
                        "--only: unknown part \"{other}\" (copy, lookups or queries)"
                    ))
                }
            }
        }
        if !(parts.copy || parts.lookups || parts.queries) {
            return Err("--only needs at least one of copy, lookups, queries".into());
        }
        Ok(parts)
    }
}

impl Settings {
    fn full() -> Settings {
        Settings {
            rows: 1_000_000,
            pgbench_seconds: 10,
            repeats: 3,
            query_repeats: 5,
            statement_timeout: Duration::from_secs(600),
            quick: false,
            parts: Parts::ALL,
        }
    }

    fn quick() -> Settings {
        Settings {
            rows: 20_000,
            pgbench_seconds: 2,
            repeats: 1,
            query_repeats: 1,
            statement_timeout: Duration::from_secs(30),
            quick: true,
            parts: Parts::ALL,
        }
    }

    fn from_args(args: &[String]) -> Result<Settings, String> {
        let quick = args.iter().any(|arg| arg == "--quick");
        let mut settings = if quick {
            Settings::quick()
        } else {
            Settings::full()
        };
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            let mut number = |name: &str| -> Result<usize, String> {
                let value = args.next().ok_or(format!("{name} needs a number"))?;
                match value.replace('_', "").parse::<usize>() {
                    Ok(parsed) if parsed > 0 => Ok(parsed),
                    _ => Err(format!("{name}: \"{value}\" is not a positive number")),
                }
            };
            match arg.as_str() {
                "--quick" => {}
                "--rows" => settings.rows = number("--rows")?,
                "--seconds" => settings.pgbench_seconds = number("--seconds")? as u64,
                "--repeats" => settings.repeats = number("--repeats")?,
                "--query-repeats" => settings.query_repeats = number("--query-repeats")?,
                "--only" => {
                    let list = args.next().ok_or("--only needs a list of parts")?;
                    settings.parts = Parts::parse(list)?;
                }
                "-h" | "--help" => return Err(USAGE.into()),
                other => return Err(format!("unknown argument \"{other}\"\n{USAGE}")),
            }
        }
        if i32::try_from(settings.rows).is_err() {
            return Err("--rows must fit the int column aid".into());
        }
        Ok(settings)
    }
}

/// Everything a measurement needs: the running servers, the client programs, the data files.
struct Bench {
    settings: Settings,
    runtime: Runtime,
    /// custos at [`CUSTOS`], PostgreSQL at [`POSTGRES`].
    servers: Vec<Server>,
    psql: PathBuf,
    pgbench: PathBuf,
    files: DataFiles,
    scratch: TempDir,
    /// Whether `accounts` holds the data set on each server (the COPY succeeded).
    loaded: [bool; 2],
    /// Statements a server refused outside the measurements (e.g. maintenance commands).
    notes: Vec<String>,
    /// The PostgreSQL settings that matter most here, as `SHOW` gives them.
    postgres_settings: String,
}

/// The PostgreSQL settings shown in the report.
const POSTGRES_SETTINGS_QUERY: &str = "SELECT string_agg(name || '=' || current_setting(name), \
     ', ' ORDER BY name) FROM pg_settings WHERE name IN ('fsync', 'synchronous_commit', \
     'shared_buffers', 'work_mem', 'max_parallel_workers_per_gather', 'jit')";

/// The order of the servers in repeat `repeat`: custos first on even repeats.
fn order(repeat: usize) -> [usize; 2] {
    if repeat.is_multiple_of(2) {
        [CUSTOS, POSTGRES]
    } else {
        [POSTGRES, CUSTOS]
    }
}

/// The samples of server `index` in `comparison`.
fn slot(comparison: &mut Comparison, index: usize) -> &mut Result<Vec<f64>, String> {
    if index == CUSTOS {
        &mut comparison.custos
    } else {
        &mut comparison.postgres
    }
}

/// Adds a sample, or replaces the samples with the error: a server that failed once is not
/// measured again in that comparison.
fn record(samples: &mut Result<Vec<f64>, String>, sample: Result<f64, String>) {
    match sample {
        Ok(value) => {
            if let Ok(values) = samples {
                values.push(value);
            }
        }
        Err(error) => {
            if samples.is_ok() {
                *samples = Err(error);
            }
        }
    }
}

impl Bench {
    fn label(&self, index: usize) -> &'static str {
        self.servers[index].kind.label()
    }

    /// Runs statements on server `index` through a fresh connection.
    fn execute_on(&self, index: usize, sql: &str) -> Result<(), String> {
        let server = &self.servers[index];
        let timeout = self.settings.statement_timeout;
        self.runtime.block_on(async {
            let session = server
                .endpoint
                .connect()
                .await
                .map_err(|e| format!("connecting: {e}"))?;
            let outcome = execute(&session, sql, timeout).await;
            session.close().await;
            outcome
        })
    }

    /// Runs a query on server `index` through a fresh connection; returns its rows.
    fn query_on(&self, index: usize, sql: &str) -> Result<TextRows, String> {
        let server = &self.servers[index];
        let timeout = self.settings.statement_timeout;
        self.runtime.block_on(async {
            let session = server
                .endpoint
                .connect()
                .await
                .map_err(|e| format!("connecting: {e}"))?;
            let outcome = timed_query(&session, sql, timeout).await;
            session.close().await;
            outcome.map(|(_, rows)| rows)
        })
    }

    /// Creates the three tables and loads the small ones (untimed). A failure here ends the run.
    fn create_schema(&self) -> BenchResult<()> {
        for index in [CUSTOS, POSTGRES] {
            for sql in [
                dataset::CREATE_BRANCHES,
                dataset::CREATE_TELLERS,
                dataset::CREATE_ACCOUNTS,
            ] {
                self.execute_on(index, sql).map_err(|error| {
                    format!("creating the schema on {}: {error}", self.label(index))
                })?;
            }
            for (table, file) in [
                ("branches", &self.files.branches),
                ("tellers", &self.files.tellers),
            ] {
                psql_copy(
                    &self.psql,
                    &self.servers[index],
                    table,
                    file,
                    self.settings.statement_timeout,
                )
                .map_err(|error| format!("loading {table} on {}: {error}", self.label(index)))?;
            }
        }
        Ok(())
    }

    /// COPY of the accounts CSV into an empty table, `repeats` times per server.
    fn measure_copy(&mut self) -> Comparison {
        let mut comparison = Comparison::new(
            format!("COPY {} CSV rows", format_number(self.settings.rows as f64)),
            Unit::RowsPerSecond,
            Some(COPY_TARGET),
        );
        for repeat in 0..self.settings.repeats {
            for index in order(repeat) {
                if slot(&mut comparison, index).is_err() {
                    continue;
                }
                let sample = self.copy_accounts_once(index, repeat > 0);
                if let Ok(rows_per_second) = &sample {
                    eprintln!(
                        "  COPY on {}: {} rows/s",
                        self.label(index),
                        format_number(*rows_per_second)
                    );
                }
                record(slot(&mut comparison, index), sample);
            }
        }
        self.loaded = [comparison.custos.is_ok(), comparison.postgres.is_ok()];
        comparison
    }

    fn copy_accounts_once(&self, index: usize, recreate: bool) -> Result<f64, String> {
        if recreate {
            self.execute_on(index, dataset::DROP_ACCOUNTS)?;
            self.execute_on(index, dataset::CREATE_ACCOUNTS)?;
        }
        let outcome = psql_copy(
            &self.psql,
            &self.servers[index],
            "accounts",
            &self.files.accounts,
            self.settings.statement_timeout,
        )?;
        if outcome.rows != self.files.account_rows as u64 {
            return Err(format!(
                "COPY reported {} rows instead of {}",
                outcome.rows, self.files.account_rows
            ));
        }
        Ok(outcome.rows as f64 / outcome.seconds)
    }

    /// Maintenance between the load and the reads (see the crate doc); refusals become notes.
    fn settle(&mut self) {
        let statements: [(usize, &str); 3] = [
            (POSTGRES, "VACUUM ANALYZE"),
            (POSTGRES, "CHECKPOINT"),
            (CUSTOS, "ANALYZE"),
        ];
        for (index, sql) in statements {
            if !self.loaded[index] {
                continue;
            }
            if let Err(error) = self.execute_on(index, sql) {
                self.notes.push(format!(
                    "{} refused maintenance: {error}",
                    self.label(index)
                ));
            }
        }
    }

    /// Checks that both servers hold the same accounts: the count and a few whole rows.
    fn check_same_rows(&self) -> Result<(), String> {
        let rows = self.settings.rows;
        let mut statements = vec!["SELECT count(*) FROM accounts".to_string()];
        statements.extend([1, rows / 2 + 1, rows].map(dataset::row_lookup));
        for sql in &statements {
            let custos = self
                .query_on(CUSTOS, sql)
                .map_err(|e| format!("on custos: {e}"))?;
            let postgres = self
                .query_on(POSTGRES, sql)
                .map_err(|e| format!("on PostgreSQL: {e}"))?;
            compare_results(&custos, &postgres).map_err(|e| format!("`{sql}`: {e}"))?;
        }
        Ok(())
    }

    /// pgbench point lookups with `clients` clients on `threads` threads.
    fn measure_lookups(&self, clients: usize, threads: usize) -> BenchResult<Comparison> {
        let plural = if clients == 1 { "" } else { "s" };
        let mut comparison = Comparison::new(
            format!("PK lookups, {clients} client{plural} (pgbench -M prepared)"),
            Unit::TransactionsPerSecond,
            Some(LOOKUP_TARGET),
        );
        let script = self.scratch.path().join("lookup.sql");
        std::fs::write(&script, dataset::lookup_script(self.settings.rows))?;
        for index in [CUSTOS, POSTGRES] {
            if !self.loaded[index] {
                *slot(&mut comparison, index) = Err("skipped: accounts were not loaded".into());
            }
        }
        for repeat in 0..self.settings.repeats {
            for index in order(repeat) {
                if slot(&mut comparison, index).is_err() {
                    continue;
                }
                let sample = run_pgbench(
                    &self.pgbench,
                    &self.servers[index],
                    &script,
                    clients,
                    threads,
                    self.settings.pgbench_seconds,
                )
                .map(|outcome| {
                    eprintln!(
                        "  {} on {}: {} tps ({} transactions)",
                        comparison.name,
                        self.label(index),
                        format_number(outcome.tps),
                        outcome.transactions
                    );
                    outcome.tps
                });
                record(slot(&mut comparison, index), sample);
            }
        }
        Ok(comparison)
    }

    /// A query timed through one connection per server: a warm-up run whose rows are
    /// compared, then `query_repeats` timed runs.
    fn measure_query(&self, name: &str, sql: &str, target: Option<f64>) -> Comparison {
        let mut comparison = Comparison::new(name, Unit::Milliseconds, target);
        let timeout = self.settings.statement_timeout;
        let repeats = self.settings.query_repeats;
        self.runtime.block_on(async {
            let mut clients = Vec::new();
            let mut warm_up_rows: Vec<Option<TextRows>> = vec![None, None];
            for index in [CUSTOS, POSTGRES] {
                if !self.loaded[index] {
                    *slot(&mut comparison, index) = Err("skipped: accounts were not loaded".into());
                    clients.push(None);
                    continue;
                }
                match self.servers[index].endpoint.connect().await {
                    Ok(client) => clients.push(Some(client)),
                    Err(error) => {
                        *slot(&mut comparison, index) = Err(format!("connecting: {error}"));
                        clients.push(None);
                    }
                }
            }
            for index in [CUSTOS, POSTGRES] {
                let Some(client) = &clients[index] else {
                    continue;
                };
                match timed_query(client, sql, timeout).await {
                    Ok((seconds, rows)) => {
                        eprintln!(
                            "  {name} on {} (warm-up): {:.1} ms, {} rows",
                            self.label(index),
                            seconds * 1e3,
                            rows.len()
                        );
                        warm_up_rows[index] = Some(rows);
                    }
                    Err(error) => *slot(&mut comparison, index) = Err(error),
                }
            }
            if let [Some(custos), Some(postgres)] = &warm_up_rows[..] {
                comparison.same_results = Some(compare_results(custos, postgres));
            }
            for repeat in 0..repeats {
                for index in order(repeat) {
                    let Some(client) = &clients[index] else {
                        continue;
                    };
                    if slot(&mut comparison, index).is_err() {
                        continue;
                    }
                    let sample = timed_query(client, sql, timeout)
                        .await
                        .map(|(seconds, _)| seconds * 1e3);
                    record(slot(&mut comparison, index), sample);
                }
            }
            for session in clients.into_iter().flatten() {
                session.close().await;
            }
        });
        for index in [CUSTOS, POSTGRES] {
            if let Ok(samples) = slot(&mut comparison, index) {
                let shown: Vec<String> = samples.iter().map(|ms| format!("{ms:.1}")).collect();
                eprintln!("  {name} on {}: {} ms", self.label(index), shown.join(", "));
            }
        }
        comparison
    }
}

/// The report's header: how the figures were produced.
fn print_header(bench: &Bench, args: &[String], load_at_start: &str) {
    let settings = &bench.settings;
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let memory = total_memory_gib().map_or("? GiB".into(), |g| format!("{g:.1} GiB"));
    let arguments: String = args.iter().map(|a| format!(" {a}")).collect();
    println!("\n## custos vs PostgreSQL 15 over the wire\n");
    println!(
        "- command: `cargo build --release -p custos-server -p custos-benches && \
         $CARGO_TARGET_DIR/release/wire_bench{arguments}`"
    );
    println!(
        "- machine: {cpus} CPUs (nproc), {}, {memory} RAM; load average (1 min) at start / \
         end: {load_at_start} / {} (shared machine; clients and servers share the CPUs)",
        cpu_model(),
        load_average()
    );
    if cfg!(debug_assertions) {
        println!("- build: debug (figures are not representative: use --release)");
    }
    // "PostgreSQL 15.18 (Debian 15.18-0+deb12u1) on x86_64-pc-linux-gnu, compiled by ...".
    let short_version = |index: usize| {
        let version = &bench.servers[index].version;
        version.split(" on ").next().unwrap_or(version).to_string()
    };
    println!("- custos: {}", short_version(CUSTOS));
    println!(
        "- PostgreSQL: {}; stock configuration ({})",
        short_version(POSTGRES),
        bench.postgres_settings
    );
    println!(
        "- data: accounts {} rows ({:.1} MB of CSV), 1,000 tellers, 100 branches",
        format_number(settings.rows as f64),
        bench.files.account_bytes as f64 / 1e6
    );
    println!(
        "- each figure is the median, per server, of {} COPY load(s), {} pgbench run(s) of {} s, \
         or {} timed run(s) of the query after a warm-up; runs alternate between the servers\n",
        settings.repeats, settings.repeats, settings.pgbench_seconds, settings.query_repeats
    );
}

fn run(args: &[String]) -> BenchResult<bool> {
    let settings = Settings::from_args(args)?;
    let started = Instant::now();
    let load_at_start = load_average();
    let custos = custos_binary()?;
    let pg_bin = postgres_bin_dir()?;
    let scratch = tempfile::Builder::new()
        .prefix("custos-wire-bench-data-")
        .tempdir()?;
    eprintln!(
        "writing {} accounts into {}",
        settings.rows,
        scratch.path().display()
    );
    let files = dataset::write_data_files(scratch.path(), settings.rows, SEED)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    eprintln!("starting {} and PostgreSQL 15", custos.display());
    let servers = vec![
        Server::start_custos(&runtime, &custos)?,
        Server::start_postgres(&runtime, &pg_bin)?,
    ];
    debug_assert_eq!(servers[CUSTOS].kind, ServerKind::Custos);
    debug_assert_eq!(servers[POSTGRES].kind, ServerKind::Postgres);
    let mut bench = Bench {
        settings,
        runtime,
        servers,
        psql: pg_bin.join("psql"),
        pgbench: pg_bin.join("pgbench"),
        files,
        scratch,
        loaded: [false, false],
        notes: Vec::new(),
        postgres_settings: String::new(),
    };
    bench.create_schema()?;

    let mut comparisons = Vec::new();
    let mut finish = |comparison: Comparison| {
        println!("{}", comparison.line());
        comparisons.push(comparison);
    };
    let parts = bench.settings.parts;
    if parts.copy {
        eprintln!("COPY");
        finish(bench.measure_copy());
    } else {
        // The reads need the accounts: one untimed load, reported only if it failed.
        eprintln!("loading the accounts (COPY not measured)");
        let repeats = std::mem::replace(&mut bench.settings.repeats, 1);
        let load = bench.measure_copy();
        bench.settings.repeats = repeats;
        for (label, outcome) in [("custos", &load.custos), ("PostgreSQL", &load.postgres)] {
            if let Err(error) = outcome {
                bench
                    .notes
                    .push(format!("loading the accounts on {label}: {error}"));
            }
        }
    }
    bench.settle();
    let mut problems = Vec::new();
    if bench.loaded == [true, true] {
        match bench.check_same_rows() {
            Ok(()) => println!("same accounts on both servers (count and sample rows): yes"),
            Err(error) => {
                println!("same accounts on both servers: NO");
                problems.push(format!("accounts differ after COPY: {error}"));
            }
        }
    }
    if parts.lookups {
        eprintln!("lookups");
        finish(bench.measure_lookups(1, 1)?);
        finish(bench.measure_lookups(8, 2)?);
    }
    if parts.queries {
        eprintln!("queries");
        let rows = format_number(bench.settings.rows as f64);
        finish(bench.measure_query(
            &format!("GROUP BY bid over {rows} rows"),
            dataset::GROUP_BY_QUERY,
            Some(GROUP_BY_TARGET),
        ));
        finish(bench.measure_query(
            &format!("3-table join, {rows} accounts"),
            dataset::JOIN_QUERY,
            None,
        ));
    }

    bench.postgres_settings = match bench.query_on(POSTGRES, POSTGRES_SETTINGS_QUERY) {
        Ok(rows) => rows
            .first()
            .and_then(|row| row.first().cloned().flatten())
            .unwrap_or_default(),
        Err(error) => format!("(settings unknown: {error})"),
    };
    for server in &mut bench.servers {
        let outcome = server.stop();
        eprintln!("{} stopped: {outcome}", server.kind.label());
        if server.kind == ServerKind::Custos && outcome.contains("killed") {
            bench
                .notes
                .push(format!("custos did not shut down on SIGTERM: {outcome}"));
        }
    }
    eprintln!(
        "done in {:.0} s{}",
        started.elapsed().as_secs_f64(),
        if bench.settings.quick { " (quick)" } else { "" }
    );

    print_header(&bench, args, &load_at_start);
    print!("{}", markdown_table(&comparisons));
    println!(
        "\nGROUP BY: `{}`. Join: `{}`. Lookups: `{}` per transaction. Speed ratio above 1: \
         custos is faster (custos/PostgreSQL for rows/s and tps, PostgreSQL/custos for ms).",
        dataset::GROUP_BY_QUERY,
        dataset::JOIN_QUERY,
        dataset::lookup_script(bench.settings.rows)
            .lines()
            .nth(1)
            .unwrap_or_default()
    );
    problems.extend(comparisons.iter().flat_map(Comparison::problems));
    if !bench.notes.is_empty() {
        println!("\nNotes:");
        for note in &bench.notes {
            println!("- {note}");
        }
    }
    if !problems.is_empty() {
        println!("\nFAILURES:");
        for problem in &problems {
            println!("- {problem}");
        }
    }
    Ok(problems.is_empty())
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(true) => {}
        Ok(false) => {
            eprintln!("wire_bench: some measurements failed or the servers disagreed (above)");
            std::process::exit(1);
        }
        Err(error) => {
            eprintln!("wire_bench: {error}");
            std::process::exit(1);
        }
    }
}
