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

/// PostgreSQL's default `scram_iterations`.
pub const DEFAULT_ITERATIONS: u32 = 4096;
/// Salt length PostgreSQL uses for new verifiers (`SCRAM_DEFAULT_SALT_LEN`).
pub const SALT_LENGTH: usize = 16;
/// The most iterations a verifier may ask for (a login must not burn seconds of CPU; verifiers
/// given as text or read from a corrupted catalog entry are refused above it).
const MAX_ITERATIONS: u32 = 10_000_000;

type HmacSha256 = Hmac<Sha256>;

/// HMAC-SHA-256 of `data` under `key`.
pub fn hmac(key: &[u8], data: &[u8]) -> [u8; 32] {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC accepts keys of any length");
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// SHA-256 of `data`.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

/// `Hi()` of RFC 5802: PBKDF2-HMAC-SHA-256 with one output block.
pub fn salted_password(password: &[u8], salt: &[u8], iterations: u32) -> [u8; 32] {
    let mut mac = HmacSha256::new_from_slice(password).expect("HMAC accepts keys of any length");
    mac.update(salt);
    mac.update(&1u32.to_be_bytes());
    let mut u: [u8; 32] = mac.finalize().into_bytes().into();
    let mut result = u;
    for _ in 1..iterations {
        u = hmac(password, &u);
        for (r, x) in result.iter_mut().zip(u.iter()) {
            *r ^= x;
        }
    }
    result
}

/// The password bytes SCRAM hashes: SASLprep's mapping steps (RFC 4013; no NFKC
/// normalisation), the identity for ASCII passwords.
pub fn prepare_password(password: &str) -> Vec<u8> {
    if password.is_ascii() {
        return password.as_bytes().to_vec();
    }
    let mut out = String::with_capacity(password.len());
    for c in password.chars() {
        match c {
            // RFC 3454 C.1.2: non-ASCII space characters map to SPACE.
            '\u{00A0}'
            | '\u{1680}'
            | '\u{2000}'..='\u{200B}'
            | '\u{202F}'
            | '\u{205F}'
            | '\u{3000}' => out.push(' '),
            // RFC 3454 B.1: commonly mapped to nothing.
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

/// A parsed SCRAM-SHA-256 verifier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verifier {
    pub iterations: u32,
    pub salt: Vec<u8>,
    pub stored_key: [u8; 32],
    pub server_key: [u8; 32],
}

impl Verifier {
    /// The verifier of `password` with `salt`.
    pub fn from_password(password: &str, salt: &[u8], iterations: u32) -> Verifier {
        let salted = salted_password(&prepare_password(password), salt, iterations);
        let client_key = hmac(&salted, b"Client Key");
        Verifier {
            iterations,
            salt: salt.to_vec(),
            stored_key: sha256(&client_key),
            server_key: hmac(&salted, b"Server Key"),
        }
    }

    /// A verifier with a fresh random salt and the default iteration count.
    pub fn generate(password: &str) -> Verifier {
        let mut salt = [0u8; SALT_LENGTH];
        rand::thread_rng().fill_bytes(&mut salt);
        Verifier::from_password(password, &salt, DEFAULT_ITERATIONS)
    }

    /// Reads PostgreSQL's text form; `None` when it is not a SCRAM-SHA-256 verifier.
    pub fn parse(text: &str) -> Option<Verifier> {
        let rest = text.strip_prefix("SCRAM-SHA-256$")?;
        let (iterations_and_salt, keys) = rest.split_once('$')?;
        let (iterations, salt) = iterations_and_salt.split_once(':')?;
        let (stored, server) = keys.split_once(':')?;
        let iterations: u32 = iterations.parse().ok()?;
        if iterations == 0 || iterations > MAX_ITERATIONS {
            return None;
        }
        Some(Verifier {
            iterations,
            salt: BASE64.decode(salt).ok()?,
            stored_key: BASE64.decode(stored).ok()?.try_into().ok()?,
            server_key: BASE64.decode(server).ok()?.try_into().ok()?,
        })
    }

    /// PostgreSQL's text form.
    pub fn encode(&self) -> String {
        format!(
            "SCRAM-SHA-256${}:{}${}:{}",
            self.iterations,
            BASE64.encode(&self.salt),
            BASE64.encode(self.stored_key),
            BASE64.encode(self.server_key)
        )
    }
}

/// The verifier of `password` with `salt` and `iterations`, in text form.
pub fn verifier_with_salt(password: &str, salt: &[u8], iterations: u32) -> String {
    Verifier::from_password(password, salt, iterations).encode()
}

/// Whether `text` is a well-formed SCRAM-SHA-256 verifier.
pub fn is_scram_verifier(text: &str) -> bool {
    Verifier::parse(text).is_some_and(|v| !v.salt.is_empty())
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
    Ok((
        Some(verifier_with_salt(given, &salt, DEFAULT_ITERATIONS)),
        None,
    ))
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
