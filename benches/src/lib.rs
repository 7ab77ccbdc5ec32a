//! Helpers shared by the custos benchmark binaries: the customer-360 table they load, a
//! deterministic generator of its rows, and small measuring tools (median, resident memory,
//! the file system under a path).
//!
//! The generator draws names and e-mail addresses from the customer-support-tickets data set
//! when it is present (read in place, never copied into the repository) and falls back to
//! synthetic names otherwise; every other column is generated. Rows depend only on their id
//! and the generator's seed, so runs are repeatable.
//!
//! [`wire`] holds the parts of `wire_bench`, which drives the `custos` server and PostgreSQL 15
//! over the wire.
//!
//! [`npy`] reads and writes the NumPy `.npy` files the data sets and the Python baselines use.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use bigdecimal::num_bigint::BigInt;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use storage::types::{encode_row, DataType, Numeric, Row, Value};
use storage::Engine;

pub mod npy;
pub mod wire;

/// Dimensions of the `embedding` column.
pub const EMBEDDING_DIMENSIONS: usize = 16;

/// Cities a customer lives in (a low-cardinality text column, as in real customer tables).
const CITIES: [&str; 12] = [
    "Lisbon", "Oslo", "Quito", "Lima", "Nairobi", "Osaka", "Denver", "Lyon", "Porto", "Austin",
    "Hanoi", "Tallinn",
];

/// Microseconds from 2000-01-01 to 2015-01-01 and the span of ten years: `created` lies in
/// 2015–2025.
const CREATED_FROM_MICROS: i64 = 473_385_600_000_000;
const CREATED_SPAN_MICROS: i64 = 315_576_000_000_000;

/// The benchmark table and its primary-key index.
#[derive(Debug, Clone, Copy)]
pub struct CustomerTable {
    pub oid: u32,
    pub pkey: u32,
}

/// Creates `customers(id int8 primary key, name text, email text, city text,
/// balance numeric(12,2), created timestamptz, embedding vector(16))` in schema `public`.
pub fn create_customer_table(engine: &Engine) -> storage::Result<CustomerTable> {
    let mut txn = engine.begin();
    let catalog = txn.catalog_mut();
    let schema = catalog.ensure_schema("public", 10);
    let balance_type = DataType::Numeric {
        precision: Some(12),
        scale: Some(2),
    };
    let oid = catalog.create_table(
        schema,
        "customers",
        10,
        &[
            ("id", DataType::Int8, true),
            ("name", DataType::Text, false),
            ("email", DataType::Text, false),
            ("city", DataType::Text, false),
            ("balance", balance_type, false),
            ("created", DataType::Timestamptz, false),
            (
                "embedding",
                DataType::Vector(Some(EMBEDDING_DIMENSIONS as u32)),
                false,
            ),
        ],
        &["id"],
    );
    let pkey = catalog
        .indexes_of(oid)
        .find(|index| index.primary)
        .map(|index| index.oid)
        .ok_or_else(|| storage::StorageError::InvalidCatalog("no primary key".into()))?;
    txn.commit()?;
    Ok(CustomerTable { oid, pkey })
}

/// Full names and e-mail addresses to draw from.
pub struct NamePool {
    pub people: Vec<(String, String)>,
    /// Where the names came from, for the report.
    pub source: String,
}

impl NamePool {
    /// The ticket data set's customers if `csv` can be read, synthetic names otherwise.
    pub fn load(csv: &Path) -> NamePool {
        let people = std::fs::read_to_string(csv)
            .map(|text| people_from_tickets_csv(&text))
            .unwrap_or_default();
        if people.is_empty() {
            return NamePool::synthetic();
        }
        let source = format!("{} ({} names)", csv.display(), people.len());
        NamePool { people, source }
    }

    fn synthetic() -> NamePool {
        let first = ["Ana", "Bo", "Chen", "Dara", "Eli", "Fatou", "Goran", "Hana"];
        let last = [
            "Silva", "Berg", "Wong", "Okafor", "Novak", "Diaz", "Sato", "Keane",
        ];
        let people = first
            .iter()
            .flat_map(|f| last.iter().map(move |l| (*f, *l)))
            .map(|(f, l)| {
                (
                    format!("{f} {l}"),
                    format!("{f}.{l}@example.com").to_lowercase(),
                )
            })
            .collect();
        NamePool {
            people,
            source: "synthetic (ticket data set not found)".into(),
        }
    }
}

/// The default location of the ticket data set: `../shared/data/` next to the workspace.
pub fn default_tickets_csv() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/customer_support_tickets.csv")
}

/// (Customer Name, Customer Email) of every record: columns 2 and 3.
fn people_from_tickets_csv(text: &str) -> Vec<(String, String)> {
    parse_csv(text)
        .into_iter()
        .filter_map(|record| match record.as_slice() {
            // The header's "Customer Email" has no '@' and is skipped.
            [_, name, email, ..] if !name.trim().is_empty() && email.contains('@') => {
                Some((name.trim().to_string(), email.trim().to_string()))
            }
            _ => None,
        })
        .collect()
}

/// Records of an RFC 4180 CSV (quoted fields may hold commas, doubled quotes, newlines).
pub fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut records = Vec::new();
    let mut record = Vec::new();
    let mut field = String::new();
    let mut in_quotes = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, in_quotes) {
            ('"', true) if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            ('"', _) => in_quotes = !in_quotes,
            (',', false) => record.push(std::mem::take(&mut field)),
            ('\n', false) => {
                record.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut record));
            }
            ('\r', false) => {}
            _ => field.push(c),
        }
    }
    if !field.is_empty() || !record.is_empty() {
        record.push(field);
        records.push(record);
    }
    records
}

/// The embedding model directory: `CUSTOS_MODEL_DIR`, else `models/` in the workspace (where
/// `scripts/fetch-models` puts it).
pub fn model_dir() -> PathBuf {
    std::env::var_os("CUSTOS_MODEL_DIR")
        .filter(|dir| !dir.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../models"))
}

/// Generates customer rows; one generator per thread.
pub struct CustomerGenerator {
    pool: Arc<NamePool>,
    rng: StdRng,
}

impl CustomerGenerator {
    pub fn new(pool: Arc<NamePool>, seed: u64) -> CustomerGenerator {
        CustomerGenerator {
            pool,
            rng: StdRng::seed_from_u64(seed),
        }
    }

    /// A customer with primary key `id`.
    pub fn row(&mut self, id: i64) -> Row {
        let (name, email) = &self.pool.people[self.rng.gen_range(0..self.pool.people.len())];
        // Distinct addresses per customer: the pool's local part plus the id.
        let email = match email.split_once('@') {
            Some((local, domain)) => format!("{local}.{id}@{domain}"),
            None => format!("{email}.{id}"),
        };
        let cents: i64 = self.rng.gen_range(-50_000..10_000_000);
        let balance = Numeric::from_mantissa_and_scale(BigInt::from(cents), 2);
        let created = CREATED_FROM_MICROS + self.rng.gen_range(0..CREATED_SPAN_MICROS);
        let embedding = (0..EMBEDDING_DIMENSIONS)
            .map(|_| self.rng.gen_range(-1.0f32..1.0))
            .collect();
        vec![
            Value::Int8(id),
            Value::Text(name.clone()),
            Value::Text(email),
            Value::Text(CITIES[self.rng.gen_range(0..CITIES.len())].into()),
            Value::Numeric(Box::new(balance)),
            Value::Timestamptz(created),
            Value::Vector(embedding),
        ]
    }
}

/// The size of a row's values in the storage encoding (the WAL's and the segments' before
/// compression): what "logical data" means in the reports.
pub fn logical_row_bytes(row: &[Value]) -> usize {
    let mut buffer = Vec::with_capacity(256);
    encode_row(&mut buffer, row);
    buffer.len()
}

/// The median of some measurements (the mean of the middle two for an even count).
pub fn median(mut samples: Vec<f64>) -> f64 {
    assert!(!samples.is_empty(), "median of no samples");
    samples.sort_by(f64::total_cmp);
    let middle = samples.len() / 2;
    if samples.len() % 2 == 1 {
        samples[middle]
    } else {
        (samples[middle - 1] + samples[middle]) / 2.0
    }
}

/// This process's resident set size (`VmRSS` of `/proc/self/status`), in bytes.
pub fn resident_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// CPU time (user and system) used so far by every thread of this process, in seconds.
pub fn process_cpu_seconds() -> f64 {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage writes a complete rusage into the pointer it is given, which points
    // to zeroed memory of exactly that type.
    let usage = unsafe {
        if libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr()) != 0 {
            return f64::NAN;
        }
        usage.assume_init()
    };
    let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

/// Hands memory the allocator holds but no longer uses back to the kernel, so that a
/// resident-size delta measures live data rather than the allocator's free lists.
pub fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only walks glibc's own heap under its lock; any argument is valid.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// The file system type and device holding `path`, from the longest matching mount point.
pub fn filesystem_of(path: &Path) -> Option<(String, String)> {
    let path = path.canonicalize().ok()?;
    let mounts = std::fs::read_to_string("/proc/self/mounts").ok()?;
    mounts
        .lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            let device = fields.next()?;
            let mount_point = fields.next()?.replace("\\040", " ");
            let fs_type = fields.next()?;
            path.starts_with(&mount_point)
                .then(|| (mount_point.len(), fs_type.to_string(), device.to_string()))
        })
        .max_by_key(|(len, _, _)| *len)
        .map(|(_, fs_type, device)| (fs_type, device))
}

/// Whether fsync on this file system type reaches stable storage.
pub fn fsync_is_real(fs_type: &str) -> bool {
    !matches!(fs_type, "tmpfs" | "ramfs" | "devtmpfs")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tickets_csv_parser_handles_quoted_newlines_and_commas() {
        let csv = "Ticket ID,Customer Name,Customer Email,Age\n\
                   1,Marisa Obrien,m@example.com,\"multi\nline, text\"\n\
                   2,\"Rios, Jessica\",j@example.com,42\n";
        let people = people_from_tickets_csv(csv);
        assert_eq!(
            people,
            vec![
                ("Marisa Obrien".to_string(), "m@example.com".to_string()),
                ("Rios, Jessica".to_string(), "j@example.com".to_string()),
            ]
        );
    }

    #[test]
    fn generated_rows_fit_the_table_and_have_unique_emails() {
        let pool = Arc::new(NamePool::synthetic());
        let mut generator = CustomerGenerator::new(pool, 7);
        let a = generator.row(1);
        let b = generator.row(2);
        assert_eq!(a.len(), 7);
        assert_eq!(a[0], Value::Int8(1));
        assert_ne!(a[2], b[2]);
        assert!(matches!(&a[6], Value::Vector(v) if v.len() == EMBEDDING_DIMENSIONS));
    }

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(vec![4.0, 1.0, 2.0, 3.0]), 2.5);
    }
}
