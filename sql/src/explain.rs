//! EXPLAIN: the plan tree in PostgreSQL's text shape (as `EXPLAIN (COSTS OFF)` prints it:
//! custos has no cost model, so it prints no costs).

use std::collections::HashMap;

use storage::catalog::Catalog;

use crate::exec::NodeStats;
use crate::plan::{JoinKind, Plan, SetOpKind};

/// What the printer needs besides the plan.
struct Context<'a> {
    catalog: &'a Catalog,
    /// EXPLAIN ANALYZE: per plan node (by address), what it produced.
    stats: Option<&'a HashMap<usize, NodeStats>>,
}

pub fn explain(plan: &Plan, catalog: &Catalog) -> Vec<String> {
    let mut lines = Vec::new();
    let cx = Context {
        catalog,
        stats: None,
    };
    node(plan, &cx, 0, &mut lines);
    lines
}

/// EXPLAIN ANALYZE: the plan with `(actual time=... rows=... loops=...)` on every node that
/// ran as an operator of its own (nodes fused into their parent's loop have no figures).
pub fn explain_analyzed(
    plan: &Plan,
    catalog: &Catalog,
    stats: &HashMap<usize, NodeStats>,
) -> Vec<String> {
    let mut lines = Vec::new();
    let cx = Context {
        catalog,
        stats: Some(stats),
    };
    node(plan, &cx, 0, &mut lines);
    lines
}

/// Appends the actual figures of `plan` to its line (replacing those of a child printed on
/// the same line, e.g. a scan under a filter: the parent's rows are the ones that came out).
fn annotate(plan: &Plan, cx: &Context, line: &mut String) {
    let Some(stats) = cx
        .stats
        .and_then(|s| s.get(&(plan as *const Plan as usize)))
    else {
        return;
    };
    if let Some(at) = line.find(" (actual ") {
        line.truncate(at);
    }
    let loops = stats.loops.max(1);
    let ms = stats.seconds * 1000.0 / loops as f64;
    let rows = (stats.rows as f64 / loops as f64).round() as u64;
    line.push_str(&format!(
        " (actual time={ms:.3}..{ms:.3} rows={rows} loops={})",
        stats.loops
    ));
}

fn table_name(catalog: &Catalog, oid: u32) -> String {
    catalog
        .tables
        .get(&oid)
        .map(|t| t.name.clone())
        .unwrap_or_else(|| oid.to_string())
}

fn join_name(kind: JoinKind) -> &'static str {
    match kind {
        JoinKind::Inner => "",
        JoinKind::Left => " Left",
        JoinKind::Right => " Right",
        JoinKind::Full => " Full",
        JoinKind::Semi => " Semi",
        JoinKind::Anti => " Anti",
    }
}

fn push(lines: &mut Vec<String>, depth: usize, text: String) {
    if depth == 0 {
        lines.push(text);
    } else {
        let pad = " ".repeat(depth * 6 - 4);
        lines.push(format!("{pad}->  {text}"));
    }
}

fn detail(lines: &mut Vec<String>, depth: usize, text: &str) {
    let pad = if depth == 0 {
        "  ".to_string()
    } else {
        " ".repeat(depth * 6 + 2)
    };
    lines.push(format!("{pad}{text}"));
}

fn node(plan: &Plan, cx: &Context, depth: usize, lines: &mut Vec<String>) {
    let first = lines.len();
    node_lines(plan, cx, depth, lines);
    if let Some(line) = lines.get_mut(first) {
        annotate(plan, cx, line);
    }
}

fn node_lines(plan: &Plan, cx: &Context, depth: usize, lines: &mut Vec<String>) {
    let catalog = cx.catalog;
    match plan {
        Plan::Values { rows, width } => {
            if *width == 0 && rows.len() == 1 {
                push(lines, depth, "Result".into());
            } else {
                push(lines, depth, "Values Scan on \"*VALUES*\"".into());
            }
        }
        Plan::SeqScan {
            table,
            filter,
            predicates,
            ..
        } => {
            push(
                lines,
                depth,
                format!("Seq Scan on {}", table_name(catalog, *table)),
            );
            if filter.is_some() {
                detail(lines, depth, "Filter: (applied per row)");
            }
            if !predicates.is_empty() {
                detail(
                    lines,
                    depth,
                    &format!("Block Skipping: {} predicates", predicates.len()),
                );
            }
        }
        Plan::IndexScan {
            table,
            index,
            filter,
            ..
        } => {
            let index_name = catalog
                .indexes
                .get(index)
                .map(|i| i.name.clone())
                .unwrap_or_default();
            push(
                lines,
                depth,
                format!(
                    "Index Scan using {index_name} on {}",
                    table_name(catalog, *table)
                ),
            );
            if filter.is_some() {
                detail(lines, depth, "Filter: (applied per row)");
            }
        }
        Plan::VectorScan(scan) => vector_scan_lines(scan, cx, depth, lines),
        Plan::SystemScan { table, filter } => {
            push(lines, depth, format!("Seq Scan on {}", table.name));
            if filter.is_some() {
                detail(lines, depth, "Filter: (applied per row)");
            }
        }
        Plan::FunctionScan { name, .. } => {
            push(lines, depth, format!("Function Scan on {name}"));
        }
        Plan::Filter { input, .. } => {
            node(input, cx, depth, lines);
            detail(lines, depth, "Filter: (applied per row)");
        }
        Plan::Project { input, .. } => node(input, cx, depth, lines),
        Plan::Lateral { left, right, .. } => {
            push(lines, depth, "Nested Loop".into());
            node(left, cx, depth + 1, lines);
            node(right, cx, depth + 1, lines);
        }
        Plan::NestedLoopJoin {
            left, right, kind, ..
        } => {
            push(lines, depth, format!("Nested Loop{}", join_name(*kind)));
            node(left, cx, depth + 1, lines);
            node(right, cx, depth + 1, lines);
        }
        Plan::HashJoin {
            left, right, kind, ..
        } => {
            push(lines, depth, format!("Hash{} Join", join_name(*kind)));
            node(left, cx, depth + 1, lines);
            push(lines, depth + 1, "Hash".into());
            node(right, cx, depth + 2, lines);
        }
        Plan::Aggregate {
            input,
            groups,
            sets,
            ..
        } => {
            let name = if sets.is_some() {
                "MixedAggregate"
            } else if groups.is_empty() {
                "Aggregate"
            } else {
                "HashAggregate"
            };
            push(lines, depth, name.into());
            node(input, cx, depth + 1, lines);
        }
        Plan::Window { input, .. } => {
            push(lines, depth, "WindowAgg".into());
            node(input, cx, depth + 1, lines);
        }
        Plan::Sort { input, limit, .. } => {
            push(lines, depth, "Sort".into());
            if let Some(k) = limit {
                detail(lines, depth, &format!("Sort Method: top-{k} heapsort"));
            }
            node(input, cx, depth + 1, lines);
        }
        Plan::Limit { input, .. } => {
            push(lines, depth, "Limit".into());
            node(input, cx, depth + 1, lines);
        }
        Plan::Distinct { input, .. } => {
            push(lines, depth, "Unique".into());
            node(input, cx, depth + 1, lines);
        }
        Plan::SetOp {
            kind,
            all,
            left,
            right,
        } => {
            let name = match (kind, all) {
                (SetOpKind::Union, true) => "Append",
                (SetOpKind::Union, false) => "HashAggregate",
                (SetOpKind::Intersect, _) => "HashSetOp Intersect",
                (SetOpKind::Except, _) => "HashSetOp Except",
            };
            push(lines, depth, name.into());
            node(left, cx, depth + 1, lines);
            node(right, cx, depth + 1, lines);
        }
        Plan::With { ctes, body } => {
            node(body, cx, depth, lines);
            for (id, p) in ctes {
                detail(lines, depth, &format!("CTE {id}"));
                node(p, cx, depth + 1, lines);
            }
        }
        Plan::Zip { inputs } => {
            push(lines, depth, "ProjectSet".into());
            for p in inputs {
                node(p, cx, depth + 1, lines);
            }
        }
        Plan::CteScan { id, .. } => push(lines, depth, format!("CTE Scan on cte_{id}")),
        Plan::RecursiveCte { base, step, .. } => {
            push(lines, depth, "Recursive Union".into());
            node(base, cx, depth + 1, lines);
            node(step, cx, depth + 1, lines);
        }
    }
}

/// A nearest-neighbour scan as pgvector's plans show it: `Index Scan using <index> on
/// <table>` with `Order By: (<column> <op> <query>)`, or a top-N sort of a sequential scan
/// without an index; a join around it is a nested loop over the rows found.
fn vector_scan_lines(
    scan: &crate::plan::VectorScan,
    cx: &Context,
    depth: usize,
    lines: &mut Vec<String>,
) {
    let catalog = cx.catalog;
    let table = catalog.tables.get(&scan.table);
    let column = table
        .and_then(|t| t.column((scan.column + 1) as u16))
        .map(|c| c.name.clone())
        .unwrap_or_default();
    let order_by = scan.order_by_text(&column);
    let depth = match &scan.join {
        Some(_) => {
            push(lines, depth, "Nested Loop".into());
            depth + 1
        }
        None => depth,
    };
    match scan.index.and_then(|oid| catalog.indexes.get(&oid)) {
        Some(index) => {
            push(
                lines,
                depth,
                format!(
                    "Index Scan using {} on {}",
                    index.name,
                    table_name(catalog, scan.table)
                ),
            );
            detail(lines, depth, &format!("Order By: {order_by}"));
            if scan.filter.is_some() {
                detail(lines, depth, "Filter: (applied per row)");
            }
        }
        None => {
            push(lines, depth, "Sort".into());
            detail(lines, depth, &format!("Sort Key: {order_by}"));
            detail(lines, depth, "Sort Method: top-N heapsort");
            push(
                lines,
                depth + 1,
                format!("Seq Scan on {}", table_name(catalog, scan.table)),
            );
            if scan.filter.is_some() {
                detail(lines, depth + 1, "Filter: (applied per row)");
            }
        }
    }
    if let Some(join) = &scan.join {
        node(&join.other, cx, depth, lines);
    }
}
