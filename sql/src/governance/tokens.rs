//! Token constructions (issue 6, point 5), pure functions of a key:
//!
//! * **text tokens**, deterministic and reversible (SIV-like over HMAC-SHA-256): the tag is
//!   `HMAC(k_mac, domain ‖ clear)` cut to 16 bytes, the cipher text is the clear text XORed
//!   with the keystream `HMAC(k_enc, tag ‖ counter)`. The token is
//!   `tk<version>_<hex(tag ‖ cipher)>`: the same clear text, domain and key give the same
//!   token (so equality joins and GROUP BY work on tokens), the key version is in the token
//!   (old tokens detokenize after a rotation), and detokenizing checks the tag, so a forged
//!   or altered token is refused;
//! * **card-number tokens**, format preserving: the same number of digits, the last four
//!   kept, and the token *fails* the Luhn check, so it is never taken for a card. The
//!   leading digits but the last of them (`n - 5` digits) go through a keyed Feistel
//!   network (10 rounds, HMAC-SHA-256 round function, the last four and the length as
//!   tweak). The remaining digit of a Luhn-valid card is implied by the others, so the
//!   token spends that position on the key version: of the ten digits there, the one that
//!   would make the token Luhn-valid is never used, and the version is the distance from
//!   it (versions 1 to 9). Detokenizing inverts the network and recomputes the implied
//!   digit. Only Luhn-valid numbers of 13 to 19 digits are tokenized.
//!
//! Keys are 32 bytes; [`domain_key`] derives a domain's key from a master key, so each
//! domain has its own tokens.

use crate::acl::password::hmac;

/// Tag length of text tokens (bytes).
const TAG_LENGTH: usize = 16;
/// Feistel rounds of card-number tokens.
const ROUNDS: u32 = 10;
/// Card versions fit one digit position: 1..=9.
pub const MAX_CARD_VERSION: u32 = 9;

/// The key of `domain` under master key `master`.
pub fn domain_key(master: &[u8], domain: &str) -> [u8; 32] {
    hmac(master, format!("custos-token-domain\0{domain}").as_bytes())
}

fn subkey(key: &[u8; 32], purpose: &str) -> [u8; 32] {
    hmac(key, purpose.as_bytes())
}

fn keystream_xor(key: &[u8; 32], tag: &[u8], data: &mut [u8]) {
    let k_enc = subkey(key, "enc");
    for (block, chunk) in data.chunks_mut(32).enumerate() {
        let mut input = tag.to_vec();
        input.extend_from_slice(&(block as u64).to_be_bytes());
        let stream = hmac(&k_enc, &input);
        for (b, s) in chunk.iter_mut().zip(stream.iter()) {
            *b ^= s;
        }
    }
}

fn text_tag(key: &[u8; 32], domain: &str, clear: &[u8]) -> [u8; TAG_LENGTH] {
    let k_mac = subkey(key, "mac");
    let mut input = domain.as_bytes().to_vec();
    input.push(0);
    input.extend_from_slice(clear);
    let full = hmac(&k_mac, &input);
    let mut tag = [0u8; TAG_LENGTH];
    tag.copy_from_slice(&full[..TAG_LENGTH]);
    tag
}

/// The text token of `clear` in `domain` under `key` (version `version`).
pub fn text_token(key: &[u8; 32], version: u32, domain: &str, clear: &str) -> String {
    let tag = text_tag(key, domain, clear.as_bytes());
    let mut body = clear.as_bytes().to_vec();
    keystream_xor(key, &tag, &mut body);
    let mut out = format!("tk{version}_");
    for b in tag.iter().chain(body.iter()) {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// The key version a text token names, if it has the token form.
pub fn text_token_version(token: &str) -> Option<u32> {
    let rest = token.strip_prefix("tk")?;
    let (version, hex) = rest.split_once('_')?;
    if hex.len() < TAG_LENGTH * 2 || hex.len() % 2 != 0 {
        return None;
    }
    version.parse().ok()
}

/// The clear text of a text token, when `key` made it (the tag checks).
pub fn text_detokenize(key: &[u8; 32], domain: &str, token: &str) -> Option<String> {
    text_token_version(token)?;
    let hex = token.split_once('_')?.1;
    let bytes: Option<Vec<u8>> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect();
    let bytes = bytes?;
    let (tag, body) = bytes.split_at(TAG_LENGTH);
    let mut clear = body.to_vec();
    keystream_xor(key, tag, &mut clear);
    if text_tag(key, domain, &clear) != tag {
        return None;
    }
    String::from_utf8(clear).ok()
}

/// Whether the digits pass the Luhn check.
pub fn luhn_valid(digits: &[u8]) -> bool {
    luhn_sum(digits).is_multiple_of(10)
}

fn luhn_sum(digits: &[u8]) -> u32 {
    digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, d)| {
            let d = u32::from(*d);
            if i % 2 == 1 {
                let x = d * 2;
                if x > 9 {
                    x - 9
                } else {
                    x
                }
            } else {
                d
            }
        })
        .sum()
}

/// The digit at `position` that makes `digits` Luhn-valid.
fn luhn_completing_digit(digits: &[u8], position: usize) -> u8 {
    let mut d = digits.to_vec();
    for candidate in 0..10u8 {
        d[position] = candidate;
        if luhn_valid(&d) {
            return candidate;
        }
    }
    0
}

/// The digits of `text` when it is a card number: digits with optional spaces or dashes,
/// 13 to 19 digits.
pub fn card_digits(text: &str) -> Option<Vec<u8>> {
    let mut digits = Vec::new();
    for c in text.chars() {
        match c {
            '0'..='9' => digits.push(c as u8 - b'0'),
            ' ' | '-' => {}
            _ => return None,
        }
    }
    (13..=19).contains(&digits.len()).then_some(digits)
}

fn to_number(digits: &[u8]) -> u64 {
    digits.iter().fold(0, |n, d| n * 10 + u64::from(*d))
}

fn to_digits(mut n: u64, len: usize) -> Vec<u8> {
    let mut out = vec![0u8; len];
    for slot in out.iter_mut().rev() {
        *slot = (n % 10) as u8;
        n /= 10;
    }
    out
}

fn round_value(key: &[u8; 32], tweak: &[u8], round: u32, half: u64, modulus: u64) -> u64 {
    let mut input = tweak.to_vec();
    input.extend_from_slice(&round.to_be_bytes());
    input.extend_from_slice(&half.to_be_bytes());
    let h = hmac(key, &input);
    let mut first = [0u8; 16];
    first.copy_from_slice(&h[..16]);
    (u128::from_be_bytes(first) % u128::from(modulus)) as u64
}

/// The keyed permutation of `digits` (at most 18 of them) under `tweak`.
fn feistel(key: &[u8; 32], tweak: &[u8], digits: &[u8], decrypt: bool) -> Vec<u8> {
    let u = digits.len().div_ceil(2);
    let v = digits.len() - u;
    let (mu, mv) = (10u64.pow(u as u32), 10u64.pow(v as u32));
    let mut a = to_number(&digits[..u]);
    let mut b = to_number(&digits[u..]);
    let k = subkey(key, "card");
    if !decrypt {
        for round in 0..ROUNDS {
            if round % 2 == 0 {
                a = (a + round_value(&k, tweak, round, b, mu)) % mu;
            } else {
                b = (b + round_value(&k, tweak, round, a, mv)) % mv;
            }
        }
    } else {
        for round in (0..ROUNDS).rev() {
            if round % 2 == 0 {
                a = (a + mu - round_value(&k, tweak, round, b, mu)) % mu;
            } else {
                b = (b + mv - round_value(&k, tweak, round, a, mv)) % mv;
            }
        }
    }
    let mut out = to_digits(a, u);
    out.extend(to_digits(b, v));
    out
}

fn card_tweak(digits: &[u8]) -> Vec<u8> {
    let mut tweak = b"custos-card\0".to_vec();
    tweak.push(digits.len() as u8);
    tweak.extend_from_slice(&digits[digits.len() - 4..]);
    tweak
}

/// The card-number token of a Luhn-valid card number `digits` (13 to 19 digits) under key
/// version `version` (1 to 9); `None` for anything else.
pub fn card_token(key: &[u8; 32], version: u32, digits: &[u8]) -> Option<String> {
    if !(13..=19).contains(&digits.len())
        || !luhn_valid(digits)
        || !(1..=MAX_CARD_VERSION).contains(&version)
    {
        return None;
    }
    let n = digits.len();
    let free = n - 5;
    let tweak = card_tweak(digits);
    let mut token = feistel(key, &tweak, &digits[..free], false);
    token.push(0);
    token.extend_from_slice(&digits[n - 4..]);
    let valid = luhn_completing_digit(&token, free);
    token[free] = ((u32::from(valid) + version) % 10) as u8;
    debug_assert!(!luhn_valid(&token));
    Some(token.iter().map(|d| char::from(b'0' + d)).collect())
}

/// The key version a card-number token carries (1 to 9), if `digits` can be one (it fails
/// the Luhn check).
pub fn card_token_version(digits: &[u8]) -> Option<u32> {
    if !(13..=19).contains(&digits.len()) || luhn_valid(digits) {
        return None;
    }
    let free = digits.len() - 5;
    let valid = luhn_completing_digit(digits, free);
    Some((u32::from(digits[free]) + 10 - u32::from(valid)) % 10)
}

/// The card number a card-number token stands for (under the key of its version).
pub fn card_detokenize(key: &[u8; 32], digits: &[u8]) -> Option<String> {
    card_token_version(digits)?;
    let n = digits.len();
    let free = n - 5;
    let tweak = card_tweak(digits);
    let mut clear = feistel(key, &tweak, &digits[..free], true);
    clear.push(0);
    clear.extend_from_slice(&digits[n - 4..]);
    clear[free] = luhn_completing_digit(&clear, free);
    Some(clear.iter().map(|d| char::from(b'0' + d)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: u8) -> [u8; 32] {
        domain_key(&[n; 32], "pan")
    }

    fn digits(s: &str) -> Vec<u8> {
        card_digits(s).unwrap()
    }

    #[test]
    fn text_tokens_are_deterministic_reversible_and_domain_scoped() {
        let k = key(1);
        let a = text_token(&k, 1, "email", "alice@example.com");
        assert_eq!(a, text_token(&k, 1, "email", "alice@example.com"));
        assert_ne!(a, text_token(&k, 1, "email", "bob@example.com"));
        assert_ne!(a, text_token(&k, 1, "crm", "alice@example.com"));
        assert_ne!(a, text_token(&key(2), 1, "email", "alice@example.com"));
        assert!(a.starts_with("tk1_"));
        assert!(!a.contains("alice"));
        assert_eq!(
            text_detokenize(&k, "email", &a).as_deref(),
            Some("alice@example.com")
        );
        // Wrong key, wrong domain, altered token: refused.
        assert_eq!(text_detokenize(&key(2), "email", &a), None);
        assert_eq!(text_detokenize(&k, "crm", &a), None);
        let mut altered = a.clone();
        let last = altered.pop().unwrap();
        altered.push(if last == '0' { '1' } else { '0' });
        assert_eq!(text_detokenize(&k, "email", &altered), None);
        assert_eq!(text_token_version("tk7_00"), None);
        assert_eq!(text_token_version(&text_token(&k, 7, "d", "")), Some(7));
        assert_eq!(
            text_detokenize(&k, "d", &text_token(&k, 7, "d", "")).as_deref(),
            Some("")
        );
        assert_eq!(text_detokenize(&k, "email", "tk1_zz"), None);
        assert_eq!(text_detokenize(&k, "email", "not a token"), None);
    }

    #[test]
    fn luhn_check() {
        assert!(luhn_valid(&digits("4111 1111 1111 1111")));
        assert!(luhn_valid(&digits("5555-5555-5555-4444")));
        assert!(luhn_valid(&digits("378282246310005")));
        assert!(!luhn_valid(&digits("4111111111111112")));
        assert_eq!(card_digits("4111x111111111111"), None);
        assert_eq!(card_digits("411111111111"), None);
    }

    #[test]
    fn card_tokens_keep_length_and_last_four_fail_luhn_and_round_trip() {
        let k = key(1);
        let cards = [
            "4111111111111111",
            "5555555555554444",
            "378282246310005",
            "6011111111111117",
            "4000056655665556",
            "3056930009020004",
            "4222222222222",
            "6011000990139424",
            "4111111111111111110",
            "6250941006528599",
        ];
        for card in cards {
            let d = digits(card);
            for version in 1..=MAX_CARD_VERSION {
                let token = card_token(&k, version, &d).unwrap();
                assert_eq!(token.len(), card.len(), "{card}");
                assert_eq!(&token[token.len() - 4..], &card[card.len() - 4..]);
                assert_ne!(token, card);
                let t = digits(&token);
                assert!(!luhn_valid(&t), "{token} passes Luhn");
                assert_eq!(card_token_version(&t), Some(version));
                assert_eq!(card_detokenize(&k, &t).as_deref(), Some(card));
                // Deterministic.
                assert_eq!(card_token(&k, version, &d).unwrap(), token);
            }
        }
        // Different keys give different tokens; invalid cards are not tokenized.
        let d = digits("4111111111111111");
        assert_ne!(card_token(&k, 1, &d), card_token(&key(2), 1, &d));
        assert_eq!(card_token(&k, 1, &digits("4111111111111112")), None);
        assert_eq!(card_token(&k, 0, &d), None);
        assert_eq!(card_token(&k, 10, &d), None);
        // A valid card is not a token.
        assert_eq!(card_token_version(&d), None);
    }

    #[test]
    fn feistel_is_a_permutation() {
        let k = key(3);
        let tweak = b"t";
        let mut seen = std::collections::HashSet::new();
        for n in 0..1000u64 {
            let d = to_digits(n, 3);
            let e = feistel(&k, tweak, &d, false);
            assert_eq!(feistel(&k, tweak, &e, true), d);
            seen.insert(e);
        }
        assert_eq!(seen.len(), 1000);
    }
}
