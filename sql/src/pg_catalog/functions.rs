//! The catalog functions clients call in their introspection queries (`format_type`,
//! `pg_get_expr`, `pg_get_indexdef`, `obj_description`, `has_table_privilege`,
//! `pg_size_pretty`...), added to the function registry by [`register`].
//!
//! They read the catalog the calling transaction sees ([`FnCtx::catalog`]) and the session's
//! `search_path`. Relation sizes are reported as 0: storage sizes are not in the catalog.
//! Objects custos does not have (triggers, partitions, extended statistics) give NULL.

use std::sync::Arc;

use storage::catalog::Catalog;
use storage::types::{Row, Value};

use super::datum::{as_i64, as_oid, as_str};
use super::ddl;
use super::ident::{parse_qualified_name, quote_qualified};
use super::misc_tables::{object_class, UTF8_ENCODING};
use super::names::{
    default_search_path, expand_search_path, namespace_is_on_path, namespace_name, relation_by_oid,
    relation_is_visible, relation_oid, role_by_oid, role_oid, Relation,
};
use super::oids::{builtin_namespace, collation, exposed_namespace_oid, rel};
use super::privilege_functions as privilege;
use super::procs::{builtin_proc, proc_oid_by_name, support_procs};
use super::size_functions::{database_size, pg_size_pretty, relation_size};
use super::types::{format_type, type_info, type_oid_by_name};
use crate::deparse::{self, columns_of, DeparseCtx, Target};
use crate::error::{code, SqlError, SqlResult};
use crate::func::registry::Registry;
use crate::func::{FnCtx, Param, Returns, Volatility};
use crate::pgtype::SqlType;

/// A scalar catalog function.
type CatalogFn = fn(&FnCtx, &[Value]) -> SqlResult<Value>;

/// The catalog of a call.
pub(crate) fn catalog_of<'a>(ctx: &'a FnCtx) -> &'a Catalog {
    Arc::as_ref(ctx.catalog)
}

/// The session's search path, `$user` expanded.
pub(crate) fn search_path(ctx: &FnCtx) -> Vec<String> {
    match (ctx.setting)("search_path") {
        Some(setting) => expand_search_path(&setting, ctx.user),
        None => default_search_path(),
    }
}

/// Adds the catalog functions to `reg`, and installs the system-relation lookup the `reg*`
/// casts of the function layer use.
pub fn register(reg: &mut Registry) {
    install_hooks();
    use SqlType::{Bool, Int2, Int4, Int8, Name, Oid, PgNodeTree, RegClass, Text};
    let stable = Volatility::Stable;
    reg.typed("format_type", &[Oid, Int4], Text, format_type_fn)
        .strict(false)
        .volatility(stable);
    for params in [&[PgNodeTree, Oid][..], &[PgNodeTree, Oid, Bool]] {
        reg.typed("pg_get_expr", params, Text, pg_get_expr)
            .volatility(stable);
    }
    for params in [&[Oid][..], &[Oid, Int4, Bool]] {
        reg.typed("pg_get_indexdef", params, Text, pg_get_indexdef)
            .volatility(stable);
    }
    for params in [&[Oid][..], &[Oid, Bool]] {
        reg.typed("pg_get_constraintdef", params, Text, pg_get_constraintdef)
            .volatility(stable);
    }
    for params in [
        &[Oid][..],
        &[Oid, Bool],
        &[Oid, Int4],
        &[Text],
        &[Text, Bool],
    ] {
        reg.typed("pg_get_viewdef", params, Text, pg_get_viewdef)
            .volatility(stable);
    }
    reg.typed("pg_get_userbyid", &[Oid], Name, pg_get_userbyid)
        .volatility(stable);
    let describers: [(&'static str, CatalogFn); 5] = [
        ("pg_get_function_arguments", pg_get_function_arguments),
        (
            "pg_get_function_identity_arguments",
            pg_get_function_arguments,
        ),
        ("pg_get_function_result", pg_get_function_result),
        ("pg_get_functiondef", pg_get_functiondef),
        ("pg_get_partkeydef", null_result),
    ];
    for (name, f) in describers {
        reg.typed(name, &[Oid], Text, f).volatility(stable);
    }
    reg.typed("pg_get_statisticsobjdef_columns", &[Oid], Text, null_result);
    for params in [&[Oid][..], &[Oid, Bool]] {
        reg.typed(
            "pg_get_triggerdef",
            params,
            Text,
            crate::plpgsql::catalog_rows::pg_get_triggerdef,
        )
        .volatility(stable);
        reg.typed("pg_get_ruledef", params, Text, pg_get_ruledef)
            .volatility(stable);
    }
    reg.typed(
        "pg_get_serial_sequence",
        &[Text, Text],
        Text,
        pg_get_serial_sequence,
    )
    .volatility(stable);
    let visibility: [(&'static str, CatalogFn); 5] = [
        ("pg_table_is_visible", pg_table_is_visible),
        ("pg_type_is_visible", pg_type_is_visible),
        ("pg_function_is_visible", pg_function_is_visible),
        ("pg_collation_is_visible", pg_collation_is_visible),
        ("pg_opclass_is_visible", pg_opclass_is_visible),
    ];
    for (name, f) in visibility {
        reg.typed(name, &[Oid], Bool, f).volatility(stable);
    }
    reg.typed("obj_description", &[Oid, Name], Text, obj_description)
        .volatility(stable);
    reg.typed("obj_description", &[Oid], Text, obj_description)
        .volatility(stable);
    reg.typed("col_description", &[Oid, Int4], Text, col_description)
        .volatility(stable);
    reg.typed("shobj_description", &[Oid, Name], Text, shobj_description)
        .volatility(stable);
    reg.typed("pg_encoding_to_char", &[Int4], Name, pg_encoding_to_char);
    reg.typed("pg_char_to_encoding", &[Name], Int4, pg_char_to_encoding);
    register_privileges(reg);
    reg.typed("pg_is_other_temp_schema", &[Oid], Bool, false_result);
    reg.typed("pg_my_temp_schema", &[], Oid, zero_oid)
        .volatility(stable);
    for name in [
        "pg_relation_size",
        "pg_table_size",
        "pg_total_relation_size",
        "pg_indexes_size",
    ] {
        reg.typed(name, &[RegClass], Int8, relation_size)
            .volatility(Volatility::Volatile);
    }
    reg.typed("pg_relation_size", &[RegClass, Text], Int8, relation_size)
        .volatility(Volatility::Volatile);
    for params in [&[Name][..], &[Oid]] {
        reg.typed("pg_database_size", params, Int8, database_size)
            .volatility(Volatility::Volatile);
    }
    reg.typed("pg_size_pretty", &[Int8], Text, pg_size_pretty);
    reg.typed(
        "pg_size_pretty",
        &[crate::pgtype::NUMERIC],
        Text,
        pg_size_pretty,
    );
    reg.typed(
        "pg_relation_is_updatable",
        &[RegClass, Bool],
        Int4,
        pg_relation_is_updatable,
    )
    .volatility(stable);
    reg.typed(
        "pg_column_is_updatable",
        &[RegClass, Int2, Bool],
        Bool,
        pg_column_is_updatable,
    )
    .volatility(stable);
    reg.typed(
        "pg_relation_is_publishable",
        &[RegClass],
        Bool,
        pg_relation_is_publishable,
    )
    .volatility(stable);
    reg.typed("pg_is_in_recovery", &[], Bool, false_result)
        .volatility(Volatility::Volatile);
    reg.typed("pg_tablespace_location", &[Oid], Text, empty_text)
        .volatility(stable);
    reg.scalar(
        "pg_collation_for",
        vec![Param::Any],
        Returns::Type(Text),
        pg_collation_for,
    )
    .volatility(stable);
    let to_reg: [(&'static str, SqlType, CatalogFn); 5] = [
        ("to_regtype", SqlType::RegType, to_regtype),
        ("to_regclass", RegClass, to_regclass),
        ("to_regnamespace", SqlType::RegNamespace, to_regnamespace),
        ("to_regrole", SqlType::RegRole, to_regrole),
        ("to_regproc", SqlType::RegProc, to_regproc),
    ];
    for (name, returns, f) in to_reg {
        reg.typed(name, &[Text], returns, f).volatility(stable);
    }
    reg.set_returning(
        "_pg_expandarray",
        vec![Param::AnyArray],
        expandarray_columns,
        expandarray_rows,
    );
    // No table is partitioned: a relation's only ancestor is itself.
    reg.set_returning(
        "pg_partition_ancestors",
        vec![Param::Type(SqlType::RegClass)],
        |_| vec![("relid".into(), SqlType::RegClass)],
        |_, args| Ok(vec![vec![args[0].clone()]]),
    );
    for vector in [SqlType::Int2Vector, SqlType::OidVector] {
        reg.set_returning(
            "_pg_expandarray",
            vec![Param::Type(vector)],
            expandarray_columns,
            expandarray_rows,
        );
    }
}

fn register_privileges(reg: &mut Registry) {
    use SqlType::{Int2, Name, Oid, Text};
    let stable = Volatility::Stable;
    let object_families: [(&'static str, CatalogFn); 6] = [
        ("has_table_privilege", privilege::has_table_privilege),
        ("has_sequence_privilege", privilege::has_sequence_privilege),
        (
            "has_any_column_privilege",
            privilege::has_any_column_privilege,
        ),
        ("has_schema_privilege", privilege::has_schema_privilege),
        ("has_database_privilege", privilege::has_database_privilege),
        ("has_function_privilege", privilege::has_function_privilege),
    ];
    for (name, f) in object_families {
        for object in [Text, Oid] {
            reg.typed(name, &[object.clone(), Text], SqlType::Bool, f)
                .volatility(stable);
            for role in [Name, Oid] {
                reg.typed(name, &[role, object.clone(), Text], SqlType::Bool, f)
                    .volatility(stable);
            }
        }
    }
    for object in [Text, Oid] {
        for column in [Text, Int2] {
            reg.typed(
                "has_column_privilege",
                &[object.clone(), column.clone(), Text],
                SqlType::Bool,
                privilege::has_column_privilege,
            )
            .volatility(stable);
            for role in [Name, Oid] {
                reg.typed(
                    "has_column_privilege",
                    &[role, object.clone(), column.clone(), Text],
                    SqlType::Bool,
                    privilege::has_column_privilege,
                )
                .volatility(stable);
            }
        }
    }
    for role in [Name, Oid] {
        reg.typed(
            "pg_has_role",
            &[role.clone(), Text],
            SqlType::Bool,
            privilege::pg_has_role,
        )
        .volatility(stable);
        for user in [Name, Oid] {
            reg.typed(
                "pg_has_role",
                &[user, role.clone(), Text],
                SqlType::Bool,
                privilege::pg_has_role,
            )
            .volatility(stable);
        }
    }
}

/// Installs the lookup of system relations that the function layer's `regclass` input and
/// output use. Idempotent.
pub fn install_hooks() {
    fn oid_of(schema: Option<&str>, name: &str) -> Option<u32> {
        match schema {
            Some(schema) => super::find(schema, name),
            None => super::find("pg_catalog", name),
        }
        .map(|t| t.oid)
    }
    fn name_of(oid: u32) -> Option<(String, String)> {
        super::find_by_oid(oid).map(|t| (t.schema.to_string(), t.name.to_string()))
    }
    crate::func::set_system_relations(crate::func::SystemRelations { oid_of, name_of });
}

fn arg_oid(args: &[Value], i: usize) -> Option<u32> {
    args.get(i).and_then(as_oid)
}

fn text_or_null(text: Option<String>) -> Value {
    text.map_or(Value::Null, Value::Text)
}

fn bool_arg(args: &[Value], i: usize) -> bool {
    matches!(args.get(i), Some(Value::Bool(true)))
}

fn null_result(_: &FnCtx, _: &[Value]) -> SqlResult<Value> {
    Ok(Value::Null)
}

fn false_result(_: &FnCtx, _: &[Value]) -> SqlResult<Value> {
    Ok(Value::Bool(false))
}

fn zero_oid(_: &FnCtx, _: &[Value]) -> SqlResult<Value> {
    Ok(Value::Int8(0))
}

fn empty_text(_: &FnCtx, _: &[Value]) -> SqlResult<Value> {
    Ok(Value::Text(String::new()))
}

/// `format_type(type, typmod)`: `???` for an unknown OID, as PostgreSQL prints it.
fn format_type_fn(_: &FnCtx, args: &[Value]) -> SqlResult<Value> {
    let Some(type_oid) = arg_oid(args, 0) else {
        return Ok(Value::Null);
    };
    let typmod = args
        .get(1)
        .and_then(as_i64)
        .and_then(|t| i32::try_from(t).ok());
    Ok(Value::Text(
        format_type(type_oid, typmod).unwrap_or_else(|| "???".to_string()),
    ))
}

/// What deparsing a stored expression reads in a call.
fn deparse_ctx<'a>(ctx: &'a FnCtx) -> DeparseCtx<'a> {
    DeparseCtx {
        catalog: catalog_of(ctx),
        format: ctx.format,
    }
}

/// `pg_get_expr(expression, relation[, pretty])`: the stored expression as PostgreSQL
/// prints its node tree (a list of them for `pg_index.indexprs`); the stored text when the
/// deparser does not model it.
fn pg_get_expr(ctx: &FnCtx, args: &[Value]) -> SqlResult<Value> {
    let Some(Value::Text(text)) = args.first() else {
        return Ok(args.first().cloned().unwrap_or(Value::Null));
    };
    let table = arg_oid(args, 1).and_then(|oid| catalog_of(ctx).tables.get(&oid));
    let columns = table.map(columns_of).unwrap_or_default();
    // A default or generation expression was coerced to its column's type when stored.
    let column_type = table.and_then(|t| {
        t.live_columns()
            .find(|c| c.generated.as_ref().or(c.default.as_ref()) == Some(text))
            .map(|c| SqlType::from_data_type(&c.data_type))
    });
    let target = column_type.as_ref().map_or(Target::Nothing, Target::Column);
    let pretty = bool_arg(args, 2);
    let dctx = deparse_ctx(ctx);
    let printed = deparse::expression(&dctx, &columns, text, target, pretty)
        .map(|d| d.text)
        .or_else(|| deparse::expression_list(&dctx, &columns, text, pretty));
    Ok(Value::Text(printed.unwrap_or_else(|| text.clone())))
}

fn pg_get_indexdef(ctx: &FnCtx, args: &[Value]) -> SqlResult<Value> {
    let Some(index) = arg_oid(args, 0) else {
        return Ok(Value::Null);
    };
    let column = args.get(1).and_then(as_i64).unwrap_or(0);
    let column = i32::try_from(column).unwrap_or(-1);
    if column < 0 {
        return Ok(Value::Null);
    }
    Ok(text_or_null(ddl::index_definition(
        &deparse_ctx(ctx),
        index,
        column,
        bool_arg(args, 2),
    )))
}

fn pg_get_constraintdef(ctx: &FnCtx, args: &[Value]) -> SqlResult<Value> {
    let Some(constraint) = arg_oid(args, 0) else {
        return Ok(Value::Null);
    };
    Ok(text_or_null(ddl::constraint_definition(
        &deparse_ctx(ctx),
        constraint,
        bool_arg(args, 1),
    )))
}

/// A relation named by text (`public.v`), resolved on the search path; 42P01 when missing.
fn relation_by_text(ctx: &FnCtx, text: &str) -> SqlResult<u32> {
    let parts = parse_qualified_name(text).ok_or_else(|| SqlError::undefined_table(text))?;
    let (schema, name) = match parts.as_slice() {
        [name] => (None, name.as_str()),
        [schema, name] | [_, schema, name] => (Some(schema.as_str()), name.as_str()),
        _ => return Err(SqlError::undefined_table(text)),
    };
    relation_oid(catalog_of(ctx), schema, name, &search_path(ctx))
        .ok_or_else(|| SqlError::undefined_table(text))
}

fn pg_get_viewdef(ctx: &FnCtx, args: &[Value]) -> SqlResult<Value> {
    let view = match args.first() {
        Some(Value::Text(name)) => relation_by_text(ctx, name)?,
        Some(other) => match as_oid(other) {
            Some(oid) => oid,
            None => return Ok(Value::Null),
        },
        None => return Ok(Value::Null),
    };
    Ok(text_or_null(ddl::view_definition(catalog_of(ctx), view)))
}

/// `pg_get_ruledef` of a view's `_RETURN` rule.
fn pg_get_ruledef(ctx: &FnCtx, args: &[Value]) -> SqlResult<Value> {
    let Some(rule) = arg_oid(args, 0) else {
        return Ok(Value::Null);
    };
    let catalog = catalog_of(ctx);
    let view = catalog
        .views
        .values()
        .find(|v| super::oids::rewrite_oid(v.oid) == rule);
    Ok(text_or_null(view.and_then(|v| {
        let name = super::names::qualified_relation_name(catalog, v.oid)?;
        let query = ddl::view_definition(catalog, v.oid)?;
        Some(format!(
            "CREATE RULE \"_RETURN\" AS\n    ON SELECT TO {name} DO INSTEAD {}",
            query.trim_start()
        ))
    })))
}

/// `pg_get_userbyid(role)`: `unknown (OID=n)` for an OID no role has.
fn pg_get_userbyid(ctx: &FnCtx, args: &[Value]) -> SqlResult<Value> {
    let Some(role) = arg_oid(args, 0) else {
        return Ok(Value::Null);
    };
    Ok(Value::Text(
        role_by_oid(catalog_of(ctx), ctx.user, role)
            .map_or_else(|| format!("unknown (OID={role})"), |r| r.name),
    ))
}

fn pg_get_function_arguments(ctx: &FnCtx, args: &[Value]) -> SqlResult<Value> {
    let Some(function) = arg_oid(args, 0) else {
        return Ok(Value::Null);
    };
    Ok(text_or_null(ddl::function_arguments(
        catalog_of(ctx),
        function,
    )))
}

fn pg_get_function_result(ctx: &FnCtx, args: &[Value]) -> SqlResult<Value> {
    let Some(function) = arg_oid(args, 0) else {
        return Ok(Value::Null);
    };
    Ok(text_or_null(ddl::function_result(
        catalog_of(ctx),
        function,
    )))
}

fn pg_get_functiondef(ctx: &FnCtx, args: &[Value]) -> SqlResult<Value> {
    let Some(function) = arg_oid(args, 0) else {
        return Ok(Value::Null);
    };
    Ok(text_or_null(ddl::function_definition(
        catalog_of(ctx),
        function,
    )))
}

/// `pg_get_serial_sequence(table, column)`: the qualified name of the sequence a column
/// owns (serial or identity), NULL when none. The table name is parsed as SQL (folded
/// unless quoted), the column name is taken literally.
fn pg_get_serial_sequence(ctx: &FnCtx, args: &[Value]) -> SqlResult<Value> {
    let (Some(table_name), Some(column_name)) =
        (args.first().and_then(as_str), args.get(1).and_then(as_str))
    else {
        return Ok(Value::Null);
    };
    let catalog = catalog_of(ctx);
    let table_oid = relation_by_text(ctx, table_name)?;
    let table = match relation_by_oid(catalog, table_oid) {
        Some(Relation::Table(t)) => t,
        _ => return Ok(Value::Null),
    };
    let column = table.column_by_name(column_name).ok_or_else(|| {
        SqlError::new(
            code::UNDEFINED_COLUMN,
            format!(
                "column \"{column_name}\" of relation \"{}\" does not exist",
                table.name
            ),
        )
    })?;
    let sequence = catalog
        .sequences
        .values()
        .find(|s| s.owned_by == Some((table.oid, column.attnum)));
    Ok(text_or_null(sequence.and_then(|s| {
        let schema = namespace_name(catalog, exposed_namespace_oid(catalog, s.schema))?;
        Some(quote_qualified(Some(&schema), &s.name))
    })))
}

fn pg_table_is_visible(ctx: &FnCtx, args: &[Value]) -> SqlResult<Value> {
    let Some(relation) = arg_oid(args, 0) else {
        return Ok(Value::Null);
    };
    let catalog = catalog_of(ctx);
    if relation_by_oid(catalog, relation).is_none() {
        return Ok(Value::Null);
    }
    Ok(Value::Bool(relation_is_visible(
        catalog,
        relation,
        &search_path(ctx),
    )))
}

fn pg_type_is_visible(ctx: &FnCtx, args: &[Value]) -> SqlResult<Value> {
    let Some(info) = arg_oid(args, 0).and_then(type_info) else {
        return Ok(Value::Null);
    };
    let catalog = catalog_of(ctx);
    let namespace = builtin_namespace(catalog, info.namespace);
    Ok(Value::Bool(namespace_is_on_path(
        catalog,
        namespace,
        &search_path(ctx),
    )))
}

fn pg_function_is_visible(ctx: &FnCtx, args: &[Value]) -> SqlResult<Value> {
    let Some(function) = arg_oid(args, 0) else {
        return Ok(Value::Null);
    };
    if builtin_proc(function).is_some() || support_procs().iter().any(|p| p.oid == function) {
        return Ok(Value::Bool(true));
    }
    let catalog = catalog_of(ctx);
    Ok(catalog.functions.get(&function).map_or(Value::Null, |f| {
        let namespace = exposed_namespace_oid(catalog, f.schema);
        Value::Bool(namespace_is_on_path(catalog, namespace, &search_path(ctx)))
    }))
}

fn pg_collation_is_visible(_: &FnCtx, args: &[Value]) -> SqlResult<Value> {
    Ok(match arg_oid(args, 0) {
        Some(collation::DEFAULT | collation::C | collation::POSIX) => Value::Bool(true),
        _ => Value::Null,
    })
}

fn pg_opclass_is_visible(_: &FnCtx, args: &[Value]) -> SqlResult<Value> {
    Ok(
        match arg_oid(args, 0).and_then(super::access_tables::opclass_name) {
            Some(_) => Value::Bool(true),
            None => Value::Null,
        },
    )
}

/// The class OID of a catalog named in `obj_description(oid, 'pg_class')`.
fn catalog_class(name: &str) -> Option<u32> {
    let name = name.strip_prefix("pg_catalog.").unwrap_or(name);
    super::find("pg_catalog", name).map(|t| t.oid)
}

/// The comment on object `object` of catalog `classoid`, column `column`.
fn comment(catalog: &Catalog, classoid: Option<u32>, object: u32, column: i64) -> Option<String> {
    catalog
        .comments
        .iter()
        .find(|c| {
            let Some((class, _)) = object_class(&c.object_kind) else {
                return false;
            };
            let shown = if class == rel::PG_NAMESPACE {
                exposed_namespace_oid(catalog, c.object)
            } else {
                c.object
            };
            shown == object
                && i64::from(c.column) == column
                && classoid.is_none_or(|wanted| wanted == class)
        })
        .map(|c| c.text.clone())
}

fn obj_description(ctx: &FnCtx, args: &[Value]) -> SqlResult<Value> {
    let Some(object) = arg_oid(args, 0) else {
        return Ok(Value::Null);
    };
    let classoid = match args.get(1) {
        Some(value) => match as_str(value).and_then(catalog_class) {
            Some(class) => Some(class),
            None => return Ok(Value::Null),
        },
        None => None,
    };
    Ok(text_or_null(comment(catalog_of(ctx), classoid, object, 0)))
}

fn col_description(ctx: &FnCtx, args: &[Value]) -> SqlResult<Value> {
    let (Some(table), Some(column)) = (arg_oid(args, 0), args.get(1).and_then(as_i64)) else {
        return Ok(Value::Null);
    };
    Ok(text_or_null(comment(
        catalog_of(ctx),
        Some(rel::PG_CLASS),
        table,
        column,
    )))
}

fn shobj_description(ctx: &FnCtx, args: &[Value]) -> SqlResult<Value> {
    obj_description(ctx, args)
}

fn pg_encoding_to_char(_: &FnCtx, args: &[Value]) -> SqlResult<Value> {
    Ok(Value::Text(
        match args.first().and_then(as_i64) {
            Some(0) => "SQL_ASCII",
            Some(e) if e == i64::from(UTF8_ENCODING) => "UTF8",
            _ => "",
        }
        .to_string(),
    ))
}

fn pg_char_to_encoding(_: &FnCtx, args: &[Value]) -> SqlResult<Value> {
    let name = args.first().and_then(as_str).unwrap_or("");
    let normalized: String = name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_ascii_uppercase();
    Ok(Value::Int4(match normalized.as_str() {
        "UTF8" | "UNICODE" => UTF8_ENCODING,
        "SQLASCII" => 0,
        _ => -1,
    }))
}

/// `pg_relation_is_updatable`: INSERT, UPDATE and DELETE (bits 3, 2, 4 → 28) for tables.
fn pg_relation_is_updatable(ctx: &FnCtx, args: &[Value]) -> SqlResult<Value> {
    Ok(
        match arg_oid(args, 0).and_then(|o| relation_by_oid(catalog_of(ctx), o)) {
            Some(Relation::Table(_)) => Value::Int4(28),
            Some(_) => Value::Int4(0),
            None => Value::Null,
        },
    )
}

fn pg_column_is_updatable(ctx: &FnCtx, args: &[Value]) -> SqlResult<Value> {
    Ok(
        match arg_oid(args, 0).and_then(|o| relation_by_oid(catalog_of(ctx), o)) {
            Some(Relation::Table(t)) => {
                let attnum = args
                    .get(1)
                    .and_then(as_i64)
                    .and_then(|a| u16::try_from(a).ok());
                Value::Bool(
                    attnum
                        .and_then(|a| t.column(a))
                        .is_some_and(|c| c.generated.is_none()),
                )
            }
            Some(_) => Value::Bool(false),
            None => Value::Null,
        },
    )
}

fn pg_relation_is_publishable(ctx: &FnCtx, args: &[Value]) -> SqlResult<Value> {
    Ok(Value::Bool(matches!(
        arg_oid(args, 0).and_then(|o| relation_by_oid(catalog_of(ctx), o)),
        Some(Relation::Table(_))
    )))
}

/// `pg_collation_for(value)`: the collation of a text value (`"default"`), NULL otherwise.
fn pg_collation_for(_: &FnCtx, args: &[Value]) -> SqlResult<Value> {
    Ok(match args.first() {
        Some(Value::Text(_)) => Value::Text("\"default\"".into()),
        _ => Value::Null,
    })
}

fn to_regtype(_: &FnCtx, args: &[Value]) -> SqlResult<Value> {
    Ok(args
        .first()
        .and_then(as_str)
        .and_then(type_oid_by_name)
        .map_or(Value::Null, |o| Value::Int8(i64::from(o))))
}

fn to_regclass(ctx: &FnCtx, args: &[Value]) -> SqlResult<Value> {
    let Some(text) = args.first().and_then(as_str) else {
        return Ok(Value::Null);
    };
    Ok(relation_by_text(ctx, text).map_or(Value::Null, |o| Value::Int8(i64::from(o))))
}

fn to_regnamespace(ctx: &FnCtx, args: &[Value]) -> SqlResult<Value> {
    let catalog = catalog_of(ctx);
    Ok(args
        .first()
        .and_then(as_str)
        .and_then(parse_qualified_name)
        .and_then(|parts| match parts.as_slice() {
            [name] => super::names::namespace_oid(catalog, name),
            _ => None,
        })
        .map_or(Value::Null, |o| Value::Int8(i64::from(o))))
}

fn to_regrole(ctx: &FnCtx, args: &[Value]) -> SqlResult<Value> {
    let catalog = catalog_of(ctx);
    Ok(args
        .first()
        .and_then(as_str)
        .and_then(parse_qualified_name)
        .and_then(|parts| match parts.as_slice() {
            [name] => role_oid(catalog, ctx.user, name),
            _ => None,
        })
        .map_or(Value::Null, |o| Value::Int8(i64::from(o))))
}

fn to_regproc(ctx: &FnCtx, args: &[Value]) -> SqlResult<Value> {
    Ok(args
        .first()
        .and_then(as_str)
        .and_then(|text| proc_oid_by_name(catalog_of(ctx), text))
        .map_or(Value::Null, |o| Value::Int8(i64::from(o))))
}

/// `information_schema._pg_expandarray(array)`: one row per element, `(x, n)` with `n` its
/// position from 1.
fn expandarray_columns(types: &[SqlType]) -> Vec<(String, SqlType)> {
    let element = match types.first() {
        Some(SqlType::Int2Vector) => SqlType::Int2,
        Some(SqlType::OidVector) => SqlType::Oid,
        Some(SqlType::Array(element)) => (**element).clone(),
        _ => SqlType::Int4,
    };
    vec![("x".to_string(), element), ("n".to_string(), SqlType::Int4)]
}

fn expandarray_rows(_: &FnCtx, args: &[Value]) -> SqlResult<Vec<Row>> {
    let Some(Value::Array(array)) = args.first() else {
        return Ok(Vec::new());
    };
    Ok(array
        .elements
        .iter()
        .enumerate()
        .map(|(i, element)| vec![element.clone(), Value::Int4(i as i32 + 1)])
        .collect())
}
