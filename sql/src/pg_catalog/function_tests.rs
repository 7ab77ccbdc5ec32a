//! Catalog functions called as the engine calls them: resolved in a registry holding the
//! catalog functions, then run on a sample catalog.

use std::sync::Arc;

use storage::catalog::Catalog;
use storage::types::Value;

use super::functions;
use super::tests::sample_catalog;
use crate::func::registry::Registry;
use crate::func::FnCtx;
use crate::pgtype::SqlType;
use crate::types::SessionFormat;

/// Calls catalog function `name` through a registry holding only the catalog functions.
fn call(
    catalog: &Arc<Catalog>,
    user: &str,
    name: &str,
    args: &[Value],
    types: &[SqlType],
) -> crate::error::SqlResult<Value> {
    let mut reg = Registry::new();
    functions::register(&mut reg);
    let resolved = reg.resolve(name, types).expect("resolves");
    let format = SessionFormat::default();
    let setting = |n: &str| (n == "search_path").then(|| "\"$user\", public".to_string());
    let ctx = FnCtx {
        format: &format,
        catalog,
        user,
        database: "custos",
        statement_start: 0,
        setting: &setting,
        queries: None,
    };
    match resolved.overload.implementation {
        crate::func::Implementation::Scalar(f) => f(&ctx, args),
        crate::func::Implementation::Set { .. } => panic!("scalar expected"),
    }
}

#[test]
fn privilege_functions_follow_ownership_grants_and_defaults() {
    let s = sample_catalog();
    let catalog = Arc::new(s.catalog);
    let t = |x: &str| Value::Text(x.to_string());
    let unknown = SqlType::Unknown;
    let ask = |user: &str, table: &str, privilege: &str| {
        call(
            &catalog,
            user,
            "has_table_privilege",
            &[t(table), t(privilege)],
            &[unknown.clone(), unknown.clone()],
        )
    };
    assert_eq!(
        ask("reader", "customers", "SELECT").expect("ok"),
        Value::Bool(true)
    );
    assert_eq!(
        ask("reader", "customers", "insert").expect("ok"),
        Value::Bool(false)
    );
    assert_eq!(
        ask("reader", "\"Orders\"", "SELECT").expect("ok"),
        Value::Bool(false)
    );
    assert_eq!(
        ask("custos", "\"Orders\"", "DELETE").expect("ok"),
        Value::Bool(true)
    );
    assert_eq!(
        ask("reader", "pg_class", "SELECT").expect("ok"),
        Value::Bool(true)
    );
    assert_eq!(
        ask("reader", "missing", "SELECT")
            .expect_err("missing")
            .code,
        crate::error::code::UNDEFINED_TABLE
    );
    assert_eq!(
        ask("reader", "customers", "FLY")
            .expect_err("bad privilege")
            .code,
        crate::error::code::INVALID_PARAMETER_VALUE
    );
    let by_oid = call(
        &catalog,
        "custos",
        "has_table_privilege",
        &[
            t("reader"),
            Value::Int8(i64::from(s.customers)),
            t("SELECT"),
        ],
        &[SqlType::Name, SqlType::Oid, SqlType::Text],
    );
    assert_eq!(by_oid.expect("ok"), Value::Bool(true));
    let schema = call(
        &catalog,
        "reader",
        "has_schema_privilege",
        &[t("public"), t("USAGE")],
        &[unknown.clone(), unknown.clone()],
    );
    assert_eq!(schema.expect("ok"), Value::Bool(true));
    let create = call(
        &catalog,
        "reader",
        "has_schema_privilege",
        &[t("public"), t("CREATE")],
        &[unknown.clone(), unknown.clone()],
    );
    assert_eq!(create.expect("ok"), Value::Bool(false));
    let connect = call(
        &catalog,
        "reader",
        "has_database_privilege",
        &[t("custos"), t("CONNECT")],
        &[unknown.clone(), unknown.clone()],
    );
    assert_eq!(connect.expect("ok"), Value::Bool(true));
    let member = call(
        &catalog,
        "custos",
        "pg_has_role",
        &[t("reader"), t("MEMBER")],
        &[unknown.clone(), unknown.clone()],
    );
    assert_eq!(member.expect("ok"), Value::Bool(true));
    let _ = s.admin;
}

#[test]
fn describing_functions_answer_client_queries() {
    let s = sample_catalog();
    let customers = s.customers;
    let catalog = Arc::new(s.catalog);
    let t = |x: &str| Value::Text(x.to_string());
    let format = call(
        &catalog,
        "custos",
        "format_type",
        &[Value::Int8(1043), Value::Int4(24)],
        &[SqlType::Oid, SqlType::Int4],
    );
    assert_eq!(format.expect("ok"), t("character varying(20)"));
    let format_null = call(
        &catalog,
        "custos",
        "format_type",
        &[Value::Int8(1042), Value::Null],
        &[SqlType::Oid, SqlType::Int4],
    );
    assert_eq!(format_null.expect("ok"), t("character"));
    let serial = call(
        &catalog,
        "custos",
        "pg_get_serial_sequence",
        &[t("customers"), t("id")],
        &[SqlType::Text, SqlType::Text],
    );
    assert_eq!(serial.expect("ok"), t("public.customers_id_seq"));
    let description = call(
        &catalog,
        "custos",
        "col_description",
        &[Value::Int8(i64::from(customers)), Value::Int4(2)],
        &[SqlType::Oid, SqlType::Int4],
    );
    assert_eq!(description.expect("ok"), t("display name"));
    let table_comment = call(
        &catalog,
        "custos",
        "obj_description",
        &[Value::Int8(i64::from(customers)), t("pg_class")],
        &[SqlType::Oid, SqlType::Name],
    );
    assert_eq!(table_comment.expect("ok"), t("everyone we sell to"));
    let visible = call(
        &catalog,
        "custos",
        "pg_table_is_visible",
        &[Value::Int8(i64::from(customers))],
        &[SqlType::Oid],
    );
    assert_eq!(visible.expect("ok"), Value::Bool(true));
    let user = call(
        &catalog,
        "custos",
        "pg_get_userbyid",
        &[Value::Int8(123)],
        &[SqlType::Oid],
    );
    assert_eq!(user.expect("ok"), t("unknown (OID=123)"));
    let regtype = call(
        &catalog,
        "custos",
        "to_regtype",
        &[t("hstore")],
        &[SqlType::Text],
    );
    assert_eq!(regtype.expect("ok"), Value::Null);
    let encoding = call(
        &catalog,
        "custos",
        "pg_encoding_to_char",
        &[Value::Int4(6)],
        &[SqlType::Int4],
    );
    assert_eq!(encoding.expect("ok"), t("UTF8"));
}
