//! The analysed expression: the shapes of PostgreSQL's parse-analysis nodes (`Var`, `Const`,
//! `OpExpr`, `FuncExpr`, `RelabelType`, `BoolExpr`, `ScalarArrayOpExpr`, `CaseExpr`...) that
//! ruleutils.c prints. Only what printing needs is kept: names, types (with typmods) and
//! how each coercion was asked for.

use crate::pgtype::SqlType;

/// How a coercion came about: written by the user (`::`, `CAST`) or inserted by operator,
/// function and assignment resolution. Implicit ones are hidden where ruleutils hides them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum CastForm {
    Explicit,
    Implicit,
}

/// The node PostgreSQL builds for a coercion. A cast function call (`FuncExpr`) counts as a
/// simple node for parenthesization; a binary-compatible relabelling, an I/O conversion and an
/// array element coercion (`RelabelType`, `CoerceViaIO`, `ArrayCoerceExpr`) are as simple as
/// their argument.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum CastNode {
    Function,
    Relabel,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum BoolOp {
    And,
    Or,
    Not,
}

/// How a function call prints: `name(args)` or one of the SQL standard's special forms
/// (`COERCE_SQL_SYNTAX`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Syntax {
    Call,
    /// `EXTRACT(field FROM source)`.
    Extract(String),
    /// `SUBSTRING(string FROM start [FOR count])`.
    Substring,
    /// `POSITION((needle) IN (haystack))`.
    Position,
    /// `TRIM(BOTH|LEADING|TRAILING [characters] FROM string)`.
    Trim(&'static str),
    /// `(timestamp AT TIME ZONE zone)`.
    AtTimeZone,
}

/// One node of an analysed expression.
#[derive(Clone, Debug)]
pub(super) enum Node {
    /// A column of the expression's relation.
    Var {
        name: String,
        ty: SqlType,
    },
    /// A constant: its type's output text, `None` for NULL. `ty` carries no modifier.
    Const {
        text: Option<String>,
        ty: SqlType,
    },
    /// A coercion of `arg` to `ty` (with `ty`'s modifier when it is a length coercion).
    Cast {
        arg: Box<Node>,
        ty: SqlType,
        form: CastForm,
        node: CastNode,
    },
    /// An operator call: one argument for a prefix operator, two for a binary one.
    Op {
        name: String,
        args: Vec<Node>,
        ty: SqlType,
    },
    Func {
        name: String,
        args: Vec<Node>,
        ty: SqlType,
        syntax: Syntax,
    },
    Bool {
        op: BoolOp,
        args: Vec<Node>,
    },
    /// `left op ANY|ALL (right)`, `right` an array.
    ArrayOp {
        op: String,
        any: bool,
        left: Box<Node>,
        right: Box<Node>,
    },
    NullTest {
        arg: Box<Node>,
        negated: bool,
    },
    /// `IS [NOT] TRUE|FALSE|UNKNOWN`: the text printed after the argument.
    BoolTest {
        arg: Box<Node>,
        test: &'static str,
    },
    /// `left IS DISTINCT FROM right`.
    Distinct {
        left: Box<Node>,
        right: Box<Node>,
    },
    NullIf {
        left: Box<Node>,
        right: Box<Node>,
        ty: SqlType,
    },
    /// A CASE; with an operand, `whens` hold the compared values rather than conditions.
    Case {
        operand: Option<Box<Node>>,
        whens: Vec<(Node, Node)>,
        default: Box<Node>,
        ty: SqlType,
    },
    Coalesce {
        args: Vec<Node>,
        ty: SqlType,
    },
    MinMax {
        greatest: bool,
        args: Vec<Node>,
        ty: SqlType,
    },
    /// `ARRAY[...]`; `ty` is the array type.
    Array {
        elements: Vec<Node>,
        ty: SqlType,
    },
    /// `ROW(a, b)`: an anonymous record.
    Row {
        args: Vec<Node>,
    },
    /// `CURRENT_TIMESTAMP`, `CURRENT_USER` and the other keyword functions, as printed.
    SqlValue {
        keyword: String,
        ty: SqlType,
    },
    /// `container[i]` / `container[i:j]` per dimension.
    Subscript {
        container: Box<Node>,
        subscripts: Vec<(Option<Node>, Option<Node>)>,
        slice: bool,
        ty: SqlType,
    },
}

impl Node {
    /// The node's result type (PostgreSQL's `exprType`, with the typmod where known).
    pub(super) fn ty(&self) -> SqlType {
        match self {
            Node::Var { ty, .. }
            | Node::Const { ty, .. }
            | Node::Cast { ty, .. }
            | Node::Op { ty, .. }
            | Node::Func { ty, .. }
            | Node::NullIf { ty, .. }
            | Node::Case { ty, .. }
            | Node::Coalesce { ty, .. }
            | Node::MinMax { ty, .. }
            | Node::Array { ty, .. }
            | Node::SqlValue { ty, .. }
            | Node::Subscript { ty, .. } => ty.clone(),
            Node::Row { .. } => SqlType::Record,
            Node::Bool { .. }
            | Node::ArrayOp { .. }
            | Node::NullTest { .. }
            | Node::BoolTest { .. }
            | Node::Distinct { .. } => SqlType::Bool,
        }
    }

    /// Whether the expression reads a column (PostgreSQL's `contain_vars_of_level`).
    pub(super) fn has_var(&self) -> bool {
        match self {
            Node::Var { .. } => true,
            Node::Const { .. } | Node::SqlValue { .. } => false,
            Node::Cast { arg, .. } | Node::NullTest { arg, .. } | Node::BoolTest { arg, .. } => {
                arg.has_var()
            }
            Node::Op { args, .. }
            | Node::Func { args, .. }
            | Node::Bool { args, .. }
            | Node::Coalesce { args, .. }
            | Node::MinMax { args, .. }
            | Node::Row { args }
            | Node::Array { elements: args, .. } => args.iter().any(Node::has_var),
            Node::ArrayOp { left, right, .. }
            | Node::Distinct { left, right }
            | Node::NullIf { left, right, .. } => left.has_var() || right.has_var(),
            Node::Case {
                operand,
                whens,
                default,
                ..
            } => {
                operand.as_ref().is_some_and(|o| o.has_var())
                    || whens.iter().any(|(w, r)| w.has_var() || r.has_var())
                    || default.has_var()
            }
            Node::Subscript {
                container,
                subscripts,
                ..
            } => {
                container.has_var()
                    || subscripts.iter().any(|(lower, upper)| {
                        lower.as_ref().is_some_and(Node::has_var)
                            || upper.as_ref().is_some_and(Node::has_var)
                    })
            }
        }
    }

    /// Whether `pg_get_indexdef` prints this index key without wrapping parentheses
    /// (ruleutils' `looks_like_function`).
    pub(super) fn looks_like_function(&self) -> bool {
        matches!(
            self,
            Node::Func { .. }
                | Node::NullIf { .. }
                | Node::Coalesce { .. }
                | Node::MinMax { .. }
                | Node::SqlValue { .. }
        )
    }
}
