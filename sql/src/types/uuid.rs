//! `uuid`: PostgreSQL's `uuid_in` (`string_to_uuid`) and `uuid_out`.
//!
//! Input is 32 hex digits in any case, optionally in braces, with an optional hyphen after any
//! group of four digits (so both `a0eebc99-9c0b-...` and `a0ee-bc99-9c0b-...` are accepted);
//! no whitespace. Output is the lower-case 8-4-4-4-12 form.

use super::error::TypeError;

/// `uuid_in`.
pub(crate) fn parse_uuid(text: &str) -> Result<[u8; 16], TypeError> {
    let invalid = || TypeError::invalid_syntax("uuid", text);
    let s = text.as_bytes();
    let mut i = 0;
    let braces = s.first() == Some(&b'{');
    if braces {
        i += 1;
    }
    let mut out = [0u8; 16];
    for (n, byte) in out.iter_mut().enumerate() {
        let hi = s
            .get(i)
            .and_then(|b| (*b as char).to_digit(16))
            .ok_or_else(invalid)?;
        let lo = s
            .get(i + 1)
            .and_then(|b| (*b as char).to_digit(16))
            .ok_or_else(invalid)?;
        *byte = (hi * 16 + lo) as u8;
        i += 2;
        if s.get(i) == Some(&b'-') && n % 2 == 1 && n < 15 {
            i += 1;
        }
    }
    if braces {
        if s.get(i) != Some(&b'}') {
            return Err(invalid());
        }
        i += 1;
    }
    if i != s.len() {
        return Err(invalid());
    }
    Ok(out)
}

/// `uuid_out`.
pub(crate) fn format_uuid(bytes: &[u8; 16]) -> String {
    let mut out = String::with_capacity(36);
    for (n, byte) in bytes.iter().enumerate() {
        if matches!(n, 4 | 6 | 8 | 10) {
            out.push('-');
        }
        out.push_str(&format!("{byte:02x}"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const CANONICAL: &str = "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11";

    #[test]
    fn accepts_postgres_spellings() {
        for text in [
            CANONICAL,
            "A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11",
            "{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}",
            "a0eebc999c0b4ef8bb6d6bb9bd380a11",
            "a0ee-bc99-9c0b-4ef8-bb6d-6bb9-bd38-0a11",
            "{a0eebc999c0b4ef8bb6d6bb9bd380a11}",
            "a0eebc99-9c0b4ef8-bb6d6bb9-bd380a11",
        ] {
            let parsed = parse_uuid(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(format_uuid(&parsed), CANONICAL, "{text}");
        }
    }

    #[test]
    fn rejects_what_postgres_rejects() {
        for text in [
            "",
            " a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
            "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11 ",
            "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1",
            "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a111",
            "a0eebc999-c0b-4ef8-bb6d-6bb9bd380a11",
            "{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
            "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}",
            "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1-",
            "g0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
            "a0eebc99--9c0b-4ef8-bb6d-6bb9bd380a11",
        ] {
            let err = parse_uuid(text).unwrap_err();
            assert_eq!(err.sqlstate, "22P02", "{text}");
            assert_eq!(
                err.message,
                format!("invalid input syntax for type uuid: \"{text}\"")
            );
        }
    }
}
