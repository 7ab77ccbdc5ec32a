//! `to_char` of numbers: PostgreSQL's number templates (`9 0 . D , G S MI PL SG PR L V
//! EEEE RN FM TH`), and the template parser `to_number` reads with.
//!
//! Layout rules, as `NUM_processor` lays numbers out: without a sign pattern a sign slot
//! precedes the digits and the sign floats to the first printed digit; leading zeros print
//! from the first `0` pattern on; an integer part too wide for the pattern prints `#` in
//! every digit position; `FM` drops padding and trailing zeros in `9` positions; floats
//! round as C's `printf` does (half-even on the binary value), numerics half away from zero.

use bigdecimal::BigDecimal;
use storage::types::{Numeric, Value};

use super::decimal;
use super::to_char::ordinal_suffix;
use crate::error::{SqlError, SqlResult};

/// A parsed number template.
#[derive(Default)]
pub struct NumberFormat {
    pub tokens: Vec<NumToken>,
    pub pre: usize,
    pub post: usize,
    pub fill_mode: bool,
    pub has_sign: bool,
    pub bracket: bool,
    pub eeee: bool,
    pub roman: bool,
    pub multiplier: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub enum NumToken {
    Digit { zero: bool },
    Point,
    Group,
    Sign,
    Minus,
    Plus,
    SignGlyph,
    Bracket,
    Currency,
    Ordinal(bool),
    Literal(String),
}

pub fn parse_number_format(fmt: &str) -> SqlResult<NumberFormat> {
    let mut f = NumberFormat::default();
    let mut chars = fmt.char_indices().peekable();
    let mut after_point = false;
    let mut after_v = false;
    while let Some((i, c)) = chars.next() {
        let rest = &fmt[i..];
        let up = rest.to_uppercase();
        let mut skip = |n: usize| {
            for _ in 1..n {
                chars.next();
            }
        };
        if up.starts_with("FM") {
            f.fill_mode = true;
            skip(2);
        } else if up.starts_with("EEEE") {
            f.eeee = true;
            skip(4);
        } else if up.starts_with("RN") {
            f.roman = true;
            skip(2);
        } else if up.starts_with("MI") {
            f.has_sign = true;
            f.tokens.push(NumToken::Minus);
            skip(2);
        } else if up.starts_with("PL") {
            f.tokens.push(NumToken::Plus);
            skip(2);
        } else if up.starts_with("SG") {
            f.has_sign = true;
            f.tokens.push(NumToken::SignGlyph);
            skip(2);
        } else if up.starts_with("PR") {
            f.bracket = true;
            f.has_sign = true;
            f.tokens.push(NumToken::Bracket);
            skip(2);
        } else if up.starts_with("TH") {
            f.tokens.push(NumToken::Ordinal(rest.starts_with("TH")));
            skip(2);
        } else {
            match c {
                '9' | '0' => {
                    if after_v {
                        f.multiplier += 1;
                    }
                    if after_point {
                        f.post += 1;
                    } else {
                        f.pre += 1;
                    }
                    f.tokens.push(NumToken::Digit { zero: c == '0' });
                }
                '.' | 'D' | 'd' if !after_point => {
                    after_point = true;
                    f.tokens.push(NumToken::Point);
                }
                ',' | 'G' | 'g' => f.tokens.push(NumToken::Group),
                'S' | 's' => {
                    f.has_sign = true;
                    f.tokens.push(NumToken::Sign);
                }
                'L' | 'l' => f.tokens.push(NumToken::Currency),
                'V' | 'v' => after_v = true,
                '"' => {
                    let mut lit = String::new();
                    for (_, q) in chars.by_ref() {
                        if q == '"' {
                            break;
                        }
                        lit.push(q);
                    }
                    f.tokens.push(NumToken::Literal(lit));
                }
                '\\' => {
                    if let Some((_, e)) = chars.next() {
                        f.tokens.push(NumToken::Literal(e.to_string()));
                    }
                }
                other => f.tokens.push(NumToken::Literal(other.to_string())),
            }
        }
    }
    Ok(f)
}

/// `to_char` of a number; `None` for NULL-like results.
pub fn format_number(v: &Value, fmt: &str) -> SqlResult<Option<String>> {
    let f = parse_number_format(fmt)?;
    let is_float = matches!(v, Value::Float4(_) | Value::Float8(_));
    let value: BigDecimal = match v {
        Value::Int2(x) => BigDecimal::from(*x),
        Value::Int4(x) => BigDecimal::from(*x),
        Value::Int8(x) => BigDecimal::from(*x),
        Value::Float4(x) => float_decimal(*x as f64, f.post + f.multiplier)?,
        Value::Float8(x) => float_decimal(*x, f.post + f.multiplier)?,
        Value::Numeric(n) => match &**n {
            Numeric::Finite(d) => d.clone(),
            _ => return Ok(Some(special_number(&f, n))),
        },
        other => return Err(SqlError::internal(format!("to_char of {other:?}"))),
    };
    let value = if f.multiplier > 0 {
        value * BigDecimal::new(1.into(), -(f.multiplier as i64))
    } else {
        value
    };
    if f.roman {
        return Ok(Some(roman(&value, f.fill_mode)));
    }
    if f.eeee {
        return Ok(Some(scientific(&value, &f)));
    }
    let rounded = if is_float {
        value
    } else {
        decimal::round(&value, f.post as i64)
    };
    Ok(Some(render_number(&rounded, &f)))
}

/// A float rounded to `post` places the way C's `%.*f` prints it.
fn float_decimal(x: f64, post: usize) -> SqlResult<BigDecimal> {
    if !x.is_finite() {
        return Ok(BigDecimal::from(0));
    }
    format!("{x:.post$}")
        .parse()
        .map_err(|_| SqlError::internal("float formatting"))
}

fn special_number(f: &NumberFormat, n: &Numeric) -> String {
    let width = f.pre + f.post + (f.post > 0) as usize + 1;
    let text = n.to_string();
    if f.fill_mode {
        text
    } else {
        format!("{text:>width$}")
    }
}

/// Renders digits into the template (PostgreSQL's layout rules): without a sign token a
/// sign slot sits before the first digit and the sign floats to the first printed digit;
/// leading zeros print only from the first `0`; `#` everywhere when the integer part does
/// not fit; FM drops padding and trailing zeros in `9` positions.
fn render_number(value: &BigDecimal, f: &NumberFormat) -> String {
    const SLOT: char = '\u{1}';
    let negative = value.sign() == bigdecimal::num_bigint::Sign::Minus;
    let abs = value.abs().with_scale(f.post as i64);
    let text = abs.to_string();
    let (int_part, frac_part) = match text.split_once('.') {
        Some((i, fr)) => (i.to_string(), fr.to_string()),
        None => (text.clone(), String::new()),
    };
    let int_digits: Vec<char> = if int_part == "0" && f.post > 0 {
        Vec::new()
    } else {
        int_part.chars().collect()
    };
    let frac: Vec<char> = frac_part.chars().collect();
    let overflow = int_digits.len() > f.pre;
    let first_zero = f
        .tokens
        .iter()
        .filter(|t| matches!(t, NumToken::Digit { .. }))
        .take(f.pre)
        .position(|t| matches!(t, NumToken::Digit { zero: true }))
        .unwrap_or(usize::MAX);
    let pad = f.pre.saturating_sub(int_digits.len());
    let floating_sign = !f.has_sign
        || f.tokens
            .iter()
            .position(|t| *t == NumToken::Sign)
            .is_some_and(|p| {
                f.tokens[..p]
                    .iter()
                    .all(|t| !matches!(t, NumToken::Digit { .. } | NumToken::Point))
            });
    let mut out: Vec<char> = Vec::new();
    let (mut digit_index, mut frac_index) = (0usize, 0usize);
    let (mut started, mut in_fraction, mut slot_placed) = (false, false, false);
    let place_slot = |out: &mut Vec<char>, slot_placed: &mut bool| {
        if floating_sign && !f.bracket && !*slot_placed {
            out.push(SLOT);
            *slot_placed = true;
        }
    };
    for (ti, t) in f.tokens.iter().enumerate() {
        match t {
            NumToken::Digit { .. } if !in_fraction => {
                place_slot(&mut out, &mut slot_placed);
                if overflow {
                    out.push('#');
                } else if digit_index < pad {
                    if digit_index >= first_zero {
                        out.push('0');
                        started = true;
                    } else {
                        out.push(' ');
                    }
                } else {
                    out.push(int_digits[digit_index - pad]);
                    started = true;
                }
                digit_index += 1;
            }
            NumToken::Digit { zero } => {
                let c = if overflow {
                    '#'
                } else {
                    frac.get(frac_index).copied().unwrap_or('0')
                };
                let dropped = f.fill_mode
                    && !zero
                    && !overflow
                    && frac[frac_index.min(frac.len())..].iter().all(|d| *d == '0')
                    && f.tokens[ti..]
                        .iter()
                        .all(|t| !matches!(t, NumToken::Digit { zero: true }));
                if !dropped {
                    out.push(c);
                }
                frac_index += 1;
            }
            NumToken::Point => {
                place_slot(&mut out, &mut slot_placed);
                in_fraction = true;
                // The point stays when the digits overflow into '#'s.
                if f.post > 0 {
                    out.push('.');
                }
            }
            NumToken::Group => out.push(if overflow || started { ',' } else { ' ' }),
            NumToken::Sign if floating_sign => {}
            NumToken::Sign | NumToken::SignGlyph => out.push(if negative { '-' } else { '+' }),
            NumToken::Minus => out.push(if negative { '-' } else { ' ' }),
            NumToken::Plus => out.push(if negative { ' ' } else { '+' }),
            // FM drops a positive number's blank in place of PR's '>'.
            NumToken::Bracket if !negative && f.fill_mode => {}
            NumToken::Bracket => out.push(if negative { '>' } else { ' ' }),
            NumToken::Currency => out.push(' '),
            NumToken::Ordinal(upper) => {
                let n: i64 = int_digits.iter().collect::<String>().parse().unwrap_or(0);
                out.extend(ordinal_suffix(n, *upper).chars());
            }
            NumToken::Literal(s) => out.extend(s.chars()),
        }
    }
    let signed_with_s = f.tokens.contains(&NumToken::Sign);
    // The floating sign (or PR's '<') goes right before the first printed digit.
    let sign = if f.bracket {
        Some(if negative { '<' } else { ' ' })
    } else if floating_sign {
        Some(match (negative, signed_with_s) {
            (true, _) => '-',
            (false, true) => '+',
            (false, false) => ' ',
        })
    } else {
        None
    };
    if let Some(sign) = sign {
        let from = out.iter().position(|c| *c == SLOT).unwrap_or(0);
        out.retain(|c| *c != SLOT);
        let first = out[from.min(out.len())..]
            .iter()
            .position(|c| c.is_ascii_digit() || *c == '.' || *c == '#')
            .map_or(from, |p| from + p);
        out.insert(first.min(out.len()), sign);
    }
    let s: String = out.into_iter().collect();
    if f.fill_mode {
        s.trim_start().to_string()
    } else {
        s
    }
}

fn scientific(value: &BigDecimal, f: &NumberFormat) -> String {
    let x: f64 = value.to_string().parse().unwrap_or(0.0);
    let body = format!("{:.*e}", f.post, x);
    let (mantissa, exp) = body.split_once('e').unwrap_or((&body, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let text = format!(
        "{mantissa}e{}{:02}",
        if exp < 0 { '-' } else { '+' },
        exp.abs()
    );
    if text.starts_with('-') || f.fill_mode {
        text
    } else {
        format!(" {text}")
    }
}

fn roman(value: &BigDecimal, fm: bool) -> String {
    let n = decimal::to_i64_rounded(value).unwrap_or(0);
    if !(1..=3999).contains(&n) {
        return "###############".into();
    }
    const TABLE: [(i64, &str); 13] = [
        (1000, "M"),
        (900, "CM"),
        (500, "D"),
        (400, "CD"),
        (100, "C"),
        (90, "XC"),
        (50, "L"),
        (40, "XL"),
        (10, "X"),
        (9, "IX"),
        (5, "V"),
        (4, "IV"),
        (1, "I"),
    ];
    let mut rest = n;
    let mut s = String::new();
    for (v, r) in TABLE {
        while rest >= v {
            s.push_str(r);
            rest -= v;
        }
    }
    if fm {
        s
    } else {
        format!("{s:>15}")
    }
}
