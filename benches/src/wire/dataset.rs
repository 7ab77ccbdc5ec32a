//! The data set both servers load, and the statements run on it.
//!
//! A pgbench-like bank schema with a CRM flavour:
//!
//! - `branches(bid int primary key, name text, region text)`: 100 branches in 10 regions;
//! - `tellers(tid int primary key, bid int, name text)`: 10 tellers per branch (1,000);
//! - `accounts(aid int primary key, bid int, tid int, abalance int, filler text)`: `rows`
//!   accounts, each served by a random teller (`bid` is the teller's branch), a balance in
//!   -20,000..=200,000 and a free-text note of 30–60 bytes (some with commas and quotes, so
//!   that COPY parses quoted CSV fields; every 50th note is empty, which CSV loads as NULL).
//!
//! Primary keys are declared inline in CREATE TABLE on both servers. The CSV files (no header,
//! PostgreSQL's CSV format) depend only on the row count and the seed, so every run and both
//! servers load the same bytes.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

pub const BRANCHES: u32 = 100;
pub const TELLERS_PER_BRANCH: u32 = 10;
pub const TELLERS: u32 = BRANCHES * TELLERS_PER_BRANCH;

const REGIONS: [&str; 10] = [
    "North",
    "South",
    "East",
    "West",
    "Central",
    "Coast",
    "Highlands",
    "Islands",
    "Metro",
    "Valley",
];

/// What account managers write in the note, as a CRM would hold it.
const NOTES: [&str; 8] = [
    "asked about the March invoice",
    "requested a callback, prefers mornings",
    "upgraded to the \"premium\" plan",
    "reported a login problem on the mobile app",
    "moved to a new address",
    "no contact this quarter",
    "disputed a card charge, refunded",
    "opened a second account for the family",
];

pub const CREATE_BRANCHES: &str =
    "CREATE TABLE branches (bid int PRIMARY KEY, name text NOT NULL, region text NOT NULL)";
pub const CREATE_TELLERS: &str =
    "CREATE TABLE tellers (tid int PRIMARY KEY, bid int NOT NULL, name text NOT NULL)";
pub const CREATE_ACCOUNTS: &str = "CREATE TABLE accounts (aid int PRIMARY KEY, bid int NOT NULL, \
     tid int NOT NULL, abalance int NOT NULL, filler text)";
pub const DROP_ACCOUNTS: &str = "DROP TABLE accounts";

/// The aggregate: 100 groups over every account.
pub const GROUP_BY_QUERY: &str =
    "SELECT bid, count(*), sum(abalance), avg(abalance) FROM accounts GROUP BY bid";

/// The join an analyst runs: accounts in credit and their total balance per region of the
/// branch of the teller who serves them.
pub const JOIN_QUERY: &str = "SELECT b.region, count(*) AS accounts, sum(a.abalance) AS balance \
     FROM accounts a JOIN tellers t ON t.tid = a.tid JOIN branches b ON b.bid = t.bid \
     WHERE a.abalance > 0 GROUP BY b.region";

/// The pgbench script of the lookup measurement.
pub fn lookup_script(rows: usize) -> String {
    format!("\\set aid random(1, {rows})\nSELECT abalance FROM accounts WHERE aid = :aid;\n")
}

/// A point lookup of one whole row, to check that both servers hold the same rows.
pub fn row_lookup(aid: usize) -> String {
    format!("SELECT aid, bid, tid, abalance, filler FROM accounts WHERE aid = {aid}")
}

/// The CSV files of one data set.
#[derive(Debug, Clone)]
pub struct DataFiles {
    pub branches: PathBuf,
    pub tellers: PathBuf,
    pub accounts: PathBuf,
    pub account_rows: usize,
    pub account_bytes: u64,
}

/// Writes the three CSV files into `dir`.
pub fn write_data_files(dir: &Path, account_rows: usize, seed: u64) -> io::Result<DataFiles> {
    let branches = dir.join("branches.csv");
    let mut out = BufWriter::new(File::create(&branches)?);
    for bid in 1..=BRANCHES {
        let region = REGIONS[(bid as usize - 1) % REGIONS.len()];
        writeln!(out, "{bid},Branch {bid:03},{region}")?;
    }
    out.into_inner()?.sync_all()?;

    let tellers = dir.join("tellers.csv");
    let mut out = BufWriter::new(File::create(&tellers)?);
    for tid in 1..=TELLERS {
        writeln!(out, "{tid},{},Teller {tid:04}", branch_of_teller(tid))?;
    }
    out.into_inner()?.sync_all()?;

    let accounts = dir.join("accounts.csv");
    let mut out = BufWriter::with_capacity(1 << 20, File::create(&accounts)?);
    let mut rng = StdRng::seed_from_u64(seed);
    let mut note = String::new();
    for aid in 1..=account_rows {
        let tid = rng.gen_range(1..=TELLERS);
        let abalance: i32 = rng.gen_range(-20_000..=200_000);
        let phrase = NOTES[rng.gen_range(0..NOTES.len())];
        write!(out, "{aid},{},{tid},{abalance},", branch_of_teller(tid))?;
        if aid % 50 != 0 {
            note.clear();
            note.push_str(phrase);
            note.push_str(&format!(" (ref {aid:07})"));
            write_csv_field(&mut out, &note)?;
        }
        out.write_all(b"\n")?;
    }
    let file = out.into_inner().map_err(|e| e.into_error())?;
    file.sync_all()?;
    let account_bytes = file.metadata()?.len();
    Ok(DataFiles {
        branches,
        tellers,
        accounts,
        account_rows,
        account_bytes,
    })
}

fn branch_of_teller(tid: u32) -> u32 {
    (tid - 1) / TELLERS_PER_BRANCH + 1
}

/// One CSV field: quoted (quotes doubled) when it holds a comma, quote or line break.
fn write_csv_field(out: &mut impl Write, field: &str) -> io::Result<()> {
    if field.contains([',', '"', '\n', '\r']) {
        write!(out, "\"{}\"", field.replace('"', "\"\""))
    } else {
        out.write_all(field.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_only_when_needed() {
        let mut out = Vec::new();
        write_csv_field(&mut out, "plain").unwrap();
        out.push(b'|');
        write_csv_field(&mut out, "a, \"b\"").unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "plain|\"a, \"\"b\"\"\"");
    }

    #[test]
    fn data_files_are_deterministic() {
        let dir = tempfile::tempdir().unwrap();
        let first = write_data_files(dir.path(), 500, 7).unwrap();
        let first_bytes = std::fs::read(&first.accounts).unwrap();
        let again = write_data_files(dir.path(), 500, 7).unwrap();
        assert_eq!(std::fs::read(&again.accounts).unwrap(), first_bytes);
        assert_eq!(first_bytes.iter().filter(|&&b| b == b'\n').count(), 500);
        let tellers = std::fs::read_to_string(&first.tellers).unwrap();
        assert!(tellers.starts_with("1,1,Teller 0001\n"));
        assert!(tellers.ends_with("1000,100,Teller 1000\n"));
    }
}
