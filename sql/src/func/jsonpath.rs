//! SQL/JSON path language: the syntax tree and its parser (PostgreSQL's `jsonpath_gram.y`
//! and `jsonpath_scan.l`, the commonly used subset).
//!
//! Supported: `lax` / `strict` mode; `$`, `@`, `$name` variables, `last`; literals (strings,
//! numbers, `true`, `false`, `null`); accessors `.key`, `."key"`, `.*`, `[*]`, `[i, j to k]`,
//! `.**`, `.**{m to n}`, filters `? (...)`; item methods `.type()`, `.size()`, `.double()`,
//! `.abs()`, `.floor()`, `.ceiling()`, `.keyvalue()`; arithmetic `+ - * / %` and unary
//! `+ -`; comparisons `== != <> < <= > >=`; `&&`, `||`, `!`; `exists (...)`,
//! `starts with`, `like_regex "..." [flag "..."]`, `(...) is unknown`. Anything else
//! (`.datetime()`, ...) is refused at parse time with 0A000, a malformed path with 42601,
//! as PostgreSQL refuses it when the `jsonpath` value is read.
//!
//! The tree is evaluated by `jsonpath_eval`.

use super::jsonpath_scan::{syntax_error, token_text, tokenize, Token};
use crate::error::{code, SqlError, SqlResult};

/// Longest path text accepted (a path is a literal in a query, so this is generous).
const MAX_PATH_LENGTH: usize = 64 * 1024;
/// Deepest nesting of path expressions and accessor chains (the parser and the evaluator
/// recurse over the tree; real paths nest a few levels).
const MAX_PATH_DEPTH: usize = 64;

/// A parsed path: its mode and its expression.
#[derive(Debug, Clone, PartialEq)]
pub struct JsonPath {
    pub strict: bool,
    pub expr: PathExpr,
}

/// A scalar literal of a path.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Null,
    Bool(bool),
    /// As written (valid numeric syntax).
    Number(String),
    String(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArithOp {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
}

impl ArithOp {
    pub fn symbol(self) -> &'static str {
        match self {
            ArithOp::Add => "+",
            ArithOp::Sub => "-",
            ArithOp::Mul => "*",
            ArithOp::Div => "/",
            ArithOp::Mod => "%",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Type,
    Size,
    Double,
    Abs,
    Floor,
    Ceiling,
    KeyValue,
}

impl Method {
    pub fn name(self) -> &'static str {
        match self {
            Method::Type => "type",
            Method::Size => "size",
            Method::Double => "double",
            Method::Abs => "abs",
            Method::Floor => "floor",
            Method::Ceiling => "ceiling",
            Method::KeyValue => "keyvalue",
        }
    }
}

/// One accessor applied to every item of a sequence.
#[derive(Debug, Clone, PartialEq)]
pub enum Accessor {
    /// `.key`
    Member(String),
    /// `.*`
    AnyMember,
    /// `[*]`
    AnyElement,
    /// `[i, j to k]`: subscripts (a single index or a range).
    Elements(Vec<(PathExpr, Option<PathExpr>)>),
    /// `.**{first to last}` (`u32::MAX` for `last`).
    Recursive {
        first: u32,
        last: u32,
    },
    Method(Method),
    /// `? (predicate)`
    Filter(Box<PathExpr>),
}

#[derive(Debug, Clone, PartialEq)]
pub enum PathExpr {
    /// `$`
    Root,
    /// `@`
    Current,
    /// `last` (inside array subscripts)
    Last,
    /// `$name`
    Variable(String),
    Literal(Literal),
    Accessor(Box<PathExpr>, Accessor),
    /// Unary `+` (false) or `-` (true).
    Unary(bool, Box<PathExpr>),
    Arith(ArithOp, Box<PathExpr>, Box<PathExpr>),
    Compare(CmpOp, Box<PathExpr>, Box<PathExpr>),
    And(Box<PathExpr>, Box<PathExpr>),
    Or(Box<PathExpr>, Box<PathExpr>),
    Not(Box<PathExpr>),
    IsUnknown(Box<PathExpr>),
    Exists(Box<PathExpr>),
    StartsWith(Box<PathExpr>, Box<PathExpr>),
    LikeRegex {
        expr: Box<PathExpr>,
        pattern: String,
        flags: String,
    },
}

impl PathExpr {
    /// Whether this is a predicate (its value is true, false or unknown).
    pub fn is_predicate(&self) -> bool {
        matches!(
            self,
            PathExpr::Compare(..)
                | PathExpr::And(..)
                | PathExpr::Or(..)
                | PathExpr::Not(_)
                | PathExpr::IsUnknown(_)
                | PathExpr::Exists(_)
                | PathExpr::StartsWith(..)
                | PathExpr::LikeRegex { .. }
        )
    }
}

/// Parses a path text (PostgreSQL's `jsonpath_in`).
pub fn parse(text: &str) -> SqlResult<JsonPath> {
    if text.len() > MAX_PATH_LENGTH {
        return Err(SqlError::new(
            code::PROGRAM_LIMIT_EXCEEDED,
            format!("jsonpath text is longer than {MAX_PATH_LENGTH} bytes"),
        ));
    }
    if text.trim().is_empty() {
        return Err(SqlError::new(
            code::INVALID_TEXT_REPRESENTATION,
            format!("invalid input syntax for type jsonpath: \"{text}\""),
        ));
    }
    let tokens = tokenize(text)?;
    let mut p = Parser {
        tokens,
        pos: 0,
        depth: 0,
        in_filter: 0,
        in_subscript: 0,
    };
    let strict = if p.word_is("strict") {
        p.pos += 1;
        true
    } else {
        if p.word_is("lax") {
            p.pos += 1;
        }
        false
    };
    let expr = p.expr(0)?;
    if let Some(t) = p.tokens.get(p.pos) {
        return Err(syntax_error(Some(&token_text(t))));
    }
    Ok(JsonPath { strict, expr })
}

fn too_deep() -> SqlError {
    SqlError::new(
        code::STATEMENT_TOO_COMPLEX,
        format!("jsonpath expression is nested deeper than {MAX_PATH_DEPTH} levels"),
    )
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
    depth: usize,
    /// Inside `? (...)`: `@` is allowed.
    in_filter: usize,
    /// Inside `[...]`: `last` is allowed.
    in_subscript: usize,
}

// Binding powers, loosest first.
const BP_OR: u8 = 1;
const BP_AND: u8 = 2;
const BP_NOT: u8 = 3;
const BP_COMPARE: u8 = 4;
const BP_ADD: u8 = 5;
const BP_MUL: u8 = 6;
const BP_UNARY: u8 = 7;

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn word_is(&self, w: &str) -> bool {
        matches!(self.peek(), Some(Token::Word(x)) if x.eq_ignore_ascii_case(w))
    }

    fn punct_is(&self, p: &str) -> bool {
        matches!(self.peek(), Some(Token::Punct(x)) if *x == p)
    }

    fn error_here(&self) -> SqlError {
        syntax_error(self.peek().map(token_text).as_deref())
    }

    fn expect_punct(&mut self, p: &str) -> SqlResult<()> {
        if self.punct_is(p) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.error_here())
        }
    }

    fn expect_word(&mut self, w: &str) -> SqlResult<()> {
        if self.word_is(w) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.error_here())
        }
    }

    /// An expression whose operators bind tighter than `min_bp`.
    fn expr(&mut self, min_bp: u8) -> SqlResult<PathExpr> {
        self.depth += 1;
        if self.depth > MAX_PATH_DEPTH {
            return Err(too_deep());
        }
        let result = self.expr_inner(min_bp);
        self.depth -= 1;
        result
    }

    fn expr_inner(&mut self, min_bp: u8) -> SqlResult<PathExpr> {
        let mut left = self.prefix()?;
        loop {
            let (bp, op): (u8, &str) = match self.peek() {
                Some(Token::Punct(p)) => match *p {
                    "||" => (BP_OR, "||"),
                    "&&" => (BP_AND, "&&"),
                    "==" | "!=" | "<>" | "<" | "<=" | ">" | ">=" => (BP_COMPARE, p),
                    "+" | "-" => (BP_ADD, p),
                    "*" | "/" | "%" => (BP_MUL, p),
                    _ => break,
                },
                Some(Token::Word(w)) => {
                    let w = w.to_ascii_lowercase();
                    match w.as_str() {
                        "starts" => (BP_COMPARE, "starts"),
                        "like_regex" => (BP_COMPARE, "like_regex"),
                        "is" => (BP_COMPARE, "is"),
                        _ => break,
                    }
                }
                _ => break,
            };
            if bp <= min_bp {
                break;
            }
            self.pos += 1;
            left = match op {
                "||" | "&&" => {
                    let right = self.expr(bp)?;
                    if !left.is_predicate() || !right.is_predicate() {
                        return Err(syntax_error(Some(op)));
                    }
                    if op == "||" {
                        PathExpr::Or(Box::new(left), Box::new(right))
                    } else {
                        PathExpr::And(Box::new(left), Box::new(right))
                    }
                }
                "starts" => {
                    self.expect_word("with")?;
                    let right = match self.peek() {
                        Some(Token::String(s)) => {
                            let s = s.clone();
                            self.pos += 1;
                            PathExpr::Literal(Literal::String(s))
                        }
                        Some(Token::Variable(v)) => {
                            let v = v.clone();
                            self.pos += 1;
                            PathExpr::Variable(v)
                        }
                        _ => return Err(self.error_here()),
                    };
                    self.scalar_operand(&left)?;
                    PathExpr::StartsWith(Box::new(left), Box::new(right))
                }
                "like_regex" => {
                    let Some(Token::String(pattern)) = self.peek().cloned() else {
                        return Err(self.error_here());
                    };
                    self.pos += 1;
                    let flags = if self.word_is("flag") {
                        self.pos += 1;
                        let Some(Token::String(f)) = self.peek().cloned() else {
                            return Err(self.error_here());
                        };
                        self.pos += 1;
                        if let Some(bad) = f.chars().find(|c| !"ismxq".contains(*c)) {
                            return Err(SqlError::syntax(format!(
                                "invalid input syntax for type jsonpath: unrecognized flag character \"{bad}\" in LIKE_REGEX predicate"
                            )));
                        }
                        f
                    } else {
                        String::new()
                    };
                    self.scalar_operand(&left)?;
                    PathExpr::LikeRegex {
                        expr: Box::new(left),
                        pattern,
                        flags,
                    }
                }
                "is" => {
                    self.expect_word("unknown")?;
                    if !left.is_predicate() {
                        return Err(syntax_error(Some("is")));
                    }
                    PathExpr::IsUnknown(Box::new(left))
                }
                cmp if bp == BP_COMPARE => {
                    let right = self.expr(bp)?;
                    self.scalar_operand(&left)?;
                    self.scalar_operand(&right)?;
                    let op = match cmp {
                        "==" => CmpOp::Eq,
                        "!=" | "<>" => CmpOp::Ne,
                        "<" => CmpOp::Lt,
                        "<=" => CmpOp::Le,
                        ">" => CmpOp::Gt,
                        _ => CmpOp::Ge,
                    };
                    PathExpr::Compare(op, Box::new(left), Box::new(right))
                }
                arith => {
                    let right = self.expr(bp)?;
                    self.scalar_operand(&left)?;
                    self.scalar_operand(&right)?;
                    let op = match arith {
                        "+" => ArithOp::Add,
                        "-" => ArithOp::Sub,
                        "*" => ArithOp::Mul,
                        "/" => ArithOp::Div,
                        _ => ArithOp::Mod,
                    };
                    PathExpr::Arith(op, Box::new(left), Box::new(right))
                }
            };
        }
        Ok(left)
    }

    /// Operands of arithmetic and comparisons are expressions, not predicates.
    fn scalar_operand(&self, e: &PathExpr) -> SqlResult<()> {
        if e.is_predicate() {
            Err(self.error_here())
        } else {
            Ok(())
        }
    }

    fn prefix(&mut self) -> SqlResult<PathExpr> {
        let Some(token) = self.peek().cloned() else {
            return Err(syntax_error(None));
        };
        match token {
            Token::Punct("!") => {
                self.pos += 1;
                let inner = self.expr(BP_NOT)?;
                if !inner.is_predicate() {
                    return Err(syntax_error(Some("!")));
                }
                Ok(PathExpr::Not(Box::new(inner)))
            }
            Token::Punct(p @ ("+" | "-")) => {
                self.pos += 1;
                let inner = self.expr(BP_UNARY)?;
                self.scalar_operand(&inner)?;
                Ok(PathExpr::Unary(p == "-", Box::new(inner)))
            }
            Token::Word(w) if w.eq_ignore_ascii_case("exists") => {
                self.pos += 1;
                self.expect_punct("(")?;
                let inner = self.expr(0)?;
                self.expect_punct(")")?;
                if inner.is_predicate() {
                    return Err(self.error_here());
                }
                Ok(PathExpr::Exists(Box::new(inner)))
            }
            _ => {
                let primary = self.primary()?;
                self.accessors(primary)
            }
        }
    }

    fn primary(&mut self) -> SqlResult<PathExpr> {
        let token = self.peek().cloned().ok_or_else(|| syntax_error(None))?;
        self.pos += 1;
        Ok(match token {
            Token::Dollar => PathExpr::Root,
            Token::At => {
                if self.in_filter == 0 {
                    return Err(SqlError::syntax("@ is not allowed in root expressions"));
                }
                PathExpr::Current
            }
            Token::Variable(v) => PathExpr::Variable(v),
            Token::String(s) => PathExpr::Literal(Literal::String(s)),
            Token::Number(n) => PathExpr::Literal(Literal::Number(n)),
            Token::Word(w) => match w.to_ascii_lowercase().as_str() {
                "true" => PathExpr::Literal(Literal::Bool(true)),
                "false" => PathExpr::Literal(Literal::Bool(false)),
                "null" => PathExpr::Literal(Literal::Null),
                "last" => {
                    if self.in_subscript == 0 {
                        return Err(SqlError::syntax("LAST is allowed only in array subscripts"));
                    }
                    PathExpr::Last
                }
                _ => {
                    self.pos -= 1;
                    return Err(self.error_here());
                }
            },
            Token::Punct("(") => {
                let inner = self.expr(0)?;
                self.expect_punct(")")?;
                inner
            }
            _ => {
                self.pos -= 1;
                return Err(self.error_here());
            }
        })
    }

    /// Accessors after a primary: `.key`, `[...]`, `? (...)`, methods.
    fn accessors(&mut self, base: PathExpr) -> SqlResult<PathExpr> {
        // Each accessor nests the tree one level deeper (the evaluator recurses over it).
        let depth = self.depth;
        let result = self.accessor_chain(base);
        self.depth = depth;
        result
    }

    fn accessor_chain(&mut self, mut base: PathExpr) -> SqlResult<PathExpr> {
        loop {
            self.depth += 1;
            if self.depth > MAX_PATH_DEPTH {
                return Err(too_deep());
            }
            let accessor = if self.punct_is(".") {
                self.pos += 1;
                self.dot_accessor()?
            } else if self.punct_is("[") {
                self.pos += 1;
                self.subscripts()?
            } else if self.punct_is("?") {
                self.pos += 1;
                self.expect_punct("(")?;
                self.in_filter += 1;
                let predicate = self.expr(0);
                self.in_filter -= 1;
                let predicate = predicate?;
                self.expect_punct(")")?;
                if !predicate.is_predicate() {
                    return Err(self.error_here());
                }
                Accessor::Filter(Box::new(predicate))
            } else {
                return Ok(base);
            };
            base = PathExpr::Accessor(Box::new(base), accessor);
        }
    }

    fn dot_accessor(&mut self) -> SqlResult<Accessor> {
        let token = self.peek().cloned().ok_or_else(|| syntax_error(None))?;
        self.pos += 1;
        match token {
            Token::Punct("*") => Ok(Accessor::AnyMember),
            Token::Punct("**") => {
                if !self.punct_is("{") {
                    return Ok(Accessor::Recursive {
                        first: 0,
                        last: u32::MAX,
                    });
                }
                self.pos += 1;
                let first = self.level()?;
                let last = if self.word_is("to") {
                    self.pos += 1;
                    self.level()?
                } else {
                    first
                };
                self.expect_punct("}")?;
                Ok(Accessor::Recursive { first, last })
            }
            Token::String(s) => Ok(Accessor::Member(s)),
            Token::Word(w) => {
                if self.punct_is("(") {
                    let method = match w.as_str() {
                        "type" => Method::Type,
                        "size" => Method::Size,
                        "double" => Method::Double,
                        "abs" => Method::Abs,
                        "floor" => Method::Floor,
                        "ceiling" => Method::Ceiling,
                        "keyvalue" => Method::KeyValue,
                        "datetime" => {
                            return Err(SqlError::unsupported(
                                "the jsonpath item method .datetime()",
                            ))
                        }
                        _ => return Err(self.error_here()),
                    };
                    self.pos += 1;
                    self.expect_punct(")")?;
                    Ok(Accessor::Method(method))
                } else {
                    Ok(Accessor::Member(w))
                }
            }
            _ => {
                self.pos -= 1;
                Err(self.error_here())
            }
        }
    }

    /// A level of `.**{...}`: a non-negative integer or `last`.
    fn level(&mut self) -> SqlResult<u32> {
        match self.peek().cloned() {
            Some(Token::Number(n)) => {
                self.pos += 1;
                n.parse::<u32>().map_err(|_| self.error_here())
            }
            Some(Token::Word(w)) if w.eq_ignore_ascii_case("last") => {
                self.pos += 1;
                Ok(u32::MAX)
            }
            _ => Err(self.error_here()),
        }
    }

    fn subscripts(&mut self) -> SqlResult<Accessor> {
        if self.punct_is("*") {
            self.pos += 1;
            self.expect_punct("]")?;
            return Ok(Accessor::AnyElement);
        }
        self.in_subscript += 1;
        let result = (|| {
            let mut items = Vec::new();
            loop {
                let from = self.expr(0)?;
                self.scalar_operand(&from)?;
                let to = if self.word_is("to") {
                    self.pos += 1;
                    let to = self.expr(0)?;
                    self.scalar_operand(&to)?;
                    Some(to)
                } else {
                    None
                };
                items.push((from, to));
                if self.punct_is(",") {
                    self.pos += 1;
                    continue;
                }
                self.expect_punct("]")?;
                return Ok(Accessor::Elements(items));
            }
        })();
        self.in_subscript -= 1;
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_common_paths() {
        let p = parse("$.items[*] ? (@.p > 10).p").unwrap();
        assert!(!p.strict);
        let p = parse("strict $.a[1 to last, 0]").unwrap();
        assert!(p.strict);
        assert!(parse("$.a ? (@ like_regex \"^x\" flag \"i\")").is_ok());
        assert!(parse("exists($.a) && !($.b == 1)")
            .unwrap()
            .expr
            .is_predicate());
        assert!(parse("$.a.size() + $x * -2").is_ok());
        assert!(parse("$.\"key with space\".**{1 to last}").is_ok());
    }

    #[test]
    fn refuses_malformed_paths() {
        for bad in [
            "$.a +",
            "@.a",
            "$[last",
            "$ ? (1)",
            "$.a ? (@ like_regex \"x\" flag \"g\")",
            "last",
        ] {
            let e = parse(bad).unwrap_err();
            assert_eq!(e.code, code::SYNTAX_ERROR, "{bad}");
        }
        assert_eq!(
            parse("$.a.datetime()").unwrap_err().code,
            code::FEATURE_NOT_SUPPORTED
        );
    }

    #[test]
    fn refuses_paths_nested_too_deeply() {
        let long_chain = format!("${}", ".a".repeat(5000));
        assert_eq!(
            parse(&long_chain).unwrap_err().code,
            code::STATEMENT_TOO_COMPLEX
        );
        let parens = format!("{}1{}", "(".repeat(300), ")".repeat(300));
        assert_eq!(
            parse(&parens).unwrap_err().code,
            code::STATEMENT_TOO_COMPLEX
        );
        assert!(parse(&format!("${}", ".a".repeat(50))).is_ok());
    }
}
