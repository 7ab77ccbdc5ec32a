//! Identifier quoting as PostgreSQL's `quote_identifier` does it, for every name the catalog
//! prints back (`regclass` output, `format_type`, `pg_get_indexdef`...): a name is left bare
//! only when it is lower-case letters, digits, `_` (not leading digit) and not a keyword
//! that would need quoting (reserved, column-name or type/function-name keywords of
//! PostgreSQL 16's `kwlist.h`).

/// PostgreSQL 16's keywords that `quote_identifier` quotes (every category but unreserved).
const QUOTED_KEYWORDS: &[&str] = &[
    // Reserved.
    "all",
    "analyse",
    "analyze",
    "and",
    "any",
    "array",
    "as",
    "asc",
    "asymmetric",
    "both",
    "case",
    "cast",
    "check",
    "collate",
    "column",
    "constraint",
    "create",
    "current_catalog",
    "current_date",
    "current_role",
    "current_time",
    "current_timestamp",
    "current_user",
    "default",
    "deferrable",
    "desc",
    "distinct",
    "do",
    "else",
    "end",
    "except",
    "false",
    "fetch",
    "for",
    "foreign",
    "from",
    "grant",
    "group",
    "having",
    "in",
    "initially",
    "intersect",
    "into",
    "lateral",
    "leading",
    "limit",
    "localtime",
    "localtimestamp",
    "not",
    "null",
    "offset",
    "on",
    "only",
    "or",
    "order",
    "placing",
    "primary",
    "references",
    "returning",
    "select",
    "session_user",
    "some",
    "symmetric",
    "system_user",
    "table",
    "then",
    "to",
    "trailing",
    "true",
    "union",
    "unique",
    "user",
    "using",
    "variadic",
    "when",
    "where",
    "window",
    "with",
    // Column-name keywords.
    "between",
    "bigint",
    "bit",
    "boolean",
    "char",
    "character",
    "coalesce",
    "dec",
    "decimal",
    "exists",
    "extract",
    "float",
    "greatest",
    "grouping",
    "inout",
    "int",
    "integer",
    "interval",
    "json",
    "json_array",
    "json_arrayagg",
    "json_object",
    "json_objectagg",
    "least",
    "national",
    "nchar",
    "none",
    "normalize",
    "nullif",
    "numeric",
    "out",
    "overlay",
    "position",
    "precision",
    "real",
    "row",
    "setof",
    "smallint",
    "substring",
    "time",
    "timestamp",
    "treat",
    "trim",
    "values",
    "varchar",
    "xmlattributes",
    "xmlconcat",
    "xmlelement",
    "xmlexists",
    "xmlforest",
    "xmlnamespaces",
    "xmlparse",
    "xmlpi",
    "xmlroot",
    "xmlserialize",
    "xmltable",
    // Type and function-name keywords.
    "authorization",
    "binary",
    "collation",
    "concurrently",
    "cross",
    "current_schema",
    "freeze",
    "full",
    "ilike",
    "inner",
    "is",
    "isnull",
    "join",
    "left",
    "like",
    "natural",
    "notnull",
    "outer",
    "overlaps",
    "right",
    "similar",
    "tablesample",
    "verbose",
];

/// Whether `name` is a keyword `quote_identifier` quotes.
pub fn is_quoted_keyword(name: &str) -> bool {
    QUOTED_KEYWORDS.contains(&name)
}

/// `name` as PostgreSQL prints an identifier: bare when it can be, else in double quotes
/// with embedded quotes doubled.
pub fn quote_identifier(name: &str) -> String {
    let safe = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !is_quoted_keyword(name);
    if safe {
        name.to_string()
    } else {
        format!("\"{}\"", name.replace('"', "\"\""))
    }
}

/// `schema.name` with each part quoted as needed; just `name` when `schema` is `None`.
pub fn quote_qualified(schema: Option<&str>, name: &str) -> String {
    match schema {
        Some(schema) => format!("{}.{}", quote_identifier(schema), quote_identifier(name)),
        None => quote_identifier(name),
    }
}

/// Splits a possibly qualified, possibly quoted name (`public."My Table"`) into its parts,
/// folding unquoted parts to lower case as the parser does. `None` on unbalanced quotes or
/// empty parts.
pub fn parse_qualified_name(text: &str) -> Option<Vec<String>> {
    let mut parts = Vec::new();
    let mut chars = text.trim().chars().peekable();
    loop {
        let mut part = String::new();
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next() {
                    Some('"') if chars.peek() == Some(&'"') => {
                        chars.next();
                        part.push('"');
                    }
                    Some('"') => break,
                    Some(c) => part.push(c),
                    None => return None,
                }
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c == '.' || c.is_whitespace() {
                    break;
                }
                part.push(c.to_ascii_lowercase());
                chars.next();
            }
            if part.is_empty() {
                return None;
            }
        }
        parts.push(part);
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        match chars.next() {
            None => return Some(parts),
            Some('.') => continue,
            Some(_) => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_like_postgres() {
        assert_eq!(quote_identifier("customers"), "customers");
        assert_eq!(quote_identifier("Customers"), "\"Customers\"");
        assert_eq!(quote_identifier("user"), "\"user\"");
        assert_eq!(quote_identifier("name"), "name");
        assert_eq!(quote_identifier("1abc"), "\"1abc\"");
        assert_eq!(quote_identifier("a\"b"), "\"a\"\"b\"");
        assert_eq!(quote_identifier(""), "\"\"");
    }

    #[test]
    fn parses_qualified_names() {
        assert_eq!(
            parse_qualified_name("public.\"My Table\""),
            Some(vec!["public".to_string(), "My Table".to_string()])
        );
        assert_eq!(
            parse_qualified_name("Pg_Class"),
            Some(vec!["pg_class".to_string()])
        );
        assert_eq!(parse_qualified_name("a..b"), None);
        assert_eq!(parse_qualified_name("\"open"), None);
    }
}
