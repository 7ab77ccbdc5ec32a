//! CREATE / ALTER / DROP POLICY: row-level security policies (applied by
//! [`crate::bind::rls`]), kept in the catalog with their expressions as SQL text.
//!
//! As in PostgreSQL 15: only the table's owner may create, alter or drop its policies
//! ("must be owner of table t"); names are unique per table; a SELECT or DELETE policy has
//! no WITH CHECK and an INSERT policy no USING; the expressions are bound over the table's
//! row when the policy is created or altered (unknown columns, functions or types fail
//! then, and so do aggregates, window functions and non-boolean results); TO defaults to
//! PUBLIC. Policies go with their table (DROP TABLE) and keep the roles they name from
//! being dropped.

use sqlparser::ast;
use storage::catalog::{Oid, PolicyDef, TableDef};

use super::done;
use crate::bind::{ident_name, split_name};
use crate::engine::{Outcome, Session};
use crate::error::{code, SqlError, SqlResult};

/// For a CREATE POLICY sqlparser refused: PostgreSQL's error for `AS <word>` other than
/// PERMISSIVE / RESTRICTIVE (its grammar reads any word there); `None` otherwise.
pub fn unrecognized_option(text: &str) -> Option<SqlResult<ast::Statement>> {
    use sqlparser::tokenizer::{Token, Tokenizer};
    let dialect = sqlparser::dialect::PostgreSqlDialect {};
    let tokens = Tokenizer::new(&dialect, text).tokenize().ok()?;
    let words: Vec<&Token> = tokens
        .iter()
        .filter(|t| !matches!(t, Token::Whitespace(_)))
        .collect();
    let on = words
        .iter()
        .position(|t| matches!(t, Token::Word(w) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case("ON")))?;
    let mut i = on + 2;
    while matches!(words.get(i), Some(Token::Period)) {
        i += 2;
    }
    match (words.get(i), words.get(i + 1)) {
        (Some(Token::Word(a)), Some(Token::Word(option)))
            if a.quote_style.is_none() && a.value.eq_ignore_ascii_case("AS") =>
        {
            let option = option.value.to_lowercase();
            if option == "permissive" || option == "restrictive" {
                return None;
            }
            Some(Err(SqlError::syntax(format!(
                "unrecognized row security option \"{option}\""
            ))
            .with_hint(
                "Only PERMISSIVE or RESTRICTIVE policies are supported currently.",
            )))
        }
        _ => None,
    }
}

/// The table `name` names, after the ownership check (PostgreSQL checks ownership as it
/// locks the relation, before looking at the policy); `noun` is the error's word for it
/// ("table" for CREATE and ALTER, "relation" for DROP).
fn policy_table(
    session: &Session,
    name: &ast::ObjectName,
    noun: &str,
) -> SqlResult<Option<TableDef>> {
    let (schema, rel) = split_name(name)?;
    let catalog = session.catalog();
    let path = crate::catalog_access::effective_path(
        &catalog,
        &session.search_path(),
        session.current_user(),
    );
    let resolved =
        match crate::catalog_access::resolve_relation(&catalog, schema.as_deref(), &rel, &path) {
            Ok(r) => r,
            Err(e) if e.code == code::UNDEFINED_TABLE => return Ok(None),
            Err(e) => return Err(e),
        };
    match resolved {
        crate::catalog_access::Relation::Table(oid) => {
            let table = catalog
                .tables
                .get(&oid)
                .cloned()
                .ok_or_else(|| SqlError::undefined_table(&rel))?;
            crate::acl::check::check_owner(
                &catalog,
                session.current_user(),
                table.owner,
                noun,
                &table.name,
            )?;
            Ok(Some(table))
        }
        _ => Err(SqlError::new(
            code::WRONG_OBJECT_TYPE,
            format!("\"{rel}\" is not a table"),
        )),
    }
}

fn existing_table(session: &Session, name: &ast::ObjectName) -> SqlResult<TableDef> {
    match policy_table(session, name, "table")? {
        Some(t) => Ok(t),
        None => {
            let (_, rel) = split_name(name)?;
            Err(SqlError::undefined_table(&rel))
        }
    }
}

fn find_policy(session: &Session, table: Oid, name: &str) -> Option<PolicyDef> {
    session
        .catalog()
        .policies
        .values()
        .find(|p| p.table == table && p.name == name)
        .cloned()
}

fn missing_policy(name: &str, table: &str) -> SqlError {
    SqlError::new(
        code::UNDEFINED_OBJECT,
        format!("policy \"{name}\" for table \"{table}\" does not exist"),
    )
}

fn duplicate_policy(name: &str, table: &str) -> SqlError {
    SqlError::new(
        code::DUPLICATE_OBJECT,
        format!("policy \"{name}\" for table \"{table}\" already exists"),
    )
}

/// The roles of a TO list (empty: PUBLIC).
fn policy_roles(session: &mut Session, to: &[ast::Owner]) -> SqlResult<Vec<Oid>> {
    let catalog = session.catalog();
    let mut roles = Vec::new();
    let mut public = false;
    for owner in to {
        let name = match owner {
            ast::Owner::Ident(i) => {
                let n = ident_name(i);
                if i.quote_style.is_none() && n.eq_ignore_ascii_case("public") {
                    public = true;
                    continue;
                }
                n
            }
            ast::Owner::CurrentRole | ast::Owner::CurrentUser => session.current_user().to_string(),
            ast::Owner::SessionUser => session.session_user().to_string(),
        };
        let role = crate::acl::role_by_name(&catalog, &name)
            .ok_or_else(|| crate::acl::undefined_role(&name))?;
        if !roles.contains(&role.oid) {
            roles.push(role.oid);
        }
    }
    if public {
        if !roles.is_empty() {
            session.warning(
                "01000",
                "ignoring specified roles other than PUBLIC".to_string(),
            );
        }
        return Ok(Vec::new());
    }
    Ok(roles)
}

/// Binds a policy expression over `table`'s row, to refuse a bad one at CREATE time. What
/// it reads is checked when a query applies it, for the querying role, not now.
fn validate(session: &Session, table: &TableDef, expr: &ast::Expr) -> SqlResult<String> {
    let text = expr.to_string();
    session.with_binder(Vec::new(), |b| {
        b.bind_policy_expr(table, &text)?;
        b.privileges = Default::default();
        Ok(())
    })?;
    Ok(text)
}

fn check_clauses(command: &str, using: bool, with_check: bool) -> SqlResult<()> {
    if with_check && (command == "SELECT" || command == "DELETE") {
        return Err(SqlError::syntax(
            "WITH CHECK cannot be applied to SELECT or DELETE",
        ));
    }
    if using && command == "INSERT" {
        return Err(SqlError::syntax(
            "only WITH CHECK expression allowed for INSERT",
        ));
    }
    Ok(())
}

pub fn create(session: &mut Session, p: &ast::CreatePolicy) -> SqlResult<Outcome> {
    let table = existing_table(session, &p.table_name)?;
    let command = match p.command {
        None | Some(ast::CreatePolicyCommand::All) => "ALL",
        Some(ast::CreatePolicyCommand::Select) => "SELECT",
        Some(ast::CreatePolicyCommand::Insert) => "INSERT",
        Some(ast::CreatePolicyCommand::Update) => "UPDATE",
        Some(ast::CreatePolicyCommand::Delete) => "DELETE",
    };
    check_clauses(command, p.using.is_some(), p.with_check.is_some())?;
    let roles = policy_roles(session, p.to.as_deref().unwrap_or(&[]))?;
    let using = p
        .using
        .as_ref()
        .map(|e| validate(session, &table, e))
        .transpose()?;
    let with_check = p
        .with_check
        .as_ref()
        .map(|e| validate(session, &table, e))
        .transpose()?;
    let name = ident_name(&p.name);
    if find_policy(session, table.oid, &name).is_some() {
        return Err(duplicate_policy(&name, &table.name));
    }
    let catalog = session.transaction().catalog_mut();
    let oid = catalog.allocate_oid();
    catalog.policies.insert(
        oid,
        PolicyDef {
            oid,
            table: table.oid,
            name,
            permissive: !matches!(p.policy_type, Some(ast::CreatePolicyType::Restrictive)),
            command: command.to_string(),
            roles,
            using,
            with_check,
        },
    );
    done("CREATE POLICY")
}

pub fn alter(session: &mut Session, p: &ast::AlterPolicy) -> SqlResult<Outcome> {
    let table = existing_table(session, &p.table_name)?;
    let name = ident_name(&p.name);
    let mut policy =
        find_policy(session, table.oid, &name).ok_or_else(|| missing_policy(&name, &table.name))?;
    match &p.operation {
        ast::AlterPolicyOperation::Rename { new_name } => {
            let new_name = ident_name(new_name);
            if find_policy(session, table.oid, &new_name).is_some() {
                return Err(duplicate_policy(&new_name, &table.name));
            }
            policy.name = new_name;
        }
        ast::AlterPolicyOperation::Apply {
            to,
            using,
            with_check,
        } => {
            let command = policy.command.to_ascii_uppercase();
            check_clauses(&command, using.is_some(), with_check.is_some())?;
            if let Some(to) = to {
                policy.roles = policy_roles(session, to)?;
            }
            if let Some(e) = using {
                policy.using = Some(validate(session, &table, e)?);
            }
            if let Some(e) = with_check {
                policy.with_check = Some(validate(session, &table, e)?);
            }
        }
    }
    session
        .transaction()
        .catalog_mut()
        .policies
        .insert(policy.oid, policy);
    done("ALTER POLICY")
}

pub fn drop(session: &mut Session, p: &ast::DropPolicy) -> SqlResult<Outcome> {
    let name = ident_name(&p.name);
    let Some(table) = policy_table(session, &p.table_name, "relation")? else {
        let (_, rel) = split_name(&p.table_name)?;
        if p.if_exists {
            session.notice(format!("relation \"{rel}\" does not exist, skipping"));
            return done("DROP POLICY");
        }
        return Err(SqlError::undefined_table(&rel));
    };
    match find_policy(session, table.oid, &name) {
        Some(policy) => {
            session
                .transaction()
                .catalog_mut()
                .policies
                .remove(&policy.oid);
        }
        None if p.if_exists => session.notice(format!(
            "policy \"{name}\" for relation \"{}\" does not exist, skipping",
            table.name
        )),
        None => return Err(missing_policy(&name, &table.name)),
    }
    done("DROP POLICY")
}

/// The policies of `probe`'s table whose expressions no longer bind over `probe` (the table
/// with a column marked dropped): what depends on that column. (OID, name.)
pub fn depending_on(session: &Session, probe: &TableDef) -> Vec<(Oid, String)> {
    let policies: Vec<PolicyDef> = session
        .catalog()
        .policies
        .values()
        .filter(|p| p.table == probe.oid)
        .cloned()
        .collect();
    let mut out = Vec::new();
    for p in policies {
        let binds = session.with_binder(Vec::new(), |b| {
            for text in p.using.iter().chain(p.with_check.iter()) {
                b.bind_policy_expr(probe, text)?;
            }
            b.privileges = Default::default();
            Ok(())
        });
        if binds.is_err() {
            out.push((p.oid, p.name.clone()));
        }
    }
    out
}
