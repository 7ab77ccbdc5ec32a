//! Helpers shared by the storage integration tests: a small customer table and its catalog.
#![allow(dead_code)]

use storage::catalog::{IndexDef, IndexMethodDef};
use storage::types::{DataType, Value};
use storage::{Engine, EngineOptions};

pub struct Table {
    pub oid: u32,
    pub pkey: u32,
    pub by_city: u32,
    pub embedding_index: u32,
}

/// Options for tests: no background thread (tests drive checkpoints), small limits.
pub fn test_options() -> EngineOptions {
    EngineOptions {
        background_maintenance: false,
        compaction_small_segment_rows: 1_000,
        ..Default::default()
    }
}

/// Creates `customers(id int8 primary key, name text, city text, balance numeric,
/// embedding vector(4))` with a secondary index on city and an HNSW index on embedding.
pub fn create_customers(engine: &Engine) -> Table {
    let mut txn = engine.begin();
    let catalog = txn.catalog_mut();
    let schema = catalog.ensure_schema("public", 10);
    let oid = catalog.create_table(
        schema,
        "customers",
        10,
        &[
            ("id", DataType::Int8, true),
            ("name", DataType::Text, false),
            ("city", DataType::Text, false),
            (
                "balance",
                DataType::Numeric {
                    precision: None,
                    scale: None,
                },
                false,
            ),
            ("embedding", DataType::Vector(Some(4)), false),
        ],
        &["id"],
    );
    let pkey = catalog
        .indexes_of(oid)
        .find(|i| i.primary)
        .map(|i| i.oid)
        .expect("primary key index");
    let by_city = catalog
        .create_btree_index(oid, "customers_city", &["city"], false)
        .expect("city index");
    let embedding_index = catalog.allocate_oid();
    catalog.indexes.insert(
        embedding_index,
        IndexDef {
            oid: embedding_index,
            name: "customers_embedding".into(),
            schema,
            table: oid,
            method: IndexMethodDef::Hnsw,
            columns: vec![5],
            opclasses: vec!["vector_l2_ops".into()],
            options: vec![("m".into(), "16".into())],
            ..Default::default()
        },
    );
    txn.commit().expect("create table commits");
    Table {
        oid,
        pkey,
        by_city,
        embedding_index,
    }
}

pub fn customer(id: i64) -> Vec<Value> {
    vec![
        Value::Int8(id),
        Value::Text(format!("customer {id}")),
        Value::Text(["Lisbon", "Oslo", "Quito", "Lima"][(id % 4) as usize].into()),
        Value::Numeric(Box::new(
            format!("{}.{:02}", id * 3, id % 100).parse().unwrap(),
        )),
        Value::Vector(vec![id as f32, (id % 7) as f32, 1.0, -(id as f32) / 10.0]),
    ]
}

pub fn open(path: &std::path::Path) -> Engine {
    Engine::open(path, test_options()).expect("engine opens")
}

/// The `ledger` table of the crash and fault tests: every committed transaction leaves rows
/// that name it, so that a reader can tell exactly which transactions are (wholly) present.
///
/// `ledger(txn int8, idx int8, count int8, deleted_txn int8, updated_txn int8,
/// updated_idx int8, history text, payload text)`, primary key `(txn, idx)`. Transaction
/// `txn` inserts rows `idx = 0..count`; if it also deleted every row of transaction `D` its
/// rows say `deleted_txn = D`; if it updated row `(S, i)` they say `updated_txn = S,
/// updated_idx = i`, and the new version of `(S, i)` has `txn` appended to its `history`.
pub struct Ledger {
    pub oid: u32,
    pub pkey: u32,
}

pub const LEDGER_TABLE: &str = "ledger";

/// Creates the ledger table (and the `public` schema) in one transaction.
pub fn create_ledger(engine: &Engine) -> Ledger {
    let mut txn = engine.begin();
    let catalog = txn.catalog_mut();
    let schema = catalog.ensure_schema("public", 10);
    let oid = catalog.create_table(
        schema,
        LEDGER_TABLE,
        10,
        &[
            ("txn", DataType::Int8, true),
            ("idx", DataType::Int8, true),
            ("count", DataType::Int8, true),
            ("deleted_txn", DataType::Int8, true),
            ("updated_txn", DataType::Int8, true),
            ("updated_idx", DataType::Int8, true),
            ("history", DataType::Text, true),
            ("payload", DataType::Text, true),
        ],
        &["txn", "idx"],
    );
    txn.commit().expect("creating the ledger commits");
    find_ledger(engine).unwrap_or_else(|| panic!("ledger table {oid} not found after creation"))
}

/// The ledger table of an engine, if it was created.
pub fn find_ledger(engine: &Engine) -> Option<Ledger> {
    let catalog = engine.catalog();
    let schema = catalog.schema_by_name("public")?.oid;
    let table = catalog.table_by_name(schema, LEDGER_TABLE)?;
    let pkey = catalog
        .indexes_of(table.oid)
        .find(|index| index.primary)?
        .oid;
    Some(Ledger {
        oid: table.oid,
        pkey,
    })
}

/// One row of the ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerRow {
    pub txn: i64,
    pub idx: i64,
    pub count: i64,
    pub deleted_txn: i64,
    pub updated_txn: i64,
    pub updated_idx: i64,
    pub history: Vec<i64>,
    pub payload: String,
}

/// The payload of row `idx` of transaction `txn`: deterministic, of varying length, so that
/// a torn or misplaced value shows.
pub fn ledger_payload(txn: i64, idx: i64) -> String {
    let pad = (txn.unsigned_abs() as usize * 7 + idx as usize * 13) % 61;
    format!("{txn}/{idx}/{}", "p".repeat(pad))
}

impl LedgerRow {
    /// Row `idx` of `count` inserted by `txn`, which deleted `deleted_txn` (0: none) and
    /// updated `(updated_txn, updated_idx)` (0: none).
    pub fn fresh(txn: i64, idx: i64, count: i64, deleted_txn: i64, updated: (i64, i64)) -> Self {
        LedgerRow {
            txn,
            idx,
            count,
            deleted_txn,
            updated_txn: updated.0,
            updated_idx: updated.1,
            history: Vec::new(),
            payload: ledger_payload(txn, idx),
        }
    }

    pub fn to_values(&self) -> Vec<Value> {
        let history: Vec<String> = self.history.iter().map(i64::to_string).collect();
        vec![
            Value::Int8(self.txn),
            Value::Int8(self.idx),
            Value::Int8(self.count),
            Value::Int8(self.deleted_txn),
            Value::Int8(self.updated_txn),
            Value::Int8(self.updated_idx),
            Value::Text(history.join(",")),
            Value::Text(self.payload.clone()),
        ]
    }

    /// Decodes a stored row; an error names what is malformed.
    pub fn from_values(values: &[Value]) -> Result<LedgerRow, String> {
        let int = |i: usize| match values.get(i) {
            Some(Value::Int8(v)) => Ok(*v),
            other => Err(format!(
                "column {} is {other:?}, not int8 ({values:?})",
                i + 1
            )),
        };
        let text = |i: usize| match values.get(i) {
            Some(Value::Text(v)) => Ok(v.clone()),
            other => Err(format!(
                "column {} is {other:?}, not text ({values:?})",
                i + 1
            )),
        };
        if values.len() != 8 {
            return Err(format!(
                "ledger row has {} values: {values:?}",
                values.len()
            ));
        }
        let history_text = text(6)?;
        let history = if history_text.is_empty() {
            Vec::new()
        } else {
            history_text
                .split(',')
                .map(|t| {
                    t.parse::<i64>()
                        .map_err(|e| format!("history {history_text:?}: {e}"))
                })
                .collect::<Result<_, _>>()?
        };
        Ok(LedgerRow {
            txn: int(0)?,
            idx: int(1)?,
            count: int(2)?,
            deleted_txn: int(3)?,
            updated_txn: int(4)?,
            updated_idx: int(5)?,
            history,
            payload: text(7)?,
        })
    }
}

/// Every visible ledger row, grouped by transaction and sorted by `idx`.
pub fn ledger_by_txn(
    engine: &Engine,
    ledger: &Ledger,
) -> std::collections::BTreeMap<i64, Vec<LedgerRow>> {
    let txn = engine.begin();
    let mut by_txn: std::collections::BTreeMap<i64, Vec<LedgerRow>> = Default::default();
    for (_, values) in txn.scan_all(ledger.oid).expect("ledger scans") {
        let row = LedgerRow::from_values(&values).unwrap_or_else(|e| panic!("{e}"));
        by_txn.entry(row.txn).or_default().push(row);
    }
    for rows in by_txn.values_mut() {
        rows.sort_by_key(|r| r.idx);
    }
    by_txn
}

/// Checks that each transaction present in `by_txn` is whole: rows `0..count`, each once,
/// with the payload it was written with. Returns a description of the first violation.
pub fn check_whole_transactions(
    by_txn: &std::collections::BTreeMap<i64, Vec<LedgerRow>>,
) -> Result<(), String> {
    for (txn, rows) in by_txn {
        let count = rows[0].count;
        let idxs: Vec<i64> = rows.iter().map(|r| r.idx).collect();
        if idxs != (0..count).collect::<Vec<_>>() {
            return Err(format!(
                "transaction {txn} is partial: declares {count} rows, has rows {idxs:?}"
            ));
        }
        for row in rows {
            if row.count != count
                || row.deleted_txn != rows[0].deleted_txn
                || row.updated_txn != rows[0].updated_txn
                || row.updated_idx != rows[0].updated_idx
            {
                return Err(format!("rows of transaction {txn} disagree: {rows:?}"));
            }
            if row.payload != ledger_payload(row.txn, row.idx) {
                return Err(format!(
                    "row ({txn}, {}) has payload {:?}",
                    row.idx, row.payload
                ));
            }
        }
    }
    Ok(())
}

/// Commits one plain ledger transaction of `rows` rows.
pub fn commit_ledger_txn(
    engine: &Engine,
    ledger: &Ledger,
    txn: i64,
    rows: i64,
) -> storage::Result<u64> {
    let mut t = engine.begin();
    for idx in 0..rows {
        t.insert(
            ledger.oid,
            LedgerRow::fresh(txn, idx, rows, 0, (0, 0)).to_values(),
        )?;
    }
    t.commit()
}

/// The transactions wholly present in the ledger; panics if one is only partly there.
pub fn whole_ledger_txns(engine: &Engine, ledger: &Ledger) -> std::collections::BTreeSet<i64> {
    let by_txn = ledger_by_txn(engine, ledger);
    if let Err(violation) = check_whole_transactions(&by_txn) {
        panic!("{violation}");
    }
    by_txn.into_keys().collect()
}
