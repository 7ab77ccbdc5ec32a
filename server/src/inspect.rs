//! `custos inspect`: what a data directory holds, read through the storage engine.

use std::path::Path;

use storage::{Engine, EngineOptions};

/// Opens the directory (running recovery), prints its catalog and row counts.
pub fn run(data_dir: &Path) -> storage::Result<()> {
    let options = EngineOptions {
        background_maintenance: false,
        ..Default::default()
    };
    let (engine, report) = Engine::open_with_report(data_dir, options)?;
    println!("data directory: {}", data_dir.display());
    println!(
        "checkpoint LSN {}, durable LSN {}, {} transactions replayed from the WAL, {} torn bytes cut",
        report.checkpoint_lsn,
        engine.durable_lsn(),
        report.replayed_transactions,
        report.torn_tail_bytes
    );
    let catalog = engine.catalog();
    let txn = engine.begin();
    for table in catalog.tables.values() {
        let schema = catalog
            .schemas
            .get(&table.schema)
            .map_or("?", |s| s.name.as_str());
        let mut rows = 0usize;
        for part in txn.scan_partitions(
            table.oid,
            &storage::ScanOptions {
                columns: Some(Vec::new()),
                ..Default::default()
            },
        )? {
            for batch in part.iter() {
                rows += batch?.row_ids.len();
            }
        }
        println!(
            "\ntable {schema}.{} (oid {}): {rows} rows, {} segments",
            table.name,
            table.oid,
            engine.segment_count(table.oid).unwrap_or(0)
        );
        for column in table.live_columns() {
            println!(
                "  {:<20} {}{}",
                column.name,
                column.data_type.sql_name(),
                if column.not_null { " not null" } else { "" }
            );
        }
        for index in catalog.indexes_of(table.oid) {
            println!(
                "  index {} ({:?}{}) on attnums {:?}",
                index.name,
                index.method,
                if index.unique { ", unique" } else { "" },
                index.columns
            );
        }
    }
    Ok(())
}
