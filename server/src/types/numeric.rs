//! `numeric` in PostgreSQL's binary format (`numeric_send` / `numeric_recv`):
//!
//! ```text
//! Int16 ndigits   number of base-10000 digits that follow
//! Int16 weight    weight of the first digit (the value is Σ digit[i] × 10000^(weight - i))
//! Int16 sign      0x0000 positive, 0x4000 negative, 0xC000 NaN, 0xD000 +Infinity, 0xF000 -Infinity
//! Int16 dscale    digits after the decimal point that the value displays
//! Int16 digit[ndigits], each 0..=9999, without leading or trailing zero digits
//! ```
//!
//! Example: `12.34` is `00 02 00 00 00 00 00 02 00 0c 0d 48` (digits 12 and 3400, weight 0,
//! dscale 2). Decoding truncates digits hidden by `dscale`, as `numeric_recv` does.

use bigdecimal::num_bigint::{BigInt, Sign};
use sql::error::code;
use sql::SqlError;
use storage::types::Numeric;

use crate::wire::body::Body;

const SIGN_POSITIVE: u16 = 0x0000;
const SIGN_NEGATIVE: u16 = 0x4000;
const SIGN_NAN: u16 = 0xC000;
const SIGN_PINF: u16 = 0xD000;
const SIGN_NINF: u16 = 0xF000;
/// Largest display scale the format carries (`NUMERIC_DSCALE_MASK`).
const MAX_DSCALE: i64 = 0x3FFF;

fn overflow() -> SqlError {
    SqlError::new(
        code::NUMERIC_VALUE_OUT_OF_RANGE,
        "value overflows numeric format",
    )
}

fn put_i16(out: &mut Vec<u8>, value: i16) {
    out.extend_from_slice(&value.to_be_bytes());
}

fn header(out: &mut Vec<u8>, ndigits: usize, weight: i64, sign: u16, dscale: i64) {
    put_i16(out, ndigits as i16);
    put_i16(out, weight as i16);
    out.extend_from_slice(&sign.to_be_bytes());
    put_i16(out, dscale as i16);
}

/// Appends the binary form of `value`.
pub fn encode(value: &Numeric, out: &mut Vec<u8>) -> Result<(), SqlError> {
    let (mantissa, scale) = match value {
        Numeric::NaN => {
            header(out, 0, 0, SIGN_NAN, 0);
            return Ok(());
        }
        // PostgreSQL reads the display scale of an infinity out of its short header, which
        // gives 32; sent as is for byte-identical output.
        Numeric::Infinity => {
            header(out, 0, 0, SIGN_PINF, 32);
            return Ok(());
        }
        Numeric::NegInfinity => {
            header(out, 0, 0, SIGN_NINF, 32);
            return Ok(());
        }
        Numeric::Finite(_) => value
            .mantissa_and_scale()
            .ok_or_else(|| SqlError::internal("finite numeric without a mantissa"))?,
    };
    let dscale = scale.max(0);
    if dscale > MAX_DSCALE {
        return Err(overflow());
    }
    let sign = if mantissa.sign() == Sign::Minus {
        SIGN_NEGATIVE
    } else {
        SIGN_POSITIVE
    };
    let digits = mantissa.magnitude().to_string();
    let digits = digits.as_bytes();
    if digits.iter().all(|&d| d == b'0') {
        header(out, 0, 0, SIGN_POSITIVE, dscale);
        return Ok(());
    }
    // Decimal digit i stands for 10^exponent(i); base-10000 digit k covers exponents
    // 4k..4k+3.
    let length = digits.len() as i64;
    let exponent = |i: usize| length - 1 - i as i64 - scale;
    let first_weight = exponent(0).div_euclid(4);
    let last_weight = exponent(digits.len() - 1).div_euclid(4);
    let mut groups = vec![0u16; (first_weight - last_weight + 1) as usize];
    for (i, digit) in digits.iter().enumerate() {
        let e = exponent(i);
        let slot = (first_weight - e.div_euclid(4)) as usize;
        groups[slot] += u16::from(digit - b'0') * 10u16.pow(e.rem_euclid(4) as u32);
    }
    let leading = groups.iter().take_while(|&&g| g == 0).count();
    let trailing = groups.iter().rev().take_while(|&&g| g == 0).count();
    let groups = &groups[leading..groups.len() - trailing];
    let weight = first_weight - leading as i64;
    if weight > i64::from(i16::MAX) || weight < i64::from(i16::MIN) || groups.len() > 0x7fff {
        return Err(overflow());
    }
    header(out, groups.len(), weight, sign, dscale);
    for group in groups {
        put_i16(out, *group as i16);
    }
    Ok(())
}

fn invalid(what: &str) -> SqlError {
    SqlError::new(
        code::INVALID_BINARY_REPRESENTATION,
        format!("invalid {what} in external \"numeric\" value"),
    )
}

/// Reads the binary form.
pub fn decode(bytes: &[u8]) -> Result<Numeric, SqlError> {
    let mut body = Body::new(bytes);
    let ndigits = body.i16()?;
    let weight = i64::from(body.i16()?);
    let sign = body.i16()? as u16;
    let dscale = body.i16()?;
    if ndigits < 0 {
        return Err(invalid("length"));
    }
    if !(0..=MAX_DSCALE as i16).contains(&dscale) {
        return Err(invalid("scale"));
    }
    let mut groups = Vec::with_capacity((ndigits as usize).min(body.remaining() / 2));
    for _ in 0..ndigits {
        let digit = body.i16()?;
        if !(0..10_000).contains(&digit) {
            return Err(invalid("digit"));
        }
        groups.push(digit);
    }
    body.finish().map_err(|_| invalid("length"))?;
    let negative = match sign {
        SIGN_POSITIVE => false,
        SIGN_NEGATIVE => true,
        SIGN_NAN => return Ok(Numeric::NaN),
        SIGN_PINF => return Ok(Numeric::Infinity),
        SIGN_NINF => return Ok(Numeric::NegInfinity),
        _ => return Err(invalid("sign")),
    };
    let dscale = i64::from(dscale);
    // The digits as one decimal integer G; the value is G × 10^(4 × (weight - ndigits + 1)).
    let mut mantissa = String::with_capacity(groups.len() * 4 + 8);
    for group in &groups {
        mantissa.push_str(&format!("{group:04}"));
    }
    let shift = 4 * (weight - i64::from(ndigits) + 1) + dscale;
    if shift >= 0 {
        mantissa.extend(std::iter::repeat_n('0', shift as usize));
    } else {
        let keep = mantissa.len().saturating_sub((-shift) as usize);
        mantissa.truncate(keep);
    }
    if mantissa.is_empty() {
        mantissa.push('0');
    }
    let mut value = BigInt::parse_bytes(mantissa.as_bytes(), 10)
        .ok_or_else(|| SqlError::internal("numeric digits did not parse"))?;
    if negative {
        value = -value;
    }
    Ok(Numeric::from_mantissa_and_scale(value, dscale))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn encoded(text: &str) -> Vec<u8> {
        let mut out = Vec::new();
        encode(&Numeric::from_str(text).unwrap(), &mut out).unwrap();
        out
    }

    #[test]
    fn matches_postgres_bytes() {
        // Captured from PostgreSQL: SELECT numeric_send('12.34'), ...
        let cases: &[(&str, &[u8])] = &[
            ("12.34", &[0, 2, 0, 0, 0, 0, 0, 2, 0, 0x0c, 0x0d, 0x48]),
            ("0", &[0, 0, 0, 0, 0, 0, 0, 0]),
            ("0.00", &[0, 0, 0, 0, 0, 0, 0, 2]),
            ("1", &[0, 1, 0, 0, 0, 0, 0, 0, 0, 1]),
            ("-1.5", &[0, 2, 0, 0, 0x40, 0, 0, 1, 0, 1, 0x13, 0x88]),
            ("10000", &[0, 1, 0, 1, 0, 0, 0, 0, 0, 1]),
            ("0.0001", &[0, 1, 0xff, 0xff, 0, 0, 0, 4, 0, 1]),
            (
                "123456789.123",
                &[
                    0, 4, 0, 2, 0, 0, 0, 3, 0, 1, 0x09, 0x29, 0x1a, 0x85, 0x04, 0xce,
                ],
            ),
            ("NaN", &[0, 0, 0, 0, 0xc0, 0, 0, 0]),
            ("Infinity", &[0, 0, 0, 0, 0xd0, 0, 0, 0x20]),
            ("-Infinity", &[0, 0, 0, 0, 0xf0, 0, 0, 0x20]),
        ];
        for (text, bytes) in cases {
            assert_eq!(encoded(text), *bytes, "{text}");
            let back = decode(bytes).unwrap();
            assert_eq!(back.to_string(), *text, "{text}");
        }
    }

    #[test]
    fn negative_scale_and_large_values() {
        // 1e20 as mantissa 1, scale -20: digits 1, weight 5.
        let value = Numeric::from_mantissa_and_scale(BigInt::from(1), -20);
        let mut out = Vec::new();
        encode(&value, &mut out).unwrap();
        assert_eq!(out, [0, 1, 0, 5, 0, 0, 0, 0, 0, 1]);
        assert_eq!(decode(&out).unwrap().to_string(), "100000000000000000000");
        for text in [
            "98765432109876543210.0123456789",
            "-0.000000001",
            "5e-3",
            "1000.10",
        ] {
            let bytes = encoded(text);
            let back = decode(&bytes).unwrap();
            assert_eq!(back, Numeric::from_str(text).unwrap(), "{text}");
        }
    }

    #[test]
    fn dscale_truncates_hidden_digits() {
        // 1.2345 sent with dscale 2 reads as 1.23.
        let bytes = [0, 2, 0, 0, 0, 0, 0, 2, 0, 1, 0x09, 0x29];
        assert_eq!(decode(&bytes).unwrap().to_string(), "1.23");
    }

    #[test]
    fn malformed_input_is_refused() {
        assert!(decode(&[0, 1, 0, 0, 0, 0, 0, 0]).is_err()); // digit missing
        assert!(decode(&[0, 1, 0, 0, 0, 0, 0, 0, 0x27, 0x10]).is_err()); // digit 10000
        assert!(decode(&[0, 0, 0, 0, 0x12, 0x34, 0, 0]).is_err()); // sign
        assert!(decode(&[0xff, 0xff, 0, 0, 0, 0, 0, 0]).is_err()); // length
        assert!(decode(&[0, 0, 0, 0, 0, 0, 0x40, 0]).is_err()); // scale
        assert!(decode(&[0, 0, 0]).is_err());
        assert!(decode(&[0, 0, 0, 0, 0, 0, 0, 0, 0]).is_err()); // trailing byte
    }
}
