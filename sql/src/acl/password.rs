//! Passwords as the catalog keeps them: SCRAM-SHA-256 verifiers only, in PostgreSQL's text
//! form `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>` (base64). A clear-text
//! password given to CREATE / ALTER ROLE is hashed on receipt with a fresh 16-byte salt and
//! 4096 iterations (PostgreSQL's defaults) and never stored; a string that already is a
//! verifier is stored as given, as PostgreSQL does. MD5 verifiers are refused: custos
//! authenticates with SCRAM only.
//!
//! The password bytes hashed follow SASLprep's mapping as the server's SCRAM exchange applies
//! it (`server/src/auth/scram.rs`), so that what is stored here is what a login proves.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::error::{code, SqlError, SqlResult};

const ITERATIONS: u32 = 4096;
const SALT_LENGTH: usize = 16;
/// The most iterations a verifier given as text may ask for (a login must not burn seconds).
const MAX_ITERATIONS: u32 = 10_000_000;

type HmacSha256 = Hmac<Sha256>;

fn hmac(key: &[u8], data: &[u8]) -> [u8; 32] {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC accepts keys of any length");
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// SASLprep's mapping steps (non-ASCII spaces to a space, "mapped to nothing" removed).
fn prepare(password: &str) -> Vec<u8> {
    if password.is_ascii() {
        return password.as_bytes().to_vec();
    }
    let mut out = String::with_capacity(password.len());
    for c in password.chars() {
        match c {
            '\u{00A0}'
            | '\u{1680}'
            | '\u{2000}'..='\u{200B}'
            | '\u{202F}'
            | '\u{205F}'
            | '\u{3000}' => out.push(' '),
            '\u{00AD}'
            | '\u{034F}'
            | '\u{1806}'
            | '\u{180B}'..='\u{180D}'
            | '\u{200C}'
            | '\u{200D}'
            | '\u{2060}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{FEFF}' => {}
            other => out.push(other),
        }
    }
    out.into_bytes()
}

/// The verifier of `password` with `salt` and `iterations`.
pub fn verifier_with_salt(password: &str, salt: &[u8], iterations: u32) -> String {
    let password = prepare(password);
    let mut mac = HmacSha256::new_from_slice(&password).expect("HMAC accepts keys of any length");
    mac.update(salt);
    mac.update(&1u32.to_be_bytes());
    let mut u: [u8; 32] = mac.finalize().into_bytes().into();
    let mut salted = u;
    for _ in 1..iterations {
        u = hmac(&password, &u);
        for (s, x) in salted.iter_mut().zip(u.iter()) {
            *s ^= x;
        }
    }
    let client_key = hmac(&salted, b"Client Key");
    let stored_key: [u8; 32] = Sha256::digest(client_key).into();
    let server_key = hmac(&salted, b"Server Key");
    format!(
        "SCRAM-SHA-256${iterations}:{}${}:{}",
        BASE64.encode(salt),
        BASE64.encode(stored_key),
        BASE64.encode(server_key)
    )
}

/// Whether `text` is a well-formed SCRAM-SHA-256 verifier.
pub fn is_scram_verifier(text: &str) -> bool {
    let Some(rest) = text.strip_prefix("SCRAM-SHA-256$") else {
        return false;
    };
    let Some((iterations_and_salt, keys)) = rest.split_once('$') else {
        return false;
    };
    let Some((iterations, salt)) = iterations_and_salt.split_once(':') else {
        return false;
    };
    let Some((stored, server)) = keys.split_once(':') else {
        return false;
    };
    let key_ok = |k: &str| BASE64.decode(k).is_ok_and(|k| k.len() == 32);
    iterations
        .parse::<u32>()
        .is_ok_and(|i| i > 0 && i <= MAX_ITERATIONS)
        && BASE64.decode(salt).is_ok_and(|s| !s.is_empty())
        && key_ok(stored)
        && key_ok(server)
}

/// What to store for a password given to CREATE / ALTER ROLE: `None` for an empty one (which
/// PostgreSQL clears with a notice, returned as the second value).
pub fn stored_password(given: &str) -> SqlResult<(Option<String>, Option<&'static str>)> {
    if given.is_empty() {
        return Ok((
            None,
            Some("empty string is not a valid password, clearing password"),
        ));
    }
    if given.starts_with("SCRAM-SHA-256$") {
        if is_scram_verifier(given) {
            return Ok((Some(given.to_string()), None));
        }
        // Not a verifier after all: a password that happens to start like one.
    } else if given.len() == 35
        && given.starts_with("md5")
        && given[3..].bytes().all(|b| b.is_ascii_hexdigit())
    {
        return Err(SqlError::new(
            code::FEATURE_NOT_SUPPORTED,
            "MD5 password verifiers are not supported",
        )
        .with_hint("Give the password in clear text or as a SCRAM-SHA-256 verifier."));
    }
    let mut salt = [0u8; SALT_LENGTH];
    rand::thread_rng().fill_bytes(&mut salt);
    Ok((Some(verifier_with_salt(given, &salt, ITERATIONS)), None))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verifier_matches_postgres_for_a_known_salt() {
        // The RFC 7677 test vector's password and salt ("pencil", W22ZaJ0SNY7soEsUEjb6gQ==).
        let salt = BASE64.decode("W22ZaJ0SNY7soEsUEjb6gQ==").unwrap();
        let v = verifier_with_salt("pencil", &salt, 4096);
        assert_eq!(
            v,
            "SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$\
             WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU="
        );
        assert!(is_scram_verifier(&v));
    }

    #[test]
    fn clear_passwords_are_hashed_and_verifiers_kept() {
        let (stored, notice) = stored_password("secret").unwrap();
        let stored = stored.unwrap();
        assert!(is_scram_verifier(&stored));
        assert!(!stored.contains("secret"));
        assert!(notice.is_none());
        assert_eq!(
            stored_password(&stored).unwrap().0.as_deref(),
            Some(stored.as_str())
        );
        assert_eq!(stored_password("").unwrap().0, None);
        assert!(stored_password("md5c4ca4238a0b923820dcc509a6f75849b").is_err());
        // Looks like a verifier but is not one: hashed like any password.
        let (odd, _) = stored_password("SCRAM-SHA-256$nope").unwrap();
        assert_ne!(odd.as_deref(), Some("SCRAM-SHA-256$nope"));
    }
}
