//! Aggregates: which exist, how a call resolves (the same rules as functions), and the
//! accumulators of the general ones: `count`, `min`/`max`, `bool_and`/`bool_or`/`every`,
//! `bit_and`/`bit_or`/`bit_xor`, `string_agg`, `array_agg`, `json_agg`, `jsonb_agg`,
//! `json_object_agg`, `jsonb_object_agg`. The arithmetic ones (`sum`, `avg`, the variance
//! family, `corr`, `covar_*`, `regr_*`, and pgvector's `sum`/`avg`) are in
//! `aggregate_stats`.
//!
//! Contract with the executor: `update` gets every row's argument values, NULLs included;
//! the accumulator applies the aggregate's NULL rule (strict aggregates skip a row with a
//! NULL argument; `count(*)`, `array_agg` and the JSON aggregates keep it). DISTINCT, ORDER
//! BY and FILTER are the executor's: it feeds rows already filtered and ordered. Every
//! accumulator can `merge` another of the same aggregate (parallel aggregation). `finish`
//! does not consume the state: it may be called after every row of a running (window)
//! aggregate, with more `update`s in between.

use std::cmp::Ordering;
use std::sync::{Arc, OnceLock};

use storage::types::{Array, ArrayDim, Value};

use super::compare::compare;
use super::json_build::{value_to_json_text, value_to_jsonb};
use super::json_tree::{self, Json};
use super::registry::Registry;
use super::{
    aggregate_ordered, aggregate_stats, Accumulator, FnCtx, Param, ResolvedAggregate, Returns,
};
use crate::error::{code, SqlError, SqlResult};
use crate::pgtype::{SqlType, NUMERIC};

/// Every built-in aggregate name.
const AGGREGATES: &[&str] = &[
    "count",
    "sum",
    "avg",
    "min",
    "max",
    "bool_and",
    "bool_or",
    "every",
    "bit_and",
    "bit_or",
    "bit_xor",
    "string_agg",
    "array_agg",
    "json_agg",
    "jsonb_agg",
    "json_object_agg",
    "jsonb_object_agg",
    "stddev",
    "stddev_samp",
    "stddev_pop",
    "variance",
    "var_samp",
    "var_pop",
    "corr",
    "covar_pop",
    "covar_samp",
    "regr_count",
    "regr_sxx",
    "regr_syy",
    "regr_sxy",
    "regr_avgx",
    "regr_avgy",
    "regr_r2",
    "regr_slope",
    "regr_intercept",
    "percentile_cont",
    "percentile_disc",
    "mode",
];

/// Whether `name` is an aggregate.
pub fn is_aggregate(name: &str) -> bool {
    AGGREGATES.contains(&name)
}

/// Whether the aggregate ignores rows whose argument is NULL (its transition function is
/// strict); `array_agg` and the JSON aggregates keep them, also under DISTINCT.
pub fn skips_nulls(name: &str) -> bool {
    !matches!(
        name,
        "array_agg" | "json_agg" | "jsonb_agg" | "json_object_agg" | "jsonb_object_agg"
    )
}

/// Whether `name` is an ordered-set aggregate (called with `WITHIN GROUP (ORDER BY ...)`).
pub fn is_ordered_set(name: &str) -> bool {
    aggregate_ordered::ORDERED_SET_AGGREGATES.contains(&name)
}

fn never_called(_: &FnCtx, _: &[Value]) -> SqlResult<Value> {
    Err(SqlError::internal(
        "an aggregate signature was called as a function",
    ))
}

/// The aggregates' signatures as a registry, so calls resolve exactly like functions.
fn signatures() -> &'static Registry {
    static SIGNATURES: OnceLock<Registry> = OnceLock::new();
    SIGNATURES.get_or_init(|| {
        use SqlType::*;
        let mut reg = Registry::new();
        let mut sig = |name: &'static str, params: Vec<Param>, returns: Returns| {
            reg.scalar(name, params, returns, never_called);
        };
        let t = |x: SqlType| Param::Type(x);
        sig("count", vec![], Returns::Type(Int8));
        sig("count", vec![Param::Any], Returns::Type(Int8));
        for (input, sum, avg) in [
            (Int2, Int8, NUMERIC),
            (Int4, Int8, NUMERIC),
            (Int8, NUMERIC, NUMERIC),
            (NUMERIC, NUMERIC, NUMERIC),
            (Float4, Float4, Float8),
            (Float8, Float8, Float8),
            (Interval, Interval, Interval),
            (Vector(None), Vector(None), Vector(None)),
        ] {
            sig("sum", vec![t(input.clone())], Returns::Type(sum));
            sig("avg", vec![t(input)], Returns::Type(avg));
        }
        for input in [Int2, Int4, Int8, NUMERIC, Float4, Float8] {
            let out = if matches!(input, Float4 | Float8) {
                Float8
            } else {
                NUMERIC
            };
            for name in [
                "stddev",
                "stddev_samp",
                "stddev_pop",
                "variance",
                "var_samp",
                "var_pop",
            ] {
                sig(name, vec![t(input.clone())], Returns::Type(out.clone()));
            }
        }
        for input in [
            Int2,
            Int4,
            Int8,
            NUMERIC,
            Float4,
            Float8,
            Oid,
            Date,
            Time,
            Timestamp,
            Timestamptz,
            Interval,
            Text,
            Char(None),
        ] {
            sig("min", vec![t(input.clone())], Returns::Type(input.clone()));
            sig("max", vec![t(input.clone())], Returns::Type(input));
        }
        sig("min", vec![Param::AnyArray], Returns::Element);
        sig("max", vec![Param::AnyArray], Returns::Element);
        for name in ["bool_and", "bool_or", "every"] {
            sig(name, vec![t(Bool)], Returns::Type(Bool));
        }
        for input in [Int2, Int4, Int8] {
            for name in ["bit_and", "bit_or", "bit_xor"] {
                sig(name, vec![t(input.clone())], Returns::Type(input.clone()));
            }
        }
        sig("string_agg", vec![t(Text), t(Text)], Returns::Type(Text));
        sig("string_agg", vec![t(Bytea), t(Bytea)], Returns::Type(Bytea));
        sig(
            "array_agg",
            vec![Param::AnyNonArray],
            Returns::ArrayOfElement,
        );
        sig("array_agg", vec![Param::AnyArray], Returns::Element);
        sig("json_agg", vec![Param::AnyElement], Returns::Type(Json));
        sig("jsonb_agg", vec![Param::AnyElement], Returns::Type(Jsonb));
        sig(
            "json_object_agg",
            vec![Param::Any, Param::Any],
            Returns::Type(Json),
        );
        sig(
            "jsonb_object_agg",
            vec![Param::Any, Param::Any],
            Returns::Type(Jsonb),
        );
        for name in [
            "corr",
            "covar_pop",
            "covar_samp",
            "regr_sxx",
            "regr_syy",
            "regr_sxy",
            "regr_avgx",
            "regr_avgy",
            "regr_r2",
            "regr_slope",
            "regr_intercept",
        ] {
            sig(name, vec![t(Float8), t(Float8)], Returns::Type(Float8));
        }
        sig(
            "regr_count",
            vec![t(Float8), t(Float8)],
            Returns::Type(Int8),
        );
        // Ordered-set aggregates: the direct arguments, then the WITHIN GROUP value.
        let float8s = Array(Box::new(Float8));
        sig(
            "percentile_cont",
            vec![t(Float8), t(Float8)],
            Returns::Type(Float8),
        );
        sig(
            "percentile_cont",
            vec![t(Float8), t(Interval)],
            Returns::Type(Interval),
        );
        sig(
            "percentile_cont",
            vec![t(float8s.clone()), t(Float8)],
            Returns::Type(float8s.clone()),
        );
        sig(
            "percentile_cont",
            vec![t(float8s.clone()), t(Interval)],
            Returns::Type(Array(Box::new(Interval))),
        );
        sig(
            "percentile_disc",
            vec![t(Float8), Param::AnyElement],
            Returns::Element,
        );
        sig(
            "percentile_disc",
            vec![t(float8s), Param::AnyElement],
            Returns::ArrayOfElement,
        );
        sig("mode", vec![Param::AnyElement], Returns::Element);
        reg
    })
}

/// Resolves an aggregate call: `Ok(None)` if `name` is not an aggregate, an error (42883)
/// if it is but no signature fits. `count(*)` is called with no arguments.
pub fn resolve_aggregate(name: &str, args: &[SqlType]) -> SqlResult<Option<ResolvedAggregate>> {
    let Some(static_name) = AGGREGATES.iter().copied().find(|n| *n == name) else {
        return Ok(None);
    };
    let resolved = signatures().resolve(name, args)?;
    let arg_types = resolved.arg_types.clone();
    let return_type = resolved.return_type.clone();
    let create = factory(static_name, &arg_types, &return_type)?;
    Ok(Some(ResolvedAggregate {
        name: static_name,
        arg_types,
        return_type,
        create,
    }))
}

type Factory = Arc<dyn Fn() -> Box<dyn Accumulator> + Send + Sync>;

fn factory(name: &'static str, args: &[SqlType], ret: &SqlType) -> SqlResult<Factory> {
    let input = args.first().cloned().unwrap_or(SqlType::Unknown);
    Ok(match name {
        "count" => {
            let star = args.is_empty();
            Arc::new(move || Box::new(Count { star, n: 0 }))
        }
        "min" | "max" => {
            let want = if name == "min" {
                Ordering::Less
            } else {
                Ordering::Greater
            };
            let bpchar = matches!(input, SqlType::Char(_));
            Arc::new(move || {
                Box::new(Extreme {
                    want,
                    bpchar,
                    best: None,
                })
            })
        }
        "bool_and" | "every" => Arc::new(|| {
            Box::new(BoolAgg {
                and: true,
                state: None,
            })
        }),
        "bool_or" => Arc::new(|| {
            Box::new(BoolAgg {
                and: false,
                state: None,
            })
        }),
        "bit_and" | "bit_or" | "bit_xor" => {
            let op = name.as_bytes()[4];
            let ret = ret.clone();
            Arc::new(move || {
                Box::new(BitAgg {
                    op,
                    state: None,
                    ret: ret.clone(),
                })
            })
        }
        "string_agg" => {
            let bytes = input == SqlType::Bytea;
            Arc::new(move || {
                Box::new(StringAgg {
                    bytes,
                    buf: Vec::new(),
                    first_delim: 0,
                    any: false,
                })
            })
        }
        "array_agg" => {
            let of_arrays = input.is_array();
            Arc::new(move || {
                Box::new(ArrayAgg {
                    of_arrays,
                    items: Vec::new(),
                })
            })
        }
        "json_agg" | "jsonb_agg" => {
            let jsonb = name == "jsonb_agg";
            // A record aggregates as an object of its fields.
            let fields: Option<Arc<[String]>> = match &input {
                SqlType::Composite(f) => Some(f.iter().map(|(n, _)| n.clone()).collect()),
                _ => None,
            };
            let structured = input.is_array() || fields.is_some();
            Arc::new(move || {
                Box::new(JsonAgg {
                    jsonb,
                    fields: fields.clone(),
                    structured,
                    items: Vec::new(),
                })
            })
        }
        "json_object_agg" => Arc::new(|| {
            Box::new(JsonObjectAgg {
                jsonb: false,
                items: Vec::new(),
            })
        }),
        "jsonb_object_agg" => Arc::new(|| {
            Box::new(JsonObjectAgg {
                jsonb: true,
                items: Vec::new(),
            })
        }),
        "percentile_cont" | "percentile_disc" | "mode" => aggregate_ordered::factory(name, args),
        other => aggregate_stats::factory(other, &input, ret)?,
    })
}

/// Downcasts the other accumulator of a merge.
pub fn downcast<T: 'static>(other: Box<dyn Accumulator>) -> SqlResult<Box<T>> {
    other
        .into_any()
        .downcast::<T>()
        .map_err(|_| SqlError::internal("merging accumulators of different aggregates"))
}

/// Implements `into_any` for an accumulator type.
macro_rules! any_impl {
    () => {
        fn into_any(self: Box<Self>) -> Box<dyn std::any::Any> {
            self
        }
    };
}
pub(crate) use any_impl;

struct Count {
    star: bool,
    n: i64,
}

impl Accumulator for Count {
    fn update(&mut self, _: &FnCtx, args: &[Value]) -> SqlResult<()> {
        if self.star || args.iter().all(|a| !a.is_null()) {
            self.n += 1;
        }
        Ok(())
    }
    fn merge(&mut self, _: &FnCtx, other: Box<dyn Accumulator>) -> SqlResult<()> {
        self.n += downcast::<Count>(other)?.n;
        Ok(())
    }
    fn finish(&mut self, _: &FnCtx) -> SqlResult<Value> {
        Ok(Value::Int8(self.n))
    }
    any_impl!();
}

struct Extreme {
    want: Ordering,
    bpchar: bool,
    best: Option<Value>,
}

impl Extreme {
    fn offer(&mut self, v: Value) {
        let better = match &self.best {
            None => true,
            Some(best) => {
                let ord = match (&v, best, self.bpchar) {
                    (Value::Text(a), Value::Text(b), true) => super::compare::compare_bpchar(a, b),
                    _ => compare(&v, best),
                };
                ord == self.want
            }
        };
        if better {
            self.best = Some(v);
        }
    }
}

impl Accumulator for Extreme {
    fn update(&mut self, _: &FnCtx, args: &[Value]) -> SqlResult<()> {
        match args.first() {
            Some(v) if !v.is_null() => self.offer(v.clone()),
            _ => {}
        }
        Ok(())
    }
    fn merge(&mut self, _: &FnCtx, other: Box<dyn Accumulator>) -> SqlResult<()> {
        if let Some(v) = downcast::<Extreme>(other)?.best {
            self.offer(v);
        }
        Ok(())
    }
    fn finish(&mut self, _: &FnCtx) -> SqlResult<Value> {
        Ok(self.best.clone().unwrap_or(Value::Null))
    }
    any_impl!();
}

struct BoolAgg {
    and: bool,
    state: Option<bool>,
}

impl BoolAgg {
    fn fold(&mut self, b: bool) {
        self.state = Some(match self.state {
            None => b,
            Some(s) if self.and => s && b,
            Some(s) => s || b,
        });
    }
}

impl Accumulator for BoolAgg {
    fn update(&mut self, _: &FnCtx, args: &[Value]) -> SqlResult<()> {
        if let Some(Value::Bool(b)) = args.first() {
            self.fold(*b);
        }
        Ok(())
    }
    fn merge(&mut self, _: &FnCtx, other: Box<dyn Accumulator>) -> SqlResult<()> {
        if let Some(b) = downcast::<BoolAgg>(other)?.state {
            self.fold(b);
        }
        Ok(())
    }
    fn finish(&mut self, _: &FnCtx) -> SqlResult<Value> {
        Ok(self.state.map_or(Value::Null, Value::Bool))
    }
    any_impl!();
}

struct BitAgg {
    /// `a`nd, `o`r or `x`or (the fifth letter of the name).
    op: u8,
    state: Option<i64>,
    ret: SqlType,
}

impl BitAgg {
    fn fold(&mut self, v: i64) {
        self.state = Some(match (self.state, self.op) {
            (None, _) => v,
            (Some(s), b'a') => s & v,
            (Some(s), b'o') => s | v,
            (Some(s), _) => s ^ v,
        });
    }
}

impl Accumulator for BitAgg {
    fn update(&mut self, _: &FnCtx, args: &[Value]) -> SqlResult<()> {
        match args.first() {
            Some(Value::Int2(v)) => self.fold(*v as i64),
            Some(Value::Int4(v)) => self.fold(*v as i64),
            Some(Value::Int8(v)) => self.fold(*v),
            _ => {}
        }
        Ok(())
    }
    fn merge(&mut self, _: &FnCtx, other: Box<dyn Accumulator>) -> SqlResult<()> {
        if let Some(v) = downcast::<BitAgg>(other)?.state {
            self.fold(v);
        }
        Ok(())
    }
    fn finish(&mut self, _: &FnCtx) -> SqlResult<Value> {
        Ok(match (self.state, &self.ret) {
            (None, _) => Value::Null,
            (Some(v), SqlType::Int2) => Value::Int2(v as i16),
            (Some(v), SqlType::Int4) => Value::Int4(v as i32),
            (Some(v), _) => Value::Int8(v),
        })
    }
    any_impl!();
}

/// `string_agg`: each value after the first is preceded by its own row's delimiter; the
/// buffer starts with the first row's delimiter, cut off at the end.
struct StringAgg {
    bytes: bool,
    buf: Vec<u8>,
    first_delim: usize,
    any: bool,
}

impl Accumulator for StringAgg {
    fn update(&mut self, _: &FnCtx, args: &[Value]) -> SqlResult<()> {
        let value: &[u8] = match args.first() {
            Some(Value::Text(s)) => s.as_bytes(),
            Some(Value::Bytea(b)) => b,
            _ => return Ok(()),
        };
        let delim: &[u8] = match args.get(1) {
            Some(Value::Text(s)) => s.as_bytes(),
            Some(Value::Bytea(b)) => b,
            _ => &[],
        };
        if !self.any {
            self.first_delim = delim.len();
            self.any = true;
        }
        self.buf.extend_from_slice(delim);
        self.buf.extend_from_slice(value);
        Ok(())
    }
    fn merge(&mut self, _: &FnCtx, other: Box<dyn Accumulator>) -> SqlResult<()> {
        let other = downcast::<StringAgg>(other)?;
        if !other.any {
            return Ok(());
        }
        if !self.any {
            self.first_delim = other.first_delim;
            self.any = true;
        }
        self.buf.extend_from_slice(&other.buf);
        Ok(())
    }
    fn finish(&mut self, _: &FnCtx) -> SqlResult<Value> {
        if !self.any {
            return Ok(Value::Null);
        }
        let body = self.buf[self.first_delim..].to_vec();
        Ok(if self.bytes {
            Value::Bytea(body)
        } else {
            Value::Text(String::from_utf8_lossy(&body).into_owned())
        })
    }
    any_impl!();
}

struct ArrayAgg {
    of_arrays: bool,
    items: Vec<Value>,
}

impl Accumulator for ArrayAgg {
    fn update(&mut self, _: &FnCtx, args: &[Value]) -> SqlResult<()> {
        let v = args.first().cloned().unwrap_or(Value::Null);
        if self.of_arrays {
            match &v {
                Value::Null => {
                    return Err(SqlError::new(
                        code::NULL_VALUE_NOT_ALLOWED,
                        "cannot accumulate null arrays",
                    ))
                }
                Value::Array(a) if a.dims.is_empty() => {
                    return Err(SqlError::new(
                        code::ARRAY_SUBSCRIPT_ERROR,
                        "cannot accumulate empty arrays",
                    ))
                }
                _ => {}
            }
        }
        self.items.push(v);
        Ok(())
    }
    fn merge(&mut self, _: &FnCtx, other: Box<dyn Accumulator>) -> SqlResult<()> {
        self.items.extend(downcast::<ArrayAgg>(other)?.items);
        Ok(())
    }
    fn finish(&mut self, _: &FnCtx) -> SqlResult<Value> {
        if self.items.is_empty() {
            return Ok(Value::Null);
        }
        let items = self.items.clone();
        if !self.of_arrays {
            return Ok(Value::Array(Box::new(Array::from_list(items))));
        }
        let mut dims: Option<Vec<ArrayDim>> = None;
        let mut elements = Vec::new();
        let n = items.len();
        for item in items {
            let Value::Array(a) = item else { continue };
            match &dims {
                None => dims = Some(a.dims.clone()),
                Some(d) if d.iter().map(|x| x.len).ne(a.dims.iter().map(|x| x.len)) => {
                    return Err(SqlError::new(
                        code::ARRAY_SUBSCRIPT_ERROR,
                        "cannot accumulate arrays of different dimensionality",
                    ))
                }
                _ => {}
            }
            elements.extend(a.elements);
        }
        let mut all_dims = vec![ArrayDim {
            len: n as u32,
            lower: 1,
        }];
        all_dims.extend(dims.unwrap_or_default());
        Ok(Value::Array(Box::new(Array {
            dims: all_dims,
            elements,
        })))
    }
    any_impl!();
}

struct JsonAgg {
    jsonb: bool,
    /// The field names when the input is a record (held as an array of its fields).
    fields: Option<Arc<[String]>>,
    /// Arrays and records: `json_agg` starts each one after the first on a new line.
    structured: bool,
    items: Vec<Value>,
}

impl JsonAgg {
    fn json_text(&self, ctx: &FnCtx, v: &Value) -> String {
        match (&self.fields, v) {
            (Some(fields), Value::Array(a)) => {
                let mut out = String::from("{");
                for (i, (name, field)) in fields.iter().zip(a.elements.iter()).enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    json_tree::escape(&mut out, name);
                    out.push(':');
                    out.push_str(&value_to_json_text(ctx, field));
                }
                out.push('}');
                out
            }
            _ => value_to_json_text(ctx, v),
        }
    }

    fn jsonb_value(&self, ctx: &FnCtx, v: &Value) -> SqlResult<Json> {
        match (&self.fields, v) {
            (Some(fields), Value::Array(a)) => {
                let members = fields
                    .iter()
                    .zip(a.elements.iter())
                    .map(|(name, field)| Ok((name.clone(), value_to_jsonb(ctx, field)?)))
                    .collect::<SqlResult<Vec<_>>>()?;
                Ok(Json::Object(members).normalize())
            }
            _ => value_to_jsonb(ctx, v),
        }
    }
}

impl Accumulator for JsonAgg {
    fn update(&mut self, _: &FnCtx, args: &[Value]) -> SqlResult<()> {
        self.items
            .push(args.first().cloned().unwrap_or(Value::Null));
        Ok(())
    }
    fn merge(&mut self, _: &FnCtx, other: Box<dyn Accumulator>) -> SqlResult<()> {
        self.items.extend(downcast::<JsonAgg>(other)?.items);
        Ok(())
    }
    fn finish(&mut self, ctx: &FnCtx) -> SqlResult<Value> {
        if self.items.is_empty() {
            return Ok(Value::Null);
        }
        if self.jsonb {
            let items = self
                .items
                .iter()
                .map(|v| self.jsonb_value(ctx, v))
                .collect::<SqlResult<Vec<_>>>()?;
            Ok(Value::Jsonb(Json::Array(items).to_jsonb_text()))
        } else {
            // `json_agg_transfn`: ", " between items, and "\n " before every non-NULL array
            // or record after the first.
            let mut out = String::from("[");
            for (i, v) in self.items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                    if self.structured && !v.is_null() {
                        out.push_str("\n ");
                    }
                }
                out.push_str(&self.json_text(ctx, v));
            }
            out.push(']');
            Ok(Value::Json(out))
        }
    }
    any_impl!();
}

struct JsonObjectAgg {
    jsonb: bool,
    items: Vec<(String, Value)>,
}

impl Accumulator for JsonObjectAgg {
    fn update(&mut self, ctx: &FnCtx, args: &[Value]) -> SqlResult<()> {
        let key = match args.first() {
            None | Some(Value::Null) => {
                return Err(SqlError::new(
                    code::INVALID_PARAMETER_VALUE,
                    "null value not allowed for object key",
                ))
            }
            Some(Value::Text(s)) => s.clone(),
            Some(other) => super::array::value_output(ctx, other),
        };
        self.items
            .push((key, args.get(1).cloned().unwrap_or(Value::Null)));
        Ok(())
    }
    fn merge(&mut self, _: &FnCtx, other: Box<dyn Accumulator>) -> SqlResult<()> {
        self.items.extend(downcast::<JsonObjectAgg>(other)?.items);
        Ok(())
    }
    fn finish(&mut self, ctx: &FnCtx) -> SqlResult<Value> {
        if self.items.is_empty() {
            return Ok(Value::Null);
        }
        if self.jsonb {
            let members = self
                .items
                .iter()
                .map(|(k, v)| Ok((k.clone(), value_to_jsonb(ctx, v)?)))
                .collect::<SqlResult<Vec<_>>>()?;
            Ok(Value::Jsonb(
                Json::Object(members).normalize().to_jsonb_text(),
            ))
        } else {
            let parts: Vec<String> = self
                .items
                .iter()
                .map(|(k, v)| {
                    let mut key = String::new();
                    json_tree::escape(&mut key, k);
                    format!("{key} : {}", value_to_json_text(ctx, v))
                })
                .collect();
            Ok(Value::Json(format!("{{ {} }}", parts.join(", "))))
        }
    }
    any_impl!();
}
