//! Where RAG retrieves from: the *embedded text columns* of the catalog, and the query that
//! searches one of them.
//!
//! An embedded text column is a text column `x` of a table that also has a vector column
//! generated from it, `x_vec vector(384) GENERATED ALWAYS AS (embed(x)) STORED`. The catalog
//! keeps the generation expression as SQL text; [`embedded_argument`] recognises `embed(x)`
//! in the forms it may be stored in (qualified `public.embed`, quoted identifiers, a `::text`
//! cast, extra parentheses). A table may have several; each is a source of its own.
//!
//! The search of one source is plain SQL (see [`EmbeddedColumn::search_sql`]) so that it runs
//! through the planner, with the caller's privileges, row-level security and masking, and the
//! same ANN path as a user's `ORDER BY x_vec <=> q LIMIT k`.

use storage::catalog::{Catalog, ConstraintKind, IndexMethodDef, Oid, TableDef};
use storage::types::DataType;

/// One text column with a vector column generated from it by `embed()`.
#[derive(Debug, Clone, PartialEq)]
pub struct EmbeddedColumn {
    pub table: Oid,
    pub schema_name: String,
    pub table_name: String,
    pub text_column: String,
    pub vector_column: String,
    /// Primary-key columns (empty when the table has none: the row key is then NULL).
    pub key_columns: Vec<String>,
    /// The distance operator to order by: the one of the vector index on the column
    /// (`<=>` for `vector_cosine_ops`, `<->` for `vector_l2_ops`, ...), `<=>` without one.
    pub order_operator: &'static str,
    /// Whether the table has other embedded text columns (citations then name the column).
    pub one_of_several: bool,
}

/// Every embedded text column of the catalog, by table OID then column order.
pub fn embedded_columns(catalog: &Catalog) -> Vec<EmbeddedColumn> {
    catalog
        .tables
        .values()
        .flat_map(|table| embedded_columns_of(catalog, table))
        .collect()
}

/// The embedded text columns of one table.
pub fn embedded_columns_of(catalog: &Catalog, table: &TableDef) -> Vec<EmbeddedColumn> {
    let schema_name = catalog
        .schemas
        .get(&table.schema)
        .map(|s| s.name.clone())
        .unwrap_or_else(|| "public".into());
    let key_columns: Vec<String> = table
        .constraints
        .iter()
        .find_map(|c| match &c.kind {
            ConstraintKind::PrimaryKey { columns, .. } => Some(columns.clone()),
            _ => None,
        })
        .unwrap_or_default()
        .into_iter()
        .filter_map(|attnum| table.column(attnum).map(|c| c.name.clone()))
        .collect();
    let mut found = Vec::new();
    for vector in table.live_columns() {
        if !matches!(vector.data_type, DataType::Vector(_)) {
            continue;
        }
        let Some(argument) = vector.generated.as_deref().and_then(embedded_argument) else {
            continue;
        };
        let Some(text) = table.column_by_name(&argument) else {
            continue;
        };
        if !matches!(
            text.data_type,
            DataType::Text | DataType::Varchar(_) | DataType::Char(_)
        ) {
            continue;
        }
        found.push(EmbeddedColumn {
            table: table.oid,
            schema_name: schema_name.clone(),
            table_name: table.name.clone(),
            text_column: text.name.clone(),
            vector_column: vector.name.clone(),
            key_columns: key_columns.clone(),
            order_operator: index_operator(catalog, table.oid, vector.attnum),
            one_of_several: false,
        });
    }
    let several = found.len() > 1;
    for column in &mut found {
        column.one_of_several = several;
    }
    found
}

/// The operator a vector index on the column answers (HNSW preferred), `<=>` without one.
fn index_operator(catalog: &Catalog, table: Oid, attnum: storage::catalog::AttNum) -> &'static str {
    let mut best: Option<(bool, &'static str)> = None;
    for index in catalog.indexes.values() {
        if index.table != table || index.columns.as_slice() != [attnum] {
            continue;
        }
        let hnsw = match index.method {
            IndexMethodDef::Hnsw => true,
            IndexMethodDef::IvfFlat => false,
            IndexMethodDef::Btree => continue,
        };
        let operator = match index.opclasses.first().map(String::as_str) {
            Some("vector_cosine_ops") => "<=>",
            Some("vector_l2_ops") => "<->",
            Some("vector_ip_ops") => "<#>",
            Some("vector_l1_ops") => "<+>",
            _ => continue,
        };
        if best.is_none_or(|(was_hnsw, _)| hnsw && !was_hnsw) {
            best = Some((hnsw, operator));
        }
    }
    best.map_or("<=>", |(_, operator)| operator)
}

/// The column `x` of a generation expression `embed(x)`, or `None` for any other expression.
pub fn embedded_argument(expression: &str) -> Option<String> {
    let mut rest = strip_parentheses(expression.trim());
    for prefix in ["pg_catalog.", "public.", "\"public\".", "\"pg_catalog\"."] {
        if rest.len() >= prefix.len() && rest[..prefix.len()].eq_ignore_ascii_case(prefix) {
            rest = rest[prefix.len()..].trim_start();
        }
    }
    let name_end = rest.find('(')?;
    let name = rest[..name_end].trim();
    if !(name.eq_ignore_ascii_case("embed") || name == "\"embed\"") {
        return None;
    }
    let inner = rest[name_end + 1..].trim_end().strip_suffix(')')?;
    let mut argument = strip_parentheses(inner.trim());
    for cast in ["::text", "::character varying", "::varchar"] {
        if argument.len() > cast.len()
            && argument[argument.len() - cast.len()..].eq_ignore_ascii_case(cast)
        {
            argument = strip_parentheses(argument[..argument.len() - cast.len()].trim());
        }
    }
    identifier(argument)
}

/// `((x))` → `x`, only when the outer parentheses enclose the whole text.
fn strip_parentheses(mut text: &str) -> &str {
    while text.starts_with('(') && text.ends_with(')') && encloses_all(text) {
        text = text[1..text.len() - 1].trim();
    }
    text
}

fn encloses_all(text: &str) -> bool {
    let mut depth = 0usize;
    let mut in_quotes = false;
    for (i, c) in text.char_indices() {
        match c {
            '"' => in_quotes = !in_quotes,
            '(' if !in_quotes => depth += 1,
            ')' if !in_quotes => {
                depth = depth.saturating_sub(1);
                if depth == 0 && i + 1 < text.len() {
                    return false;
                }
            }
            _ => {}
        }
    }
    depth == 0
}

/// A column name: a plain identifier (folded to lower case) or a quoted one.
fn identifier(text: &str) -> Option<String> {
    if let Some(quoted) = text.strip_prefix('"').and_then(|t| t.strip_suffix('"')) {
        if quoted.is_empty() {
            return None;
        }
        let unescaped = quoted.replace("\"\"", "\"");
        // A lone `"` inside would have been written `""`.
        if quoted.replace("\"\"", "").contains('"') {
            return None;
        }
        return Some(unescaped);
    }
    let mut chars = text.chars();
    let first = chars.next()?;
    if !(first.is_alphabetic() || first == '_') {
        return None;
    }
    if !chars.all(|c| c.is_alphanumeric() || c == '_' || c == '$') {
        return None;
    }
    Some(text.to_lowercase())
}

/// `"name"` with embedded quotes doubled: safe to splice into SQL text.
pub fn quote_identifier(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

impl EmbeddedColumn {
    /// The query that finds the `$2` nearest rows of this source to the query vector `$1`:
    /// `(row_key text, content text, score float8)`, best first. The score is the cosine
    /// similarity (`1 - (vec <=> $1)`), comparable across sources; the order is the one of the
    /// column's vector index (for the unit vectors `embed()` produces, every metric ranks
    /// alike).
    pub fn search_sql(&self) -> String {
        let table = format!(
            "{}.{}",
            quote_identifier(&self.schema_name),
            quote_identifier(&self.table_name)
        );
        let vector = quote_identifier(&self.vector_column);
        let key = match self.key_columns.as_slice() {
            [] => "NULL::text".to_string(),
            [one] => format!("{}::text", quote_identifier(one)),
            many => {
                let parts: Vec<String> = many
                    .iter()
                    .map(|c| format!("{}::text", quote_identifier(c)))
                    .collect();
                format!("'(' || {} || ')'", parts.join(" || ',' || "))
            }
        };
        format!(
            "SELECT {key} AS row_key, {text} AS content, 1 - ({vector} <=> $1) AS score \
             FROM {table} ORDER BY {vector} {op} $1 LIMIT $2",
            text = quote_identifier(&self.text_column),
            op = self.order_operator,
        )
    }

    /// How a citation names the row: `id=42`, `(order_id, line)=(7,2)`, or nothing.
    pub fn key_label(&self, row_key: Option<&str>) -> Option<String> {
        let row_key = row_key?;
        Some(match self.key_columns.as_slice() {
            [] => return None,
            [one] => format!("{one}={row_key}"),
            many => format!("({})={row_key}", many.join(", ")),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generation_expressions_of_embed_are_recognised() {
        for (expression, column) in [
            ("embed(description)", "description"),
            ("embed(Description)", "description"),
            ("  EMBED ( body )  ", "body"),
            ("public.embed(body)", "body"),
            ("pg_catalog.embed((body)::text)", "body"),
            ("(embed(body::text))", "body"),
            ("embed(\"Body Text\")", "Body Text"),
            ("embed(\"a\"\"b\")", "a\"b"),
        ] {
            assert_eq!(
                embedded_argument(expression).as_deref(),
                Some(column),
                "{expression}"
            );
        }
    }

    #[test]
    fn other_generation_expressions_are_not_embeddings() {
        for expression in [
            "lower(body)",
            "embed(body || title)",
            "embed(lower(body))",
            "embed('constant')",
            "embedding(body)",
            "embed(body) + embed(title)",
            "embed(\"\")",
            "embed(\"a\"b\")",
            "l2_normalize(embed(body))",
        ] {
            assert_eq!(embedded_argument(expression), None, "{expression}");
        }
    }

    fn source(keys: &[&str]) -> EmbeddedColumn {
        EmbeddedColumn {
            table: 16384,
            schema_name: "public".into(),
            table_name: "Tick\"ets".into(),
            text_column: "description".into(),
            vector_column: "description_vec".into(),
            key_columns: keys.iter().map(|k| k.to_string()).collect(),
            order_operator: "<->",
            one_of_several: false,
        }
    }

    #[test]
    fn the_search_query_quotes_names_and_orders_by_the_index_operator() {
        assert_eq!(
            source(&["id"]).search_sql(),
            "SELECT \"id\"::text AS row_key, \"description\" AS content, \
             1 - (\"description_vec\" <=> $1) AS score FROM \"public\".\"Tick\"\"ets\" \
             ORDER BY \"description_vec\" <-> $1 LIMIT $2"
        );
        assert!(source(&[])
            .search_sql()
            .starts_with("SELECT NULL::text AS row_key"));
        assert!(source(&["a", "b"])
            .search_sql()
            .starts_with("SELECT '(' || \"a\"::text || ',' || \"b\"::text || ')' AS row_key"));
    }

    #[test]
    fn citations_name_the_key_columns() {
        assert_eq!(
            source(&["id"]).key_label(Some("42")).as_deref(),
            Some("id=42")
        );
        assert_eq!(
            source(&["a", "b"]).key_label(Some("(1,2)")).as_deref(),
            Some("(a, b)=(1,2)")
        );
        assert_eq!(source(&[]).key_label(Some("x")), None);
        assert_eq!(source(&["id"]).key_label(None), None);
    }
}
