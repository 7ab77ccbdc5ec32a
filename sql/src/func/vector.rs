//! pgvector's operators and functions on `vector`: the distances `<-> <=> <#> <+>` and
//! `l2_distance`, `cosine_distance`, `inner_product`, `l1_distance`,
//! `vector_negative_inner_product`, `l2_squared_distance`; element-wise `+ - *` and `||`;
//! `vector_dims`, `vector_norm`, `l2_normalize`, `subvector`.
//!
//! The arithmetic is the `index` crate's (the same kernels the vector indexes use), so a
//! query's ORDER BY key and an index scan agree. Errors are pgvector's: 22000 `different
//! vector dimensions 3 and 2`, 22003 `value out of range: overflow` / `underflow`.

use index::distance::{self, VectorMathError};
use storage::types::Value;

use super::registry::Registry;
use super::{args, FnCtx};
use crate::error::{code, SqlError, SqlResult};
use crate::pgtype::SqlType;

pub fn register(reg: &mut Registry) {
    use SqlType::{Float8, Int4};
    let v = SqlType::Vector(None);
    let pair = [v.clone(), v.clone()];
    reg.typed("<->", &pair, Float8, l2_distance).leakproof();
    reg.typed("<=>", &pair, Float8, cosine_distance).leakproof();
    reg.typed("<#>", &pair, Float8, negative_inner_product)
        .leakproof();
    reg.typed("<+>", &pair, Float8, l1_distance).leakproof();
    reg.typed("l2_distance", &pair, Float8, l2_distance);
    reg.typed("cosine_distance", &pair, Float8, cosine_distance);
    reg.typed("inner_product", &pair, Float8, inner_product);
    reg.typed(
        "vector_negative_inner_product",
        &pair,
        Float8,
        negative_inner_product,
    );
    reg.typed("l1_distance", &pair, Float8, l1_distance);
    reg.typed(
        "vector_l2_squared_distance",
        &pair,
        Float8,
        l2_squared_distance,
    );
    reg.typed("+", &pair, v.clone(), add);
    reg.typed("-", &pair, v.clone(), subtract);
    reg.typed("*", &pair, v.clone(), multiply);
    reg.typed("||", &pair, v.clone(), concat);
    reg.typed("vector_dims", [v.clone()], Int4, dims);
    reg.typed("vector_norm", [v.clone()], Float8, norm);
    reg.typed("l2_normalize", [v.clone()], v.clone(), normalize);
    reg.typed("subvector", &[v.clone(), Int4, Int4], v, subvector);
}

/// pgvector's error for a failed vector computation.
pub fn vector_error(e: VectorMathError) -> SqlError {
    match e {
        VectorMathError::DimensionMismatch { .. } => {
            SqlError::new(code::DATA_EXCEPTION, e.to_string())
        }
        VectorMathError::Overflow | VectorMathError::Underflow => {
            SqlError::new(code::NUMERIC_VALUE_OUT_OF_RANGE, e.to_string())
        }
    }
}

fn pair(a: &[Value]) -> SqlResult<(&[f32], &[f32])> {
    Ok((args::vector(a, 0)?, args::vector(a, 1)?))
}

fn float_result(r: Result<f64, VectorMathError>) -> SqlResult<Value> {
    r.map(Value::Float8).map_err(vector_error)
}

fn vector_result(r: Result<Vec<f32>, VectorMathError>) -> SqlResult<Value> {
    r.map(Value::Vector).map_err(vector_error)
}

fn l2_distance(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    let (x, y) = pair(a)?;
    float_result(distance::l2_distance(x, y))
}

fn l2_squared_distance(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    let (x, y) = pair(a)?;
    float_result(distance::l2_squared_distance(x, y))
}

fn cosine_distance(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    let (x, y) = pair(a)?;
    float_result(distance::cosine_distance(x, y))
}

fn inner_product(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    let (x, y) = pair(a)?;
    float_result(distance::inner_product(x, y))
}

fn negative_inner_product(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    let (x, y) = pair(a)?;
    float_result(distance::negative_inner_product(x, y))
}

fn l1_distance(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    let (x, y) = pair(a)?;
    float_result(distance::l1_distance(x, y))
}

fn add(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    let (x, y) = pair(a)?;
    vector_result(distance::add(x, y))
}

fn subtract(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    let (x, y) = pair(a)?;
    vector_result(distance::subtract(x, y))
}

fn multiply(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    let (x, y) = pair(a)?;
    vector_result(distance::multiply(x, y))
}

fn check_dimensions(n: usize) -> SqlResult<()> {
    if n < 1 {
        return Err(SqlError::new(
            code::DATA_EXCEPTION,
            "vector must have at least 1 dimension",
        ));
    }
    if n > distance::MAX_VECTOR_DIMENSIONS {
        return Err(SqlError::new(
            code::PROGRAM_LIMIT_EXCEEDED,
            format!(
                "vector cannot have more than {} dimensions",
                distance::MAX_VECTOR_DIMENSIONS
            ),
        ));
    }
    Ok(())
}

fn concat(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    let (x, y) = pair(a)?;
    check_dimensions(x.len() + y.len())?;
    let mut out = x.to_vec();
    out.extend_from_slice(y);
    Ok(Value::Vector(out))
}

fn dims(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    Ok(Value::Int4(args::vector(a, 0)?.len() as i32))
}

fn norm(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    Ok(Value::Float8(distance::norm(args::vector(a, 0)?)))
}

fn normalize(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    vector_result(distance::l2_normalize(args::vector(a, 0)?))
}

/// pgvector's `subvector(v, start, count)`: 1-based, clipped to the vector like `substring`.
fn subvector(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    let v = args::vector(a, 0)?;
    let start = args::int(a, 1)?;
    let count = args::int(a, 2)?;
    let dim = v.len() as i64;
    let end = (start + count).min(dim + 1);
    let start = start.max(1);
    if start > dim || end <= start {
        check_dimensions(0)?;
    }
    Ok(Value::Vector(
        v[(start - 1) as usize..(end - 1) as usize].to_vec(),
    ))
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{err, ok};
    use crate::pgtype::SqlType::{Int4, Unknown, Vector};

    #[test]
    fn distances_and_arithmetic_follow_pgvector() {
        let v = Vector(None);
        assert_eq!(
            ok("<->", &[("[1,2,3]", v.clone()), ("[4,5,6]", Unknown)]),
            "5.196152422706632"
        );
        assert_eq!(
            ok("<#>", &[("[1,2,3]", v.clone()), ("[4,5,6]", Unknown)]),
            "-32"
        );
        assert_eq!(
            ok("<+>", &[("[1,2,3]", v.clone()), ("[4,5,6]", Unknown)]),
            "9"
        );
        assert_eq!(ok("<=>", &[("[1,0]", v.clone()), ("[0,1]", Unknown)]), "1");
        assert_eq!(
            ok("+", &[("[1,2,3]", v.clone()), ("[4,5,6]", Unknown)]),
            "[5,7,9]"
        );
        assert_eq!(
            ok("||", &[("[1,2]", v.clone()), ("[3]", v.clone())]),
            "[1,2,3]"
        );
        assert_eq!(ok("vector_dims", &[("[1,2,3]", v.clone())]), "3");
        assert_eq!(ok("vector_norm", &[("[3,4]", v.clone())]), "5");
        assert_eq!(ok("l2_normalize", &[("[3,4]", v.clone())]), "[0.6,0.8]");
        assert_eq!(
            ok(
                "subvector",
                &[("[1,2,3,4]", v.clone()), ("2", Int4), ("2", Int4)]
            ),
            "[2,3]"
        );
        assert_eq!(
            ok(
                "subvector",
                &[("[1,2,3,4]", v.clone()), ("0", Int4), ("2", Int4)]
            ),
            "[1]"
        );
        assert_eq!(
            err("<->", &[("[1,2,3]", v.clone()), ("[1,2]", v.clone())]),
            ("22000".into(), "different vector dimensions 3 and 2".into())
        );
        assert_eq!(
            err("subvector", &[("[1,2]", v), ("5", Int4), ("1", Int4)]).1,
            "vector must have at least 1 dimension"
        );
    }
}
