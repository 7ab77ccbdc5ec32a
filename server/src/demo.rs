//! `custos demo`: a generated customer-360 dataset (no external data needed).
//!
//! Four tables in schema `public`: `customers`, `accounts`, `interactions` and `tickets`,
//! with primary keys and indexes on the customer foreign keys. Values come from a seeded
//! generator, so every run produces the same data.

use std::path::Path;

use storage::types::{DataType, Numeric, Value, MICROS_PER_DAY};
use storage::{Engine, EngineOptions};

const FIRST_NAMES: &[&str] = &[
    "Ana", "Bruno", "Chen", "Dana", "Emeka", "Farah", "Goran", "Hana", "Ivan", "Jonas", "Keiko",
    "Lucia", "Mateo", "Nadia", "Omar", "Priya", "Quinn", "Rosa", "Sven", "Tariq",
];
const LAST_NAMES: &[&str] = &[
    "Almeida", "Berg", "Costa", "Dubois", "Eriksen", "Fischer", "Garcia", "Haddad", "Ito",
    "Jensen", "Kowalski", "Lopez", "Mensah", "Novak", "Okafor", "Patel", "Rossi", "Silva",
];
const CITIES: &[&str] = &[
    "Lisbon", "Oslo", "Quito", "Lima", "Nairobi", "Osaka", "Porto", "Lyon", "Austin", "Pune",
];
const SEGMENTS: &[&str] = &["consumer", "small business", "mid-market", "enterprise"];
const PLANS: &[&str] = &["free", "starter", "pro", "enterprise"];
const CHANNELS: &[&str] = &["email", "phone", "chat", "social media", "in person"];
const PRIORITIES: &[&str] = &["low", "medium", "high", "critical"];
const STATUSES: &[&str] = &["open", "pending customer response", "closed"];
const PRODUCTS: &[&str] = &[
    "smart thermostat",
    "noise-cancelling headphones",
    "laptop",
    "fitness tracker",
    "router",
    "espresso machine",
    "e-reader",
    "4K television",
];
const PROBLEMS: &[(&str, &str)] = &[
    (
        "Billing inquiry",
        "I was charged twice for my {p} order and would like a refund of the duplicate payment.",
    ),
    (
        "Refund request",
        "The {p} arrived damaged. I want to return it and get my money back.",
    ),
    (
        "Technical issue",
        "My {p} keeps disconnecting from the network every few minutes since the last update.",
    ),
    (
        "Product inquiry",
        "Does the {p} work with the accessories from the previous model?",
    ),
    (
        "Cancellation request",
        "Please cancel my subscription for the {p} extended warranty.",
    ),
    (
        "Account access",
        "I cannot log in to manage my {p}; the password reset email never arrives.",
    ),
];

/// A small deterministic generator (SplitMix64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

fn text(s: impl Into<String>) -> Value {
    Value::Text(s.into())
}

fn money(cents: u64) -> Value {
    let parsed: Result<Numeric, _> = format!("{}.{:02}", cents / 100, cents % 100).parse();
    parsed.map_or(Value::Null, |n| Value::Numeric(Box::new(n)))
}

/// 2024-01-01 00:00 UTC in PostgreSQL's timestamp epoch (2000-01-01), microseconds.
const YEAR_2024: i64 = 8766 * MICROS_PER_DAY;

/// Loads the dataset into `data_dir` unless it is already there.
pub fn load(data_dir: &Path, customers: usize) -> storage::Result<()> {
    let engine = Engine::open(data_dir, EngineOptions::default())?;
    if engine
        .catalog()
        .tables
        .values()
        .any(|t| t.name == "customers")
    {
        println!("the demo dataset is already in {}", data_dir.display());
        return Ok(());
    }
    let mut txn = engine.begin();
    let catalog = txn.catalog_mut();
    let public = catalog.ensure_schema("public", 10);
    let int8 = DataType::Int8;
    let numeric = DataType::Numeric {
        precision: Some(12),
        scale: Some(2),
    };
    let customers_oid = catalog.create_table(
        public,
        "customers",
        10,
        &[
            ("id", int8.clone(), true),
            ("name", DataType::Text, true),
            ("email", DataType::Text, true),
            ("city", DataType::Text, false),
            ("segment", DataType::Text, false),
            ("created_at", DataType::Timestamptz, true),
            ("lifetime_value", numeric.clone(), false),
        ],
        &["id"],
    );
    catalog.create_btree_index(customers_oid, "customers_email_key", &["email"], true);
    let accounts_oid = catalog.create_table(
        public,
        "accounts",
        10,
        &[
            ("id", int8.clone(), true),
            ("customer_id", int8.clone(), true),
            ("plan", DataType::Text, true),
            ("mrr", numeric, false),
            ("opened_on", DataType::Date, true),
        ],
        &["id"],
    );
    catalog.create_btree_index(
        accounts_oid,
        "accounts_customer_id_idx",
        &["customer_id"],
        false,
    );
    let interactions_oid = catalog.create_table(
        public,
        "interactions",
        10,
        &[
            ("id", int8.clone(), true),
            ("customer_id", int8.clone(), true),
            ("channel", DataType::Text, true),
            ("occurred_at", DataType::Timestamptz, true),
            ("note", DataType::Text, false),
        ],
        &["id"],
    );
    catalog.create_btree_index(
        interactions_oid,
        "interactions_customer_id_idx",
        &["customer_id"],
        false,
    );
    let tickets_oid = catalog.create_table(
        public,
        "tickets",
        10,
        &[
            ("id", int8.clone(), true),
            ("customer_id", int8, true),
            ("subject", DataType::Text, true),
            ("body", DataType::Text, true),
            ("priority", DataType::Text, true),
            ("status", DataType::Text, true),
            ("opened_at", DataType::Timestamptz, true),
        ],
        &["id"],
    );
    catalog.create_btree_index(
        tickets_oid,
        "tickets_customer_id_idx",
        &["customer_id"],
        false,
    );
    txn.commit()?;

    let mut rng = Rng(0xC057_0500);
    let mut txn = engine.begin();
    for id in 1..=customers as i64 {
        let first = rng.pick(FIRST_NAMES);
        let last = rng.pick(LAST_NAMES);
        txn.insert(
            customers_oid,
            vec![
                Value::Int8(id),
                text(format!("{first} {last}")),
                text(format!(
                    "{}.{}{id}@example.com",
                    first.to_lowercase(),
                    last.to_lowercase()
                )),
                text(rng.pick(CITIES)),
                text(rng.pick(SEGMENTS)),
                Value::Timestamptz(YEAR_2024 + (rng.below(700 * 24) as i64) * 3_600_000_000),
                money(rng.next() % 5_000_000),
            ],
        )?;
    }
    let accounts = customers * 5 / 4;
    for id in 1..=accounts as i64 {
        let customer = 1 + rng.below(customers) as i64;
        txn.insert(
            accounts_oid,
            vec![
                Value::Int8(id),
                Value::Int8(customer),
                text(rng.pick(PLANS)),
                money(rng.next() % 200_000),
                Value::Date(8766 + rng.below(700) as i32),
            ],
        )?;
    }
    for id in 1..=(customers * 5) as i64 {
        let customer = 1 + rng.below(customers) as i64;
        let channel = rng.pick(CHANNELS);
        txn.insert(
            interactions_oid,
            vec![
                Value::Int8(id),
                Value::Int8(customer),
                text(channel),
                Value::Timestamptz(YEAR_2024 + (rng.below(700 * 24 * 60) as i64) * 60_000_000),
                text(format!(
                    "{channel} contact about the {}",
                    rng.pick(PRODUCTS)
                )),
            ],
        )?;
    }
    for id in 1..=(customers * 3 / 2) as i64 {
        let customer = 1 + rng.below(customers) as i64;
        let (subject, template) = PROBLEMS[rng.below(PROBLEMS.len())];
        let product = rng.pick(PRODUCTS);
        txn.insert(
            tickets_oid,
            vec![
                Value::Int8(id),
                Value::Int8(customer),
                text(subject),
                text(template.replace("{p}", product)),
                text(rng.pick(PRIORITIES)),
                text(rng.pick(STATUSES)),
                Value::Timestamptz(YEAR_2024 + (rng.below(700 * 24) as i64) * 3_600_000_000),
            ],
        )?;
    }
    txn.commit()?;
    engine.checkpoint()?;
    println!(
        "loaded the demo dataset into {}: {customers} customers, {accounts} accounts, {} interactions, {} tickets",
        data_dir.display(),
        customers * 5,
        customers * 3 / 2
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_loads_once_and_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        load(dir.path(), 100).unwrap();
        load(dir.path(), 100).unwrap();
        let engine = Engine::open(dir.path(), EngineOptions::default()).unwrap();
        let catalog = engine.catalog();
        let customers = catalog
            .tables
            .values()
            .find(|t| t.name == "customers")
            .unwrap();
        let txn = engine.begin();
        assert_eq!(txn.scan_all(customers.oid).unwrap().len(), 100);
        let tickets = catalog
            .tables
            .values()
            .find(|t| t.name == "tickets")
            .unwrap();
        assert_eq!(txn.scan_all(tickets.oid).unwrap().len(), 150);
    }
}
