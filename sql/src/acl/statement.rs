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

use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::tokenizer::{Token, Tokenizer};

use crate::error::{SqlError, SqlResult};

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

/// A token of the statement: a word (folded unless quoted, `quoted` tells), a string
/// literal, a number, or punctuation.
#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Word {
        folded: String,
        upper: String,
        quoted: bool,
    },
    Str(String),
    Num(String),
    Punct(String),
}

struct Cursor {
    tokens: Vec<Tok>,
    at: usize,
}

fn syntax_at(token: Option<&Tok>) -> SqlError {
    match token {
        None => SqlError::syntax("syntax error at end of input"),
        Some(Tok::Word { folded, quoted, .. }) if *quoted => {
            SqlError::syntax(format!("syntax error at or near \"\"{folded}\"\""))
        }
        Some(Tok::Word { folded, .. }) => {
            SqlError::syntax(format!("syntax error at or near \"{folded}\""))
        }
        Some(Tok::Str(s)) => SqlError::syntax(format!("syntax error at or near \"'{s}'\"")),
        Some(Tok::Num(n)) | Some(Tok::Punct(n)) => {
            SqlError::syntax(format!("syntax error at or near \"{n}\""))
        }
    }
}

impl Cursor {
    fn new(text: &str) -> SqlResult<Cursor> {
        let dialect = PostgreSqlDialect {};
        let raw = Tokenizer::new(&dialect, text)
            .tokenize()
            .map_err(|e| SqlError::syntax(format!("syntax error: {}", e.message)))?;
        let mut tokens = Vec::new();
        for token in raw {
            match token {
                Token::Whitespace(_) | Token::EOF => {}
                Token::Word(w) => tokens.push(Tok::Word {
                    folded: if w.quote_style.is_some() {
                        w.value.clone()
                    } else {
                        w.value.to_lowercase()
                    },
                    upper: if w.quote_style.is_some() {
                        String::new()
                    } else {
                        w.value.to_uppercase()
                    },
                    quoted: w.quote_style.is_some(),
                }),
                Token::SingleQuotedString(s)
                | Token::EscapedStringLiteral(s)
                | Token::NationalStringLiteral(s) => tokens.push(Tok::Str(s)),
                Token::Number(n, _) => tokens.push(Tok::Num(n)),
                Token::Minus => tokens.push(Tok::Punct("-".into())),
                other => tokens.push(Tok::Punct(other.to_string())),
            }
        }
        while matches!(tokens.last(), Some(Tok::Punct(p)) if p == ";") {
            tokens.pop();
        }
        Ok(Cursor { tokens, at: 0 })
    }

    fn peek(&self) -> Option<&Tok> {
        self.tokens.get(self.at)
    }

    fn peek_keyword(&self, offset: usize) -> Option<&str> {
        match self.tokens.get(self.at + offset) {
            Some(Tok::Word { upper, quoted, .. }) if !quoted => Some(upper.as_str()),
            _ => None,
        }
    }

    fn error(&self) -> SqlError {
        syntax_at(self.peek())
    }

    fn is(&self, keyword: &str) -> bool {
        self.peek_keyword(0) == Some(keyword)
    }

    fn eat(&mut self, keyword: &str) -> bool {
        if self.is(keyword) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, keyword: &str) -> SqlResult<()> {
        if self.eat(keyword) {
            Ok(())
        } else {
            Err(self.error())
        }
    }

    fn eat_punct(&mut self, p: &str) -> bool {
        if matches!(self.peek(), Some(Tok::Punct(x)) if x == p) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn expect_punct(&mut self, p: &str) -> SqlResult<()> {
        if self.eat_punct(p) {
            Ok(())
        } else {
            Err(self.error())
        }
    }

    fn done(&self) -> SqlResult<()> {
        match self.peek() {
            None => Ok(()),
            Some(_) => Err(self.error()),
        }
    }

    /// An identifier (any word, folded).
    fn name(&mut self) -> SqlResult<String> {
        match self.peek() {
            Some(Tok::Word { folded, .. }) => {
                let name = folded.clone();
                self.at += 1;
                Ok(name)
            }
            _ => Err(self.error()),
        }
    }

    /// A role name: an identifier or a string literal (as `SET ROLE 'x'` allows).
    fn role_name(&mut self) -> SqlResult<String> {
        if let Some(Tok::Str(s)) = self.peek() {
            let s = s.clone();
            self.at += 1;
            return Ok(s);
        }
        self.name()
    }

    fn string(&mut self) -> SqlResult<String> {
        match self.peek() {
            Some(Tok::Str(s)) => {
                let s = s.clone();
                self.at += 1;
                Ok(s)
            }
            _ => Err(self.error()),
        }
    }

    fn integer(&mut self) -> SqlResult<i32> {
        let negative = self.eat_punct("-");
        match self.peek() {
            Some(Tok::Num(n)) => {
                let value: i64 = n.parse().map_err(|_| self.error())?;
                self.at += 1;
                let value = if negative { -value } else { value };
                i32::try_from(value).map_err(|_| self.error())
            }
            _ => Err(self.error()),
        }
    }

    fn qualified_name(&mut self) -> SqlResult<Vec<String>> {
        let mut parts = vec![self.name()?];
        while self.eat_punct(".") {
            parts.push(self.name()?);
        }
        Ok(parts)
    }

    fn list<T>(&mut self, mut item: impl FnMut(&mut Cursor) -> SqlResult<T>) -> SqlResult<Vec<T>> {
        let mut items = vec![item(self)?];
        while self.eat_punct(",") {
            items.push(item(self)?);
        }
        Ok(items)
    }

    fn role_spec(&mut self) -> SqlResult<RoleSpec> {
        if let Some(Tok::Word { quoted: false, .. }) = self.peek() {
            match self.peek_keyword(0) {
                Some("PUBLIC") => {
                    self.at += 1;
                    return Ok(RoleSpec::Public);
                }
                Some("CURRENT_USER" | "CURRENT_ROLE") => {
                    self.at += 1;
                    return Ok(RoleSpec::CurrentUser);
                }
                Some("SESSION_USER") => {
                    self.at += 1;
                    return Ok(RoleSpec::SessionUser);
                }
                Some("GROUP") if matches!(self.tokens.get(self.at + 1), Some(Tok::Word { .. })) => {
                    self.at += 1;
                }
                _ => {}
            }
        }
        Ok(RoleSpec::Name(self.name()?))
    }

    /// The text of a parenthesised list, as written (function argument types).
    fn parenthesised_text(&mut self) -> SqlResult<String> {
        self.expect_punct("(")?;
        let mut depth = 1;
        let mut out = String::new();
        loop {
            let Some(token) = self.peek().cloned() else {
                return Err(self.error());
            };
            self.at += 1;
            let piece = match &token {
                Tok::Punct(p) if p == "(" => {
                    depth += 1;
                    p.clone()
                }
                Tok::Punct(p) if p == ")" => {
                    depth -= 1;
                    if depth == 0 {
                        return Ok(out);
                    }
                    p.clone()
                }
                Tok::Punct(p) | Tok::Num(p) => p.clone(),
                Tok::Word { folded, quoted, .. } => {
                    if *quoted {
                        format!("\"{folded}\"")
                    } else {
                        folded.clone()
                    }
                }
                Tok::Str(s) => format!("'{s}'"),
            };
            if !out.is_empty() && matches!(token, Tok::Word { .. } | Tok::Num(_)) {
                let last = out.chars().last().unwrap_or(' ');
                if last.is_alphanumeric() || last == '"' || last == '_' {
                    out.push(' ');
                }
            }
            out.push_str(&piece);
        }
    }
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

const FLAGS: &[&str] = &[
    "SUPERUSER",
    "CREATEDB",
    "CREATEROLE",
    "INHERIT",
    "LOGIN",
    "REPLICATION",
    "BYPASSRLS",
];

/// One role option; `create` allows the membership options CREATE ROLE has.
fn role_option(c: &mut Cursor, create: bool) -> SqlResult<Option<RoleOption>> {
    let Some(word) = c.peek_keyword(0).map(str::to_string) else {
        return Ok(None);
    };
    if let Some(flag) = FLAGS.iter().find(|f| **f == word) {
        c.at += 1;
        return Ok(Some(RoleOption::Flag(flag, true)));
    }
    if let Some(flag) = word
        .strip_prefix("NO")
        .and_then(|rest| FLAGS.iter().find(|f| **f == rest))
    {
        c.at += 1;
        return Ok(Some(RoleOption::Flag(flag, false)));
    }
    let option = match word.as_str() {
        "CONNECTION" => {
            c.at += 1;
            c.expect("LIMIT")?;
            RoleOption::ConnectionLimit(c.integer()?)
        }
        "ENCRYPTED" | "UNENCRYPTED" | "PASSWORD" => {
            if word == "UNENCRYPTED" {
                return Err(SqlError::new(
                    crate::error::code::FEATURE_NOT_SUPPORTED,
                    "UNENCRYPTED PASSWORD is no longer supported",
                )
                .with_hint("Remove UNENCRYPTED to store the password in encrypted form instead."));
            }
            c.at += 1;
            if word == "ENCRYPTED" {
                c.expect("PASSWORD")?;
            }
            if c.eat("NULL") {
                RoleOption::Password(None)
            } else {
                RoleOption::Password(Some(c.string()?))
            }
        }
        "VALID" => {
            c.at += 1;
            c.expect("UNTIL")?;
            RoleOption::ValidUntil(c.string()?)
        }
        "IN" if create => {
            c.at += 1;
            if !(c.eat("ROLE") || c.eat("GROUP")) {
                return Err(c.error());
            }
            RoleOption::InRole(c.list(Cursor::name)?)
        }
        "ROLE" | "USER" if create => {
            c.at += 1;
            RoleOption::Members(c.list(Cursor::name)?)
        }
        "ADMIN" if create => {
            c.at += 1;
            RoleOption::Admins(c.list(Cursor::name)?)
        }
        "SYSID" if create => {
            c.at += 1;
            c.integer()?;
            return role_option(c, create);
        }
        _ => return Err(c.error()),
    };
    Ok(Some(option))
}

fn role_options(c: &mut Cursor, create: bool) -> SqlResult<Vec<RoleOption>> {
    c.eat("WITH");
    let mut options = Vec::new();
    while c.peek().is_some() {
        match role_option(c, create)? {
            Some(option) => options.push(option),
            None => return Err(c.error()),
        }
    }
    Ok(options)
}

fn create_role(c: &mut Cursor) -> SqlResult<AclStatement> {
    let keyword = if c.eat("ROLE") {
        RoleKeyword::Role
    } else if c.eat("USER") {
        RoleKeyword::User
    } else if c.eat("GROUP") {
        RoleKeyword::Group
    } else {
        return Err(c.error());
    };
    let name = c.name()?;
    let options = role_options(c, true)?;
    Ok(AclStatement::CreateRole {
        keyword,
        name,
        options,
    })
}

/// `SET name TO | = value | DEFAULT` after ALTER ROLE ... SET.
fn setting_value(c: &mut Cursor) -> SqlResult<Option<String>> {
    if !(c.eat("TO") || c.eat_punct("=")) {
        return Err(c.error());
    }
    if c.eat("DEFAULT") {
        return Ok(None);
    }
    let mut parts = Vec::new();
    loop {
        let part = match c.peek() {
            Some(Tok::Str(s)) => s.clone(),
            Some(Tok::Num(n)) => n.clone(),
            Some(Tok::Word { folded, .. }) => folded.clone(),
            Some(Tok::Punct(p)) if p == "-" => {
                c.at += 1;
                match c.peek() {
                    Some(Tok::Num(n)) => format!("-{n}"),
                    _ => return Err(c.error()),
                }
            }
            _ => return Err(c.error()),
        };
        c.at += 1;
        parts.push(part);
        if !c.eat_punct(",") {
            break;
        }
    }
    Ok(Some(parts.join(", ")))
}

fn alter_role(c: &mut Cursor) -> SqlResult<AclStatement> {
    let group = if c.eat("ROLE") || c.eat("USER") {
        false
    } else if c.eat("GROUP") {
        true
    } else {
        return Err(c.error());
    };
    let role = c.role_spec()?;
    if group && (c.is("ADD") || c.is("DROP")) {
        let add = c.eat("ADD");
        if !add {
            c.at += 1;
        }
        c.expect("USER")?;
        let members = c.list(Cursor::name)?;
        let action = if add {
            AlterRole::AddMembers(members)
        } else {
            AlterRole::DropMembers(members)
        };
        return Ok(AclStatement::AlterRole { role, action });
    }
    if c.is("IN") && c.peek_keyword(1) == Some("DATABASE") {
        return Err(SqlError::unsupported("ALTER ROLE ... IN DATABASE"));
    }
    let action = if c.eat("RENAME") {
        c.expect("TO")?;
        AlterRole::Rename(c.name()?)
    } else if c.eat("SET") {
        let name = c.qualified_name()?.join(".");
        AlterRole::Set(name.clone(), setting_value(c)?)
    } else if c.eat("RESET") {
        if c.eat("ALL") {
            AlterRole::Reset(None)
        } else {
            AlterRole::Reset(Some(c.qualified_name()?.join(".")))
        }
    } else {
        let options = role_options(c, false)?;
        if options.is_empty() {
            return Err(c.error());
        }
        AlterRole::Options(options)
    };
    Ok(AclStatement::AlterRole { role, action })
}

/// Whether the GRANT / REVOKE at the cursor has an `ON` before its `TO` / `FROM` (an object
/// privilege) rather than naming roles.
fn has_on_clause(c: &Cursor) -> bool {
    let mut depth = 0;
    for token in &c.tokens[c.at..] {
        match token {
            Tok::Punct(p) if p == "(" => depth += 1,
            Tok::Punct(p) if p == ")" => depth -= 1,
            Tok::Word { upper, quoted, .. } if !quoted && depth == 0 => match upper.as_str() {
                "ON" => return true,
                "TO" | "FROM" => return false,
                _ => {}
            },
            _ => {}
        }
    }
    false
}

fn privilege_list(c: &mut Cursor) -> SqlResult<Vec<PrivilegeItem>> {
    if c.eat("ALL") {
        c.eat("PRIVILEGES");
        let columns = if matches!(c.peek(), Some(Tok::Punct(p)) if p == "(") {
            column_list(c)?
        } else {
            Vec::new()
        };
        return Ok(vec![PrivilegeItem {
            name: "ALL".into(),
            columns,
        }]);
    }
    c.list(|c| {
        let name = match c.peek_keyword(0) {
            Some(
                w @ ("SELECT" | "INSERT" | "UPDATE" | "DELETE" | "TRUNCATE" | "REFERENCES"
                | "TRIGGER" | "USAGE" | "CREATE" | "CONNECT" | "TEMPORARY" | "EXECUTE"),
            ) => w.to_string(),
            Some("TEMP") => "TEMPORARY".to_string(),
            _ => return Err(c.error()),
        };
        c.at += 1;
        let columns = if matches!(c.peek(), Some(Tok::Punct(p)) if p == "(") {
            column_list(c)?
        } else {
            Vec::new()
        };
        Ok(PrivilegeItem { name, columns })
    })
}

fn column_list(c: &mut Cursor) -> SqlResult<Vec<String>> {
    c.expect_punct("(")?;
    let columns = c.list(Cursor::name)?;
    c.expect_punct(")")?;
    Ok(columns)
}

fn objects(c: &mut Cursor) -> SqlResult<Objects> {
    c.expect("ON")?;
    if c.eat("ALL") {
        let kind = c.peek_keyword(0).map(str::to_string);
        c.at += 1;
        c.expect("IN")?;
        c.expect("SCHEMA")?;
        let schemas = c.list(Cursor::name)?;
        return match kind.as_deref() {
            Some("TABLES") => Ok(Objects::AllTablesInSchema(schemas)),
            Some("SEQUENCES") => Ok(Objects::AllSequencesInSchema(schemas)),
            Some("FUNCTIONS" | "PROCEDURES" | "ROUTINES") => {
                Ok(Objects::AllFunctionsInSchema(schemas))
            }
            _ => Err(SqlError::syntax("syntax error at or near \"IN\"")),
        };
    }
    match c.peek_keyword(0) {
        Some("SEQUENCE") => {
            c.at += 1;
            Ok(Objects::Sequences(c.list(Cursor::qualified_name)?))
        }
        Some("SCHEMA") => {
            c.at += 1;
            Ok(Objects::Schemas(c.list(Cursor::name)?))
        }
        Some("DATABASE") => {
            c.at += 1;
            Ok(Objects::Databases(c.list(Cursor::name)?))
        }
        Some("FUNCTION" | "PROCEDURE" | "ROUTINE") => {
            c.at += 1;
            Ok(Objects::Functions(c.list(|c| {
                let name = c.qualified_name()?;
                let args = if matches!(c.peek(), Some(Tok::Punct(p)) if p == "(") {
                    Some(c.parenthesised_text()?)
                } else {
                    None
                };
                Ok((name, args))
            })?))
        }
        Some(
            kind @ ("LARGE" | "FOREIGN" | "DOMAIN" | "TYPE" | "LANGUAGE" | "TABLESPACE"
            | "PARAMETER"),
        ) => Err(SqlError::unsupported(format!(
            "GRANT and REVOKE on {}",
            kind.to_ascii_lowercase()
        ))),
        _ => {
            c.eat("TABLE");
            Ok(Objects::Tables(c.list(Cursor::qualified_name)?))
        }
    }
}

fn granted_by(c: &mut Cursor) -> SqlResult<Option<RoleSpec>> {
    if c.eat("GRANTED") {
        c.expect("BY")?;
        return Ok(Some(c.role_spec()?));
    }
    Ok(None)
}

fn cascade(c: &mut Cursor) -> bool {
    if c.eat("CASCADE") {
        return true;
    }
    c.eat("RESTRICT");
    false
}

fn grant(c: &mut Cursor) -> SqlResult<AclStatement> {
    if has_on_clause(c) {
        let privileges = privilege_list(c)?;
        let objects = objects(c)?;
        c.expect("TO")?;
        let grantees = c.list(Cursor::role_spec)?;
        let grant_option = if c.is("WITH") {
            c.at += 1;
            c.expect("GRANT")?;
            c.expect("OPTION")?;
            true
        } else {
            false
        };
        let granted_by = granted_by(c)?;
        return Ok(AclStatement::GrantPrivileges {
            privileges,
            objects,
            grantees,
            grant_option,
            granted_by,
        });
    }
    let roles = c.list(Cursor::name)?;
    c.expect("TO")?;
    let grantees = c.list(Cursor::role_spec)?;
    let mut admin_option = false;
    if c.eat("WITH") {
        if c.eat("ADMIN") {
            if !c.eat("OPTION") {
                c.expect("TRUE")?;
            }
            admin_option = true;
        } else if c.eat("INHERIT") || c.eat("SET") {
            return Err(SqlError::unsupported("GRANT role WITH INHERIT | SET"));
        } else {
            return Err(c.error());
        }
    }
    let granted_by = granted_by(c)?;
    Ok(AclStatement::GrantRole {
        roles,
        grantees,
        admin_option,
        granted_by,
    })
}

fn revoke(c: &mut Cursor) -> SqlResult<AclStatement> {
    let grant_option_only =
        if c.is("GRANT") && c.peek_keyword(1) == Some("OPTION") && c.peek_keyword(2) == Some("FOR")
        {
            c.at += 3;
            true
        } else {
            false
        };
    let admin_option_only =
        if c.is("ADMIN") && c.peek_keyword(1) == Some("OPTION") && c.peek_keyword(2) == Some("FOR")
        {
            c.at += 3;
            true
        } else {
            false
        };
    if has_on_clause(c) {
        let privileges = privilege_list(c)?;
        let objects = objects(c)?;
        c.expect("FROM")?;
        let grantees = c.list(Cursor::role_spec)?;
        granted_by(c)?;
        let cascade = cascade(c);
        return Ok(AclStatement::RevokePrivileges {
            privileges,
            objects,
            grantees,
            grant_option_only,
            cascade,
        });
    }
    let roles = c.list(Cursor::name)?;
    c.expect("FROM")?;
    let grantees = c.list(Cursor::role_spec)?;
    granted_by(c)?;
    let cascade = cascade(c);
    Ok(AclStatement::RevokeRole {
        roles,
        grantees,
        admin_option_only,
        cascade,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_statements_by_their_first_words_only() {
        assert!(is_acl_statement("  create user alice password 'x'"));
        assert!(is_acl_statement("/* c */ GRANT SELECT ON t TO bob"));
        assert!(is_acl_statement("set local role r"));
        assert!(is_acl_statement("SET SESSION AUTHORIZATION DEFAULT"));
        assert!(is_acl_statement("reset role"));
        assert!(!is_acl_statement("SET search_path = x"));
        assert!(!is_acl_statement("SET SESSION search_path = x"));
        assert!(!is_acl_statement("CREATE TABLE role (x int)"));
        assert!(!is_acl_statement("SELECT 'GRANT'"));
    }

    #[test]
    fn create_role_reads_every_option() {
        let s = parse(
            "CREATE ROLE \"Ann\" WITH LOGIN NOSUPERUSER CREATEDB CONNECTION LIMIT 3 \
             ENCRYPTED PASSWORD 'pw' VALID UNTIL '2030-01-01' IN ROLE staff, sales ADMIN boss",
        )
        .unwrap();
        let AclStatement::CreateRole {
            keyword,
            name,
            options,
        } = s
        else {
            panic!("{s:?}")
        };
        assert_eq!(keyword, RoleKeyword::Role);
        assert_eq!(name, "Ann");
        assert_eq!(
            options,
            vec![
                RoleOption::Flag("LOGIN", true),
                RoleOption::Flag("SUPERUSER", false),
                RoleOption::Flag("CREATEDB", true),
                RoleOption::ConnectionLimit(3),
                RoleOption::Password(Some("pw".into())),
                RoleOption::ValidUntil("2030-01-01".into()),
                RoleOption::InRole(vec!["staff".into(), "sales".into()]),
                RoleOption::Admins(vec!["boss".into()]),
            ]
        );
        assert!(parse("CREATE ROLE r WITH FLY").is_err());
        assert!(parse("CREATE ROLE").is_err());
        assert_eq!(
            parse("CREATE ROLE r CONNECTION LIMIT -1").unwrap(),
            AclStatement::CreateRole {
                keyword: RoleKeyword::Role,
                name: "r".into(),
                options: vec![RoleOption::ConnectionLimit(-1)]
            }
        );
    }

    #[test]
    fn grant_tells_roles_from_privileges() {
        assert_eq!(
            parse("GRANT staff, sales TO ann WITH ADMIN OPTION").unwrap(),
            AclStatement::GrantRole {
                roles: vec!["staff".into(), "sales".into()],
                grantees: vec![RoleSpec::Name("ann".into())],
                admin_option: true,
                granted_by: None,
            }
        );
        let s = parse(
            "GRANT SELECT (a, b), UPDATE ON TABLE s.t, u TO PUBLIC, GROUP g WITH GRANT OPTION",
        )
        .unwrap();
        assert_eq!(
            s,
            AclStatement::GrantPrivileges {
                privileges: vec![
                    PrivilegeItem {
                        name: "SELECT".into(),
                        columns: vec!["a".into(), "b".into()]
                    },
                    PrivilegeItem {
                        name: "UPDATE".into(),
                        columns: vec![]
                    },
                ],
                objects: Objects::Tables(vec![vec!["s".into(), "t".into()], vec!["u".into()]]),
                grantees: vec![RoleSpec::Public, RoleSpec::Name("g".into())],
                grant_option: true,
                granted_by: None,
            }
        );
        assert_eq!(
            parse("REVOKE GRANT OPTION FOR ALL PRIVILEGES ON ALL TABLES IN SCHEMA public FROM bob CASCADE")
                .unwrap(),
            AclStatement::RevokePrivileges {
                privileges: vec![PrivilegeItem {
                    name: "ALL".into(),
                    columns: vec![]
                }],
                objects: Objects::AllTablesInSchema(vec!["public".into()]),
                grantees: vec![RoleSpec::Name("bob".into())],
                grant_option_only: true,
                cascade: true,
            }
        );
        assert_eq!(
            parse("GRANT EXECUTE ON FUNCTION f(integer, text) TO r").unwrap(),
            AclStatement::GrantPrivileges {
                privileges: vec![PrivilegeItem {
                    name: "EXECUTE".into(),
                    columns: vec![]
                }],
                objects: Objects::Functions(vec![(vec!["f".into()], Some("integer,text".into()))]),
                grantees: vec![RoleSpec::Name("r".into())],
                grant_option: false,
                granted_by: None,
            }
        );
        assert!(parse("GRANT FLY ON t TO r").is_err());
        assert!(parse("GRANT SELECT ON t").is_err());
    }

    #[test]
    fn set_role_and_session_authorization() {
        assert_eq!(
            parse("SET ROLE 'ann'").unwrap(),
            AclStatement::SetRole {
                role: Some("ann".into()),
                local: false
            }
        );
        assert_eq!(
            parse("SET LOCAL ROLE NONE").unwrap(),
            AclStatement::SetRole {
                role: None,
                local: true
            }
        );
        assert_eq!(
            parse("RESET SESSION AUTHORIZATION").unwrap(),
            AclStatement::SetSessionAuthorization {
                user: None,
                local: false
            }
        );
        assert_eq!(
            parse("SET SESSION SESSION AUTHORIZATION bob;").unwrap(),
            AclStatement::SetSessionAuthorization {
                user: Some("bob".into()),
                local: false
            }
        );
    }
}
