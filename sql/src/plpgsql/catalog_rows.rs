//! Triggers as the system catalogs show them: `pg_trigger` rows and
//! `pg_get_triggerdef(oid [, pretty])` (psql's `\d table` "Triggers:" footer reads both).

use storage::catalog::{Catalog, TriggerDef};
use storage::types::{Row, Value};

use crate::error::SqlResult;
use crate::func::FnCtx;
use crate::pg_catalog::datum::{as_oid, boolean, ch, int2, int2_vector, name, oid};
use crate::pg_catalog::SystemCtx;

/// `tgtype` bits (PostgreSQL's `TRIGGER_TYPE_*`).
fn tgtype(t: &TriggerDef) -> i16 {
    let mut bits = 1; // ROW
    if t.timing == "BEFORE" {
        bits |= 2;
    }
    for e in &t.events {
        bits |= match e.as_str() {
            "INSERT" => 4,
            "DELETE" => 8,
            "UPDATE" => 16,
            _ => 0,
        };
    }
    bits
}

pub fn pg_trigger_rows(ctx: &SystemCtx) -> SqlResult<Vec<Row>> {
    Ok(ctx
        .catalog
        .triggers
        .values()
        .map(|t| {
            vec![
                oid(t.oid),
                oid(t.table),
                oid(0),
                name(t.name.clone()),
                oid(t.function),
                int2(tgtype(t)),
                ch(if t.enabled { 'O' } else { 'D' }),
                boolean(false),
                oid(0),
                oid(0),
                oid(0),
                boolean(false),
                boolean(false),
                int2(0),
                int2_vector(t.update_columns.iter().map(|a| *a as i16)),
                Value::Bytea(Vec::new()),
                t.when.clone().map_or(Value::Null, Value::Text),
                Value::Null,
                Value::Null,
            ]
        })
        .collect())
}

/// `CREATE TRIGGER ...` for a trigger, as `pg_get_triggerdef` prints it; the table is
/// schema-qualified unless `pretty`.
pub fn trigger_definition(catalog: &Catalog, t: &TriggerDef, pretty: bool) -> String {
    let table = catalog.tables.get(&t.table);
    let table_name = table.map_or(String::new(), |x| {
        let schema = catalog
            .schemas
            .get(&x.schema)
            .map_or("public", |s| s.name.as_str());
        if pretty {
            x.name.clone()
        } else {
            format!("{schema}.{}", x.name)
        }
    });
    let mut events = Vec::new();
    for e in ["INSERT", "DELETE", "UPDATE"] {
        if !t.events.iter().any(|x| x == e) {
            continue;
        }
        if e == "UPDATE" && !t.update_columns.is_empty() {
            let columns: Vec<String> = t
                .update_columns
                .iter()
                .filter_map(|a| table.and_then(|x| x.columns.get(usize::from(*a).wrapping_sub(1))))
                .map(|c| c.name.clone())
                .collect();
            events.push(format!("UPDATE OF {}", columns.join(", ")));
        } else {
            events.push(e.to_string());
        }
    }
    let function = catalog
        .functions
        .get(&t.function)
        .map_or(String::new(), |f| f.name.clone());
    let when = t
        .when
        .as_ref()
        .map_or(String::new(), |w| format!(" WHEN ({w})"));
    format!(
        "CREATE TRIGGER {} {} {} ON {table_name} FOR EACH ROW{when} EXECUTE FUNCTION {function}()",
        t.name,
        t.timing,
        events.join(" OR ")
    )
}

/// `pg_get_triggerdef(oid [, pretty])`.
pub fn pg_get_triggerdef(ctx: &FnCtx, args: &[Value]) -> SqlResult<Value> {
    let Some(trigger) = args.first().and_then(as_oid) else {
        return Ok(Value::Null);
    };
    let pretty = matches!(args.get(1), Some(Value::Bool(true)));
    Ok(ctx.catalog.triggers.get(&trigger).map_or(Value::Null, |t| {
        Value::Text(trigger_definition(ctx.catalog, t, pretty))
    }))
}
