//! The grammar of `CREATE ROLE | USER | GROUP` and `ALTER ROLE | USER | GROUP`: role options,
//! `RENAME TO`, `SET` / `RESET` of a setting, and `ADD USER` / `DROP USER`.

use super::cursor::{Cursor, Tok};
use super::{AclStatement, AlterRole, RoleKeyword, RoleOption};
use crate::error::{SqlError, SqlResult};

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

pub(super) fn create_role(c: &mut Cursor) -> SqlResult<AclStatement> {
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

pub(super) fn alter_role(c: &mut Cursor) -> SqlResult<AclStatement> {
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
