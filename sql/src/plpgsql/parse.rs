//! The PL/pgSQL body parser: the block structure (DECLARE / BEGIN / END, IF, loops) is read
//! from sqlparser's tokens; expressions and the SQL statements of the body stay SQL text, cut
//! into pieces so that variable names can become parameters when the statement runs (see
//! [`SqlText`]).
//!
//! Everything PL/pgSQL has that the interpreter does not run is refused here, at CREATE
//! FUNCTION, with 0A000 naming the construct.

use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::tokenizer::Token;

use super::ast::{folded, tokenize, Tok};
pub use super::ast::{
    Block, Decl, Level, Piece, Raise, RaiseOption, SqlKind, SqlText, Stmt, Target,
};
use crate::error::{code, SqlError, SqlResult};
use crate::pgtype::SqlType;

/// Parses a function body.
pub fn parse_body(text: &str) -> SqlResult<Block> {
    let toks = tokenize(text)?;
    let mut p = Parser { text, toks, pos: 0 };
    let label = p.label();
    let block = p.block(label)?;
    p.eat(&Token::SemiColon);
    if let Some(t) = p.toks.get(p.pos) {
        return Err(p.syntax_at(t.clone()));
    }
    Ok(block)
}

struct Parser<'a> {
    text: &'a str,
    toks: Vec<Tok>,
    pos: usize,
}

/// 0A000 for a PL/pgSQL construct custos does not run: `what` names it.
pub fn unsupported(what: &str) -> SqlError {
    SqlError::new(
        code::FEATURE_NOT_SUPPORTED,
        format!("PL/pgSQL {what} is not supported"),
    )
    .with_hint("custos runs DECLARE, assignments, IF, simple loops, RETURN, PERFORM, SELECT INTO, INSERT / UPDATE / DELETE and RAISE.")
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Token> {
        self.toks.get(self.pos).map(|t| &t.token)
    }

    fn peek_at(&self, n: usize) -> Option<&Token> {
        self.toks.get(self.pos + n).map(|t| &t.token)
    }

    /// The unquoted keyword at `pos + n`, lowercased.
    fn word_at(&self, n: usize) -> Option<String> {
        match self.peek_at(n) {
            Some(Token::Word(w)) if w.quote_style.is_none() => Some(w.value.to_lowercase()),
            _ => None,
        }
    }

    fn is_word(&self, word: &str) -> bool {
        self.word_at(0).as_deref() == Some(word)
    }

    fn eat(&mut self, t: &Token) -> bool {
        if self.peek() == Some(t) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn eat_word(&mut self, word: &str) -> bool {
        if self.is_word(word) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn syntax_at(&self, t: Tok) -> SqlError {
        SqlError::syntax(format!(
            "syntax error at or near \"{}\"",
            &self.text[t.start..t.end]
        ))
    }

    fn syntax_here(&self) -> SqlError {
        match self.toks.get(self.pos) {
            Some(t) => self.syntax_at(t.clone()),
            None => SqlError::syntax("syntax error at end of input"),
        }
    }

    fn expect(&mut self, t: &Token) -> SqlResult<()> {
        if self.eat(t) {
            Ok(())
        } else {
            Err(self.syntax_here())
        }
    }

    fn expect_word(&mut self, word: &str) -> SqlResult<()> {
        if self.eat_word(word) {
            Ok(())
        } else {
            Err(self.syntax_here())
        }
    }

    fn ident(&mut self) -> SqlResult<String> {
        match self.peek() {
            Some(Token::Word(w)) => {
                let name = folded(w);
                self.pos += 1;
                Ok(name)
            }
            _ => Err(self.syntax_here()),
        }
    }

    /// `<<label>>`
    fn label(&mut self) -> Option<String> {
        if self.peek() == Some(&Token::ShiftLeft) && self.peek_at(2) == Some(&Token::ShiftRight) {
            if let Some(Token::Word(w)) = self.peek_at(1) {
                let name = folded(w);
                self.pos += 3;
                return Some(name);
            }
        }
        None
    }

    /// The text from the current token up to (not including) the first token at paren depth
    /// 0 for which `stop` holds; the position moves to that token. Errors at end of input.
    fn text_until(&mut self, stop: impl Fn(&Parser, &Token) -> bool) -> SqlResult<(usize, usize)> {
        let start_pos = self.pos;
        let mut depth = 0i32;
        while let Some(t) = self.peek() {
            if depth == 0 && stop(self, t) {
                break;
            }
            match t {
                Token::LParen | Token::LBracket => depth += 1,
                Token::RParen | Token::RBracket => depth -= 1,
                _ => {}
            }
            self.pos += 1;
        }
        if self.pos >= self.toks.len() {
            return Err(SqlError::syntax("syntax error at end of input"));
        }
        if self.pos == start_pos {
            return Err(self.syntax_here());
        }
        Ok((self.toks[start_pos].start, self.toks[self.pos - 1].end))
    }

    fn sql_until(&mut self, stop: impl Fn(&Parser, &Token) -> bool) -> SqlResult<SqlText> {
        let (a, b) = self.text_until(stop)?;
        SqlText::parse(&self.text[a..b])
    }

    fn sql_until_semicolon(&mut self) -> SqlResult<SqlText> {
        let text = self.sql_until(|_, t| *t == Token::SemiColon)?;
        self.expect(&Token::SemiColon)?;
        Ok(text)
    }

    fn block(&mut self, label: Option<String>) -> SqlResult<Block> {
        let mut decls = Vec::new();
        if self.eat_word("declare") {
            while !self.is_word("begin") {
                if self.peek().is_none() {
                    return Err(SqlError::syntax("syntax error at end of input"));
                }
                if self.is_word("declare") {
                    self.pos += 1;
                    continue;
                }
                decls.push(self.decl()?);
            }
        }
        self.expect_word("begin")?;
        let stmts = self.stmts(&["end", "exception"])?;
        if self.is_word("exception") {
            return Err(unsupported("EXCEPTION block"));
        }
        self.expect_word("end")?;
        if let Some(Token::Word(_)) = self.peek() {
            if !self.is_word("if") && !self.is_word("loop") {
                let l = self.ident()?;
                if Some(&l) != label.as_ref() {
                    return Err(SqlError::syntax(format!(
                        "end label \"{l}\" differs from block's label \"{}\"",
                        label.unwrap_or_default()
                    )));
                }
            }
        }
        Ok(Block {
            label,
            decls,
            stmts,
        })
    }

    fn decl(&mut self) -> SqlResult<Decl> {
        let name = self.ident()?;
        if self.is_word("alias") {
            return Err(unsupported("ALIAS declaration"));
        }
        if self.is_word("cursor") || self.is_word("refcursor") {
            return Err(unsupported("cursor"));
        }
        let constant = self.eat_word("constant");
        let stop = |p: &Parser, t: &Token| {
            matches!(t, Token::SemiColon | Token::Assignment | Token::Eq)
                || p.word_at(0).is_some_and(|w| {
                    w == "default"
                        || w == "collate"
                        || (w == "not" && p.word_at(1).as_deref() == Some("null"))
                })
        };
        let (a, b) = self.text_until(stop)?;
        let type_text = self.text[a..b].to_string();
        if type_text.contains('%') {
            return Err(unsupported("%TYPE / %ROWTYPE declaration"));
        }
        if self.eat_word("collate") {
            return Err(unsupported("COLLATE in a declaration"));
        }
        let mut not_null = false;
        if self.is_word("not") {
            self.pos += 2;
            not_null = true;
        }
        let default =
            if self.eat(&Token::Assignment) || self.eat(&Token::Eq) || self.eat_word("default") {
                Some(self.sql_until(|_, t| *t == Token::SemiColon)?)
            } else {
                None
            };
        self.expect(&Token::SemiColon)?;
        if constant && default.is_none() {
            return Err(SqlError::syntax(
                "constant variables must have a default value",
            ));
        }
        if not_null && default.is_none() {
            return Err(SqlError::new(
                code::NULL_VALUE_NOT_ALLOWED,
                format!(
                    "variable \"{name}\" must have a default value, since it's declared NOT NULL"
                ),
            ));
        }
        let ty = resolve_type(&type_text)?;
        Ok(Decl {
            name,
            type_text,
            ty,
            constant,
            not_null,
            default,
        })
    }

    /// Statements up to one of the `ends` words (not consumed).
    fn stmts(&mut self, ends: &[&str]) -> SqlResult<Vec<Stmt>> {
        let mut out = Vec::new();
        loop {
            match self.word_at(0) {
                Some(w) if ends.contains(&w.as_str()) => return Ok(out),
                _ => {}
            }
            if self.peek().is_none() {
                return Err(SqlError::syntax("syntax error at end of input"));
            }
            out.push(self.stmt()?);
        }
    }

    fn stmt(&mut self) -> SqlResult<Stmt> {
        let label = self.label();
        let Some(word) = self.word_at(0) else {
            return Err(self.syntax_here());
        };
        // An assignment: `name :=`, `name =`, `rec.field :=`.
        let assigning = matches!(self.peek_at(1), Some(Token::Assignment | Token::Eq))
            || (self.peek_at(1) == Some(&Token::Period)
                && matches!(self.peek_at(3), Some(Token::Assignment | Token::Eq)));
        if assigning && label.is_none() {
            let name = self.ident()?;
            let target = if self.eat(&Token::Period) {
                Target::Field(name, self.ident()?)
            } else {
                Target::Var(name)
            };
            self.pos += 1;
            return Ok(Stmt::Assign(target, self.sql_until_semicolon()?));
        }
        if label.is_some()
            && !matches!(
                word.as_str(),
                "declare" | "begin" | "loop" | "while" | "for"
            )
        {
            return Err(self.syntax_here());
        }
        match word.as_str() {
            "declare" | "begin" => {
                let block = self.block(label)?;
                self.expect(&Token::SemiColon)?;
                Ok(Stmt::Block(block))
            }
            "if" => self.if_stmt(),
            "return" => {
                self.pos += 1;
                if self.is_word("next") {
                    return Err(unsupported("RETURN NEXT"));
                }
                if self.is_word("query") {
                    return Err(unsupported("RETURN QUERY"));
                }
                if self.eat(&Token::SemiColon) {
                    return Ok(Stmt::Return(None));
                }
                Ok(Stmt::Return(Some(self.sql_until_semicolon()?)))
            }
            "perform" => {
                self.pos += 1;
                Ok(Stmt::Perform(self.sql_until_semicolon()?))
            }
            "null" => {
                self.pos += 1;
                self.expect(&Token::SemiColon)?;
                Ok(Stmt::Null)
            }
            "raise" => self.raise(),
            "select" | "with" => self.sql_stmt(SqlKind::Select),
            "insert" => self.sql_stmt(SqlKind::Insert),
            "update" => self.sql_stmt(SqlKind::Update),
            "delete" => self.sql_stmt(SqlKind::Delete),
            "loop" => {
                self.pos += 1;
                let body = self.loop_body(&label)?;
                Ok(Stmt::Loop { label, body })
            }
            "while" => {
                self.pos += 1;
                let cond = self.sql_until(|p, _| p.is_word("loop"))?;
                self.pos += 1;
                let body = self.loop_body(&label)?;
                Ok(Stmt::While { label, cond, body })
            }
            "for" => self.for_stmt(label),
            "exit" | "continue" => {
                self.pos += 1;
                let mut exit_label = None;
                if !self.is_word("when") && self.peek() != Some(&Token::SemiColon) {
                    exit_label = Some(self.ident()?);
                }
                let when = if self.eat_word("when") {
                    Some(self.sql_until(|_, t| *t == Token::SemiColon)?)
                } else {
                    None
                };
                self.expect(&Token::SemiColon)?;
                Ok(Stmt::Exit {
                    is_continue: word == "continue",
                    label: exit_label,
                    when,
                })
            }
            "execute" => Err(unsupported("EXECUTE statement (dynamic SQL)")),
            "open" | "fetch" | "close" | "move" => Err(unsupported("cursor")),
            "foreach" => Err(unsupported("FOREACH loop")),
            "case" => Err(unsupported("CASE statement")),
            "get" => Err(unsupported("GET DIAGNOSTICS")),
            "assert" => Err(unsupported("ASSERT statement")),
            "call" => Err(unsupported("CALL statement")),
            "commit" | "rollback" => Err(unsupported("transaction control statement")),
            "create" | "drop" | "alter" | "grant" | "revoke" | "truncate" | "copy" | "set"
            | "reset" | "comment" | "security" | "merge" | "lock" | "analyze" | "vacuum" => {
                Err(unsupported(&format!("{} statement", word.to_uppercase())))
            }
            _ => Err(self.syntax_here()),
        }
    }

    fn loop_body(&mut self, label: &Option<String>) -> SqlResult<Vec<Stmt>> {
        let body = self.stmts(&["end"])?;
        self.expect_word("end")?;
        self.expect_word("loop")?;
        if let Some(Token::Word(_)) = self.peek() {
            let l = self.ident()?;
            if Some(&l) != label.as_ref() {
                return Err(SqlError::syntax(format!(
                    "end label \"{l}\" differs from block's label \"{}\"",
                    label.clone().unwrap_or_default()
                )));
            }
        }
        self.expect(&Token::SemiColon)?;
        Ok(body)
    }

    fn if_stmt(&mut self) -> SqlResult<Stmt> {
        self.pos += 1;
        let mut branches = Vec::new();
        let mut otherwise = Vec::new();
        loop {
            let cond = self.sql_until(|p, _| p.is_word("then"))?;
            self.pos += 1;
            let body = self.stmts(&["elsif", "elseif", "else", "end"])?;
            branches.push((cond, body));
            if self.eat_word("elsif") || self.eat_word("elseif") {
                continue;
            }
            if self.eat_word("else") {
                otherwise = self.stmts(&["end"])?;
            }
            break;
        }
        self.expect_word("end")?;
        self.expect_word("if")?;
        self.expect(&Token::SemiColon)?;
        Ok(Stmt::If {
            branches,
            otherwise,
        })
    }

    fn for_stmt(&mut self, label: Option<String>) -> SqlResult<Stmt> {
        self.pos += 1;
        let var = self.ident()?;
        self.expect_word("in")?;
        let reverse = self.eat_word("reverse");
        if self.is_word("select") || self.is_word("with") || self.is_word("execute") {
            return Err(unsupported("FOR loop over a query"));
        }
        let (a, b) = self.text_until(|p, _| p.is_word("loop"))?;
        self.pos += 1;
        let range = &self.text[a..b];
        let Some((lower, rest)) = split_dots(range) else {
            return Err(unsupported("FOR loop over a query"));
        };
        let (upper, step) = match split_word(rest, "by") {
            Some((u, s)) => (u, Some(SqlText::parse(s)?)),
            None => (rest, None),
        };
        let body = self.loop_body(&label)?;
        Ok(Stmt::ForRange {
            label,
            var,
            reverse,
            lower: SqlText::parse(lower)?,
            upper: SqlText::parse(upper)?,
            step,
            body,
        })
    }

    fn sql_stmt(&mut self, kind: SqlKind) -> SqlResult<Stmt> {
        let start = self.pos;
        // INTO: for a query, the first INTO at depth 0; for DML, one after RETURNING.
        let mut depth = 0i32;
        let mut returning = false;
        let mut into_at = None;
        let mut i = self.pos;
        while let Some(t) = self.toks.get(i) {
            match &t.token {
                Token::SemiColon if depth == 0 => break,
                Token::LParen => depth += 1,
                Token::RParen => depth -= 1,
                Token::Word(w) if depth == 0 && w.quote_style.is_none() => {
                    let w = w.value.to_lowercase();
                    if w == "returning" {
                        returning = true;
                    }
                    if w == "into" && into_at.is_none() && (kind == SqlKind::Select || returning) {
                        into_at = Some(i);
                    }
                }
                _ => {}
            }
            i += 1;
        }
        let end = i;
        if end >= self.toks.len() {
            return Err(SqlError::syntax("syntax error at end of input"));
        }
        let Some(into) = into_at else {
            let text = SqlText::parse(&self.text[self.toks[start].start..self.toks[end - 1].end])?;
            self.pos = end + 1;
            return Ok(Stmt::Sql {
                kind,
                text,
                into: None,
            });
        };
        // Targets: `[STRICT] a [, b ...]` then the rest of the statement.
        self.pos = into + 1;
        let strict = self.eat_word("strict");
        let mut targets = Vec::new();
        loop {
            let name = self.ident()?;
            let target = if self.eat(&Token::Period) {
                Target::Field(name, self.ident()?)
            } else {
                Target::Var(name)
            };
            targets.push(target);
            if !self.eat(&Token::Comma) {
                break;
            }
        }
        let after = self.pos;
        let mut text = self.text[self.toks[start].start..self.toks[into].start].to_string();
        if after < end {
            text.push(' ');
            text.push_str(&self.text[self.toks[after].start..self.toks[end - 1].end]);
        }
        self.pos = end + 1;
        Ok(Stmt::Sql {
            kind,
            text: SqlText::parse(&text)?,
            into: Some((strict, targets)),
        })
    }

    fn raise(&mut self) -> SqlResult<Stmt> {
        self.pos += 1;
        let level = match self.word_at(0).as_deref() {
            Some("debug") => Some(Level::Debug),
            Some("log") => Some(Level::Log),
            Some("info") => Some(Level::Info),
            Some("notice") => Some(Level::Notice),
            Some("warning") => Some(Level::Warning),
            Some("exception") => Some(Level::Exception),
            _ => None,
        };
        if level.is_some() {
            self.pos += 1;
        }
        let level = level.unwrap_or(Level::Exception);
        if self.peek() == Some(&Token::SemiColon) {
            return Err(unsupported("RAISE without parameters (re-raise)"));
        }
        let mut raise = Raise {
            level,
            format: None,
            args: Vec::new(),
            condition: None,
            options: Vec::new(),
        };
        match self.peek().cloned() {
            Some(Token::SingleQuotedString(s)) | Some(Token::EscapedStringLiteral(s)) => {
                self.pos += 1;
                let wanted = placeholders(&s);
                raise.format = Some(s);
                while self.eat(&Token::Comma) {
                    raise.args.push(self.sql_until(|p, t| {
                        *t == Token::SemiColon || *t == Token::Comma || p.is_word("using")
                    })?);
                }
                if raise.args.len() < wanted {
                    return Err(SqlError::syntax("too few parameters specified for RAISE"));
                }
                if raise.args.len() > wanted {
                    return Err(SqlError::syntax("too many parameters specified for RAISE"));
                }
            }
            Some(Token::Word(w)) if !self.is_word("using") => {
                self.pos += 1;
                if w.value.eq_ignore_ascii_case("sqlstate") {
                    match self.peek().cloned() {
                        Some(Token::SingleQuotedString(s)) => {
                            self.pos += 1;
                            if s.len() != 5
                                || !s
                                    .bytes()
                                    .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase())
                            {
                                return Err(SqlError::syntax(format!(
                                    "invalid SQLSTATE code \"{s}\""
                                )));
                            }
                            raise.condition = Some(s);
                        }
                        _ => return Err(self.syntax_here()),
                    }
                } else {
                    let name = folded(&w);
                    if super::conditions::code_of(&name).is_none() {
                        return Err(SqlError::new(
                            code::UNDEFINED_OBJECT,
                            format!("unrecognized exception condition \"{name}\""),
                        ));
                    }
                    raise.condition = Some(name);
                }
            }
            _ => {}
        }
        if self.eat_word("using") {
            loop {
                let option = match self.ident()?.as_str() {
                    "message" => RaiseOption::Message,
                    "detail" => RaiseOption::Detail,
                    "hint" => RaiseOption::Hint,
                    "errcode" => RaiseOption::Errcode,
                    "column" | "constraint" | "datatype" | "table" | "schema" => {
                        return Err(unsupported(
                            "RAISE option other than MESSAGE, DETAIL, HINT and ERRCODE",
                        ))
                    }
                    other => {
                        return Err(SqlError::syntax(format!(
                            "unrecognized RAISE statement option \"{other}\""
                        )))
                    }
                };
                if !(self.eat(&Token::Eq) || self.eat(&Token::Assignment)) {
                    return Err(self.syntax_here());
                }
                if raise.options.iter().any(|(o, _)| *o == option) {
                    return Err(SqlError::syntax(format!(
                        "RAISE option already specified: {}",
                        option_name(option)
                    )));
                }
                let value = self.sql_until(|_, t| *t == Token::SemiColon || *t == Token::Comma)?;
                raise.options.push((option, value));
                if !self.eat(&Token::Comma) {
                    break;
                }
            }
        }
        self.expect(&Token::SemiColon)?;
        Ok(Stmt::Raise(Box::new(raise)))
    }
}

pub fn option_name(o: RaiseOption) -> &'static str {
    match o {
        RaiseOption::Message => "MESSAGE",
        RaiseOption::Detail => "DETAIL",
        RaiseOption::Hint => "HINT",
        RaiseOption::Errcode => "ERRCODE",
    }
}

/// How many `%` placeholders a RAISE format has (`%%` is a literal `%`).
pub fn placeholders(format: &str) -> usize {
    let mut n = 0;
    let mut chars = format.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '%' {
            if chars.peek() == Some(&'%') {
                chars.next();
            } else {
                n += 1;
            }
        }
    }
    n
}

/// Splits `a .. b` at the first `..` outside quotes.
fn split_dots(text: &str) -> Option<(&str, &str)> {
    let mut quoted = false;
    let bytes = text.as_bytes();
    for i in 0..bytes.len().saturating_sub(1) {
        match bytes[i] {
            b'\'' => quoted = !quoted,
            b'.' if !quoted && bytes[i + 1] == b'.' => return Some((&text[..i], &text[i + 2..])),
            _ => {}
        }
    }
    None
}

/// Splits at the word `word` (case-insensitive, outside quotes, surrounded by spaces).
fn split_word<'t>(text: &'t str, word: &str) -> Option<(&'t str, &'t str)> {
    let lower = text.to_ascii_lowercase();
    let needle = format!(" {word} ");
    let i = lower.find(&needle)?;
    Some((&text[..i], &text[i + needle.len()..]))
}

/// The type a declaration names.
pub fn resolve_type(text: &str) -> SqlResult<SqlType> {
    let dialect = PostgreSqlDialect {};
    let mut parser = sqlparser::parser::Parser::new(&dialect)
        .try_with_sql(text)
        .map_err(|e| SqlError::syntax(format!("syntax error: {e}")))?;
    let t = parser
        .parse_data_type()
        .map_err(|_| SqlError::syntax(format!("syntax error at or near \"{}\"", text.trim())))?;
    let ty = crate::bind::types::sql_type(&t)?;
    match ty {
        SqlType::Record => Err(unsupported("record variable")),
        SqlType::Any | SqlType::AnyElement | SqlType::AnyArray | SqlType::Void => {
            Err(SqlError::new(
                code::FEATURE_NOT_SUPPORTED,
                format!("variable of type {} is not supported", ty.display_name()),
            ))
        }
        ty => Ok(ty),
    }
}
