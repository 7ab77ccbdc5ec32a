//! Personal-data detectors: e-mail addresses, phone numbers, payment card numbers (Luhn) and
//! IBANs (ISO 13616 mod-97).
//!
//! Validators follow Microsoft Presidio's recognisers in spirit (a pattern finds candidates,
//! a checksum or a shape rule keeps the real ones), written here as single passes: each
//! candidate is a maximal run of its characters, so the work is linear in the text. Card
//! windows span at most 19 digits and IBANs at most 34 characters, so the validation of one
//! candidate is bounded too.

use std::sync::OnceLock;

use regex::Regex;

/// `local@domain.tld` with an RFC 5321-shaped local part and domain (labels of letters, digits
/// and hyphens, a top-level domain of letters).
pub fn has_email(text: &str) -> bool {
    static PATTERN: OnceLock<Regex> = OnceLock::new();
    PATTERN
        .get_or_init(|| {
            Regex::new(
                r"(?i)[a-z0-9._%+-]{1,64}@[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*\.[a-z]{2,24}\b",
            )
            .expect("the built-in pattern is valid")
        })
        .is_match(text)
}

/// A run of digit groups as they are written in phone numbers and card numbers.
#[derive(Debug, Default)]
struct DigitRun {
    /// Number of digits in each group, in order.
    groups: Vec<usize>,
    /// The digits, without separators.
    digits: Vec<u8>,
    /// Separators between groups (`' '`, `'-'`, `'.'`), one per gap.
    separators: Vec<u8>,
    plus: bool,
    /// Whether a group was written in parentheses, `(555)`.
    parenthesised: bool,
}

/// Splits `text` into maximal runs of digit groups separated by single separators from
/// `separators` (a `(ddd)` group is allowed when `parentheses`), and calls `check` on each run
/// until it returns true.
fn any_digit_run(
    text: &str,
    separators: &[u8],
    parentheses: bool,
    check: impl Fn(&DigitRun) -> bool,
) -> bool {
    let bytes = text.as_bytes();
    let continues_word = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.');
    let mut i = 0;
    while i < bytes.len() {
        let starts_group = bytes[i].is_ascii_digit()
            || (bytes[i] == b'+' && bytes.get(i + 1).is_some_and(u8::is_ascii_digit))
            || (parentheses
                && bytes[i] == b'('
                && bytes.get(i + 1).is_some_and(u8::is_ascii_digit));
        if !starts_group {
            i += 1;
            continue;
        }
        // A run must not continue a word or a code written with other characters
        // ("SKU12-345-6789", "ID4111..."): skip the whole token.
        if i > 0 && (bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_') {
            // Step over the character that starts the group first: a `+` or `(` does not
            // continue a word, and without this step "1+1" never advanced.
            i += 1;
            while i < bytes.len() && continues_word(bytes[i]) {
                i += 1;
            }
            continue;
        }
        let mut run = DigitRun::default();
        if bytes[i] == b'+' {
            run.plus = true;
            i += 1;
        }
        loop {
            // One group: digits, or `(digits)`.
            let open = parentheses && bytes.get(i) == Some(&b'(');
            if open {
                i += 1;
            }
            let start = i;
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                run.digits.push(bytes[i] - b'0');
                i += 1;
            }
            if i > start {
                run.groups.push(i - start);
            }
            let closed = open && bytes.get(i) == Some(&b')') && i > start;
            if open && !closed {
                break;
            }
            if closed {
                run.parenthesised = true;
                i += 1;
            }
            // The next group follows one separator, or directly a closing parenthesis.
            let mut j = i;
            if bytes.get(j).is_some_and(|b| separators.contains(b)) {
                j += 1;
            } else if !closed {
                break;
            }
            let next_is_group = bytes.get(j).is_some_and(u8::is_ascii_digit)
                || (parentheses
                    && bytes.get(j) == Some(&b'(')
                    && bytes.get(j + 1).is_some_and(u8::is_ascii_digit));
            if !next_is_group {
                break;
            }
            run.separators.push(if j > i { bytes[i] } else { b' ' });
            i = j;
        }
        // Glued to a following letter ("12345abc") the run is an identifier, not a number.
        let glued_after = bytes
            .get(i)
            .is_some_and(|b| b.is_ascii_alphabetic() || *b == b'_');
        if !run.digits.is_empty() && !glued_after && check(&run) {
            return true;
        }
    }
    false
}

/// A phone number: 7 to 15 digits (E.164's limit) in a shape people write phone numbers in:
/// `+` and 8 or more digits; or an area code in parentheses; or two or more groups separated
/// by spaces, hyphens or dots whose first group has 2 to 4 digits (a leading `1` country code
/// allowed). Bare digit strings (order numbers, zip codes), dates (`2023-06-01`, `01.06.2023`),
/// IP addresses, versions, thousands (`10 000 000`) and runs of four-digit groups (card number
/// fragments) are not phone numbers.
pub fn has_phone_number(text: &str) -> bool {
    any_digit_run(text, b" -.", true, |run| {
        let digits = run.digits.len();
        if !(7..=15).contains(&digits) {
            return false;
        }
        if run.plus {
            return digits >= 8;
        }
        if run.parenthesised {
            return (10..=12).contains(&digits);
        }
        let groups = &run.groups;
        if groups.len() < 2 {
            return false;
        }
        let dots = run.separators.contains(&b'.');
        // A date, possibly followed by the hour ("2023-06-01 12:15").
        let is_date = groups.len() >= 3
            && (groups[..3] == [4, 2, 2] || groups[..3] == [2, 2, 4])
            && run.separators[..2].iter().all(|&s| s == b'-' || s == b'.');
        let is_ip = dots && groups.len() == 4 && groups.iter().all(|&g| g <= 3);
        let thousands = groups.len() >= 3
            && groups[1..].iter().all(|&g| g == 3)
            && run.separators.iter().all(|&s| s == b' ' || s == b'.');
        let card_like = groups.len() >= 3 && groups.iter().all(|&g| g == 4);
        let first = groups[0];
        let country_one = first == 1 && run.digits[0] == 1 && groups.len() == 4;
        let first_ok = (2..=4).contains(&first) || country_one;
        let last_ok = (2..=4).contains(groups.last().unwrap_or(&0));
        first_ok && last_ok && !is_date && !is_ip && !thousands && !card_like
    })
}

/// A payment card number: 13 to 19 digits, written together or in groups separated by single
/// spaces or hyphens, starting with an issuer digit 2 to 6 (Mastercard, Amex / Diners / JCB,
/// Visa, Mastercard, Discover / UnionPay), passing the Luhn check, and not one digit repeated.
/// Any window of consecutive groups counts, so a card number followed by other numbers
/// ("4111 1111 1111 1111 12 27") is still found.
pub fn has_card_number(text: &str) -> bool {
    any_digit_run(text, b" -", false, |run| {
        let mut start_digit = 0;
        for first in 0..run.groups.len() {
            let mut len = 0;
            for &group in &run.groups[first..] {
                len += group;
                if len > 19 {
                    break;
                }
                if len >= 13 && is_card(&run.digits[start_digit..start_digit + len]) {
                    return true;
                }
            }
            start_digit += run.groups[first];
        }
        false
    })
}

fn is_card(digits: &[u8]) -> bool {
    (2..=6).contains(&digits[0]) && digits.iter().any(|&d| d != digits[0]) && luhn_valid(digits)
}

/// The Luhn (mod 10) check of ISO/IEC 7812: doubling every second digit from the right.
pub fn luhn_valid(digits: &[u8]) -> bool {
    let mut sum = 0u32;
    for (i, &d) in digits.iter().rev().enumerate() {
        let d = u32::from(d);
        sum += if i % 2 == 1 {
            let doubled = d * 2;
            if doubled > 9 {
                doubled - 9
            } else {
                doubled
            }
        } else {
            d
        };
    }
    !digits.is_empty() && sum.is_multiple_of(10)
}

/// IBAN length per country (ISO 13616 registry, the countries that issue IBANs).
const IBAN_LENGTHS: &[(&str, usize)] = &[
    ("AD", 24),
    ("AE", 23),
    ("AL", 28),
    ("AT", 20),
    ("AZ", 28),
    ("BA", 20),
    ("BE", 16),
    ("BG", 22),
    ("BH", 22),
    ("BR", 29),
    ("BY", 28),
    ("CH", 21),
    ("CR", 22),
    ("CY", 28),
    ("CZ", 24),
    ("DE", 22),
    ("DK", 18),
    ("DO", 28),
    ("EE", 20),
    ("EG", 29),
    ("ES", 24),
    ("FI", 18),
    ("FO", 18),
    ("FR", 27),
    ("GB", 22),
    ("GE", 22),
    ("GI", 23),
    ("GL", 18),
    ("GR", 27),
    ("GT", 28),
    ("HR", 21),
    ("HU", 28),
    ("IE", 22),
    ("IL", 23),
    ("IQ", 23),
    ("IS", 26),
    ("IT", 27),
    ("JO", 30),
    ("KW", 30),
    ("KZ", 20),
    ("LB", 28),
    ("LC", 32),
    ("LI", 21),
    ("LT", 20),
    ("LU", 20),
    ("LV", 21),
    ("MC", 27),
    ("MD", 24),
    ("ME", 22),
    ("MK", 19),
    ("MR", 27),
    ("MT", 31),
    ("MU", 30),
    ("NL", 18),
    ("NO", 15),
    ("PK", 24),
    ("PL", 28),
    ("PS", 29),
    ("PT", 25),
    ("QA", 29),
    ("RO", 24),
    ("RS", 22),
    ("SA", 24),
    ("SC", 31),
    ("SE", 24),
    ("SI", 19),
    ("SK", 24),
    ("SM", 27),
    ("ST", 25),
    ("SV", 28),
    ("TL", 23),
    ("TN", 24),
    ("TR", 26),
    ("UA", 29),
    ("VA", 22),
    ("VG", 24),
    ("XK", 20),
];

/// An IBAN: a country code that issues IBANs, two check digits, and the rest of that country's
/// length in letters and digits — written together or in groups of four separated by single
/// spaces — whose ISO 7064 mod-97 remainder is 1.
pub fn has_iban(text: &str) -> bool {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i + 4 <= bytes.len() {
        let boundary = i == 0 || !bytes[i - 1].is_ascii_alphanumeric();
        let head = &bytes[i..i + 4];
        if !(boundary
            && head[0].is_ascii_uppercase()
            && head[1].is_ascii_uppercase()
            && head[2].is_ascii_digit()
            && head[3].is_ascii_digit())
        {
            i += 1;
            continue;
        }
        let country = std::str::from_utf8(&head[..2]).unwrap_or("");
        let Some(&(_, length)) = IBAN_LENGTHS.iter().find(|(c, _)| *c == country) else {
            i += 1;
            continue;
        };
        // Collect up to `length` alphanumerics, single spaces allowed between them.
        let mut compact = Vec::with_capacity(length);
        let mut j = i;
        while j < bytes.len() && compact.len() < length {
            let b = bytes[j];
            if b.is_ascii_alphanumeric() {
                compact.push(b.to_ascii_uppercase());
                j += 1;
            } else if b == b' ' && bytes.get(j + 1).is_some_and(u8::is_ascii_alphanumeric) {
                j += 1;
            } else {
                break;
            }
        }
        let ends_cleanly = bytes.get(j).is_none_or(|b| !b.is_ascii_alphanumeric());
        if compact.len() == length && ends_cleanly && iban_checksum_valid(&compact) {
            return true;
        }
        i += 1;
    }
    false
}

/// ISO 7064 MOD 97-10 over the IBAN moved four characters left, letters as 10..35.
pub fn iban_checksum_valid(iban: &[u8]) -> bool {
    if iban.len() < 5 || !iban.iter().all(u8::is_ascii_alphanumeric) {
        return false;
    }
    let mut remainder = 0u32;
    for &b in iban[4..].iter().chain(&iban[..4]) {
        let value = if b.is_ascii_digit() {
            u32::from(b - b'0')
        } else {
            u32::from(b.to_ascii_uppercase() - b'A') + 10
        };
        remainder = if value >= 10 {
            (remainder * 100 + value) % 97
        } else {
            (remainder * 10 + value) % 97
        };
    }
    remainder == 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_found() {
        for text in [
            "write to carrollallison@example.com today",
            "A.B+tag@mail.co.uk",
            "(jo_doe%x@sub-domain.example.org)",
        ] {
            assert!(has_email(text), "{text:?}");
        }
        for text in [
            "user@localhost",
            "@example.com",
            "a@b.c",
            "version 1.2@3",
            "price: 5 @ 3.50",
        ] {
            assert!(!has_email(text), "{text:?}");
        }
    }

    #[test]
    fn phone_numbers_are_found() {
        for text in [
            "call +44 20 7946 0958",
            "call +14155552671 now",
            "(555) 123-4567",
            "(020)7946 0958",
            "555-123-4567",
            "555.123.4567",
            "06 12 34 56 78",
            "1 800 555 1234",
            "ring 555-1234",
        ] {
            assert!(has_phone_number(text), "{text:?}");
        }
    }

    #[test]
    fn numbers_that_are_not_phone_numbers() {
        for text in [
            "zip code 71701",
            "order 1234567890",
            "on 2023-06-01 at 12:15:36",
            "since 2023-06-01 12:15:36",
            "on 01.06.2023",
            "server 192.168.100.200",
            "version 1.8.3",
            "10 000 000 users",
            "card 4111 1111 1111 1111",
            "12345-6789",
            "+1 (55",
            "SKU12-345-6789",
            "555-123-4567abc",
        ] {
            assert!(!has_phone_number(text), "{text:?}");
        }
    }

    #[test]
    fn luhn_matches_known_values() {
        let digits = |s: &str| s.bytes().map(|b| b - b'0').collect::<Vec<u8>>();
        assert!(luhn_valid(&digits("4111111111111111")));
        assert!(luhn_valid(&digits("79927398713")));
        assert!(!luhn_valid(&digits("4111111111111112")));
        assert!(!luhn_valid(&[]));
    }

    #[test]
    fn card_numbers_are_found() {
        for text in [
            "card 4111 1111 1111 1111 exp 12/27",
            "4111-1111-1111-1111",
            "pan=5500005555555559;",
            "amex 3782 822463 10005",
            "4111 1111 1111 1111 12 27",
        ] {
            assert!(has_card_number(text), "{text:?}");
        }
    }

    #[test]
    fn luhn_failures_and_lookalikes_are_not_cards() {
        for text in [
            "4111 1111 1111 1112",
            // Luhn-valid but issuer digit 7.
            "7992 7398 7130 0008",
            "0000 0000 0000 0000",
            "4444444444444444",
            "order 4111111111111111111111",
            "4111  1111  1111  1111",
            "ID4111111111111111",
        ] {
            assert!(!has_card_number(text), "{text:?}");
        }
    }

    #[test]
    fn mod_97_matches_known_values() {
        assert!(iban_checksum_valid(b"GB82WEST12345698765432"));
        assert!(iban_checksum_valid(b"DE89370400440532013000"));
        assert!(!iban_checksum_valid(b"GB82WEST12345698765433"));
        assert!(!iban_checksum_valid(b"GB8"));
    }

    #[test]
    fn ibans_are_found() {
        for text in [
            "IBAN: GB82 WEST 1234 5698 7654 32.",
            "pay to DE89370400440532013000 please",
            "NO9386011117947",
            "fr1420041010050500013m02606 is lower case so not an IBAN start",
        ] {
            let expected = !text.starts_with("fr");
            assert_eq!(has_iban(text), expected, "{text:?}");
        }
    }

    #[test]
    fn bad_checksums_and_wrong_lengths_are_not_ibans() {
        for text in [
            "GB82 WEST 1234 5698 7654 33",
            "GB82WEST1234569876543",
            "GB82WEST123456987654321",
            "ZZ82WEST12345698765432",
            "XGB82WEST12345698765432",
            "GB82  WEST 1234 5698 7654 32",
        ] {
            assert!(!has_iban(text), "{text:?}");
        }
    }
}
