//! The nearest-neighbour scan: the plan node `ORDER BY column <op> query LIMIT k` becomes
//! (`optimize/ann.rs` builds it, `exec/vector_scan.rs` runs it).
//!
//! Its rows are those of the sort it replaces: the table's rows that pass `filter` (and,
//! with `join`, have a match on the join's other side), nearest to `query` first, rows whose
//! distance is NULL after the others, at most `limit + offset` table rows (each followed by
//! its join matches). Through the vector index `index` when there is one (approximately
//! the nearest, as pgvector's index scans), exactly otherwise.

use index::distance::Metric;
use storage::types::Value;

use super::{Expr, Plan};

/// See the module documentation.
#[derive(Clone)]
pub struct VectorScan {
    pub table: u32,
    /// Columns of a table row (dropped ones included), as [`Plan::SeqScan`] produces them.
    pub width: usize,
    /// The vector index to search (catalog OID); `None`: exact search.
    pub index: Option<u32>,
    /// Position of the vector column in the table row (`attnum - 1`).
    pub column: usize,
    /// The distance operator (`<->`, `<=>`, `<#>`, `<+>`) or function ORDER BY names.
    pub operator: &'static str,
    pub metric: Metric,
    /// The query vector: an expression that reads no column of the table.
    pub query: Expr,
    /// The ORDER BY expression over a table row, evaluated for the rows found so that
    /// their order is the one the sort would give (the SQL operator's `f64` value).
    pub distance: Expr,
    pub limit: Expr,
    pub offset: Option<Expr>,
    /// The WHERE conditions on the table, over a table row.
    pub filter: Option<Expr>,
    pub join: Option<VectorJoin>,
}

/// An inner equi-join of the scanned table with another plan, evaluated around the scan: a
/// table row qualifies when it has a match, and is output once per match.
#[derive(Clone)]
pub struct VectorJoin {
    pub other: Plan,
    pub other_width: usize,
    /// Whether the scanned table is the join's left input (its columns come first).
    pub table_is_left: bool,
    /// Keys over a table row and over an other-side row, compared with `=`.
    pub table_keys: Vec<Expr>,
    pub other_keys: Vec<Expr>,
    /// Further join conditions, over the joined row (left ++ right).
    pub residual: Option<Expr>,
}

impl VectorScan {
    /// Columns of the rows this node outputs.
    pub fn output_width(&self) -> usize {
        self.width + self.join.as_ref().map_or(0, |j| j.other_width)
    }

    /// The ORDER BY key as EXPLAIN prints it: `(embedding <=> '[1,2,3]'::vector)`.
    pub fn order_by_text(&self, column_name: &str) -> String {
        let query = query_text(&self.query);
        if self.operator.starts_with('<') {
            format!("({column_name} {} {query})", self.operator)
        } else {
            format!("{}({column_name}, {query})", self.operator)
        }
    }
}

fn query_text(e: &Expr) -> String {
    match e {
        Expr::Const(Value::Vector(v)) => {
            let items: Vec<String> = v.iter().map(|x| x.to_string()).collect();
            format!("'[{}]'::vector", items.join(","))
        }
        Expr::Const(Value::Null) => "NULL::vector".into(),
        Expr::Param(n) => format!("${}", n + 1),
        Expr::Cast { expr, .. } => query_text(expr),
        Expr::Call { name, args, .. } if name.chars().all(|c| c.is_alphanumeric() || c == '_') => {
            let args: Vec<String> = args.iter().map(query_text).collect();
            format!("{name}({})", args.join(", "))
        }
        Expr::Const(Value::Text(s)) => format!("'{}'", s.replace('\'', "''")),
        Expr::Const(other) => format!("{other:?}"),
        _ => "(expression)".into(),
    }
}
