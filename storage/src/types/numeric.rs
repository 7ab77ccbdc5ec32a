//! `numeric`: PostgreSQL's arbitrary-precision decimal, with NaN and the infinities.
//!
//! A finite value is an integer mantissa and a decimal scale (`mantissa * 10^-scale`), exactly
//! as written: `1.50` keeps its two fractional digits, as PostgreSQL's display scale does.
//! Comparison is by value (`1.5 = 1.50`); the order is `-Infinity < finite < Infinity < NaN`
//! and NaN equals NaN, as in PostgreSQL (which needs a total order for B-tree indexes).

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;

use bigdecimal::num_bigint::{BigInt, Sign};
use bigdecimal::BigDecimal;

/// An exact decimal number or one of PostgreSQL's special numeric values.
#[derive(Debug, Clone)]
pub enum Numeric {
    Finite(BigDecimal),
    NaN,
    Infinity,
    NegInfinity,
}

/// Why a text could not be read as a numeric.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NumericParseError(pub String);

impl fmt::Display for NumericParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid input syntax for type numeric: \"{}\"", self.0)
    }
}

impl Numeric {
    /// The mantissa and scale of a finite value (`None` for NaN and the infinities).
    pub fn mantissa_and_scale(&self) -> Option<(BigInt, i64)> {
        match self {
            Numeric::Finite(d) => Some(d.as_bigint_and_exponent()),
            _ => None,
        }
    }

    /// A finite value from its mantissa and scale.
    pub fn from_mantissa_and_scale(mantissa: BigInt, scale: i64) -> Numeric {
        Numeric::Finite(BigDecimal::new(mantissa, scale))
    }

    pub fn from_i64(x: i64) -> Numeric {
        Numeric::Finite(BigDecimal::from(x))
    }

    pub(crate) fn approx_heap_size(&self) -> usize {
        match self {
            Numeric::Finite(d) => d.as_bigint_and_exponent().0.bits() as usize / 8 + 8,
            _ => 0,
        }
    }

    fn special_rank(&self) -> u8 {
        match self {
            Numeric::NegInfinity => 0,
            Numeric::Finite(_) => 1,
            Numeric::Infinity => 2,
            Numeric::NaN => 3,
        }
    }
}

impl FromStr for Numeric {
    type Err = NumericParseError;

    /// PostgreSQL's numeric input: optional sign, digits with an optional point and exponent,
    /// or `NaN`, `Infinity`, `-Infinity` (`inf` accepted), case-insensitive, surrounding
    /// whitespace ignored.
    fn from_str(text: &str) -> Result<Numeric, NumericParseError> {
        let trimmed = text.trim();
        let lower = trimmed.to_ascii_lowercase();
        match lower.as_str() {
            "nan" => return Ok(Numeric::NaN),
            "infinity" | "+infinity" | "inf" | "+inf" => return Ok(Numeric::Infinity),
            "-infinity" | "-inf" => return Ok(Numeric::NegInfinity),
            _ => {}
        }
        let well_formed = {
            let body = lower.strip_prefix(['+', '-']).unwrap_or(&lower);
            let (mantissa, exponent) = match body.split_once('e') {
                Some((m, e)) => (m, Some(e)),
                None => (body, None),
            };
            let mantissa_ok = !mantissa.is_empty()
                && mantissa.chars().filter(|c| *c == '.').count() <= 1
                && mantissa.chars().all(|c| c.is_ascii_digit() || c == '.')
                && mantissa.chars().any(|c| c.is_ascii_digit());
            let exponent_ok = exponent.is_none_or(|e| {
                let digits = e.strip_prefix(['+', '-']).unwrap_or(e);
                !digits.is_empty()
                    && digits.len() <= 6
                    && digits.chars().all(|c| c.is_ascii_digit())
            });
            mantissa_ok && exponent_ok
        };
        if !well_formed {
            return Err(NumericParseError(text.to_string()));
        }
        BigDecimal::from_str(trimmed)
            .map(Numeric::Finite)
            .map_err(|_| NumericParseError(text.to_string()))
    }
}

impl fmt::Display for Numeric {
    /// PostgreSQL's output: plain digits, never an exponent, with the value's own scale.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Numeric::NaN => f.write_str("NaN"),
            Numeric::Infinity => f.write_str("Infinity"),
            Numeric::NegInfinity => f.write_str("-Infinity"),
            Numeric::Finite(d) => {
                let (mantissa, scale) = d.as_bigint_and_exponent();
                let negative = mantissa.sign() == Sign::Minus;
                let digits = mantissa.magnitude().to_string();
                let mut out = String::with_capacity(digits.len() + 4);
                if negative {
                    out.push('-');
                }
                if scale <= 0 {
                    out.push_str(&digits);
                    if digits != "0" {
                        out.extend(std::iter::repeat_n('0', (-scale) as usize));
                    }
                } else {
                    let scale = scale as usize;
                    if digits.len() > scale {
                        let (int_part, frac_part) = digits.split_at(digits.len() - scale);
                        out.push_str(int_part);
                        out.push('.');
                        out.push_str(frac_part);
                    } else {
                        out.push_str("0.");
                        out.extend(std::iter::repeat_n('0', scale - digits.len()));
                        out.push_str(&digits);
                    }
                }
                f.write_str(&out)
            }
        }
    }
}

impl Ord for Numeric {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (Numeric::Finite(a), Numeric::Finite(b)) => a.cmp(b),
            _ => self.special_rank().cmp(&other.special_rank()),
        }
    }
}

impl PartialOrd for Numeric {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Numeric {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Numeric {}

impl Hash for Numeric {
    fn hash<H: Hasher>(&self, state: &mut H) {
        match self {
            Numeric::Finite(d) => {
                let (mantissa, scale) = d.normalized().as_bigint_and_exponent();
                mantissa.hash(state);
                if mantissa.sign() != Sign::NoSign {
                    scale.hash(state);
                }
            }
            other => other.special_rank().hash(state),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> Numeric {
        s.parse().unwrap()
    }

    #[test]
    fn keeps_the_written_scale() {
        assert_eq!(n("1.50").to_string(), "1.50");
        assert_eq!(n("-0.001").to_string(), "-0.001");
        assert_eq!(n("1.5e3").to_string(), "1500");
        assert_eq!(
            n("12345678901234567890.123456789").to_string(),
            "12345678901234567890.123456789"
        );
        assert_eq!(n("0").to_string(), "0");
        assert_eq!(n(" 42 ").to_string(), "42");
    }

    #[test]
    fn compares_by_value_with_specials_in_postgres_order() {
        assert_eq!(n("1.0"), n("1.00"));
        assert!(n("-Infinity") < n("-1e100"));
        assert!(n("1e100") < n("Infinity"));
        assert!(n("Infinity") < n("NaN"));
        assert_eq!(n("nan"), n("NaN"));
    }

    #[test]
    fn equal_values_hash_alike() {
        use std::collections::hash_map::DefaultHasher;
        let h = |v: &Numeric| {
            let mut s = DefaultHasher::new();
            v.hash(&mut s);
            s.finish()
        };
        assert_eq!(h(&n("1.0")), h(&n("1.000")));
        assert_eq!(h(&n("0")), h(&n("0.00")));
    }

    #[test]
    fn rejects_malformed_text() {
        for bad in ["", "abc", "1.2.3", "1e", "--1", "1e1000000000", "0x10"] {
            assert!(bad.parse::<Numeric>().is_err(), "{bad:?} accepted");
        }
    }
}
