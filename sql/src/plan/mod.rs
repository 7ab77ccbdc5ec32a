//! Bound expressions and query plans: what the binder produces and the executor runs.
//!
//! Rows are `Vec<Value>`; an expression refers to a column of the row it is evaluated
//! against by position ([`Expr::Column`]), to a column of an enclosing query's current row
//! by level and position ([`Expr::Outer`]), and to statement parameters by number.
//!
//! Rewriting the expressions of a plan tree ([`Plan::map_exprs`], [`map_outer_refs`]) is in
//! `rewrite`.

mod rewrite;
mod vector;

use std::sync::Arc;

use storage::scan::BlockPredicate;
use storage::types::Value;

use crate::func::{ResolvedAggregate, ScalarFn, SetFn};
use crate::pg_catalog::SystemTable;
use crate::pgtype::SqlType;

pub use rewrite::map_outer_refs;
pub use vector::{VectorJoin, VectorScan};

/// A column of a plan's output.
#[derive(Debug, Clone, PartialEq)]
pub struct OutputColumn {
    pub name: String,
    pub sql_type: SqlType,
    /// Source table and column, for RowDescription (0 when computed).
    pub table_oid: u32,
    pub attnum: i16,
}

impl OutputColumn {
    pub fn computed(name: impl Into<String>, sql_type: SqlType) -> OutputColumn {
        OutputColumn {
            name: name.into(),
            sql_type,
            table_oid: 0,
            attnum: 0,
        }
    }
}

/// Functions that read the session rather than their arguments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionFn {
    CurrentSetting,
    CurrentSettingMissingOk,
    SetConfig,
    CurrentUser,
    SessionUser,
    CurrentDatabase,
    CurrentSchema,
    CurrentSchemas,
    Version,
    BackendPid,
    Nextval,
    Currval,
    Setval,
    Lastval,
    TxidCurrent,
    TypeOf,
    /// `pg_sleep(seconds)`: sleeps in short slices so that a cancel request ends it.
    Sleep,
    /// A call of a PL/pgSQL function: the first argument is its OID (`crate::plpgsql`).
    UserFunction,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubqueryKind {
    /// `(SELECT x)`: one value, NULL when no row, 21000 when more than one.
    Scalar,
    /// `EXISTS (...)`.
    Exists,
    /// `ARRAY(SELECT ...)`.
    Array,
}

/// A bound, typed expression.
#[derive(Clone)]
pub enum Expr {
    Column(usize),
    /// A column of the current row of the query `level` levels out (1 = directly enclosing).
    Outer {
        level: usize,
        index: usize,
    },
    Const(Value),
    /// `$n` (0-based here).
    Param(usize),
    Call {
        name: &'static str,
        func: ScalarFn,
        args: Vec<Expr>,
        strict: bool,
    },
    Cast {
        expr: Box<Expr>,
        from: SqlType,
        to: SqlType,
        /// An explicit cast (`::`, CAST) truncates to the target's length; an implicit or
        /// assignment one refuses values that do not fit.
        explicit: bool,
    },
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Not(Box<Expr>),
    IsNull(Box<Expr>),
    IsNotNull(Box<Expr>),
    /// `IS [NOT] TRUE / FALSE / UNKNOWN`: `value` None is UNKNOWN.
    BoolTest {
        expr: Box<Expr>,
        value: Option<bool>,
        negated: bool,
    },
    /// `a IS [NOT] DISTINCT FROM b`, with the equality function of the pair's types.
    Distinct {
        left: Box<Expr>,
        right: Box<Expr>,
        eq: ScalarFn,
        negated: bool,
    },
    Case {
        whens: Vec<(Expr, Expr)>,
        otherwise: Box<Expr>,
    },
    Coalesce(Vec<Expr>),
    NullIf {
        left: Box<Expr>,
        right: Box<Expr>,
        eq: ScalarFn,
    },
    /// GREATEST / LEAST (NULLs ignored).
    Extreme {
        args: Vec<Expr>,
        greatest: bool,
    },
    /// `left op ANY/ALL (array)`.
    AnyArray {
        left: Box<Expr>,
        array: Box<Expr>,
        op: ScalarFn,
        all: bool,
    },
    /// `ARRAY[...]` with the element type.
    Array {
        elements: Vec<Expr>,
        element_type: SqlType,
    },
    /// `a[i]` / `a[i:j]` per dimension.
    Subscript {
        array: Box<Expr>,
        subscripts: Vec<(Option<Expr>, Option<Expr>, bool)>,
    },
    /// A row constructor `(a, b)` / `ROW(a, b)`, as a record (held as an array of texts for
    /// output).
    Row(Vec<Expr>),
    Subquery {
        plan: Arc<Plan>,
        kind: SubqueryKind,
        /// Whether it reads `Outer` columns (else evaluated once per statement).
        correlated: bool,
        id: usize,
    },
    /// `x [NOT] IN (SELECT ...)` / `x op ANY|ALL (SELECT ...)`.
    InSubquery {
        left: Box<Expr>,
        plan: Arc<Plan>,
        op: ScalarFn,
        /// The operator's name (`=` for IN).
        op_name: &'static str,
        all: bool,
        correlated: bool,
        id: usize,
    },
    Session {
        func: SessionFn,
        args: Vec<Expr>,
    },
    /// A placeholder the binder replaces after aggregation / window planning.
    AggRef(usize),
    WindowRef(usize),
}

impl Expr {
    pub fn boxed(self) -> Box<Expr> {
        Box::new(self)
    }

    /// Whether the expression reads no row, parameter, session or subquery (so it can be
    /// computed once).
    pub fn is_const(&self) -> bool {
        match self {
            Expr::Const(_) => true,
            Expr::Cast { expr, .. } => expr.is_const(),
            _ => false,
        }
    }

    /// Calls `f` on this expression and every sub-expression (not into subquery plans).
    pub fn walk(&self, f: &mut dyn FnMut(&Expr)) {
        f(self);
        match self {
            Expr::Call { args, .. }
            | Expr::And(args)
            | Expr::Or(args)
            | Expr::Coalesce(args)
            | Expr::Extreme { args, .. }
            | Expr::Row(args)
            | Expr::Session { args, .. }
            | Expr::Array { elements: args, .. } => args.iter().for_each(|a| a.walk(f)),
            Expr::Cast { expr, .. }
            | Expr::Not(expr)
            | Expr::IsNull(expr)
            | Expr::IsNotNull(expr)
            | Expr::BoolTest { expr, .. } => expr.walk(f),
            Expr::Distinct { left, right, .. } | Expr::NullIf { left, right, .. } => {
                left.walk(f);
                right.walk(f);
            }
            Expr::AnyArray { left, array, .. } => {
                left.walk(f);
                array.walk(f);
            }
            Expr::Case { whens, otherwise } => {
                for (w, t) in whens {
                    w.walk(f);
                    t.walk(f);
                }
                otherwise.walk(f);
            }
            Expr::Subscript { array, subscripts } => {
                array.walk(f);
                for (a, b, _) in subscripts {
                    if let Some(a) = a {
                        a.walk(f);
                    }
                    if let Some(b) = b {
                        b.walk(f);
                    }
                }
            }
            Expr::InSubquery { left, .. } => left.walk(f),
            _ => {}
        }
    }

    /// Rewrites this expression bottom-up with `f` (not into subquery plans).
    pub fn transform(self, f: &mut dyn FnMut(Expr) -> Expr) -> Expr {
        let map = |v: Vec<Expr>, f: &mut dyn FnMut(Expr) -> Expr| -> Vec<Expr> {
            v.into_iter().map(|e| e.transform(f)).collect()
        };
        let rebuilt = match self {
            Expr::Call {
                name,
                func,
                args,
                strict,
            } => Expr::Call {
                name,
                func,
                args: map(args, f),
                strict,
            },
            Expr::And(v) => Expr::And(map(v, f)),
            Expr::Or(v) => Expr::Or(map(v, f)),
            Expr::Coalesce(v) => Expr::Coalesce(map(v, f)),
            Expr::Row(v) => Expr::Row(map(v, f)),
            Expr::Extreme { args, greatest } => Expr::Extreme {
                args: map(args, f),
                greatest,
            },
            Expr::Session { func, args } => Expr::Session {
                func,
                args: map(args, f),
            },
            Expr::Array {
                elements,
                element_type,
            } => Expr::Array {
                elements: map(elements, f),
                element_type,
            },
            Expr::Cast {
                expr,
                from,
                to,
                explicit,
            } => Expr::Cast {
                expr: expr.transform(f).boxed(),
                from,
                to,
                explicit,
            },
            Expr::Not(e) => Expr::Not(e.transform(f).boxed()),
            Expr::IsNull(e) => Expr::IsNull(e.transform(f).boxed()),
            Expr::IsNotNull(e) => Expr::IsNotNull(e.transform(f).boxed()),
            Expr::BoolTest {
                expr,
                value,
                negated,
            } => Expr::BoolTest {
                expr: expr.transform(f).boxed(),
                value,
                negated,
            },
            Expr::Distinct {
                left,
                right,
                eq,
                negated,
            } => Expr::Distinct {
                left: left.transform(f).boxed(),
                right: right.transform(f).boxed(),
                eq,
                negated,
            },
            Expr::NullIf { left, right, eq } => Expr::NullIf {
                left: left.transform(f).boxed(),
                right: right.transform(f).boxed(),
                eq,
            },
            Expr::AnyArray {
                left,
                array,
                op,
                all,
            } => Expr::AnyArray {
                left: left.transform(f).boxed(),
                array: array.transform(f).boxed(),
                op,
                all,
            },
            Expr::Case { whens, otherwise } => Expr::Case {
                whens: whens
                    .into_iter()
                    .map(|(w, t)| (w.transform(f), t.transform(f)))
                    .collect(),
                otherwise: otherwise.transform(f).boxed(),
            },
            Expr::Subscript { array, subscripts } => Expr::Subscript {
                array: array.transform(f).boxed(),
                subscripts: subscripts
                    .into_iter()
                    .map(|(a, b, s)| (a.map(|a| a.transform(f)), b.map(|b| b.transform(f)), s))
                    .collect(),
            },
            Expr::InSubquery {
                left,
                plan,
                op,
                op_name,
                all,
                correlated,
                id,
            } => Expr::InSubquery {
                left: left.transform(f).boxed(),
                plan,
                op,
                op_name,
                all,
                correlated,
                id,
            },
            other => other,
        };
        f(rebuilt)
    }
}

/// An aggregate call: the aggregate, its argument expressions (over the input row), and the
/// DISTINCT / FILTER / ORDER BY modifiers.
#[derive(Clone)]
pub struct AggCall {
    pub aggregate: ResolvedAggregate,
    pub args: Vec<Expr>,
    pub distinct: bool,
    pub filter: Option<Expr>,
    pub order_by: Vec<SortKey>,
}

/// Window functions computed by the executor itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowFn {
    RowNumber,
    Rank,
    DenseRank,
    PercentRank,
    CumeDist,
    Ntile,
    Lag,
    Lead,
    FirstValue,
    LastValue,
    NthValue,
}

#[derive(Clone)]
pub enum WindowFunc {
    Builtin(WindowFn),
    Aggregate(ResolvedAggregate),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameUnits {
    Rows,
    Range,
    Groups,
}

#[derive(Clone)]
pub enum FrameBound {
    UnboundedPreceding,
    Preceding(Expr),
    CurrentRow,
    Following(Expr),
    UnboundedFollowing,
}

/// A frame's `EXCLUDE` clause.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameExclude {
    NoOthers,
    CurrentRow,
    /// The current row and its peers.
    Group,
    /// The current row's peers, not the row itself.
    Ties,
}

#[derive(Clone)]
pub struct Frame {
    pub units: FrameUnits,
    pub start: FrameBound,
    pub end: FrameBound,
    pub exclude: FrameExclude,
}

#[derive(Clone)]
pub struct WindowCall {
    pub func: WindowFunc,
    pub args: Vec<Expr>,
    pub partition_by: Vec<Expr>,
    pub order_by: Vec<SortKey>,
    /// None: the default frame (RANGE UNBOUNDED PRECEDING to CURRENT ROW with ORDER BY, the
    /// whole partition without).
    pub frame: Option<Frame>,
    pub filter: Option<Expr>,
}

#[derive(Clone)]
pub struct SortKey {
    pub expr: Expr,
    pub descending: bool,
    pub nulls_first: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JoinKind {
    Inner,
    Left,
    Right,
    Full,
    /// Rows of the left input with at least one match (EXISTS / IN rewrites).
    Semi,
    /// Rows of the left input without a match.
    Anti,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetOpKind {
    Union,
    Intersect,
    Except,
}

/// A relational plan. Every node produces rows of `columns()` width.
#[derive(Clone)]
pub enum Plan {
    /// Literal rows (`VALUES`, and the single empty row of a SELECT without FROM).
    Values {
        rows: Vec<Vec<Expr>>,
        width: usize,
    },
    /// Every visible row of a table: all its columns in attnum order (dropped ones included,
    /// as NULL, so that column positions equal `attnum - 1`).
    SeqScan {
        table: u32,
        width: usize,
        filter: Option<Expr>,
        predicates: Vec<BlockPredicate>,
        /// Append the row id as a last column (UPDATE / DELETE targets).
        row_id: bool,
    },
    /// Rows of a table whose index key equals `key` (a prefix of the index columns).
    IndexScan {
        table: u32,
        index: u32,
        width: usize,
        key: Vec<Expr>,
        filter: Option<Expr>,
        row_id: bool,
    },
    /// `ORDER BY column <op> query LIMIT k`: a table's nearest rows (see `plan/vector.rs`).
    VectorScan(Box<VectorScan>),
    SystemScan {
        table: &'static SystemTable,
        filter: Option<Expr>,
    },
    /// A set-returning function in FROM; `ordinality` appends a bigint counter.
    FunctionScan {
        name: &'static str,
        func: SetFn,
        args: Vec<Expr>,
        width: usize,
        ordinality: bool,
    },
    Filter {
        input: Box<Plan>,
        predicate: Expr,
    },
    Project {
        input: Box<Plan>,
        exprs: Vec<Expr>,
    },
    /// Runs the right side once per left row, with the left row as the outer row of level 1
    /// (LATERAL and set-returning functions in the select list).
    Lateral {
        left: Box<Plan>,
        right: Box<Plan>,
        kind: JoinKind,
        right_width: usize,
    },
    NestedLoopJoin {
        left: Box<Plan>,
        right: Box<Plan>,
        kind: JoinKind,
        /// Evaluated over the concatenated row (left ++ right).
        on: Option<Expr>,
        left_width: usize,
        right_width: usize,
    },
    HashJoin {
        left: Box<Plan>,
        right: Box<Plan>,
        kind: JoinKind,
        /// Keys over the left row / right row, compared with SQL equality (NULL never joins).
        left_keys: Vec<Expr>,
        right_keys: Vec<Expr>,
        /// Other join conditions over the concatenated row.
        residual: Option<Expr>,
        left_width: usize,
        right_width: usize,
    },
    /// Output: one column per group expression, then one per aggregate. With `sets`, each
    /// grouping set lists the group expressions it keeps (others are NULL), and a last
    /// column holds the GROUPING() bitmask.
    Aggregate {
        input: Box<Plan>,
        groups: Vec<Expr>,
        aggs: Vec<AggCall>,
        sets: Option<Vec<Vec<usize>>>,
    },
    /// Output: the input columns, then one per window call.
    Window {
        input: Box<Plan>,
        calls: Vec<WindowCall>,
    },
    Sort {
        input: Box<Plan>,
        keys: Vec<SortKey>,
        /// Only the first `limit` rows are needed (top-k).
        limit: Option<usize>,
    },
    Limit {
        input: Box<Plan>,
        limit: Option<Expr>,
        offset: Option<Expr>,
    },
    /// DISTINCT (all columns) or DISTINCT ON (the first row per key, input sorted).
    Distinct {
        input: Box<Plan>,
        on: Option<Vec<Expr>>,
    },
    SetOp {
        kind: SetOpKind,
        all: bool,
        left: Box<Plan>,
        right: Box<Plan>,
    },
    /// Runs the CTE plans (in order) and then `body`, which reads them through `CteScan`.
    With {
        ctes: Vec<(usize, Plan)>,
        body: Box<Plan>,
    },
    CteScan {
        id: usize,
        width: usize,
    },
    /// Rows of several inputs side by side, by position; shorter inputs are padded with
    /// NULLs (several set-returning functions in one select list).
    Zip {
        inputs: Vec<Plan>,
    },
    /// WITH RECURSIVE: `base`, then `step` (reading the working table through
    /// `CteScan { id }`) until it produces no new rows.
    RecursiveCte {
        id: usize,
        base: Box<Plan>,
        step: Box<Plan>,
        union_all: bool,
    },
}
