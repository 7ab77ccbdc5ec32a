//! The parsed form of a PL/pgSQL body: statements, and SQL text cut into pieces at the
//! names that may be variables ([`SqlText`]), which become parameters when it runs.

use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::keywords::Keyword;
use sqlparser::tokenizer::{Token, Tokenizer};

use crate::error::{SqlError, SqlResult};
use crate::pgtype::SqlType;

/// A function body.
#[derive(Debug, Clone)]
pub struct Block {
    pub label: Option<String>,
    pub decls: Vec<Decl>,
    pub stmts: Vec<Stmt>,
}

/// `name [CONSTANT] type [NOT NULL] [{DEFAULT | := | =} expr];`
#[derive(Debug, Clone)]
pub struct Decl {
    pub name: String,
    pub type_text: String,
    pub ty: SqlType,
    pub constant: bool,
    pub not_null: bool,
    pub default: Option<SqlText>,
}

/// Where an assignment or `INTO` stores a value.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    Var(String),
    /// `rec.field` (NEW.col in a trigger).
    Field(String, String),
}

/// Severity of RAISE.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Debug,
    Log,
    Info,
    Notice,
    Warning,
    Exception,
}

/// `RAISE`'s USING options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RaiseOption {
    Message,
    Detail,
    Hint,
    Errcode,
}

#[derive(Debug, Clone)]
pub struct Raise {
    pub level: Level,
    /// The format string, `%` marking where the next argument goes.
    pub format: Option<String>,
    pub args: Vec<SqlText>,
    /// A condition name or `SQLSTATE 'xxxxx'` given instead of a format.
    pub condition: Option<String>,
    pub options: Vec<(RaiseOption, SqlText)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SqlKind {
    Select,
    Insert,
    Update,
    Delete,
}

#[derive(Debug, Clone)]
pub enum Stmt {
    Assign(Target, SqlText),
    If {
        branches: Vec<(SqlText, Vec<Stmt>)>,
        otherwise: Vec<Stmt>,
    },
    Return(Option<SqlText>),
    /// `PERFORM rest`: runs `SELECT rest`, discarding the rows.
    Perform(SqlText),
    /// A query or DML statement, with `INTO [STRICT] targets` when it had one.
    Sql {
        kind: SqlKind,
        text: SqlText,
        into: Option<(bool, Vec<Target>)>,
    },
    Raise(Box<Raise>),
    Null,
    ForRange {
        label: Option<String>,
        var: String,
        reverse: bool,
        lower: SqlText,
        upper: SqlText,
        step: Option<SqlText>,
        body: Vec<Stmt>,
    },
    While {
        label: Option<String>,
        cond: SqlText,
        body: Vec<Stmt>,
    },
    Loop {
        label: Option<String>,
        body: Vec<Stmt>,
    },
    /// EXIT (`continue` false) or CONTINUE, with an optional label and WHEN condition.
    Exit {
        is_continue: bool,
        label: Option<String>,
        when: Option<SqlText>,
    },
    Block(Block),
}

/// A piece of SQL text from the body.
#[derive(Debug, Clone, PartialEq)]
pub enum Piece {
    Text(String),
    /// An identifier that may be a variable (its folded name, and the text as written).
    Name(String, String),
    /// `a.b` where `a` may be a record variable.
    Qualified(String, String, String),
    /// `$n` (1-based): the n-th argument.
    Arg(usize, String),
}

/// SQL text (an expression or a statement) cut into pieces at the names that may be
/// variables.
#[derive(Debug, Clone, PartialEq)]
pub struct SqlText {
    pub pieces: Vec<Piece>,
}

/// Where a token is in a statement, for telling names that may be variables from names
/// that only name relations and columns.
#[derive(Default)]
struct Context {
    depth: i32,
    /// Paren depth of an INSERT column list being read.
    insert_columns: Option<i32>,
    /// After `INSERT INTO name`, before its column list.
    after_insert_target: bool,
    /// Inside `UPDATE ... SET` (until WHERE / FROM / RETURNING at the same depth).
    in_set: Option<i32>,
    /// The previous token named a relation (its alias may follow).
    after_relation: bool,
}

impl Context {
    /// Moves past token `i`; whether it is a word that cannot be a variable.
    fn step(&mut self, toks: &[Tok], i: usize) -> bool {
        let keyword = |t: &Tok| match &t.token {
            Token::Word(w) if w.quote_style.is_none() => Some(w.value.to_ascii_uppercase()),
            _ => None,
        };
        let prev = if i > 0 { keyword(&toks[i - 1]) } else { None };
        let here = keyword(&toks[i]);
        let mut fixed = false;
        match &toks[i].token {
            Token::LParen => {
                self.depth += 1;
                if self.after_insert_target {
                    self.insert_columns = Some(self.depth);
                }
                self.after_insert_target = false;
            }
            Token::RParen => {
                if self.insert_columns == Some(self.depth) {
                    self.insert_columns = None;
                }
                self.depth -= 1;
            }
            Token::Word(_) => {
                if prev.as_deref() == Some("INTO")
                    && i >= 2
                    && keyword(&toks[i - 2]).as_deref() == Some("INSERT")
                {
                    self.after_insert_target = true;
                    fixed = true;
                } else if self.after_insert_target {
                    self.after_insert_target = false;
                }
                let relation = matches!(
                    prev.as_deref(),
                    Some("FROM" | "JOIN" | "INTO" | "UPDATE" | "TABLE" | "ONLY")
                );
                let is_keyword =
                    matches!(&toks[i].token, Token::Word(w) if w.keyword != Keyword::NoKeyword);
                if relation || prev.as_deref() == Some("AS") || (self.after_relation && !is_keyword)
                {
                    fixed = true;
                }
                self.after_relation = relation;
                if self.insert_columns.is_some() {
                    fixed = true;
                }
                match here.as_deref() {
                    Some("SET") => self.in_set = Some(self.depth),
                    Some("WHERE" | "FROM" | "RETURNING") if self.in_set == Some(self.depth) => {
                        self.in_set = None
                    }
                    _ => {}
                }
                if self.in_set == Some(self.depth)
                    && toks.get(i + 1).is_some_and(|n| n.token == Token::Eq)
                {
                    fixed = true;
                }
            }
            Token::Period => {}
            _ => {
                self.after_insert_target = false;
                self.after_relation = false;
            }
        }
        fixed
    }
}

impl SqlText {
    pub fn parse(text: &str) -> SqlResult<SqlText> {
        let toks = tokenize(text)?;
        let mut pieces = Vec::new();
        let mut copied = 0usize;
        let mut i = 0;
        let mut context = Context::default();
        while i < toks.len() {
            let t = &toks[i];
            let prev_dot = i > 0 && toks[i - 1].token == Token::Period;
            let next = toks.get(i + 1).map(|t| &t.token);
            let names_a_column = context.step(&toks, i);
            let piece = match &t.token {
                // Relation names, aliases, INSERT column lists and UPDATE SET targets are
                // never variables (PostgreSQL resolves variables in expressions only).
                Token::Word(_) if names_a_column => None,
                Token::Placeholder(p) if p.starts_with('$') => p[1..]
                    .parse::<usize>()
                    .ok()
                    .map(|n| (Piece::Arg(n, p.clone()), i + 1)),
                Token::Word(w) if !prev_dot && next != Some(&Token::LParen) => {
                    let name = folded(w);
                    match (next, toks.get(i + 2).map(|t| &t.token)) {
                        (Some(Token::Period), Some(Token::Word(f)))
                            if toks.get(i + 3).map(|t| &t.token) != Some(&Token::LParen) =>
                        {
                            let end = toks[i + 2].end;
                            Some((
                                Piece::Qualified(name, folded(f), text[t.start..end].to_string()),
                                i + 3,
                            ))
                        }
                        (Some(Token::Period), _) => None,
                        _ => Some((Piece::Name(name, text[t.start..t.end].to_string()), i + 1)),
                    }
                }
                _ => None,
            };
            match piece {
                Some((piece, next_i)) => {
                    if t.start > copied {
                        pieces.push(Piece::Text(text[copied..t.start].to_string()));
                    }
                    copied = toks[next_i - 1].end;
                    pieces.push(piece);
                    i = next_i;
                }
                None => i += 1,
            }
        }
        if copied < text.len() {
            pieces.push(Piece::Text(text[copied..].to_string()));
        }
        Ok(SqlText { pieces })
    }

    /// The text as written.
    pub fn source(&self) -> String {
        self.pieces
            .iter()
            .map(|p| match p {
                Piece::Text(s)
                | Piece::Name(_, s)
                | Piece::Qualified(_, _, s)
                | Piece::Arg(_, s) => s.as_str(),
            })
            .collect()
    }

    /// Whether this is the single name `name` (`RETURN NEW`).
    pub fn is_name(&self, name: &str) -> bool {
        let significant: Vec<&Piece> = self
            .pieces
            .iter()
            .filter(|p| !matches!(p, Piece::Text(s) if s.trim().is_empty()))
            .collect();
        matches!(significant.as_slice(), [Piece::Name(n, _)] if n == name)
    }
}

/// A significant token and its byte range in the text.
#[derive(Debug, Clone)]
pub(super) struct Tok {
    pub(super) token: Token,
    pub(super) start: usize,
    pub(super) end: usize,
}

pub(super) fn folded(w: &sqlparser::tokenizer::Word) -> String {
    if w.quote_style.is_some() {
        w.value.clone()
    } else {
        w.value.to_lowercase()
    }
}

pub(super) fn tokenize(text: &str) -> SqlResult<Vec<Tok>> {
    let dialect = PostgreSqlDialect {};
    let tokens = Tokenizer::new(&dialect, text)
        .tokenize_with_location()
        .map_err(|e| SqlError::syntax(format!("syntax error: {}", e.message)))?;
    // Byte offset of each line start, for the (line, column) spans.
    let mut lines = vec![0usize];
    for (i, b) in text.bytes().enumerate() {
        if b == b'\n' {
            lines.push(i + 1);
        }
    }
    let offset = |line: u64, column: u64| -> usize {
        let Some(&start) = lines.get((line as usize).saturating_sub(1)) else {
            return text.len();
        };
        text[start..]
            .char_indices()
            .nth((column as usize).saturating_sub(1))
            .map(|(i, _)| start + i)
            .unwrap_or(text.len())
    };
    Ok(tokens
        .into_iter()
        .filter(|t| !matches!(t.token, Token::Whitespace(_) | Token::EOF))
        .map(|t| Tok {
            start: offset(t.span.start.line, t.span.start.column),
            end: offset(t.span.end.line, t.span.end.column),
            token: t.token,
        })
        .collect())
}
