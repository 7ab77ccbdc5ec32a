//! pgaudit's statement classes: parsing `pgaudit.log` and sorting a statement into its class,
//! with the command name and the objects it names.

use sqlparser::ast::{
    FromTable, ObjectType, SetExpr, Statement as Ast, TableFactor, TableObject, TableWithJoins,
};

use crate::error::{code, SqlError, SqlResult};

/// One bit per pgaudit class.
pub const READ: u16 = 1;
pub const WRITE: u16 = 1 << 1;
pub const FUNCTION: u16 = 1 << 2;
pub const ROLE: u16 = 1 << 3;
pub const DDL: u16 = 1 << 4;
pub const MISC: u16 = 1 << 5;
pub const MISC_SET: u16 = 1 << 6;
pub const ALL: u16 = READ | WRITE | FUNCTION | ROLE | DDL | MISC | MISC_SET;

/// The class names as pgaudit spells them.
pub fn class_name(class: u16) -> &'static str {
    match class {
        READ => "READ",
        WRITE => "WRITE",
        FUNCTION => "FUNCTION",
        ROLE => "ROLE",
        DDL => "DDL",
        MISC => "MISC",
        MISC_SET => "MISC_SET",
        _ => "ALL",
    }
}

/// Parses a `pgaudit.log` value: a comma-separated list of classes (case-insensitive), `all`,
/// `none`, each optionally prefixed by `-` to subtract it, applied left to right as pgaudit
/// does.
pub fn parse_classes(value: &str) -> SqlResult<u16> {
    let mut classes = 0u16;
    for word in value.split(',') {
        let word = word.trim();
        if word.is_empty() {
            continue;
        }
        let (subtract, name) = match word.strip_prefix('-') {
            Some(rest) => (true, rest.trim()),
            None => (false, word),
        };
        let bits = match name.to_ascii_lowercase().as_str() {
            "read" => READ,
            "write" => WRITE,
            "function" => FUNCTION,
            "role" => ROLE,
            "ddl" => DDL,
            "misc" => MISC,
            "misc_set" => MISC_SET,
            "all" => ALL,
            "none" => {
                if !subtract {
                    classes = 0;
                }
                continue;
            }
            _ => {
                return Err(SqlError::new(
                    code::INVALID_PARAMETER_VALUE,
                    format!("invalid value for parameter \"pgaudit.log\": \"{value}\""),
                )
                .with_detail(format!("Unrecognized class \"{name}\".")))
            }
        };
        if subtract {
            classes &= !bits;
        } else {
            classes |= bits;
        }
    }
    Ok(classes)
}

/// The class, command name and named objects of a statement (`sql`: its text, which role
/// and privilege statements are read from, see `crate::parse::acl_stand_in`).
pub fn classify(ast: &Ast, sql: &str) -> (u16, &'static str, Vec<String>) {
    let none = Vec::new;
    match ast {
        Ast::Flush {
            object_type: sqlparser::ast::FlushType::Privileges,
            ..
        } => classify_acl(sql),
        Ast::Query(query) => (READ, "SELECT", query_relations(&query.body)),
        Ast::Insert(insert) => {
            let objects = match &insert.table {
                TableObject::TableName(name) => vec![name.to_string()],
                _ => Vec::new(),
            };
            (WRITE, "INSERT", objects)
        }
        Ast::Update(update) => (WRITE, "UPDATE", joined_relations(&update.table)),
        Ast::Delete(delete) => {
            let tables = match &delete.from {
                FromTable::WithFromKeyword(t) | FromTable::WithoutKeyword(t) => t,
            };
            (
                WRITE,
                "DELETE",
                tables.iter().flat_map(joined_relations).collect(),
            )
        }
        Ast::Merge(_) => (WRITE, "MERGE", none()),
        Ast::Truncate(truncate) => (
            WRITE,
            "TRUNCATE TABLE",
            truncate
                .table_names
                .iter()
                .map(|t| t.name.to_string())
                .collect(),
        ),
        Ast::Copy { to, source, .. } => {
            let objects = match source {
                sqlparser::ast::CopySource::Table { table_name, .. } => {
                    vec![table_name.to_string()]
                }
                sqlparser::ast::CopySource::Query(query) => query_relations(&query.body),
            };
            (if *to { READ } else { WRITE }, "COPY", objects)
        }
        Ast::CreateRole(_) => (ROLE, "CREATE ROLE", none()),
        Ast::CreateUser(_) => (ROLE, "CREATE ROLE", none()),
        Ast::AlterRole { .. } => (ROLE, "ALTER ROLE", none()),
        Ast::AlterUser(_) => (ROLE, "ALTER ROLE", none()),
        Ast::Grant(_) | Ast::GrantRole(_) => (ROLE, "GRANT", none()),
        Ast::Revoke(_) | Ast::RevokeRole(_) => (ROLE, "REVOKE", none()),
        Ast::Drop {
            object_type: ObjectType::Role | ObjectType::User,
            names,
            ..
        } => (
            ROLE,
            "DROP ROLE",
            names.iter().map(|n| n.to_string()).collect(),
        ),
        Ast::Drop { names, .. } => (DDL, "DROP", names.iter().map(|n| n.to_string()).collect()),
        Ast::CreateTable(create) => (DDL, "CREATE TABLE", vec![create.name.to_string()]),
        Ast::CreateIndex(_) => (DDL, "CREATE INDEX", none()),
        Ast::CreateView(view) => (DDL, "CREATE VIEW", vec![view.name.to_string()]),
        Ast::AlterTable(alter) => (DDL, "ALTER TABLE", vec![alter.name.to_string()]),
        Ast::CreatePolicy(_) => (DDL, "CREATE POLICY", none()),
        Ast::AlterPolicy(_) => (DDL, "ALTER POLICY", none()),
        Ast::DropPolicy(_) => (DDL, "DROP POLICY", none()),
        Ast::CreateFunction(_) => (DDL, "CREATE FUNCTION", none()),
        Ast::CreateSchema { .. } => (DDL, "CREATE SCHEMA", none()),
        Ast::CreateSequence { .. } => (DDL, "CREATE SEQUENCE", none()),
        Ast::Set(_) | Ast::Reset(_) => (MISC_SET, "SET", none()),
        Ast::Call(_) => (FUNCTION, "CALL", none()),
        Ast::ShowVariable { .. } => (MISC, "SHOW", none()),
        Ast::StartTransaction { .. } => (MISC, "BEGIN", none()),
        Ast::Commit { .. } => (MISC, "COMMIT", none()),
        Ast::Rollback { .. } => (MISC, "ROLLBACK", none()),
        Ast::Savepoint { .. } => (MISC, "SAVEPOINT", none()),
        Ast::ReleaseSavepoint { .. } => (MISC, "RELEASE", none()),
        Ast::Discard { .. } => (MISC, "DISCARD", none()),
        Ast::Vacuum(_) => (MISC, "VACUUM", none()),
        Ast::Analyze(_) => (MISC, "ANALYZE", none()),
        Ast::Explain { .. } => (MISC, "EXPLAIN", none()),
        Ast::Prepare { .. } => (MISC, "PREPARE", none()),
        Ast::Execute { .. } => (MISC, "EXECUTE", none()),
        Ast::Deallocate { .. } => (MISC, "DEALLOCATE", none()),
        Ast::Declare { .. } => (MISC, "DECLARE CURSOR", none()),
        Ast::Fetch { .. } => (MISC, "FETCH", none()),
        Ast::Close { .. } => (MISC, "CLOSE CURSOR", none()),
        Ast::Flush { .. } => (MISC, "CHECKPOINT", none()),
        Ast::Lock(_) => (MISC, "LOCK TABLE", none()),
        _ => (DDL, "DDL", none()),
    }
}

fn classify_acl(sql: &str) -> (u16, &'static str, Vec<String>) {
    use crate::acl::statement::AclStatement as Acl;
    let command = match crate::acl::statement::parse(sql) {
        Ok(Acl::CreateRole { .. }) => "CREATE ROLE",
        Ok(Acl::AlterRole { .. }) => "ALTER ROLE",
        Ok(Acl::DropRole { .. }) => "DROP ROLE",
        Ok(Acl::GrantRole { .. }) | Ok(Acl::GrantPrivileges { .. }) => "GRANT",
        Ok(Acl::RevokeRole { .. }) | Ok(Acl::RevokePrivileges { .. }) => "REVOKE",
        Ok(Acl::SetRole { .. }) => return (MISC_SET, "SET ROLE", Vec::new()),
        Ok(Acl::SetSessionAuthorization { .. }) => {
            return (MISC_SET, "SET SESSION AUTHORIZATION", Vec::new())
        }
        Err(_) => "ROLE",
    };
    (ROLE, command, Vec::new())
}

fn joined_relations(table: &TableWithJoins) -> Vec<String> {
    let mut out = Vec::new();
    relation_names(&table.relation, &mut out);
    for join in &table.joins {
        relation_names(&join.relation, &mut out);
    }
    out
}

fn relation_names(factor: &TableFactor, out: &mut Vec<String>) {
    match factor {
        TableFactor::Table { name, .. } => out.push(name.to_string()),
        TableFactor::Derived { subquery, .. } => out.extend(query_relations(&subquery.body)),
        TableFactor::NestedJoin {
            table_with_joins, ..
        } => out.extend(joined_relations(table_with_joins)),
        _ => {}
    }
}

/// The relations a query's FROM clauses name (set operations and derived tables included).
fn query_relations(body: &SetExpr) -> Vec<String> {
    match body {
        SetExpr::Select(select) => select.from.iter().flat_map(joined_relations).collect(),
        SetExpr::Query(query) => query_relations(&query.body),
        SetExpr::SetOperation { left, right, .. } => {
            let mut out = query_relations(left);
            out.extend(query_relations(right));
            out
        }
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_parse_as_pgaudit_does() {
        assert_eq!(
            parse_classes("ddl, role, write").unwrap(),
            DDL | ROLE | WRITE
        );
        assert_eq!(parse_classes("all, -read").unwrap(), ALL & !READ);
        assert_eq!(parse_classes("none").unwrap(), 0);
        assert_eq!(parse_classes("READ,Misc_Set").unwrap(), READ | MISC_SET);
        assert_eq!(parse_classes("").unwrap(), 0);
        let error = parse_classes("read, bogus").unwrap_err();
        assert_eq!(error.code, code::INVALID_PARAMETER_VALUE);
    }

    #[test]
    fn statements_get_pgaudit_classes() {
        let class = |sql: &str| {
            let statements = crate::parse::parse_statements(sql).unwrap();
            let (class, command, objects) = classify(&statements[0].ast, sql);
            (class_name(class), command, objects)
        };
        assert_eq!(
            class("SELECT * FROM a JOIN b ON true"),
            ("READ", "SELECT", vec!["a".into(), "b".into()])
        );
        assert_eq!(
            class("INSERT INTO s.t VALUES (1)"),
            ("WRITE", "INSERT", vec!["s.t".into()])
        );
        assert_eq!(class("CREATE ROLE x").0, "ROLE");
        assert_eq!(class("DROP ROLE x").0, "ROLE");
        assert_eq!(class("GRANT SELECT ON t TO x").0, "ROLE");
        assert_eq!(class("CREATE TABLE t (a int)").0, "DDL");
        assert_eq!(class("SET search_path = public").0, "MISC_SET");
        assert_eq!(class("VACUUM").0, "MISC");
        assert_eq!(class("SET ROLE x").0, "MISC_SET");
    }
}
