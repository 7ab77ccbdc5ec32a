//! Helpers shared by the storage integration tests: a small customer table and its catalog.
#![allow(dead_code)]

use storage::catalog::{
    ColumnDef, ConstraintDef, ConstraintKind, IndexDef, IndexMethodDef, SchemaDef, TableDef,
};
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
    let schema = match catalog.schema_by_name("public") {
        Some(s) => s.oid,
        None => {
            let oid = catalog.allocate_oid();
            catalog.schemas.insert(
                oid,
                SchemaDef {
                    oid,
                    name: "public".into(),
                    owner: 10,
                },
            );
            oid
        }
    };
    let oid = catalog.allocate_oid();
    let column = |attnum: u16, name: &str, data_type: DataType| ColumnDef {
        attnum,
        name: name.into(),
        data_type,
        ..Default::default()
    };
    let pkey = catalog.allocate_oid();
    let by_city = catalog.allocate_oid();
    let embedding_index = catalog.allocate_oid();
    catalog.tables.insert(
        oid,
        TableDef {
            oid,
            schema,
            name: "customers".into(),
            owner: 10,
            columns: vec![
                ColumnDef {
                    not_null: true,
                    ..column(1, "id", DataType::Int8)
                },
                column(2, "name", DataType::Text),
                column(3, "city", DataType::Text),
                column(
                    4,
                    "balance",
                    DataType::Numeric {
                        precision: None,
                        scale: None,
                    },
                ),
                column(5, "embedding", DataType::Vector(Some(4))),
            ],
            constraints: vec![ConstraintDef {
                oid: pkey,
                name: "customers_pkey".into(),
                kind: ConstraintKind::PrimaryKey {
                    columns: vec![1],
                    index: pkey,
                },
            }],
            ..Default::default()
        },
    );
    catalog.indexes.insert(
        pkey,
        IndexDef {
            oid: pkey,
            name: "customers_pkey".into(),
            schema,
            table: oid,
            columns: vec![1],
            unique: true,
            primary: true,
            ..Default::default()
        },
    );
    catalog.indexes.insert(
        by_city,
        IndexDef {
            oid: by_city,
            name: "customers_city".into(),
            schema,
            table: oid,
            columns: vec![3],
            ..Default::default()
        },
    );
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
