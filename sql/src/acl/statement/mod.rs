//! The grammar of the statements about roles and privileges, read from the statement text
//! with sqlparser's tokenizer (sqlparser 0.64 reads only part of PostgreSQL's forms):
//!
//! * `CREATE ROLE | USER | GROUP name [WITH] option...`, `ALTER ROLE | USER | GROUP`
//!   (options, `RENAME TO`, `SET` / `RESET` of a setting, `ADD USER` / `DROP USER`),
//!   `DROP ROLE | USER | GROUP [IF EXISTS] name, ...`;
//! * `GRANT role, ... TO grantee, ... [WITH ADMIN OPTION] [GRANTED BY r]` and its REVOKE;
//! * `GRANT privileges ON objects TO grantee, ... [WITH GRANT OPTION] [GRANTED BY r]` and its
//!   REVOKE (`GRANT OPTION FOR`, `CASCADE | RESTRICT`), for tables (with column lists),
//!   sequences, schemas, functions, the database, and `ALL ... IN SCHEMA`;
//! * `SET [SESSION | LOCAL] ROLE name | NONE`, `RESET ROLE`,
//!   `SET [SESSION | LOCAL] SESSION AUTHORIZATION name | DEFAULT`,
//!   `RESET SESSION AUTHORIZATION`.
//!
//! [`is_acl_statement`] recognises these by their first words without tokenizing the whole
//! text (it runs for every statement); [`parse`] reads one, with PostgreSQL's 42601 errors.

mod cursor;
mod grant_revoke;
mod roles;
#[cfg(test)]
mod tests;

use crate::error::SqlResult;

use cursor::Cursor;
use grant_revoke::{grant, revoke};
use roles::{alter_role, create_role};

/// Which keyword created a role: `USER` implies LOGIN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoleKeyword {
    Role,
    User,
    Group,
}

/// A role as a grantee or an ALTER target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoleSpec {
    Name(String),
    Public,
    CurrentUser,
    SessionUser,
}

/// One option of CREATE / ALTER ROLE.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoleOption {
    /// SUPERUSER, CREATEDB, CREATEROLE, INHERIT, LOGIN, REPLICATION, BYPASSRLS (or NO...).
    Flag(&'static str, bool),
    ConnectionLimit(i32),
    /// `PASSWORD 'text'` (clear text or a verifier) or `PASSWORD NULL`.
    Password(Option<String>),
    ValidUntil(String),
    /// IN ROLE / IN GROUP: the new role becomes a member of these.
    InRole(Vec<String>),
    /// ROLE / USER: these become members of the new role.
    Members(Vec<String>),
    /// ADMIN: these become members WITH ADMIN OPTION.
    Admins(Vec<String>),
}

/// What ALTER ROLE does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AlterRole {
    Options(Vec<RoleOption>),
    Rename(String),
    /// `SET name TO value` (None: DEFAULT) and `RESET name` (None name: RESET ALL).
    Set(String, Option<String>),
    Reset(Option<String>),
    /// ALTER GROUP g ADD USER / DROP USER.
    AddMembers(Vec<String>),
    DropMembers(Vec<String>),
}

/// A privilege with an optional column list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrivilegeItem {
    /// Upper-case name (`SELECT`, `TEMPORARY`...) or `ALL`.
    pub name: String,
    pub columns: Vec<String>,
}

/// The objects of GRANT / REVOKE ... ON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Objects {
    /// `[TABLE] name, ...` (tables, views, sequences as relations).
    Tables(Vec<Vec<String>>),
    Sequences(Vec<Vec<String>>),
    Schemas(Vec<String>),
    Databases(Vec<String>),
    /// Function signatures as written: qualified name and the argument list text.
    Functions(Vec<(Vec<String>, Option<String>)>),
    AllTablesInSchema(Vec<String>),
    AllSequencesInSchema(Vec<String>),
    AllFunctionsInSchema(Vec<String>),
}

/// A statement of this module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AclStatement {
    CreateRole {
        keyword: RoleKeyword,
        name: String,
        options: Vec<RoleOption>,
    },
    AlterRole {
        role: RoleSpec,
        action: AlterRole,
    },
    DropRole {
        names: Vec<String>,
        if_exists: bool,
    },
    GrantRole {
        roles: Vec<String>,
        grantees: Vec<RoleSpec>,
        admin_option: bool,
        granted_by: Option<RoleSpec>,
    },
    RevokeRole {
        roles: Vec<String>,
        grantees: Vec<RoleSpec>,
        admin_option_only: bool,
        cascade: bool,
    },
    GrantPrivileges {
        privileges: Vec<PrivilegeItem>,
        objects: Objects,
        grantees: Vec<RoleSpec>,
        grant_option: bool,
        granted_by: Option<RoleSpec>,
    },
    RevokePrivileges {
        privileges: Vec<PrivilegeItem>,
        objects: Objects,
        grantees: Vec<RoleSpec>,
        grant_option_only: bool,
        cascade: bool,
    },
    /// `SET ROLE name` (None: NONE) / `RESET ROLE` (None, not local).
    SetRole {
        role: Option<String>,
        local: bool,
    },
    /// `SET SESSION AUTHORIZATION name` (None: DEFAULT, and RESET).
    SetSessionAuthorization {
        user: Option<String>,
        local: bool,
    },
}

/// Up to `n` leading words of `text`, upper-cased, skipping whitespace and comments, without
/// tokenizing the rest.
pub(crate) fn leading_words(text: &str, n: usize) -> Vec<String> {
    let bytes = text.as_bytes();
    let mut words = Vec::new();
    let mut i = 0;
    while words.len() < n && i < bytes.len() {
        let b = bytes[i];
        if b.is_ascii_whitespace() {
            i += 1;
        } else if bytes[i..].starts_with(b"--") {
            while i < bytes.len() && bytes[i] != b'\n' {
                i += 1;
            }
        } else if bytes[i..].starts_with(b"/*") {
            match text[i + 2..].find("*/") {
                Some(end) => i += end + 4,
                None => break,
            }
        } else if b.is_ascii_alphabetic() || b == b'_' {
            let start = i;
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
            }
            words.push(text[start..i].to_ascii_uppercase());
        } else {
            break;
        }
    }
    words
}

/// Whether `text` is a statement of this module (decided by its first words).
pub fn is_acl_statement(text: &str) -> bool {
    let words = leading_words(text, 4);
    let w: Vec<&str> = words.iter().map(String::as_str).collect();
    matches!(
        w.as_slice(),
        ["CREATE" | "ALTER" | "DROP", "ROLE" | "USER" | "GROUP", ..]
            | ["GRANT" | "REVOKE", ..]
            | ["SET", "ROLE", ..]
            | ["SET", "SESSION" | "LOCAL", "ROLE", ..]
            | ["SET", "SESSION", "AUTHORIZATION", ..]
            | ["SET", "SESSION" | "LOCAL", "SESSION", "AUTHORIZATION"]
            | ["RESET", "ROLE", ..]
            | ["RESET", "SESSION", "AUTHORIZATION", ..]
    )
}

/// Parses a statement [`is_acl_statement`] accepted.
pub fn parse(text: &str) -> SqlResult<AclStatement> {
    let mut c = Cursor::new(text)?;
    let statement = match c.peek_keyword(0) {
        Some("CREATE") => {
            c.at += 1;
            create_role(&mut c)?
        }
        Some("ALTER") => {
            c.at += 1;
            alter_role(&mut c)?
        }
        Some("DROP") => {
            c.at += 1;
            if !(c.eat("ROLE") || c.eat("USER") || c.eat("GROUP")) {
                return Err(c.error());
            }
            let if_exists = if c.is("IF") && c.peek_keyword(1) == Some("EXISTS") {
                c.at += 2;
                true
            } else {
                false
            };
            let names = c.list(Cursor::name)?;
            AclStatement::DropRole { names, if_exists }
        }
        Some("GRANT") => {
            c.at += 1;
            grant(&mut c)?
        }
        Some("REVOKE") => {
            c.at += 1;
            revoke(&mut c)?
        }
        Some("SET") => {
            c.at += 1;
            let local = c.eat("LOCAL");
            if !local && c.is("SESSION") && c.peek_keyword(1) != Some("AUTHORIZATION") {
                c.at += 1;
            }
            if c.eat("ROLE") {
                // `SET role TO x` and `SET role = x` are the same as `SET ROLE x`.
                if !c.eat("TO") {
                    c.eat_punct("=");
                }
                let role = if c.is("NONE") {
                    c.at += 1;
                    None
                } else {
                    Some(c.role_name()?)
                };
                AclStatement::SetRole { role, local }
            } else {
                c.expect("SESSION")?;
                c.expect("AUTHORIZATION")?;
                let user = if c.is("DEFAULT") {
                    c.at += 1;
                    None
                } else {
                    Some(c.role_name()?)
                };
                AclStatement::SetSessionAuthorization { user, local }
            }
        }
        Some("RESET") => {
            c.at += 1;
            if c.eat("ROLE") {
                AclStatement::SetRole {
                    role: None,
                    local: false,
                }
            } else {
                c.expect("SESSION")?;
                c.expect("AUTHORIZATION")?;
                AclStatement::SetSessionAuthorization {
                    user: None,
                    local: false,
                }
            }
        }
        _ => return Err(c.error()),
    };
    c.done()?;
    Ok(statement)
}
