//! The comparison operators `= <> < <= > >=` for every type with a btree operator class,
//! including PostgreSQL's cross-type families: every pair of integer widths, `real` with
//! `double precision`, `date` / `timestamp` / `timestamptz` with each other (through the
//! session time zone where a `timestamptz` is involved), `name` with `text`. `char(n)`
//! ignores trailing spaces. `json` has no comparison operators, as in PostgreSQL.

use std::cmp::Ordering;

use storage::types::Value;

use super::calendar::{date_to_timestamp, local_to_utc};
use super::compare::{compare, compare_bpchar};
use super::registry::Registry;
use super::{args, FnCtx, Param, Returns, ScalarFn};
use crate::error::SqlResult;
use crate::pgtype::{SqlType, NUMERIC};

const EQ: u8 = 0;
const NE: u8 = 1;
const LT: u8 = 2;
const LE: u8 = 3;
const GT: u8 = 4;
const GE: u8 = 5;

const OPERATORS: [(&str, u8); 6] = [
    ("=", EQ),
    ("<>", NE),
    ("<", LT),
    ("<=", LE),
    (">", GT),
    (">=", GE),
];

pub fn holds(op: u8, ord: Ordering) -> bool {
    match op {
        EQ => ord == Ordering::Equal,
        NE => ord != Ordering::Equal,
        LT => ord == Ordering::Less,
        LE => ord != Ordering::Greater,
        GT => ord == Ordering::Greater,
        _ => ord != Ordering::Less,
    }
}

fn generic<const OP: u8>(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    Ok(Value::Bool(holds(
        OP,
        compare(args::arg(a, 0)?, args::arg(a, 1)?),
    )))
}

fn bpchar<const OP: u8>(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    Ok(Value::Bool(holds(
        OP,
        compare_bpchar(args::text(a, 0)?, args::text(a, 1)?),
    )))
}

/// The UTC instant of a date, timestamp or timestamptz in the session time zone.
fn instant(ctx: &FnCtx, v: &Value) -> SqlResult<i64> {
    Ok(match v {
        Value::Date(d) => local_to_utc(&ctx.format.time_zone, date_to_timestamp(*d)?),
        Value::Timestamp(t) => local_to_utc(&ctx.format.time_zone, *t),
        Value::Timestamptz(t) => *t,
        _ => args::timestamp(std::slice::from_ref(v), 0)?,
    })
}

fn zoned<const OP: u8>(ctx: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    let x = instant(ctx, args::arg(a, 0)?)?;
    let y = instant(ctx, args::arg(a, 1)?)?;
    Ok(Value::Bool(holds(OP, x.cmp(&y))))
}

fn pick(op: u8, kind: u8) -> ScalarFn {
    macro_rules! by_op {
        ($f:ident) => {
            match op {
                EQ => $f::<EQ>,
                NE => $f::<NE>,
                LT => $f::<LT>,
                LE => $f::<LE>,
                GT => $f::<GT>,
                _ => $f::<GE>,
            }
        };
    }
    match kind {
        0 => by_op!(generic),
        1 => by_op!(bpchar),
        _ => by_op!(zoned),
    }
}

fn add_all(reg: &mut Registry, left: Param, right: Param, kind: u8) {
    for (name, op) in OPERATORS {
        let o = reg.scalar(
            name,
            vec![left.clone(), right.clone()],
            Returns::Type(SqlType::Bool),
            pick(op, kind),
        );
        if kind != 2 {
            o.leakproof();
        }
    }
}

pub fn register(reg: &mut Registry) {
    let same_type = [
        SqlType::Bool,
        SqlType::Text,
        SqlType::Name,
        SqlType::Bytea,
        SqlType::Date,
        SqlType::Time,
        SqlType::Timestamp,
        SqlType::Timestamptz,
        SqlType::Interval,
        SqlType::Uuid,
        SqlType::Jsonb,
        NUMERIC,
        SqlType::Oid,
        SqlType::InternalChar,
        SqlType::Vector(None),
    ];
    for t in same_type {
        add_all(reg, Param::Type(t.clone()), Param::Type(t), 0);
    }
    add_all(
        reg,
        Param::Type(SqlType::Char(None)),
        Param::Type(SqlType::Char(None)),
        1,
    );
    add_all(reg, Param::AnyArray, Param::AnyArray, 0);
    let ints = [SqlType::Int2, SqlType::Int4, SqlType::Int8];
    for a in &ints {
        for b in &ints {
            add_all(reg, Param::Type(a.clone()), Param::Type(b.clone()), 0);
        }
    }
    let floats = [SqlType::Float4, SqlType::Float8];
    for a in &floats {
        for b in &floats {
            add_all(reg, Param::Type(a.clone()), Param::Type(b.clone()), 0);
        }
    }
    for (a, b) in [
        (SqlType::Name, SqlType::Text),
        (SqlType::Text, SqlType::Name),
    ] {
        add_all(reg, Param::Type(a), Param::Type(b), 0);
    }
    for (a, b) in [
        (SqlType::Date, SqlType::Timestamp),
        (SqlType::Timestamp, SqlType::Date),
    ] {
        add_all(reg, Param::Type(a), Param::Type(b), 0);
    }
    for (a, b) in [
        (SqlType::Date, SqlType::Timestamptz),
        (SqlType::Timestamptz, SqlType::Date),
        (SqlType::Timestamp, SqlType::Timestamptz),
        (SqlType::Timestamptz, SqlType::Timestamp),
    ] {
        add_all(reg, Param::Type(a), Param::Type(b), 2);
    }
}

/// `(a, b, ...) = (x, y, ...)` over two rows held as arrays whose fields were cast to
/// common types (multi-column `IN (SELECT ...)`): false when a pair differs, NULL when none
/// differs but a pair has a NULL, true otherwise.
pub fn row_values_equal(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    Ok(match row_pairs_equal(a) {
        Some(eq) => Value::Bool(eq),
        None => Value::Null,
    })
}

/// `(a, b, ...) <> (x, y, ...)`: the negation of [`row_values_equal`].
pub fn row_values_not_equal(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    Ok(match row_pairs_equal(a) {
        Some(eq) => Value::Bool(!eq),
        None => Value::Null,
    })
}

fn row_pairs_equal(a: &[Value]) -> Option<bool> {
    let (Some(Value::Array(l)), Some(Value::Array(r))) = (a.first(), a.get(1)) else {
        return None;
    };
    let mut unknown = false;
    for (x, y) in l.elements.iter().zip(r.elements.iter()) {
        if x.is_null() || y.is_null() {
            unknown = true;
        } else if compare(x, y) != Ordering::Equal {
            return Some(false);
        }
    }
    (!unknown).then_some(true)
}
