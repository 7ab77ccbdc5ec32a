//! Evaluation of SQL/JSON paths (`jsonpath_exec.c`) over jsonb values; the SQL functions
//! that call it are in `jsonpath_fn`.
//!
//! A path yields a sequence of JSON items. In lax mode (the default) arrays are unwrapped
//! by member accessors, filters and numeric methods, a non-array is wrapped for array
//! accessors, and structural errors (a missing key, an index out of bounds) yield nothing;
//! strict mode raises them. Predicates are three-valued: errors inside their operands make
//! them unknown. Errors are soft (the SQL/JSON ones, which silent mode suppresses) or hard
//! (a missing variable, a bad regular expression), which always raise.

use std::cmp::Ordering;

use storage::types::{Numeric, Value};

use super::arith::{numeric_add, numeric_div, numeric_mod, numeric_mul, numeric_neg, numeric_sub};
use super::compare;
use super::json_tree::Json;
use super::jsonpath::{Accessor, ArithOp, CmpOp, JsonPath, Literal, Method, PathExpr};
use super::pattern::{compile, RegexFlags};
use crate::error::{code, SqlError};

// SQL/JSON error codes PostgreSQL raises while evaluating a path.
pub(super) const SINGLETON_SQL_JSON_ITEM_REQUIRED: &str = "22038";
const SQL_JSON_ARRAY_NOT_FOUND: &str = "22039";
const SQL_JSON_OBJECT_NOT_FOUND: &str = "2203C";
const NON_NUMERIC_SQL_JSON_ITEM: &str = "22036";
const INVALID_SQL_JSON_SUBSCRIPT: &str = "22033";

/// An evaluation error. Soft errors are the SQL/JSON ones: a predicate turns them into
/// unknown and silent mode suppresses them.
pub(super) struct PathError {
    pub(super) error: SqlError,
    pub(super) soft: bool,
}

type PathResult<T> = Result<T, PathError>;

fn soft(code: &'static str, message: impl Into<String>) -> PathError {
    PathError {
        error: SqlError::new(code, message),
        soft: true,
    }
}

fn hard(error: SqlError) -> PathError {
    PathError { error, soft: false }
}

/// Three-valued predicate result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Truth {
    True,
    False,
    Unknown,
}

impl Truth {
    fn of(b: bool) -> Truth {
        if b {
            Truth::True
        } else {
            Truth::False
        }
    }
}

struct Evaluator<'a> {
    strict: bool,
    root: &'a Json,
    vars: &'a Json,
}

impl Evaluator<'_> {
    /// Evaluates `e` with `current` as `@` and `last` as the innermost array's last index.
    fn eval(
        &self,
        e: &PathExpr,
        current: &Json,
        last: Option<i64>,
        out: &mut Vec<Json>,
    ) -> PathResult<()> {
        match e {
            PathExpr::Root => out.push(self.root.clone()),
            PathExpr::Current => out.push(current.clone()),
            PathExpr::Last => match last {
                Some(l) => out.push(Json::Number(l.to_string())),
                None => {
                    return Err(hard(SqlError::syntax(
                        "evaluating jsonpath LAST outside of array subscript",
                    )))
                }
            },
            PathExpr::Variable(name) => out.push(self.variable(name)?),
            PathExpr::Literal(l) => out.push(match l {
                Literal::Null => Json::Null,
                Literal::Bool(b) => Json::Bool(*b),
                Literal::Number(n) => number(parse_number(n)?)?,
                Literal::String(s) => Json::String(s.clone()),
            }),
            PathExpr::Accessor(base, accessor) => {
                let mut items = Vec::new();
                self.eval(base, current, last, &mut items)?;
                for item in &items {
                    self.apply(accessor, item, last, true, out)?;
                }
            }
            PathExpr::Unary(negate, inner) => {
                for item in self.eval_unwrapped(inner, current, last)? {
                    let Json::Number(n) = &item else {
                        return Err(soft(
                            SINGLETON_SQL_JSON_ITEM_REQUIRED,
                            format!(
                                "operand of unary jsonpath operator {} is not a numeric value",
                                if *negate { "-" } else { "+" }
                            ),
                        ));
                    };
                    out.push(if *negate {
                        number(numeric_neg(&parse_number(n)?))?
                    } else {
                        item.clone()
                    });
                }
            }
            PathExpr::Arith(op, l, r) => {
                let operand = |side: &PathExpr, which: &str| -> PathResult<Numeric> {
                    let items = self.eval_unwrapped(side, current, last)?;
                    match items.as_slice() {
                        [Json::Number(n)] => parse_number(n),
                        _ => Err(soft(
                            SINGLETON_SQL_JSON_ITEM_REQUIRED,
                            format!(
                                "{which} operand of jsonpath operator {} is not a single numeric value",
                                op.symbol()
                            ),
                        )),
                    }
                };
                let a = operand(l, "left")?;
                let b = operand(r, "right")?;
                let result = match op {
                    ArithOp::Add => Ok(numeric_add(&a, &b)),
                    ArithOp::Sub => Ok(numeric_sub(&a, &b)),
                    ArithOp::Mul => Ok(numeric_mul(&a, &b)),
                    ArithOp::Div => numeric_div(&a, &b),
                    ArithOp::Mod => numeric_mod(&a, &b),
                };
                out.push(number(
                    result.map_err(|error| PathError { error, soft: true })?,
                )?);
            }
            predicate => out.push(match self.predicate(predicate, current, last)? {
                Truth::True => Json::Bool(true),
                Truth::False => Json::Bool(false),
                Truth::Unknown => Json::Null,
            }),
        }
        Ok(())
    }

    fn variable(&self, name: &str) -> PathResult<Json> {
        self.vars.get(name).cloned().ok_or_else(|| {
            hard(SqlError::new(
                code::UNDEFINED_OBJECT,
                format!("could not find jsonpath variable \"{name}\""),
            ))
        })
    }

    /// Evaluates `e`, unwrapping arrays in the result in lax mode.
    fn eval_unwrapped(
        &self,
        e: &PathExpr,
        current: &Json,
        last: Option<i64>,
    ) -> PathResult<Vec<Json>> {
        let mut items = Vec::new();
        self.eval(e, current, last, &mut items)?;
        if self.strict {
            return Ok(items);
        }
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            match item {
                Json::Array(elements) => out.extend(elements),
                other => out.push(other),
            }
        }
        Ok(out)
    }

    /// Applies one accessor to `item`; `unwrap` is whether a lax-mode array may still be
    /// unwrapped (only one level is).
    fn apply(
        &self,
        accessor: &Accessor,
        item: &Json,
        last: Option<i64>,
        unwrap: bool,
        out: &mut Vec<Json>,
    ) -> PathResult<()> {
        let lax_array = !self.strict && unwrap && matches!(item, Json::Array(_));
        let unwrapping = lax_array
            && matches!(
                accessor,
                Accessor::Member(_)
                    | Accessor::AnyMember
                    | Accessor::Filter(_)
                    | Accessor::Method(
                        Method::Double
                            | Method::Abs
                            | Method::Floor
                            | Method::Ceiling
                            | Method::KeyValue
                    )
            );
        if unwrapping {
            if let Json::Array(elements) = item {
                for element in elements {
                    self.apply(accessor, element, last, false, out)?;
                }
            }
            return Ok(());
        }
        match accessor {
            Accessor::Member(key) => match item {
                Json::Object(_) => match item.get(key) {
                    Some(v) => out.push(v.clone()),
                    None if self.strict => {
                        return Err(soft(
                            code::SQL_JSON_MEMBER_NOT_FOUND,
                            format!("JSON object does not contain key \"{key}\""),
                        ))
                    }
                    None => {}
                },
                _ if self.strict => {
                    return Err(soft(
                        code::SQL_JSON_MEMBER_NOT_FOUND,
                        "jsonpath member accessor can only be applied to an object",
                    ))
                }
                _ => {}
            },
            Accessor::AnyMember => match item {
                Json::Object(members) => out.extend(members.iter().map(|(_, v)| v.clone())),
                _ if self.strict => {
                    return Err(soft(
                        SQL_JSON_OBJECT_NOT_FOUND,
                        "jsonpath wildcard member accessor can only be applied to an object",
                    ))
                }
                _ => {}
            },
            Accessor::AnyElement => match item {
                Json::Array(elements) => out.extend(elements.iter().cloned()),
                _ if self.strict => {
                    return Err(soft(
                        SQL_JSON_ARRAY_NOT_FOUND,
                        "jsonpath wildcard array accessor can only be applied to an array",
                    ))
                }
                other => out.push(other.clone()),
            },
            Accessor::Elements(subscripts) => {
                let wrapped;
                let elements: &[Json] = match item {
                    Json::Array(elements) => elements,
                    _ if self.strict => {
                        return Err(soft(
                            SQL_JSON_ARRAY_NOT_FOUND,
                            "jsonpath array accessor can only be applied to an array",
                        ))
                    }
                    other => {
                        wrapped = [other.clone()];
                        &wrapped
                    }
                };
                let size = elements.len() as i64;
                for (from, to) in subscripts {
                    let a = self.subscript(from, item, size)?;
                    let b = match to {
                        Some(to) => self.subscript(to, item, size)?,
                        None => a,
                    };
                    if self.strict && (a < 0 || a > b || b >= size) {
                        return Err(soft(
                            INVALID_SQL_JSON_SUBSCRIPT,
                            "jsonpath array subscript is out of bounds",
                        ));
                    }
                    let a = a.max(0);
                    let b = b.min(size - 1);
                    let mut i = a;
                    while i <= b {
                        out.push(elements[i as usize].clone());
                        i += 1;
                    }
                }
            }
            Accessor::Recursive {
                first,
                last: deepest,
            } => {
                recursive_items(item, 0, *first, *deepest, out);
            }
            Accessor::Method(method) => self.method(*method, item, out)?,
            Accessor::Filter(predicate) => {
                if self.predicate(predicate, item, last)? == Truth::True {
                    out.push(item.clone());
                }
            }
        }
        Ok(())
    }

    /// An array subscript: a single number, truncated to an integer.
    fn subscript(&self, e: &PathExpr, array: &Json, size: i64) -> PathResult<i64> {
        let mut items = Vec::new();
        self.eval(e, array, Some(size - 1), &mut items)?;
        let [Json::Number(n)] = items.as_slice() else {
            return Err(soft(
                INVALID_SQL_JSON_SUBSCRIPT,
                "jsonpath array subscript is not a single numeric value",
            ));
        };
        let out_of_range = || {
            soft(
                INVALID_SQL_JSON_SUBSCRIPT,
                "jsonpath array subscript is out of integer range",
            )
        };
        match parse_number(n)? {
            Numeric::Finite(d) => {
                let truncated = super::decimal::trunc(&d, 0);
                let i = bigdecimal::ToPrimitive::to_i64(&truncated).ok_or_else(out_of_range)?;
                if i32::try_from(i).is_err() {
                    return Err(out_of_range());
                }
                Ok(i)
            }
            _ => Err(out_of_range()),
        }
    }

    fn method(&self, method: Method, item: &Json, out: &mut Vec<Json>) -> PathResult<()> {
        let name = method.name();
        match method {
            Method::Type => out.push(Json::String(item.type_name().into())),
            Method::Size => match item {
                Json::Array(elements) => out.push(Json::Number(elements.len().to_string())),
                _ if self.strict => {
                    return Err(soft(
                        SQL_JSON_ARRAY_NOT_FOUND,
                        "jsonpath item method .size() can only be applied to an array",
                    ))
                }
                _ => out.push(Json::Number("1".into())),
            },
            Method::Double => match item {
                // A number passes unchanged once it fits a double precision.
                Json::Number(n) => {
                    let fits = match parse_number(n)? {
                        Numeric::Finite(d) => super::decimal::to_f64(&Numeric::Finite(d)).is_finite(),
                        _ => false,
                    };
                    if !fits {
                        return Err(soft(
                            NON_NUMERIC_SQL_JSON_ITEM,
                            "numeric argument of jsonpath item method .double() is out of range for type double precision",
                        ));
                    }
                    out.push(item.clone());
                }
                // A string is read as a double precision, then becomes a number with its
                // DBL_DIG (15) significant digits, as float8_numeric makes it.
                Json::String(s) => match s.trim().parse::<f64>() {
                    Ok(x) if x.is_finite() => out.push(number(super::decimal::from_float(x, 15))?),
                    _ => {
                        return Err(soft(
                            NON_NUMERIC_SQL_JSON_ITEM,
                            "string argument of jsonpath item method .double() is not a valid representation of a double precision number",
                        ))
                    }
                },
                _ => {
                    return Err(soft(
                        NON_NUMERIC_SQL_JSON_ITEM,
                        "jsonpath item method .double() can only be applied to a string or numeric value",
                    ))
                }
            },
            Method::Abs | Method::Floor | Method::Ceiling => {
                let Json::Number(n) = item else {
                    return Err(soft(
                        NON_NUMERIC_SQL_JSON_ITEM,
                        format!(
                            "jsonpath item method .{name}() can only be applied to a numeric value"
                        ),
                    ));
                };
                let value = match parse_number(n)? {
                    Numeric::Finite(d) => Numeric::Finite(match method {
                        Method::Abs => d.abs(),
                        Method::Floor => d.with_scale_round(0, bigdecimal::RoundingMode::Floor),
                        _ => d.with_scale_round(0, bigdecimal::RoundingMode::Ceiling),
                    }),
                    special => special,
                };
                out.push(number(value)?);
            }
            Method::KeyValue => match item {
                Json::Object(members) => {
                    for (k, v) in members {
                        out.push(Json::Object(vec![
                            ("id".into(), Json::Number("0".into())),
                            ("key".into(), Json::String(k.clone())),
                            ("value".into(), v.clone()),
                        ]));
                    }
                }
                _ => {
                    return Err(soft(
                        SQL_JSON_OBJECT_NOT_FOUND,
                        "jsonpath item method .keyvalue() can only be applied to an object",
                    ))
                }
            },
        }
        Ok(())
    }

    /// Evaluates a predicate; soft errors in its operands make it unknown.
    fn predicate(&self, e: &PathExpr, current: &Json, last: Option<i64>) -> PathResult<Truth> {
        Ok(match e {
            PathExpr::And(l, r) => {
                let a = self.predicate(l, current, last)?;
                if a == Truth::False {
                    return Ok(Truth::False);
                }
                let b = self.predicate(r, current, last)?;
                if b == Truth::True {
                    a
                } else {
                    b
                }
            }
            PathExpr::Or(l, r) => {
                let a = self.predicate(l, current, last)?;
                if a == Truth::True {
                    return Ok(Truth::True);
                }
                let b = self.predicate(r, current, last)?;
                if b == Truth::False {
                    a
                } else {
                    b
                }
            }
            PathExpr::Not(inner) => match self.predicate(inner, current, last)? {
                Truth::True => Truth::False,
                Truth::False => Truth::True,
                Truth::Unknown => Truth::Unknown,
            },
            PathExpr::IsUnknown(inner) => {
                Truth::of(self.predicate(inner, current, last)? == Truth::Unknown)
            }
            PathExpr::Exists(inner) => {
                let mut items = Vec::new();
                match self.eval(inner, current, last, &mut items) {
                    Ok(()) => Truth::of(!items.is_empty()),
                    Err(e) if e.soft => Truth::Unknown,
                    Err(e) => return Err(e),
                }
            }
            PathExpr::Compare(op, l, r) => {
                self.pairs(l, Some(r), current, last, true, |a, b| match b {
                    Some(b) => compare_items(*op, a, b),
                    None => Truth::Unknown,
                })?
            }
            PathExpr::StartsWith(l, r) => {
                self.pairs(l, Some(r), current, last, false, |a, b| match (a, b) {
                    (Json::String(s), Some(Json::String(prefix))) => {
                        Truth::of(s.starts_with(prefix.as_str()))
                    }
                    _ => Truth::Unknown,
                })?
            }
            PathExpr::LikeRegex {
                expr,
                pattern,
                flags,
            } => {
                let regex = compile(pattern, regex_flags(flags)).map_err(hard)?;
                self.pairs(expr, None, current, last, false, |a, _| match a {
                    Json::String(s) => Truth::of(regex.is_match(s)),
                    _ => Truth::Unknown,
                })?
            }
            other => {
                // An expression used as a predicate (only at the top of a path): its single
                // boolean value.
                let mut items = Vec::new();
                match self.eval(other, current, last, &mut items) {
                    Ok(()) => match items.as_slice() {
                        [Json::Bool(b)] => Truth::of(*b),
                        _ => Truth::Unknown,
                    },
                    Err(e) if e.soft => Truth::Unknown,
                    Err(e) => return Err(e),
                }
            }
        })
    }

    /// PostgreSQL's `executePredicate`: the predicate over every pair of the operands'
    /// items (the left one unwrapped); in lax mode true as soon as one pair is true.
    fn pairs(
        &self,
        left: &PathExpr,
        right: Option<&PathExpr>,
        current: &Json,
        last: Option<i64>,
        unwrap_right: bool,
        test: impl Fn(&Json, Option<&Json>) -> Truth,
    ) -> PathResult<Truth> {
        let soft_unknown = |r: PathResult<Vec<Json>>| -> PathResult<Option<Vec<Json>>> {
            match r {
                Ok(items) => Ok(Some(items)),
                Err(e) if e.soft => Ok(None),
                Err(e) => Err(e),
            }
        };
        let Some(left_items) = soft_unknown(self.eval_unwrapped(left, current, last))? else {
            return Ok(Truth::Unknown);
        };
        let right_items = match right {
            Some(r) => {
                let items = if unwrap_right {
                    self.eval_unwrapped(r, current, last)
                } else {
                    let mut items = Vec::new();
                    self.eval(r, current, last, &mut items).map(|()| items)
                };
                match soft_unknown(items)? {
                    Some(items) => Some(items),
                    None => return Ok(Truth::Unknown),
                }
            }
            None => None,
        };
        let mut found = false;
        let mut error = false;
        for a in &left_items {
            let results: Vec<Truth> = match &right_items {
                Some(rs) => rs.iter().map(|b| test(a, Some(b))).collect(),
                None => vec![test(a, None)],
            };
            for t in results {
                match t {
                    Truth::Unknown => {
                        if self.strict {
                            return Ok(Truth::Unknown);
                        }
                        error = true;
                    }
                    Truth::True => {
                        if !self.strict {
                            return Ok(Truth::True);
                        }
                        found = true;
                    }
                    Truth::False => {}
                }
            }
        }
        Ok(if found {
            Truth::True
        } else if error {
            Truth::Unknown
        } else {
            Truth::False
        })
    }
}

/// `.**{first to last}`: the item and its descendants, pre-order, between the levels.
fn recursive_items(item: &Json, level: u32, first: u32, last: u32, out: &mut Vec<Json>) {
    if level >= first {
        out.push(item.clone());
    }
    if level >= last {
        return;
    }
    match item {
        Json::Array(elements) => {
            for e in elements {
                recursive_items(e, level + 1, first, last, out);
            }
        }
        Json::Object(members) => {
            for (_, v) in members {
                recursive_items(v, level + 1, first, last, out);
            }
        }
        _ => {}
    }
}

/// `compareItems`: items of different types are not comparable (unknown), except that
/// null is unequal to everything else; containers are never comparable.
fn compare_items(op: CmpOp, a: &Json, b: &Json) -> Truth {
    let ordering = match (a, b) {
        (Json::Null, Json::Null) => Ordering::Equal,
        (Json::Null, _) | (_, Json::Null) => return Truth::of(op == CmpOp::Ne),
        (Json::Bool(x), Json::Bool(y)) => x.cmp(y),
        (Json::Number(x), Json::Number(y)) => match (x.parse::<Numeric>(), y.parse::<Numeric>()) {
            (Ok(x), Ok(y)) => compare(&Value::Numeric(Box::new(x)), &Value::Numeric(Box::new(y))),
            _ => return Truth::Unknown,
        },
        (Json::String(x), Json::String(y)) => x.as_bytes().cmp(y.as_bytes()),
        _ => return Truth::Unknown,
    };
    Truth::of(match op {
        CmpOp::Eq => ordering == Ordering::Equal,
        CmpOp::Ne => ordering != Ordering::Equal,
        CmpOp::Lt => ordering == Ordering::Less,
        CmpOp::Le => ordering != Ordering::Greater,
        CmpOp::Gt => ordering == Ordering::Greater,
        CmpOp::Ge => ordering != Ordering::Less,
    })
}

fn parse_number(n: &str) -> PathResult<Numeric> {
    n.parse::<Numeric>().map_err(|_| {
        hard(SqlError::new(
            code::INVALID_TEXT_REPRESENTATION,
            format!("invalid input syntax for type numeric: \"{n}\""),
        ))
    })
}

/// A numeric result as a JSON number; past numeric's range (131072 digits before the
/// point) it is PostgreSQL's overflow error.
fn number(n: Numeric) -> PathResult<Json> {
    if let Numeric::Finite(d) = &n {
        if super::decimal::decimal_weight(d) >= 131_072 {
            return Err(PathError {
                error: super::decimal::overflow(),
                soft: true,
            });
        }
    }
    Ok(Json::Number(n.to_string()))
}

/// `like_regex` flags (checked at parse time): `i`, `s`, `m`, `x`, `q`. Without `m` the
/// dot matches a newline and `^` / `$` only match at the ends, as XQuery says.
fn regex_flags(flags: &str) -> RegexFlags {
    let mut f = RegexFlags::default();
    for c in flags.chars() {
        match c {
            'i' => f.case_insensitive = true,
            'm' => f.newline_sensitive = true,
            's' => f.newline_sensitive = false,
            'x' => f.extended = true,
            'q' => f.literal = true,
            _ => {}
        }
    }
    f
}

/// Evaluates `path` over `target` with the variables `vars` (an object): the items, or the
/// first error.
pub(super) fn evaluate(
    path: &JsonPath,
    target: &Json,
    vars: &Json,
) -> Result<Vec<Json>, PathError> {
    let evaluator = Evaluator {
        strict: path.strict,
        root: target,
        vars,
    };
    let mut items = Vec::new();
    evaluator.eval(&path.expr, target, None, &mut items)?;
    Ok(items)
}
