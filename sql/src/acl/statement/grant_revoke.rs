//! The grammar of GRANT and REVOKE: of roles (`WITH ADMIN OPTION`, `ADMIN OPTION FOR`) and of
//! privileges on objects (`WITH GRANT OPTION`, `GRANT OPTION FOR`, column lists, `ALL ... IN
//! SCHEMA`), with `GRANTED BY` and `CASCADE | RESTRICT`.

use super::cursor::{Cursor, Tok};
use super::{AclStatement, Objects, PrivilegeItem, RoleSpec};
use crate::error::{SqlError, SqlResult};

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

pub(super) fn grant(c: &mut Cursor) -> SqlResult<AclStatement> {
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

pub(super) fn revoke(c: &mut Cursor) -> SqlResult<AclStatement> {
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
