//! The token reader of the ACL grammar: the statement text tokenized with sqlparser's
//! tokenizer into words, strings, numbers and punctuation, and a cursor over them with the
//! small readers (keywords, names, lists, role specifications) the grammar is made of.

use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::tokenizer::{Token, Tokenizer};

use super::RoleSpec;
use crate::error::{SqlError, SqlResult};

/// A token of the statement: a word (folded unless quoted, `quoted` tells), a string
/// literal, a number, or punctuation.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Tok {
    Word {
        folded: String,
        upper: String,
        quoted: bool,
    },
    Str(String),
    Num(String),
    Punct(String),
}

pub(super) struct Cursor {
    pub(super) tokens: Vec<Tok>,
    pub(super) at: usize,
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
    pub(super) fn new(text: &str) -> SqlResult<Cursor> {
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

    pub(super) fn peek(&self) -> Option<&Tok> {
        self.tokens.get(self.at)
    }

    pub(super) fn peek_keyword(&self, offset: usize) -> Option<&str> {
        match self.tokens.get(self.at + offset) {
            Some(Tok::Word { upper, quoted, .. }) if !quoted => Some(upper.as_str()),
            _ => None,
        }
    }

    pub(super) fn error(&self) -> SqlError {
        syntax_at(self.peek())
    }

    pub(super) fn is(&self, keyword: &str) -> bool {
        self.peek_keyword(0) == Some(keyword)
    }

    pub(super) fn eat(&mut self, keyword: &str) -> bool {
        if self.is(keyword) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    pub(super) fn expect(&mut self, keyword: &str) -> SqlResult<()> {
        if self.eat(keyword) {
            Ok(())
        } else {
            Err(self.error())
        }
    }

    pub(super) fn eat_punct(&mut self, p: &str) -> bool {
        if matches!(self.peek(), Some(Tok::Punct(x)) if x == p) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    pub(super) fn expect_punct(&mut self, p: &str) -> SqlResult<()> {
        if self.eat_punct(p) {
            Ok(())
        } else {
            Err(self.error())
        }
    }

    pub(super) fn done(&self) -> SqlResult<()> {
        match self.peek() {
            None => Ok(()),
            Some(_) => Err(self.error()),
        }
    }

    /// An identifier (any word, folded).
    pub(super) fn name(&mut self) -> SqlResult<String> {
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
    pub(super) fn role_name(&mut self) -> SqlResult<String> {
        if let Some(Tok::Str(s)) = self.peek() {
            let s = s.clone();
            self.at += 1;
            return Ok(s);
        }
        self.name()
    }

    pub(super) fn string(&mut self) -> SqlResult<String> {
        match self.peek() {
            Some(Tok::Str(s)) => {
                let s = s.clone();
                self.at += 1;
                Ok(s)
            }
            _ => Err(self.error()),
        }
    }

    pub(super) fn integer(&mut self) -> SqlResult<i32> {
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

    pub(super) fn qualified_name(&mut self) -> SqlResult<Vec<String>> {
        let mut parts = vec![self.name()?];
        while self.eat_punct(".") {
            parts.push(self.name()?);
        }
        Ok(parts)
    }

    pub(super) fn list<T>(
        &mut self,
        mut item: impl FnMut(&mut Cursor) -> SqlResult<T>,
    ) -> SqlResult<Vec<T>> {
        let mut items = vec![item(self)?];
        while self.eat_punct(",") {
            items.push(item(self)?);
        }
        Ok(items)
    }

    pub(super) fn role_spec(&mut self) -> SqlResult<RoleSpec> {
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
    pub(super) fn parenthesised_text(&mut self) -> SqlResult<String> {
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
