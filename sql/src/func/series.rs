//! Set-returning generators: `generate_series` over integers, numerics and timestamps,
//! `unnest(anyarray)` and `generate_subscripts`.
//!
//! The set-returning interface hands back every row at once, so a series is capped at
//! [`MAX_SERIES_ROWS`] rows (54000 past it) rather than exhausting memory.

use bigdecimal::num_bigint::Sign;
use bigdecimal::BigDecimal;
use storage::types::{Interval, Numeric, Row, Value};

use super::datetime_ops::{add_interval_local, add_interval_zoned};
use super::registry::Registry;
use super::{args, FnCtx, Param, Volatility};
use crate::error::{code, SqlError, SqlResult};
use crate::pgtype::{SqlType, NUMERIC};

/// Most rows one call of a generator returns.
pub const MAX_SERIES_ROWS: usize = 10_000_000;

pub fn register(reg: &mut Registry) {
    use SqlType::{Bool, Int4, Int8, Interval as Iv, Timestamp, Timestamptz};
    for t in [Int4, Int8, NUMERIC] {
        reg.set_returning(
            "generate_series",
            vec![Param::Type(t.clone()), Param::Type(t.clone())],
            series_columns,
            series,
        );
        reg.set_returning(
            "generate_series",
            vec![
                Param::Type(t.clone()),
                Param::Type(t.clone()),
                Param::Type(t),
            ],
            series_columns,
            series,
        );
    }
    reg.set_returning(
        "generate_series",
        vec![
            Param::Type(Timestamp),
            Param::Type(Timestamp),
            Param::Type(Iv.clone()),
        ],
        series_columns,
        series,
    );
    reg.set_returning(
        "generate_series",
        vec![
            Param::Type(Timestamptz),
            Param::Type(Timestamptz),
            Param::Type(Iv),
        ],
        series_columns,
        series,
    )
    .volatility(Volatility::Stable);
    reg.set_returning("unnest", vec![Param::AnyArray], unnest_columns, unnest);
    reg.set_returning(
        "generate_subscripts",
        vec![Param::AnyArray, Param::Type(Int4)],
        subscripts_columns,
        subscripts,
    );
    reg.set_returning(
        "generate_subscripts",
        vec![Param::AnyArray, Param::Type(Int4), Param::Type(Bool)],
        subscripts_columns,
        subscripts,
    );
}

fn series_columns(types: &[SqlType]) -> Vec<(String, SqlType)> {
    let t = types
        .first()
        .map(SqlType::without_modifier)
        .unwrap_or(SqlType::Int8);
    vec![("generate_series".into(), t)]
}

fn unnest_columns(types: &[SqlType]) -> Vec<(String, SqlType)> {
    let element = types
        .first()
        .and_then(|t| t.element().cloned())
        .unwrap_or(SqlType::Text);
    vec![("unnest".into(), element)]
}

fn subscripts_columns(_: &[SqlType]) -> Vec<(String, SqlType)> {
    vec![("generate_subscripts".into(), SqlType::Int4)]
}

fn too_many() -> SqlError {
    SqlError::new(
        code::PROGRAM_LIMIT_EXCEEDED,
        format!("generate_series would return more than {MAX_SERIES_ROWS} rows"),
    )
}

fn zero_step() -> SqlError {
    SqlError::new(code::INVALID_PARAMETER_VALUE, "step size cannot equal zero")
}

fn push(rows: &mut Vec<Row>, v: Value) -> SqlResult<()> {
    if rows.len() >= MAX_SERIES_ROWS {
        return Err(too_many());
    }
    rows.push(vec![v]);
    Ok(())
}

fn series(ctx: &FnCtx, a: &[Value]) -> SqlResult<Vec<Row>> {
    match args::arg(a, 0)? {
        Value::Int4(_) | Value::Int8(_) => int_series(a),
        Value::Numeric(_) => numeric_series(a),
        Value::Timestamp(_) | Value::Timestamptz(_) => timestamp_series(ctx, a),
        other => Err(SqlError::internal(format!(
            "generate_series over {other:?}"
        ))),
    }
}

fn int_series(a: &[Value]) -> SqlResult<Vec<Row>> {
    let (start, stop) = (args::int(a, 0)?, args::int(a, 1)?);
    let step = if a.len() > 2 { args::int(a, 2)? } else { 1 };
    if step == 0 {
        return Err(zero_step());
    }
    let wide = matches!(args::arg(a, 0)?, Value::Int8(_));
    let mut rows = Vec::new();
    let mut current = start;
    while (step > 0 && current <= stop) || (step < 0 && current >= stop) {
        push(
            &mut rows,
            if wide {
                Value::Int8(current)
            } else {
                Value::Int4(current as i32)
            },
        )?;
        match current.checked_add(step) {
            Some(next) => current = next,
            None => break,
        }
    }
    Ok(rows)
}

fn finite_numeric(a: &[Value], i: usize, what: &str) -> SqlResult<BigDecimal> {
    match args::numeric(a, i)? {
        Numeric::Finite(d) => Ok(d),
        Numeric::NaN => Err(SqlError::new(
            code::INVALID_PARAMETER_VALUE,
            format!("{what} value cannot be NaN"),
        )),
        _ => Err(SqlError::new(
            code::INVALID_PARAMETER_VALUE,
            format!("{what} value cannot be infinity"),
        )),
    }
}

fn numeric_series(a: &[Value]) -> SqlResult<Vec<Row>> {
    let start = finite_numeric(a, 0, "start")?;
    let stop = finite_numeric(a, 1, "stop")?;
    let step = if a.len() > 2 {
        finite_numeric(a, 2, "step size")?
    } else {
        BigDecimal::from(1)
    };
    if step.sign() == Sign::NoSign {
        return Err(zero_step());
    }
    let scale = super::decimal::dscale(&start).max(super::decimal::dscale(&step));
    let up = step.sign() == Sign::Plus;
    let mut rows = Vec::new();
    let mut current = start;
    while (up && current <= stop) || (!up && current >= stop) {
        push(
            &mut rows,
            Value::Numeric(Box::new(Numeric::Finite(current.with_scale(scale)))),
        )?;
        current += &step;
    }
    Ok(rows)
}

fn timestamp_series(ctx: &FnCtx, a: &[Value]) -> SqlResult<Vec<Row>> {
    let zoned = matches!(args::arg(a, 0)?, Value::Timestamptz(_));
    let (start, stop) = (args::timestamp(a, 0)?, args::timestamp(a, 1)?);
    let step: Interval = args::interval(a, 2)?;
    if step.span_micros() == 0 {
        return Err(zero_step());
    }
    let up = step.span_micros() > 0;
    let mut rows = Vec::new();
    let mut current = start;
    while (up && current <= stop) || (!up && current >= stop) {
        push(
            &mut rows,
            if zoned {
                Value::Timestamptz(current)
            } else {
                Value::Timestamp(current)
            },
        )?;
        let next = if zoned {
            add_interval_zoned(&ctx.format.time_zone, current, &step)?
        } else {
            add_interval_local(current, &step)?
        };
        if next == current {
            break;
        }
        current = next;
    }
    Ok(rows)
}

fn unnest(_: &FnCtx, a: &[Value]) -> SqlResult<Vec<Row>> {
    Ok(args::array(a, 0)?
        .elements
        .iter()
        .map(|e| vec![e.clone()])
        .collect())
}

fn subscripts(_: &FnCtx, a: &[Value]) -> SqlResult<Vec<Row>> {
    let array = args::array(a, 0)?;
    let dim = args::int(a, 1)?;
    let reverse = a.len() > 2 && args::boolean(a, 2)?;
    let Some(d) = usize::try_from(dim - 1)
        .ok()
        .and_then(|i| array.dims.get(i))
    else {
        return Ok(Vec::new());
    };
    let mut subs: Vec<Row> = (0..d.len as i32)
        .map(|i| vec![Value::Int4(d.lower + i)])
        .collect();
    if reverse {
        subs.reverse();
    }
    Ok(subs)
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{err, ok};
    use crate::pgtype::SqlType::{self, Int4, Interval as Iv, Timestamp, Timestamptz};
    use crate::pgtype::NUMERIC;

    #[test]
    fn series_match_postgres() {
        assert_eq!(
            ok("generate_series", &[("1", Int4), ("10", Int4), ("3", Int4)]),
            "1;4;7;10"
        );
        assert_eq!(
            ok("generate_series", &[("5", Int4), ("1", Int4), ("-2", Int4)]),
            "5;3;1"
        );
        assert_eq!(
            ok(
                "generate_series",
                &[("1.5", NUMERIC), ("3", NUMERIC), ("0.5", NUMERIC)]
            ),
            "1.5;2.0;2.5;3.0"
        );
        assert_eq!(
            ok("generate_series", &[("1.0", NUMERIC), ("2", Int4)]),
            "1.0;2.0"
        );
        assert_eq!(
            ok(
                "generate_series",
                &[
                    ("2024-01-01", Timestamp),
                    ("2024-01-02", Timestamp),
                    ("12 hours", Iv)
                ]
            ),
            "2024-01-01 00:00:00;2024-01-01 12:00:00;2024-01-02 00:00:00"
        );
        assert_eq!(
            ok(
                "generate_series",
                &[
                    ("2024-01-31", Timestamptz),
                    ("2024-03-31", Timestamptz),
                    ("1 month", Iv)
                ]
            ),
            "2024-01-31 00:00:00+00;2024-02-29 00:00:00+00;2024-03-29 00:00:00+00"
        );
        assert_eq!(
            ok(
                "unnest",
                &[("{{1,2},{3,4}}", SqlType::Array(Box::new(Int4)))]
            ),
            "1;2;3;4"
        );
        assert_eq!(
            ok(
                "generate_subscripts",
                &[("{5,6,7}", SqlType::Array(Box::new(Int4))), ("1", Int4)]
            ),
            "1;2;3"
        );
        assert_eq!(
            err("generate_series", &[("1", Int4), ("3", Int4), ("0", Int4)]).1,
            "step size cannot equal zero"
        );
        assert_eq!(
            err("generate_series", &[("1", NUMERIC), ("NaN", NUMERIC)]).1,
            "stop value cannot be NaN"
        );
    }
}
