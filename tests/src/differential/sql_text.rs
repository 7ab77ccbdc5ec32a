//! Just enough SQL lexing for the harness: splitting a script into statements at top-level
//! semicolons, and telling whether a statement's outermost level has an ORDER BY (then its
//! row order is part of the result; otherwise rows are compared as a multiset).
//!
//! Understood: '...' strings (with '' and, for E'...', backslash escapes), "..." identifiers,
//! $tag$...$tag$ dollar quotes, -- and (nested) /* */ comments, parentheses and brackets.

/// A word (keyword or identifier, upper-cased) or a semicolon at some nesting depth.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Word { text: String, depth: usize },
    Semicolon { offset: usize },
}

fn tokens(sql: &str) -> Vec<Token> {
    let chars: Vec<(usize, char)> = sql.char_indices().collect();
    let mut tokens = Vec::new();
    let mut depth = 0usize;
    let mut i = 0;
    let at = |i: usize| chars.get(i).map(|&(_, c)| c);
    while i < chars.len() {
        let (offset, c) = chars[i];
        match c {
            '-' if at(i + 1) == Some('-') => {
                while i < chars.len() && chars[i].1 != '\n' {
                    i += 1;
                }
            }
            '/' if at(i + 1) == Some('*') => {
                let mut nesting = 0usize;
                while i < chars.len() {
                    if chars[i].1 == '/' && at(i + 1) == Some('*') {
                        nesting += 1;
                        i += 2;
                    } else if chars[i].1 == '*' && at(i + 1) == Some('/') {
                        nesting -= 1;
                        i += 2;
                        if nesting == 0 {
                            break;
                        }
                    } else {
                        i += 1;
                    }
                }
            }
            '\'' => {
                let backslash_escapes = i > 0
                    && matches!(at(i - 1), Some('e' | 'E'))
                    && !(i > 1 && at(i - 2).is_some_and(is_word_char));
                i += 1;
                while i < chars.len() {
                    match chars[i].1 {
                        '\\' if backslash_escapes => i += 2,
                        '\'' if at(i + 1) == Some('\'') => i += 2,
                        '\'' => {
                            i += 1;
                            break;
                        }
                        _ => i += 1,
                    }
                }
            }
            '"' => {
                i += 1;
                while i < chars.len() {
                    if chars[i].1 == '"' {
                        if at(i + 1) == Some('"') {
                            i += 2;
                            continue;
                        }
                        i += 1;
                        break;
                    }
                    i += 1;
                }
            }
            '$' if !(i > 0 && at(i - 1).is_some_and(is_word_char)) => {
                // $tag$ or $$ starts a dollar quote; $1 is a parameter.
                let mut end = i + 1;
                while at(end).is_some_and(|c| c.is_alphanumeric() || c == '_') {
                    end += 1;
                }
                let tag_is_valid = !at(i + 1).is_some_and(|c| c.is_ascii_digit());
                if at(end) == Some('$') && tag_is_valid {
                    let tag: String = chars[i..=end].iter().map(|&(_, c)| c).collect();
                    let tag_chars: Vec<char> = tag.chars().collect();
                    i = end + 1;
                    while i < chars.len() {
                        let matches_tag = tag_chars
                            .iter()
                            .enumerate()
                            .all(|(k, &t)| at(i + k) == Some(t));
                        if matches_tag {
                            i += tag_chars.len();
                            break;
                        }
                        i += 1;
                    }
                } else {
                    i = end;
                }
            }
            '(' | '[' => {
                depth += 1;
                i += 1;
            }
            ')' | ']' => {
                depth = depth.saturating_sub(1);
                i += 1;
            }
            ';' => {
                tokens.push(Token::Semicolon { offset });
                i += 1;
            }
            c if is_word_char(c) => {
                let start = i;
                while i < chars.len() && is_word_char(chars[i].1) {
                    i += 1;
                }
                let text: String = chars[start..i].iter().map(|&(_, c)| c).collect();
                tokens.push(Token::Word {
                    text: text.to_uppercase(),
                    depth,
                });
            }
            _ => i += 1,
        }
    }
    tokens
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The statements of a script, split at semicolons outside strings, identifiers and comments;
/// statements with no words (empty, or only comments) are dropped. Each keeps its text without
/// the semicolon.
pub fn split_statements(sql: &str) -> Vec<String> {
    let mut statements = Vec::new();
    let mut start = 0;
    let mut push = |text: &str| {
        if tokens(text)
            .iter()
            .any(|token| matches!(token, Token::Word { .. }))
        {
            statements.push(text.trim().to_string());
        }
    };
    for token in tokens(sql) {
        if let Token::Semicolon { offset } = token {
            push(&sql[start..offset]);
            start = offset + 1;
        }
    }
    push(&sql[start..]);
    statements
}

/// Whether the statement has `ORDER BY` outside all parentheses.
pub fn has_top_level_order_by(statement: &str) -> bool {
    let words: Vec<(String, usize)> = tokens(statement)
        .into_iter()
        .filter_map(|token| match token {
            Token::Word { text, depth } => Some((text, depth)),
            Token::Semicolon { .. } => None,
        })
        .collect();
    words
        .windows(2)
        .any(|pair| pair[0].1 == 0 && pair[1].1 == 0 && pair[0].0 == "ORDER" && pair[1].0 == "BY")
}

/// The upper-cased words of a statement outside strings and comments (for checks such as
/// "does this query call now()").
pub fn words(sql: &str) -> Vec<String> {
    tokens(sql)
        .into_iter()
        .filter_map(|token| match token {
            Token::Word { text, .. } => Some(text),
            Token::Semicolon { .. } => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_outside_quotes_and_comments() {
        let sql = "SELECT 'a;b', \"x;y\" -- c;d\n; /* e; /* f; */ g; */ SELECT $$h;i$$, E'\\';'; ;";
        let statements = split_statements(sql);
        assert_eq!(statements.len(), 2, "{statements:?}");
        assert!(statements[1].ends_with("E'\\';'"));
    }

    #[test]
    fn finds_only_outermost_order_by() {
        assert!(has_top_level_order_by("SELECT a FROM t ORDER BY a"));
        assert!(has_top_level_order_by(
            "WITH x AS (SELECT 1 ORDER BY 1) SELECT * FROM x UNION SELECT 2 order by 1"
        ));
        assert!(!has_top_level_order_by(
            "SELECT row_number() OVER (ORDER BY a), string_agg(b, ',' ORDER BY b) FROM t"
        ));
        assert!(!has_top_level_order_by(
            "SELECT 'ORDER BY' FROM t -- ORDER BY"
        ));
        assert!(!has_top_level_order_by(
            "SELECT * FROM (SELECT a FROM t ORDER BY a) s"
        ));
    }

    #[test]
    fn parameters_are_not_dollar_quotes() {
        assert_eq!(
            words("SELECT $1 ORDER BY x"),
            vec!["SELECT", "ORDER", "BY", "X"]
        );
    }
}
