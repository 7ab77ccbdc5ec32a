//! Tokenization on write, `detokenize()`, key files and rotation (issue 6, point 5).
//!
//! A column labelled `SECURITY LABEL FOR custos ON COLUMN t.c IS 'TOKENIZE WITH DOMAIN d'`
//! stores tokens: every INSERT, UPDATE and COPY replaces the clear value by its token
//! ([`tokenize_row`], called where generated columns are computed, before them, so a
//! column generated from a tokenized one sees the token). A domain named `pan`, or labelled
//! `... DOMAIN d FORMAT CARD`, has format-preserving card-number tokens; others have text
//! tokens ([`super::tokens`]). A value that already is a valid token of the domain is kept,
//! so rows rewritten by UPDATE are not tokenized twice. (A digit string failing the Luhn
//! check is no card number: in a card domain it reads as a token and is stored as given.)
//!
//! **Keys** are in a key file outside the data directory, named by the environment variable
//! `CUSTOS_TOKEN_KEY_FILE` (or set by the server with [`set_key_file`]). Each line is
//! `<domain or *> <version> <64 hex digits>`; `#` starts a comment. A domain's key of a
//! version is its own line or else the `*` line of that version, derived per domain. New
//! tokens use the domain's highest version; tokens carry their version, so older tokens
//! still detokenize. Without a key file, writing a tokenized column fails (it never stores
//! clear text). `custos_rotate_token_key(domain)` (superuser) appends a fresh random key
//! with the next version for the domain and returns it; card domains have versions 1 to 9.
//!
//! **`detokenize(token [, domain])`** needs EXECUTE on it, which PUBLIC does not have:
//! `GRANT EXECUTE ON FUNCTION detokenize(text) TO r`. Every call, allowed or denied, is
//! recorded in the audit trail (class `DETOKENIZE`).

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::SystemTime;

use storage::catalog::{Catalog, TableDef};
use storage::types::{Row, Value};

use super::tokens;
use crate::error::{code, SqlError, SqlResult};
use crate::func::FnCtx;

/// Environment variable naming the key file.
pub const KEY_FILE_ENV: &str = "CUSTOS_TOKEN_KEY_FILE";

static KEY_FILE: Mutex<Option<PathBuf>> = Mutex::new(None);
#[allow(clippy::type_complexity)]
static KEY_CACHE: Mutex<Option<(PathBuf, SystemTime, u64, KeyRing)>> = Mutex::new(None);

/// Records a `detokenize` or key-rotation call in the audit trail (class `DETOKENIZE`):
/// the function, the domain and whether it was allowed. A denied call is recorded here and
/// again as the statement's 42501 denial.
fn audit(ctx: &FnCtx, function: &str, domain: Option<&str>, allowed: bool) -> SqlResult<()> {
    crate::audit::record_function_event(
        ctx,
        "DETOKENIZE",
        function,
        domain
            .map(|d| format!("token domain {d}"))
            .into_iter()
            .collect(),
        serde_json::json!({ "function": function, "domain": domain, "allowed": allowed }),
    )
}

/// Sets the key file (the server's `token_key_file` setting); the environment variable is
/// used when none is set.
pub fn set_key_file(path: Option<PathBuf>) {
    *KEY_FILE.lock().unwrap_or_else(|e| e.into_inner()) = path;
}

fn key_file_path() -> Option<PathBuf> {
    if let Some(p) = KEY_FILE.lock().unwrap_or_else(|e| e.into_inner()).clone() {
        return Some(p);
    }
    std::env::var_os(KEY_FILE_ENV)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// The keys of a key file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct KeyRing {
    /// (domain or `*`, version, key).
    keys: Vec<(String, u32, Vec<u8>)>,
}

impl KeyRing {
    pub fn parse(text: &str) -> SqlResult<KeyRing> {
        let mut keys = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            let bad = || {
                SqlError::new(
                    code::INVALID_PARAMETER_VALUE,
                    format!("invalid token key file: line {} is not \"<domain> <version> <64 hex digits>\"", n + 1),
                )
            };
            let parts: Vec<&str> = line.split_whitespace().collect();
            let [domain, version, hex] = parts.as_slice() else {
                return Err(bad());
            };
            let version: u32 = version.parse().map_err(|_| bad())?;
            if version == 0 || hex.len() != 64 {
                return Err(bad());
            }
            let key: Option<Vec<u8>> = (0..64)
                .step_by(2)
                .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).ok())
                .collect();
            keys.push((domain.to_string(), version, key.ok_or_else(bad)?));
        }
        Ok(KeyRing { keys })
    }

    /// The key of `domain` at `version`.
    pub fn key(&self, domain: &str, version: u32) -> Option<[u8; 32]> {
        let own = self
            .keys
            .iter()
            .find(|(d, v, _)| d == domain && *v == version);
        let any = || self.keys.iter().find(|(d, v, _)| d == "*" && *v == version);
        own.or_else(any)
            .map(|(_, _, master)| tokens::domain_key(master, domain))
    }

    /// The version new tokens of `domain` use.
    pub fn current_version(&self, domain: &str) -> Option<u32> {
        self.keys
            .iter()
            .filter(|(d, _, _)| d == domain || d == "*")
            .map(|(_, v, _)| *v)
            .max()
    }
}

fn no_key_file() -> SqlError {
    SqlError::new(
        code::OBJECT_NOT_IN_PREREQUISITE_STATE,
        "tokenization is not configured: no token key file",
    )
    .with_hint(format!(
        "Set the server's token_key_file or the environment variable {KEY_FILE_ENV}."
    ))
}

/// The key ring of the key file (read again when the file changes).
pub fn key_ring() -> SqlResult<KeyRing> {
    let path = key_file_path().ok_or_else(no_key_file)?;
    let meta = std::fs::metadata(&path).map_err(|e| {
        SqlError::new(
            code::OBJECT_NOT_IN_PREREQUISITE_STATE,
            format!("could not read token key file \"{}\": {e}", path.display()),
        )
    })?;
    let modified = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
    let mut cache = KEY_CACHE.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((p, m, len, ring)) = cache.as_ref() {
        if *p == path && *m == modified && *len == meta.len() {
            return Ok(ring.clone());
        }
    }
    let text = std::fs::read_to_string(&path).map_err(|e| {
        SqlError::new(
            code::OBJECT_NOT_IN_PREREQUISITE_STATE,
            format!("could not read token key file \"{}\": {e}", path.display()),
        )
    })?;
    let ring = KeyRing::parse(&text)?;
    *cache = Some((path, modified, meta.len(), ring.clone()));
    Ok(ring)
}

/// A token domain as a label declares it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Domain {
    pub name: String,
    pub card: bool,
}

/// Reads `TOKENIZE WITH DOMAIN name [FORMAT CARD | FORMAT TEXT]`.
pub fn parse_tokenize_label(label: &str) -> Option<Domain> {
    let words: Vec<String> = label.split_whitespace().map(str::to_string).collect();
    let upper: Vec<String> = words.iter().map(|w| w.to_ascii_uppercase()).collect();
    let u: Vec<&str> = upper.iter().map(String::as_str).collect();
    match u.as_slice() {
        ["TOKENIZE", "WITH", "DOMAIN", _] => {
            let name = words[3].to_ascii_lowercase();
            let card = name == "pan";
            Some(Domain { name, card })
        }
        ["TOKENIZE", "WITH", "DOMAIN", _, "FORMAT", f @ ("CARD" | "TEXT")] => Some(Domain {
            name: words[3].to_ascii_lowercase(),
            card: *f == "CARD",
        }),
        _ => None,
    }
    .filter(|d| {
        d.name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_')
    })
}

/// The tokenized columns of `table`: (column position, domain).
pub fn tokenized_columns(catalog: &Catalog, table: &TableDef) -> Vec<(usize, Domain)> {
    catalog
        .security_labels
        .iter()
        .filter(|l| l.provider == "custos" && l.object == table.oid && l.column > 0)
        .filter(|l| table.column(l.column).is_some_and(|c| !c.dropped))
        .filter_map(|l| Some((usize::from(l.column) - 1, parse_tokenize_label(&l.label)?)))
        .collect()
}

/// Whether `value` already is a token of `domain` under `ring`.
fn is_token(ring: &KeyRing, domain: &Domain, value: &str) -> bool {
    if domain.card {
        let Some(digits) = tokens::card_digits(value) else {
            return false;
        };
        return tokens::card_token_version(&digits)
            .is_some_and(|v| ring.key(&domain.name, v).is_some());
    }
    let Some(version) = tokens::text_token_version(value) else {
        return false;
    };
    ring.key(&domain.name, version)
        .is_some_and(|k| tokens::text_detokenize(&k, &domain.name, value).is_some())
}

/// The token of `value` in `domain`.
pub fn tokenize(ring: &KeyRing, domain: &Domain, value: &str) -> SqlResult<String> {
    if is_token(ring, domain, value) {
        return Ok(value.to_string());
    }
    let version = ring
        .current_version(&domain.name)
        .ok_or_else(|| no_domain_key(&domain.name))?;
    let key = ring
        .key(&domain.name, version)
        .ok_or_else(|| no_domain_key(&domain.name))?;
    if domain.card {
        let token = tokens::card_digits(value).and_then(|d| tokens::card_token(&key, version, &d));
        return token.ok_or_else(|| {
            SqlError::new(
                code::INVALID_TEXT_REPRESENTATION,
                format!(
                    "value for token domain \"{}\" is not a valid card number",
                    domain.name
                ),
            )
            .with_detail("Card numbers have 13 to 19 digits and pass the Luhn check.")
        });
    }
    Ok(tokens::text_token(&key, version, &domain.name, value))
}

fn no_domain_key(domain: &str) -> SqlError {
    SqlError::new(
        code::OBJECT_NOT_IN_PREREQUISITE_STATE,
        format!("the token key file has no key for token domain \"{domain}\""),
    )
}

/// Replaces the clear values of `table`'s tokenized columns in `row` by their tokens.
pub fn tokenize_row(catalog: &Catalog, table: &TableDef, row: &mut Row) -> SqlResult<()> {
    if catalog.security_labels.is_empty() {
        return Ok(());
    }
    let columns = tokenized_columns(catalog, table);
    if columns.is_empty() {
        return Ok(());
    }
    let ring = key_ring()?;
    for (position, domain) in columns {
        let Some(value) = row.get_mut(position) else {
            continue;
        };
        if let Value::Text(text) = value {
            *value = Value::Text(tokenize(&ring, &domain, text)?);
        }
    }
    Ok(())
}

/// The clear value of `token` in `domain`.
pub fn detokenize_with(ring: &KeyRing, domain: &Domain, token: &str) -> Option<String> {
    if domain.card {
        let digits = tokens::card_digits(token)?;
        let version = tokens::card_token_version(&digits)?;
        let key = ring.key(&domain.name, version)?;
        return tokens::card_detokenize(&key, &digits);
    }
    let version = tokens::text_token_version(token)?;
    let key = ring.key(&domain.name, version)?;
    tokens::text_detokenize(&key, &domain.name, token)
}

/// The token domains the catalog's labels declare.
fn declared_domains(catalog: &Catalog) -> Vec<Domain> {
    let mut out: Vec<Domain> = Vec::new();
    for l in catalog
        .security_labels
        .iter()
        .filter(|l| l.provider == "custos")
    {
        if let Some(d) = parse_tokenize_label(&l.label) {
            if !out.contains(&d) {
                out.push(d);
            }
        }
    }
    out
}

/// Whether the calling role holds EXECUTE on built-in `function` (granted explicitly:
/// PUBLIC has none), or is a superuser.
fn may_execute(ctx: &FnCtx, function: &str) -> bool {
    let catalog: &Catalog = ctx.catalog;
    if catalog.roles.is_empty() {
        return true;
    }
    let me = crate::acl::check::role_of(catalog, ctx.user);
    if crate::acl::is_superuser(catalog, me) {
        return true;
    }
    let Some(oid) = grantable_builtin_oid(function) else {
        return false;
    };
    let object = crate::pg_catalog::privileges::Object {
        class: crate::pg_catalog::privileges::ObjectClass::Function,
        oid,
        column: 0,
        owner: crate::pg_catalog::BOOTSTRAP_SUPERUSER_OID,
        public_default: &[],
    };
    crate::pg_catalog::privileges::role_has_privilege(
        catalog,
        ctx.user,
        me,
        &object,
        &[crate::pg_catalog::privileges::Wanted {
            privilege: "EXECUTE",
            with_grant_option: false,
        }],
    )
}

/// The built-in functions whose EXECUTE is granted explicitly (none to PUBLIC), which GRANT
/// and REVOKE accept: the fixed OID their grants name (stable across versions, unlike the
/// OIDs `pg_proc` numbers built-ins with; in the unused range 8400–8999 of `oids.rs`).
pub fn grantable_builtin_oid(name: &str) -> Option<storage::catalog::Oid> {
    match name {
        "detokenize" => Some(8_400),
        "custos_rotate_token_key" => Some(8_401),
        _ => None,
    }
}

fn permission_denied(function: &str) -> SqlError {
    crate::acl::insufficient_privilege(format!("permission denied for function {function}"))
}

/// `detokenize(token [, domain])`.
pub fn detokenize(ctx: &FnCtx, args: &[Value]) -> SqlResult<Value> {
    let token = super::args::text(args, 0)?.to_string();
    let domain = match args.get(1) {
        Some(Value::Text(d)) => Some(d.to_ascii_lowercase()),
        _ => None,
    };
    let allowed = may_execute(ctx, "detokenize");
    audit(ctx, "detokenize", domain.as_deref(), allowed)?;
    if !allowed {
        return Err(permission_denied("detokenize"));
    }
    let declared = declared_domains(ctx.catalog);
    let candidates: Vec<Domain> = match &domain {
        Some(name) => match declared.iter().find(|d| &d.name == name) {
            Some(d) => vec![d.clone()],
            None => vec![Domain {
                name: name.clone(),
                card: name == "pan",
            }],
        },
        None => declared,
    };
    let ring = key_ring()?;
    let card_domains = candidates.iter().filter(|d| d.card).count();
    for d in &candidates {
        // A card token decrypts under any card domain's key: only an unambiguous one.
        if d.card && card_domains > 1 && domain.is_none() {
            continue;
        }
        if let Some(clear) = detokenize_with(&ring, d, &token) {
            return Ok(Value::Text(clear));
        }
    }
    if domain.is_none() && card_domains > 1 && tokens::card_digits(&token).is_some() {
        return Err(SqlError::new(
            code::INVALID_PARAMETER_VALUE,
            "card-number token is ambiguous: give its token domain",
        ));
    }
    Err(SqlError::new(
        code::INVALID_PARAMETER_VALUE,
        "value is not a token of any known token domain",
    ))
}

/// `custos_rotate_token_key(domain) → int`: a new key version for `domain`, appended to the
/// key file (superuser or EXECUTE granted).
pub fn rotate_token_key(ctx: &FnCtx, args: &[Value]) -> SqlResult<Value> {
    let domain = super::args::text(args, 0)?.to_ascii_lowercase();
    let allowed = may_execute(ctx, "custos_rotate_token_key");
    audit(ctx, "custos_rotate_token_key", Some(&domain), allowed)?;
    if !allowed {
        return Err(permission_denied("custos_rotate_token_key"));
    }
    if domain.is_empty()
        || !domain
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        return Err(SqlError::new(
            code::INVALID_PARAMETER_VALUE,
            format!("invalid token domain name \"{domain}\""),
        ));
    }
    let ring = key_ring()?;
    let card = declared_domains(ctx.catalog)
        .iter()
        .any(|d| d.name == domain && d.card)
        || domain == "pan";
    let next = ring.current_version(&domain).unwrap_or(0) + 1;
    if card && next > tokens::MAX_CARD_VERSION {
        return Err(SqlError::new(
            code::PROGRAM_LIMIT_EXCEEDED,
            format!(
                "card token domain \"{domain}\" has used all {} key versions",
                tokens::MAX_CARD_VERSION
            ),
        ));
    }
    let mut key = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::thread_rng(), &mut key);
    let hex: String = key.iter().map(|b| format!("{b:02x}")).collect();
    let path = key_file_path().ok_or_else(no_key_file)?;
    use std::io::Write;
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .and_then(|mut f| {
            f.write_all(format!("\n{domain} {next} {hex}\n").as_bytes())?;
            f.sync_all()?;
            Ok(f)
        })
        .map_err(|e| {
            SqlError::new(
                code::IO_ERROR,
                format!("could not write token key file \"{}\": {e}", path.display()),
            )
        })?;
    let _ = file.flush();
    Ok(Value::Int4(next as i32))
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEYS: &str =
        "# test keys\n* 1 0101010101010101010101010101010101010101010101010101010101010101\n";

    #[test]
    fn key_files_parse_and_rotation_keeps_old_tokens() {
        let ring = KeyRing::parse(KEYS).unwrap();
        assert_eq!(ring.current_version("pan"), Some(1));
        assert!(KeyRing::parse("* 1 abc").is_err());
        assert!(KeyRing::parse("* x 0101").is_err());
        let pan = Domain {
            name: "pan".into(),
            card: true,
        };
        let email = Domain {
            name: "email".into(),
            card: false,
        };
        let t1 = tokenize(&ring, &pan, "4111111111111111").unwrap();
        let e1 = tokenize(&ring, &email, "a@b.c").unwrap();
        // Already a token: kept.
        assert_eq!(tokenize(&ring, &pan, &t1).unwrap(), t1);
        assert_eq!(tokenize(&ring, &email, &e1).unwrap(), e1);
        assert_eq!(
            tokenize(&ring, &pan, "4111-1111-1111").unwrap_err().code,
            "22P02"
        );
        assert_eq!(
            tokenize(&ring, &pan, "4111x11111111111").unwrap_err().code,
            "22P02"
        );
        // A Luhn-failing number is no card: it reads as a token (of the version its
        // free digit names) and is stored as it is.
        assert_eq!(
            tokenize(&ring, &pan, "4111111111111112").unwrap(),
            "4111111111111112"
        );
        // Rotation: a second version for pan only.
        let rotated = KeyRing::parse(&format!(
            "{KEYS}pan 2 0202020202020202020202020202020202020202020202020202020202020202\n"
        ))
        .unwrap();
        assert_eq!(rotated.current_version("pan"), Some(2));
        assert_eq!(rotated.current_version("email"), Some(1));
        let t2 = tokenize(&rotated, &pan, "4111111111111111").unwrap();
        assert_ne!(t1, t2);
        assert_eq!(
            detokenize_with(&rotated, &pan, &t1).as_deref(),
            Some("4111111111111111")
        );
        assert_eq!(
            detokenize_with(&rotated, &pan, &t2).as_deref(),
            Some("4111111111111111")
        );
        assert_eq!(detokenize_with(&ring, &pan, &t2), None);
        assert_eq!(
            detokenize_with(&rotated, &email, &e1).as_deref(),
            Some("a@b.c")
        );
    }

    #[test]
    fn tokenize_labels_parse() {
        assert_eq!(
            parse_tokenize_label("TOKENIZE WITH DOMAIN pan"),
            Some(Domain {
                name: "pan".into(),
                card: true
            })
        );
        assert_eq!(
            parse_tokenize_label("tokenize with domain Acct format card"),
            Some(Domain {
                name: "acct".into(),
                card: true
            })
        );
        assert_eq!(
            parse_tokenize_label("TOKENIZE WITH DOMAIN email"),
            Some(Domain {
                name: "email".into(),
                card: false
            })
        );
        assert_eq!(parse_tokenize_label("TOKENIZE WITH DOMAIN a-b"), None);
        assert_eq!(parse_tokenize_label("MASKED"), None);
    }
}
