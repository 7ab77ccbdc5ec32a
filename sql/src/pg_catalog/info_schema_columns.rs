//! `information_schema.columns`, `routines` and `parameters`, and the SQL-standard type
//! description (`data_type`, `udt_name`, lengths, precisions) they share.
//!
//! Types are described as PostgreSQL does: `ARRAY` for arrays, `USER-DEFINED` for `vector`
//! (with `udt_schema` `public`), the SQL name otherwise. View columns have type `text` (the
//! catalog keeps no view column types). `routines` and `parameters` list the catalog's user
//! functions, not the built-ins.

use storage::catalog::{ColumnDef, IdentityKind, TableDef};
use storage::types::{DataType, Row, Value};

use super::datum::info::*;
use super::datum::*;
use super::names::{namespace_name, relations, Relation};
use super::oids::{exposed_namespace_oid, rel};
use super::proc_tables::{user_is_security_definer, user_is_strict, user_volatility};
use super::types::type_info;
use super::{table, SystemCtx, SystemTable};
use crate::deparse::{self, DeparseCtx};
use crate::error::SqlResult;
use crate::pgtype::SqlType;
use crate::types::SessionFormat;

const COLUMNS: u32 = rel::FIRST_VIEW + 103;
const ROUTINES: u32 = rel::FIRST_VIEW + 110;
const PARAMETERS: u32 = rel::FIRST_VIEW + 111;

/// The standard description of a type.
pub(super) struct TypeFacts {
    pub data_type: String,
    pub udt_schema: &'static str,
    pub udt_name: String,
    pub character_maximum_length: Value,
    pub character_octet_length: Value,
    pub numeric_precision: Value,
    pub numeric_precision_radix: Value,
    pub numeric_scale: Value,
    pub datetime_precision: Value,
}

/// Largest `character_octet_length`: PostgreSQL's 1 GB field limit.
const MAX_OCTETS: i32 = 1_073_741_824;

pub(super) fn type_facts(sql_type: &SqlType) -> TypeFacts {
    let type_oid = sql_type.oid();
    let info = type_info(type_oid);
    let udt_name = info.map_or_else(|| sql_type.internal_name(), |i| i.name.clone());
    let udt_schema = if info.is_some_and(|i| i.namespace != super::PG_CATALOG_NAMESPACE) {
        "public"
    } else {
        "pg_catalog"
    };
    let data_type = match sql_type {
        SqlType::Array(_) => "ARRAY".to_string(),
        SqlType::Vector(_) => "USER-DEFINED".to_string(),
        other => other.base_name(),
    };
    let mut facts = TypeFacts {
        data_type,
        udt_schema,
        udt_name,
        character_maximum_length: Value::Null,
        character_octet_length: Value::Null,
        numeric_precision: Value::Null,
        numeric_precision_radix: Value::Null,
        numeric_scale: Value::Null,
        datetime_precision: Value::Null,
    };
    let binary = |precision: i32, scale: Option<i32>| {
        (int4(precision), int4(2), scale.map_or(Value::Null, int4))
    };
    match sql_type {
        SqlType::Varchar(n) | SqlType::Char(n) => {
            let n = match (sql_type, n) {
                (SqlType::Char(_), None) => Some(1),
                (_, n) => *n,
            };
            facts.character_maximum_length = n.map_or(Value::Null, |n| int4(n as i32));
            facts.character_octet_length =
                int4(n.map_or(MAX_OCTETS, |n| (n as i32).saturating_mul(4).min(MAX_OCTETS)));
        }
        SqlType::Text => facts.character_octet_length = int4(MAX_OCTETS),
        SqlType::Int2 | SqlType::Int4 | SqlType::Int8 | SqlType::Float4 | SqlType::Float8 => {
            let (p, r, s) = match sql_type {
                SqlType::Int2 => binary(16, Some(0)),
                SqlType::Int4 => binary(32, Some(0)),
                SqlType::Int8 => binary(64, Some(0)),
                SqlType::Float4 => binary(24, None),
                _ => binary(53, None),
            };
            facts.numeric_precision = p;
            facts.numeric_precision_radix = r;
            facts.numeric_scale = s;
        }
        SqlType::Numeric { precision, scale } => {
            facts.numeric_precision = precision.map_or(Value::Null, |p| int4(p as i32));
            facts.numeric_precision_radix = int4(10);
            facts.numeric_scale = match (precision, scale) {
                (Some(_), scale) => int4(scale.unwrap_or(0)),
                (None, _) => Value::Null,
            };
        }
        SqlType::Date => facts.datetime_precision = int4(0),
        SqlType::Time | SqlType::Timestamp | SqlType::Timestamptz | SqlType::Interval => {
            facts.datetime_precision = int4(6)
        }
        _ => {}
    }
    facts
}

pub(super) fn tables() -> Vec<SystemTable> {
    let s = || SQL_IDENTIFIER;
    let c = || CHARACTER_DATA;
    let n = || CARDINAL_NUMBER;
    let y = || YES_OR_NO;
    vec![
        table(
            "information_schema",
            "columns",
            COLUMNS,
            vec![
                ("table_catalog", s()),
                ("table_schema", s()),
                ("table_name", s()),
                ("column_name", s()),
                ("ordinal_position", n()),
                ("column_default", c()),
                ("is_nullable", y()),
                ("data_type", c()),
                ("character_maximum_length", n()),
                ("character_octet_length", n()),
                ("numeric_precision", n()),
                ("numeric_precision_radix", n()),
                ("numeric_scale", n()),
                ("datetime_precision", n()),
                ("interval_type", c()),
                ("interval_precision", n()),
                ("character_set_catalog", s()),
                ("character_set_schema", s()),
                ("character_set_name", s()),
                ("collation_catalog", s()),
                ("collation_schema", s()),
                ("collation_name", s()),
                ("domain_catalog", s()),
                ("domain_schema", s()),
                ("domain_name", s()),
                ("udt_catalog", s()),
                ("udt_schema", s()),
                ("udt_name", s()),
                ("scope_catalog", s()),
                ("scope_schema", s()),
                ("scope_name", s()),
                ("maximum_cardinality", n()),
                ("dtd_identifier", s()),
                ("is_self_referencing", y()),
                ("is_identity", y()),
                ("identity_generation", c()),
                ("identity_start", c()),
                ("identity_increment", c()),
                ("identity_maximum", c()),
                ("identity_minimum", c()),
                ("identity_cycle", y()),
                ("is_generated", c()),
                ("generation_expression", c()),
                ("is_updatable", y()),
            ],
            columns_rows,
        ),
        table(
            "information_schema",
            "routines",
            ROUTINES,
            routine_columns(),
            routines_rows,
        ),
        table(
            "information_schema",
            "parameters",
            PARAMETERS,
            vec![
                ("specific_catalog", s()),
                ("specific_schema", s()),
                ("specific_name", s()),
                ("ordinal_position", n()),
                ("parameter_mode", c()),
                ("is_result", y()),
                ("as_locator", y()),
                ("parameter_name", s()),
                ("data_type", c()),
                ("character_maximum_length", n()),
                ("character_octet_length", n()),
                ("character_set_catalog", s()),
                ("character_set_schema", s()),
                ("character_set_name", s()),
                ("collation_catalog", s()),
                ("collation_schema", s()),
                ("collation_name", s()),
                ("numeric_precision", n()),
                ("numeric_precision_radix", n()),
                ("numeric_scale", n()),
                ("datetime_precision", n()),
                ("interval_type", c()),
                ("interval_precision", n()),
                ("udt_catalog", s()),
                ("udt_schema", s()),
                ("udt_name", s()),
                ("scope_catalog", s()),
                ("scope_schema", s()),
                ("scope_name", s()),
                ("maximum_cardinality", n()),
                ("dtd_identifier", s()),
                ("parameter_default", c()),
            ],
            parameters_rows,
        ),
    ]
}

fn yes_no(b: bool) -> Value {
    text(if b { "YES" } else { "NO" })
}

/// The identity sequence facts of a column: start, increment, max, min, cycle.
fn identity_facts(ctx: &SystemCtx, table: &TableDef, column: &ColumnDef) -> [Value; 5] {
    let sequence = ctx
        .catalog
        .sequences
        .values()
        .find(|s| s.owned_by == Some((table.oid, column.attnum)));
    match (column.identity, sequence) {
        (Some(_), Some(s)) => [
            text(s.start.to_string()),
            text(s.increment.to_string()),
            text(s.max_value.to_string()),
            text(s.min_value.to_string()),
            yes_no(s.cycle),
        ],
        (Some(_), None) => [
            text("1"),
            text("1"),
            text(i64::MAX.to_string()),
            text("1"),
            yes_no(false),
        ],
        (None, _) => [
            Value::Null,
            Value::Null,
            Value::Null,
            Value::Null,
            yes_no(false),
        ],
    }
}

struct ColumnFacts<'a> {
    schema: Value,
    table: &'a str,
    name: &'a str,
    position: usize,
    sql_type: SqlType,
    default: Option<&'a str>,
    nullable: bool,
    identity: Option<IdentityKind>,
    identity_facts: [Value; 5],
    generated: Option<&'a str>,
    updatable: bool,
}

fn column_row(ctx: &SystemCtx, c: ColumnFacts) -> Row {
    let t = type_facts(&c.sql_type);
    let [start, increment, maximum, minimum, cycle] = c.identity_facts;
    vec![
        name(ctx.database),
        c.schema,
        name(c.table),
        name(c.name),
        int4(c.position as i32),
        text_or_null(c.default.filter(|_| c.generated.is_none())),
        yes_no(c.nullable),
        text(t.data_type),
        t.character_maximum_length,
        t.character_octet_length,
        t.numeric_precision,
        t.numeric_precision_radix,
        t.numeric_scale,
        t.datetime_precision,
        Value::Null,
        Value::Null,
        Value::Null,
        Value::Null,
        Value::Null,
        Value::Null,
        Value::Null,
        Value::Null,
        Value::Null,
        Value::Null,
        Value::Null,
        name(ctx.database),
        name(t.udt_schema),
        name(t.udt_name),
        Value::Null,
        Value::Null,
        Value::Null,
        Value::Null,
        name(c.position.to_string()),
        yes_no(false),
        yes_no(c.identity.is_some()),
        match c.identity {
            Some(IdentityKind::Always) => text("ALWAYS"),
            Some(IdentityKind::ByDefault) => text("BY DEFAULT"),
            None => Value::Null,
        },
        start,
        increment,
        maximum,
        minimum,
        cycle,
        text(if c.generated.is_some() {
            "ALWAYS"
        } else {
            "NEVER"
        }),
        text_or_null(c.generated),
        yes_no(c.updatable),
    ]
}

fn columns_rows(ctx: &SystemCtx) -> SqlResult<Vec<Row>> {
    let catalog = ctx.catalog;
    let format = SessionFormat::default();
    let deparse_ctx = DeparseCtx {
        catalog,
        format: &format,
    };
    let no_identity = || {
        [
            Value::Null,
            Value::Null,
            Value::Null,
            Value::Null,
            yes_no(false),
        ]
    };
    let mut rows = Vec::new();
    for relation in relations(catalog) {
        let schema = text_or_null(namespace_name(catalog, relation.namespace(catalog)));
        match relation {
            Relation::Table(t) => {
                for (position, column) in t.live_columns().enumerate() {
                    // `pg_get_expr(adbin, adrelid)`, as PostgreSQL's view computes both.
                    let printed = |text: &str| {
                        deparse::column_expression(&deparse_ctx, t, column, text, false)
                    };
                    let generated = column.generated.as_deref().map(printed);
                    let default = deparse::attrdef_expression(catalog, t, column)
                        .filter(|_| column.generated.is_none())
                        .map(printed);
                    rows.push(column_row(
                        ctx,
                        ColumnFacts {
                            schema: schema.clone(),
                            table: &t.name,
                            name: &column.name,
                            position: position + 1,
                            sql_type: SqlType::from_data_type(&column.data_type),
                            default: default.as_deref(),
                            nullable: !column.not_null,
                            identity: column.identity,
                            identity_facts: identity_facts(ctx, t, column),
                            generated: generated.as_deref(),
                            updatable: true,
                        },
                    ));
                }
            }
            Relation::View(v) => {
                for (position, column) in v.column_names.iter().enumerate() {
                    rows.push(column_row(
                        ctx,
                        ColumnFacts {
                            schema: schema.clone(),
                            table: &v.name,
                            name: column,
                            position: position + 1,
                            sql_type: SqlType::Text,
                            default: None,
                            nullable: true,
                            identity: None,
                            identity_facts: no_identity(),
                            generated: None,
                            updatable: false,
                        },
                    ));
                }
            }
            Relation::System(s) => {
                for (position, (column, sql_type)) in s.columns.iter().enumerate() {
                    rows.push(column_row(
                        ctx,
                        ColumnFacts {
                            schema: schema.clone(),
                            table: s.name,
                            name: column,
                            position: position + 1,
                            sql_type: sql_type.clone(),
                            default: None,
                            nullable: true,
                            identity: None,
                            identity_facts: no_identity(),
                            generated: None,
                            updatable: false,
                        },
                    ));
                }
            }
            Relation::Sequence(_) | Relation::Index(_) => {}
        }
    }
    Ok(rows)
}

/// `information_schema.routines` columns (PostgreSQL 16 has 84).
fn routine_columns() -> Vec<(&'static str, SqlType)> {
    let identifier = [
        "specific_catalog",
        "specific_schema",
        "specific_name",
        "routine_catalog",
        "routine_schema",
        "routine_name",
    ];
    let mut columns: Vec<(&'static str, SqlType)> =
        identifier.iter().map(|c| (*c, SQL_IDENTIFIER)).collect();
    let rest: &[(&str, char)] = &[
        ("routine_type", 'c'),
        ("module_catalog", 's'),
        ("module_schema", 's'),
        ("module_name", 's'),
        ("udt_catalog", 's'),
        ("udt_schema", 's'),
        ("udt_name", 's'),
        ("data_type", 'c'),
        ("character_maximum_length", 'n'),
        ("character_octet_length", 'n'),
        ("character_set_catalog", 's'),
        ("character_set_schema", 's'),
        ("character_set_name", 's'),
        ("collation_catalog", 's'),
        ("collation_schema", 's'),
        ("collation_name", 's'),
        ("numeric_precision", 'n'),
        ("numeric_precision_radix", 'n'),
        ("numeric_scale", 'n'),
        ("datetime_precision", 'n'),
        ("interval_type", 'c'),
        ("interval_precision", 'n'),
        ("type_udt_catalog", 's'),
        ("type_udt_schema", 's'),
        ("type_udt_name", 's'),
        ("scope_catalog", 's'),
        ("scope_schema", 's'),
        ("scope_name", 's'),
        ("maximum_cardinality", 'n'),
        ("dtd_identifier", 's'),
        ("routine_body", 'c'),
        ("routine_definition", 'c'),
        ("external_name", 'c'),
        ("external_language", 'c'),
        ("parameter_style", 'c'),
        ("is_deterministic", 'y'),
        ("sql_data_access", 'c'),
        ("is_null_call", 'y'),
        ("sql_path", 'c'),
        ("schema_level_routine", 'y'),
        ("max_dynamic_result_sets", 'n'),
        ("is_user_defined_cast", 'y'),
        ("is_implicitly_invocable", 'y'),
        ("security_type", 'c'),
        ("to_sql_specific_catalog", 's'),
        ("to_sql_specific_schema", 's'),
        ("to_sql_specific_name", 's'),
        ("as_locator", 'y'),
        ("created", 't'),
        ("last_altered", 't'),
        ("new_savepoint_level", 'y'),
        ("is_udt_dependent", 'y'),
        ("result_cast_from_data_type", 'c'),
        ("result_cast_as_locator", 'y'),
        ("result_cast_char_max_length", 'n'),
        ("result_cast_char_octet_length", 'n'),
        ("result_cast_char_set_catalog", 's'),
        ("result_cast_char_set_schema", 's'),
        ("result_cast_char_set_name", 's'),
        ("result_cast_collation_catalog", 's'),
        ("result_cast_collation_schema", 's'),
        ("result_cast_collation_name", 's'),
        ("result_cast_numeric_precision", 'n'),
        ("result_cast_numeric_precision_radix", 'n'),
        ("result_cast_numeric_scale", 'n'),
        ("result_cast_datetime_precision", 'n'),
        ("result_cast_interval_type", 'c'),
        ("result_cast_interval_precision", 'n'),
        ("result_cast_type_udt_catalog", 's'),
        ("result_cast_type_udt_schema", 's'),
        ("result_cast_type_udt_name", 's'),
        ("result_cast_scope_catalog", 's'),
        ("result_cast_scope_schema", 's'),
        ("result_cast_scope_name", 's'),
        ("result_cast_maximum_cardinality", 'n'),
        ("result_cast_dtd_identifier", 's'),
    ];
    columns.extend(rest.iter().map(|(column, kind)| {
        let t = match kind {
            's' => SQL_IDENTIFIER,
            'n' => CARDINAL_NUMBER,
            'y' => YES_OR_NO,
            't' => TIMESTAMPTZ,
            _ => CHARACTER_DATA,
        };
        (*column, t)
    }));
    columns
}

/// PostgreSQL's `specific_name` of a function: `name_oid`.
fn specific_name(f: &storage::catalog::FunctionDef) -> String {
    format!("{}_{}", f.name, f.oid)
}

fn routines_rows(ctx: &SystemCtx) -> SqlResult<Vec<Row>> {
    let catalog = ctx.catalog;
    let width = routine_columns().len();
    let mut rows = Vec::new();
    for f in catalog.functions.values() {
        let schema = text_or_null(namespace_name(
            catalog,
            exposed_namespace_oid(catalog, f.schema),
        ));
        let result = f.returns.as_ref().map(SqlType::from_data_type);
        let facts = result.as_ref().map(type_facts);
        let mut row = vec![Value::Null; width];
        let mut set = |column: &str, value: Value| {
            if let Some(i) = routine_columns().iter().position(|(c, _)| *c == column) {
                row[i] = value;
            }
        };
        set("specific_catalog", name(ctx.database));
        set("specific_schema", schema.clone());
        set("specific_name", name(specific_name(f)));
        set("routine_catalog", name(ctx.database));
        set("routine_schema", schema);
        set("routine_name", name(f.name.clone()));
        set("routine_type", text("FUNCTION"));
        if let Some(facts) = facts {
            set("udt_catalog", name(ctx.database));
            set("data_type", text(facts.data_type));
            set("type_udt_catalog", name(ctx.database));
            set("type_udt_schema", name(facts.udt_schema));
            set("type_udt_name", name(facts.udt_name));
            set("numeric_precision", facts.numeric_precision);
            set("numeric_precision_radix", facts.numeric_precision_radix);
            set("numeric_scale", facts.numeric_scale);
            set("datetime_precision", facts.datetime_precision);
        } else {
            set("data_type", text("void"));
        }
        set("dtd_identifier", name("0"));
        let sql = f.language.eq_ignore_ascii_case("sql");
        set("routine_body", text(if sql { "SQL" } else { "EXTERNAL" }));
        set("routine_definition", text(f.body.clone()));
        set("external_language", text(f.language.to_ascii_uppercase()));
        set("parameter_style", text("GENERAL"));
        set("is_deterministic", yes_no(user_volatility(f) == 'i'));
        set("sql_data_access", text("MODIFIES"));
        set("is_null_call", yes_no(user_is_strict(f)));
        set("schema_level_routine", yes_no(true));
        set("max_dynamic_result_sets", int4(0));
        set("is_user_defined_cast", yes_no(false));
        set("is_implicitly_invocable", yes_no(false));
        set(
            "security_type",
            text(if user_is_security_definer(f) {
                "DEFINER"
            } else {
                "INVOKER"
            }),
        );
        set("as_locator", yes_no(false));
        set("new_savepoint_level", yes_no(false));
        set("is_udt_dependent", yes_no(false));
        set("result_cast_as_locator", yes_no(false));
        rows.push(row);
    }
    Ok(rows)
}

fn parameters_rows(ctx: &SystemCtx) -> SqlResult<Vec<Row>> {
    let catalog = ctx.catalog;
    let mut rows = Vec::new();
    for f in catalog.functions.values() {
        let schema = text_or_null(namespace_name(
            catalog,
            exposed_namespace_oid(catalog, f.schema),
        ));
        for (i, (parameter, data_type)) in f.arguments.iter().enumerate() {
            let facts = type_facts(&SqlType::from_data_type(data_type));
            let position = i + 1;
            let is_char = matches!(
                data_type,
                DataType::Varchar(_) | DataType::Char(_) | DataType::Text
            );
            rows.push(vec![
                name(ctx.database),
                schema.clone(),
                name(specific_name(f)),
                int4(position as i32),
                text("IN"),
                yes_no(false),
                yes_no(false),
                if parameter.is_empty() {
                    Value::Null
                } else {
                    name(parameter.clone())
                },
                text(facts.data_type),
                if is_char {
                    facts.character_maximum_length
                } else {
                    Value::Null
                },
                if is_char {
                    facts.character_octet_length
                } else {
                    Value::Null
                },
                Value::Null,
                Value::Null,
                Value::Null,
                Value::Null,
                Value::Null,
                Value::Null,
                facts.numeric_precision,
                facts.numeric_precision_radix,
                facts.numeric_scale,
                facts.datetime_precision,
                Value::Null,
                Value::Null,
                name(ctx.database),
                name(facts.udt_schema),
                name(facts.udt_name),
                Value::Null,
                Value::Null,
                Value::Null,
                Value::Null,
                name(position.to_string()),
                Value::Null,
            ]);
        }
    }
    Ok(rows)
}
