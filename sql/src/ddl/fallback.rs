//! DDL that sqlparser 0.64 does not parse, or parses only in part, read from the statement
//! text. The parser calls [`parse`] when sqlparser refuses a statement; it returns a
//! statement sqlparser does read, standing in for the original, and the DDL code reads what
//! the stand-in lacks from the original text (which every statement keeps):
//!
//! * `ALTER SEQUENCE ...` stands in as `CREATE SEQUENCE name` (DDL dispatch sees the text
//!   begins with ALTER; [`super::sequence::alter_sequence`] reads the rest).
//! * `CREATE FUNCTION ... LEAKPROOF | NOT LEAKPROOF | COST n | ROWS n` parses without those
//!   words; [`super::functions`] reads them from the text.
//! * `COMMENT ON FUNCTION f(types) IS ...` parses without the parameter list;
//!   [`function_argument_types`] reads it.
//!
//! Each rewrite removes something, so parsing the stand-in cannot come back here forever.

use sqlparser::ast;
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::keywords::Keyword;
use sqlparser::parser::Parser;
use sqlparser::tokenizer::Token;

use super::sqltext::{rewrite_tokens, tokens};
use crate::error::{SqlError, SqlResult};
use crate::pgtype::SqlType;

/// The first words of a statement, upper-cased (comments and whitespace skipped).
fn leading_words(text: &str, n: usize) -> Vec<String> {
    let Ok(tokens) = tokens(text) else {
        return Vec::new();
    };
    tokens
        .into_iter()
        .filter(|t| !matches!(t.token, Token::Whitespace(_)))
        .take(n)
        .map(|t| match t.token {
            Token::Word(w) if w.quote_style.is_none() => w.value.to_uppercase(),
            other => other.to_string(),
        })
        .collect()
}

/// Whether the statement text is a CHECKPOINT.
pub fn is_checkpoint(text: &str) -> bool {
    matches!(
        leading_words(text, 2).as_slice(),
        [word] | [word, _] if word == "CHECKPOINT"
    ) && leading_words(text, 2).get(1).is_none_or(|w| w == ";")
}

/// Whether the statement text is an ALTER SEQUENCE.
pub fn is_alter_sequence(text: &str) -> bool {
    leading_words(text, 2) == ["ALTER", "SEQUENCE"]
}

/// A stand-in for a statement sqlparser refused, if it is one of those above.
pub fn parse(text: &str) -> Option<SqlResult<ast::Statement>> {
    let words = leading_words(text, 5);
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    match words.as_slice() {
        ["ALTER", "SEQUENCE", ..] => Some(alter_sequence_stand_in(text)),
        ["CREATE", "FUNCTION", ..] | ["CREATE", "OR", "REPLACE", "FUNCTION", ..] => {
            let stripped = strip_function_options(text).ok()?;
            (stripped != text).then(|| crate::parse::parse_one(&stripped))
        }
        // `CHECKPOINT` stands in as a FLUSH statement; DDL dispatch checks the text.
        ["CHECKPOINT"] | ["CHECKPOINT", ";"] => Some(Ok(ast::Statement::Flush {
            object_type: ast::FlushType::Tables,
            location: None,
            channel: None,
            read_lock: false,
            export: false,
            tables: Vec::new(),
        })),
        ["CREATE", "POLICY", ..] => super::policy::unrecognized_option(text),
        ["COMMENT", "ON", "FUNCTION", ..] => {
            let stripped = strip_parameter_list(text).ok()??;
            Some(crate::parse::parse_one(&stripped))
        }
        _ => None,
    }
}

fn syntax(e: sqlparser::parser::ParserError) -> SqlError {
    SqlError::syntax(format!("syntax error: {e}"))
}

fn alter_sequence_stand_in(text: &str) -> SqlResult<ast::Statement> {
    let dialect = PostgreSqlDialect {};
    let mut p = Parser::new(&dialect).try_with_sql(text).map_err(syntax)?;
    let _ = p.parse_keywords(&[Keyword::ALTER, Keyword::SEQUENCE]);
    let if_exists = p.parse_keywords(&[Keyword::IF, Keyword::EXISTS]);
    let name = p.parse_object_name(false).map_err(syntax)?;
    Ok(ast::Statement::CreateSequence {
        temporary: false,
        if_not_exists: if_exists,
        name,
        sequence_options: Vec::new(),
    })
}

/// CREATE FUNCTION without LEAKPROOF, NOT LEAKPROOF, COST n and ROWS n.
fn strip_function_options(text: &str) -> SqlResult<String> {
    let mut skip_next_number = false;
    rewrite_tokens(text, |tokens, i| {
        let significant = |j: usize| -> Option<&Token> {
            tokens[j + 1..]
                .iter()
                .map(|t| &t.token)
                .find(|t| !matches!(t, Token::Whitespace(_)))
        };
        let word = |t: &Token, k: Keyword| matches!(t, Token::Word(w) if w.keyword == k && w.quote_style.is_none());
        let is_named = |t: &Token, name: &str| matches!(t, Token::Word(w) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case(name));
        let token = &tokens[i].token;
        if skip_next_number {
            if matches!(token, Token::Number(..)) {
                skip_next_number = false;
                return Ok(Some(String::new()));
            }
            if !matches!(token, Token::Whitespace(_)) {
                skip_next_number = false;
            }
            return Ok(None);
        }
        if is_named(token, "LEAKPROOF") {
            return Ok(Some(String::new()));
        }
        if word(token, Keyword::NOT) && significant(i).is_some_and(|t| is_named(t, "LEAKPROOF")) {
            return Ok(Some(String::new()));
        }
        if (is_named(token, "COST") || is_named(token, "ROWS"))
            && significant(i).is_some_and(|t| matches!(t, Token::Number(..)))
        {
            skip_next_number = true;
            return Ok(Some(String::new()));
        }
        Ok(None)
    })
}

/// COMMENT ON FUNCTION name(...) with the parenthesized list removed; `None` without one.
fn strip_parameter_list(text: &str) -> SqlResult<Option<String>> {
    let mut depth = 0usize;
    let mut seen = false;
    let stripped = rewrite_tokens(text, |tokens, i| {
        let token = &tokens[i].token;
        let before_is = |kw: &str| {
            tokens[..i]
                .iter()
                .rev()
                .find(|t| !matches!(t.token, Token::Whitespace(_)))
                .is_some_and(
                    |t| matches!(&t.token, Token::Word(w) if w.value.eq_ignore_ascii_case(kw)),
                )
        };
        match token {
            Token::LParen if depth == 0 && !seen && !before_is("IS") => {
                depth = 1;
                seen = true;
                Ok(Some(String::new()))
            }
            Token::LParen if depth > 0 => {
                depth += 1;
                Ok(Some(String::new()))
            }
            Token::RParen if depth > 0 => {
                depth -= 1;
                Ok(Some(String::new()))
            }
            _ if depth > 0 => Ok(Some(String::new())),
            _ => Ok(None),
        }
    })?;
    Ok(seen.then_some(stripped))
}

/// The parameter types of `COMMENT ON FUNCTION name(types) IS ...` (`None` without a list).
pub fn function_argument_types(text: &str) -> SqlResult<Option<Vec<SqlType>>> {
    let dialect = PostgreSqlDialect {};
    let mut p = Parser::new(&dialect).try_with_sql(text).map_err(syntax)?;
    if !p.parse_keywords(&[Keyword::COMMENT, Keyword::ON, Keyword::FUNCTION]) {
        return Ok(None);
    }
    p.parse_object_name(false).map_err(syntax)?;
    if !p.consume_token(&Token::LParen) {
        return Ok(None);
    }
    let mut types = Vec::new();
    if p.consume_token(&Token::RParen) {
        return Ok(Some(types));
    }
    loop {
        let _ = p.parse_one_of_keywords(&[Keyword::IN, Keyword::VARIADIC]);
        let mut t = p.parse_data_type().map_err(syntax)?;
        // `name type`: what was read first was the parameter's name.
        if !matches!(p.peek_token().token, Token::Comma | Token::RParen) {
            t = p.parse_data_type().map_err(syntax)?;
        }
        types.push(crate::bind::types::sql_type(&t)?);
        if p.consume_token(&Token::RParen) {
            return Ok(Some(types));
        }
        if !p.consume_token(&Token::Comma) {
            return Err(SqlError::syntax(format!(
                "syntax error at or near \"{}\"",
                p.peek_token().token
            )));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn function_options_sqlparser_lacks_are_removed() {
        let text = "CREATE FUNCTION f(a int) RETURNS int LANGUAGE sql LEAKPROOF COST 5 ROWS 3 AS 'select COST 1'";
        let stripped = strip_function_options(text).unwrap();
        assert!(
            !stripped.contains("LEAKPROOF") && stripped.contains("'select COST 1'"),
            "{stripped}"
        );
        assert!(matches!(
            parse(text),
            Some(Ok(ast::Statement::CreateFunction(_)))
        ));
    }

    #[test]
    fn comment_on_function_keeps_its_parameter_types() {
        let text = "COMMENT ON FUNCTION f(x integer, text) IS 'add (one)'";
        assert!(matches!(
            parse(text),
            Some(Ok(ast::Statement::Comment { .. }))
        ));
        let types = function_argument_types(text).unwrap().unwrap();
        assert_eq!(types, vec![SqlType::Int4, SqlType::Text]);
    }

    #[test]
    fn alter_sequence_stands_in_as_create() {
        assert!(is_alter_sequence("  alter sequence s restart"));
        assert!(matches!(
            parse("ALTER SEQUENCE IF EXISTS s RESTART WITH 5"),
            Some(Ok(ast::Statement::CreateSequence {
                if_not_exists: true,
                ..
            }))
        ));
    }
}
