//! Printing an analysed expression as ruleutils.c's `get_rule_expr` does.
//!
//! Two modes, as `pg_get_expr(..., pretty)`: without `pretty` every operator, boolean
//! connective and test carries its own parentheses (`((a > 0) AND (b IS NULL))`) and every
//! cast argument is parenthesized (`(0)::numeric`); with `pretty` parentheses appear only where
//! `isSimpleNode` finds them needed (`a > 0 AND b IS NULL`, `0::numeric`). Both modes indent
//! CASE over lines, as both pass `PRETTYFLAG_INDENT`. Implicit coercions are shown under
//! operators, function arguments and list items, and hidden at the top of the expression and
//! wherever ruleutils passes `showimplicit = false`.

use super::constants::{self, type_label, Label};
use super::node::{BoolOp, CastForm, CastNode, Node, Syntax};
use crate::pg_catalog::ident::quote_identifier;
use crate::pgtype::SqlType;

/// Indentation added inside a CASE (`PRETTYINDENT_VAR`).
const INDENT_CASE: i32 = 4;
/// Past this indentation, levels are compressed (`PRETTYINDENT_LIMIT`).
const INDENT_LIMIT: i32 = 40;
/// The standard indentation step (`PRETTYINDENT_STD`), for the compression past the limit.
const INDENT_STANDARD: i32 = 8;

pub(super) struct Printer {
    buf: String,
    /// `PRETTYFLAG_PAREN`.
    pretty: bool,
    indent_level: i32,
}

/// A binary operator's name when it is one character long (`get_simple_binary_op_name`).
fn simple_binary_op(node: &Node) -> Option<char> {
    match node {
        Node::Op { name, args, .. } if args.len() == 2 && name.chars().count() == 1 => {
            name.chars().next()
        }
        _ => None,
    }
}

/// Whether a node of the "sub-link" group (operators, NULL and boolean tests, IS DISTINCT
/// FROM) needs no parentheses under `parent`.
fn simple_under(parent: &Node) -> bool {
    match parent {
        Node::Func {
            syntax: Syntax::Call,
            ..
        } => true,
        Node::Func { .. }
        | Node::Cast {
            node: CastNode::Function,
            ..
        } => false,
        Node::Bool { .. }
        | Node::Subscript { .. }
        | Node::Array { .. }
        | Node::Row { .. }
        | Node::Coalesce { .. }
        | Node::MinMax { .. }
        | Node::NullIf { .. }
        | Node::Case { .. } => true,
        _ => false,
    }
}

/// ruleutils' `isSimpleNode`: whether `node`, printed under `parent` (as its first argument
/// when `first`), needs no parentheses of its own in pretty mode.
fn is_simple(node: &Node, parent: &Node, first: bool) -> bool {
    match node {
        Node::Var { .. }
        | Node::Const { .. }
        | Node::Subscript { .. }
        | Node::Array { .. }
        | Node::Coalesce { .. }
        | Node::MinMax { .. }
        | Node::SqlValue { .. }
        | Node::NullIf { .. }
        | Node::Func { .. }
        | Node::Case { .. }
        | Node::Row { .. }
        | Node::Cast {
            node: CastNode::Function,
            ..
        } => true,
        Node::Cast { arg, .. } => is_simple(arg, node, false),
        Node::Op { .. } if matches!(parent, Node::Op { .. }) => {
            let (Some(op), Some(parent_op)) = (simple_binary_op(node), simple_binary_op(parent))
            else {
                return false;
            };
            let low = |c: char| "+-".contains(c);
            let high = |c: char| "*/%".contains(c);
            if !(low(op) || high(op)) || !(low(parent_op) || high(parent_op)) {
                return false;
            }
            if high(op) && low(parent_op) {
                return true;
            }
            if low(op) && high(parent_op) {
                return false;
            }
            // Same priority: (a - b) - c needs none, a - (b - c) does.
            first
        }
        Node::Op { .. } | Node::NullTest { .. } | Node::BoolTest { .. } | Node::Distinct { .. } => {
            simple_under(parent)
        }
        Node::Bool { op, .. } => match parent {
            Node::Bool { op: parent_op, .. } => match op {
                BoolOp::Not | BoolOp::And => matches!(parent_op, BoolOp::And | BoolOp::Or),
                BoolOp::Or => *parent_op == BoolOp::Or,
            },
            other => simple_under(other),
        },
        Node::ArrayOp { .. } => false,
    }
}

impl Printer {
    pub(super) fn new(pretty: bool) -> Printer {
        Printer {
            buf: String::new(),
            pretty,
            indent_level: 0,
        }
    }

    pub(super) fn finish(self) -> String {
        self.buf
    }

    fn open(&mut self) {
        if !self.pretty {
            self.buf.push('(');
        }
    }

    fn close(&mut self) {
        if !self.pretty {
            self.buf.push(')');
        }
    }

    /// `appendContextKeyword` with `PRETTYFLAG_INDENT`: a new line, indented.
    fn keyword(&mut self, text: &str, indent_before: i32, indent_after: i32) {
        self.indent_level += indent_before;
        let trimmed = self.buf.trim_end_matches(' ').len();
        self.buf.truncate(trimmed);
        self.buf.push('\n');
        let spaces = if self.indent_level < INDENT_LIMIT {
            self.indent_level.max(0)
        } else {
            (INDENT_LIMIT + (self.indent_level - INDENT_LIMIT) / (INDENT_STANDARD / 2))
                % INDENT_LIMIT
        };
        self.buf.push_str(&" ".repeat(spaces as usize));
        self.buf.push_str(text);
        self.indent_level = (self.indent_level + indent_after).max(0);
    }

    /// `get_rule_expr_paren`.
    fn paren(&mut self, node: &Node, show_implicit: bool, parent: &Node, first: bool) {
        let needed = self.pretty && !is_simple(node, parent, first);
        if needed {
            self.buf.push('(');
        }
        self.expr(node, show_implicit);
        if needed {
            self.buf.push(')');
        }
    }

    fn list(&mut self, nodes: &[Node], show_implicit: bool) {
        for (i, n) in nodes.iter().enumerate() {
            if i > 0 {
                self.buf.push_str(", ");
            }
            self.expr(n, show_implicit);
        }
    }

    /// `get_rule_expr`.
    pub(super) fn expr(&mut self, node: &Node, show_implicit: bool) {
        match node {
            Node::Var { name, .. } => self.buf.push_str(&quote_identifier(name)),
            Node::Const { text, ty } => {
                self.buf
                    .push_str(&constants::print(text.as_deref(), ty, Label::WhenNeeded));
            }
            Node::Cast { arg, ty, form, .. } => {
                if *form == CastForm::Implicit && !show_implicit {
                    self.paren(arg, false, node, true);
                } else {
                    self.coercion(arg, ty, node);
                }
            }
            Node::Op { name, args, .. } => {
                self.open();
                match args.as_slice() {
                    [left, right] => {
                        self.paren(left, true, node, true);
                        self.buf.push_str(&format!(" {name} "));
                        self.paren(right, true, node, false);
                    }
                    [arg] => {
                        self.buf.push_str(&format!("{name} "));
                        self.paren(arg, true, node, true);
                    }
                    _ => {}
                }
                self.close();
            }
            Node::Func {
                name, args, syntax, ..
            } => self.function(node, name, args, syntax),
            Node::Bool { op, args } => {
                self.open();
                match op {
                    BoolOp::Not => {
                        self.buf.push_str("NOT ");
                        if let Some(arg) = args.first() {
                            self.paren(arg, false, node, true);
                        }
                    }
                    BoolOp::And | BoolOp::Or => {
                        let separator = if *op == BoolOp::And { " AND " } else { " OR " };
                        for (i, arg) in args.iter().enumerate() {
                            if i > 0 {
                                self.buf.push_str(separator);
                            }
                            self.paren(arg, false, node, i == 0);
                        }
                    }
                }
                self.close();
            }
            Node::ArrayOp {
                op,
                any,
                left,
                right,
            } => {
                self.open();
                self.paren(left, true, node, true);
                let quantifier = if *any { "ANY" } else { "ALL" };
                self.buf.push_str(&format!(" {op} {quantifier} ("));
                self.paren(right, true, node, false);
                self.buf.push(')');
                self.close();
            }
            Node::NullTest { arg, negated } => {
                self.open();
                self.paren(arg, true, node, true);
                self.buf
                    .push_str(if *negated { " IS NOT NULL" } else { " IS NULL" });
                self.close();
            }
            Node::BoolTest { arg, test } => {
                self.open();
                self.paren(arg, true, node, true);
                self.buf.push_str(test);
                self.close();
            }
            Node::Distinct { left, right } => {
                self.open();
                self.paren(left, true, node, true);
                self.buf.push_str(" IS DISTINCT FROM ");
                self.paren(right, true, node, false);
                self.close();
            }
            Node::NullIf { left, right, .. } => {
                self.buf.push_str("NULLIF(");
                self.expr(left, true);
                self.buf.push_str(", ");
                self.expr(right, true);
                self.buf.push(')');
            }
            Node::Case {
                operand,
                whens,
                default,
                ..
            } => {
                self.keyword("CASE", 0, INDENT_CASE);
                if let Some(operand) = operand {
                    self.buf.push(' ');
                    self.expr(operand, true);
                }
                for (when, result) in whens {
                    self.keyword("WHEN ", 0, 0);
                    self.expr(when, false);
                    self.buf.push_str(" THEN ");
                    self.expr(result, true);
                }
                self.keyword("ELSE ", 0, 0);
                self.expr(default, true);
                self.keyword("END", -INDENT_CASE, 0);
            }
            Node::Coalesce { args, .. } => {
                self.buf.push_str("COALESCE(");
                self.list(args, true);
                self.buf.push(')');
            }
            Node::MinMax { greatest, args, .. } => {
                self.buf
                    .push_str(if *greatest { "GREATEST(" } else { "LEAST(" });
                self.list(args, true);
                self.buf.push(')');
            }
            Node::Array { elements, ty } => {
                self.buf.push_str("ARRAY[");
                self.list(elements, true);
                self.buf.push(']');
                if elements.is_empty() {
                    self.buf.push_str("::");
                    self.buf.push_str(&type_label(&ty.without_modifier()));
                }
            }
            Node::SqlValue { keyword, .. } => self.buf.push_str(keyword),
            Node::Row { args } => {
                self.buf.push_str("ROW(");
                self.list(args, true);
                self.buf.push(')');
            }
            Node::Subscript {
                container,
                subscripts,
                slice,
                ..
            } => {
                let parens = !matches!(container.as_ref(), Node::Var { .. });
                if parens {
                    self.buf.push('(');
                }
                self.expr(container, show_implicit);
                if parens {
                    self.buf.push(')');
                }
                for (lower, upper) in subscripts {
                    self.buf.push('[');
                    if *slice {
                        if let Some(lower) = lower {
                            self.expr(lower, false);
                        }
                        self.buf.push(':');
                    }
                    if let Some(upper) = upper {
                        self.expr(upper, false);
                    }
                    self.buf.push(']');
                }
            }
        }
    }

    /// `get_coercion_expr`: `(arg)::type`; a constant of the target type itself prints
    /// without its own label (`'x'::character varying(10)`).
    fn coercion(&mut self, arg: &Node, ty: &SqlType, parent: &Node) {
        match arg {
            Node::Const {
                text,
                ty: const_type,
            } if const_type.oid() == ty.oid() && const_type.typmod() < 0 => {
                self.buf
                    .push_str(&constants::print(text.as_deref(), const_type, Label::Never));
            }
            _ => {
                self.open();
                self.paren(arg, false, parent, true);
                self.close();
            }
        }
        self.buf.push_str("::");
        self.buf.push_str(&type_label(ty));
    }

    /// A function call: `name(args)`, or the SQL syntax it was written in.
    fn function(&mut self, node: &Node, name: &str, args: &[Node], syntax: &Syntax) {
        match (syntax, args) {
            (Syntax::Extract(field), [_, source]) => {
                self.buf.push_str(&format!("EXTRACT({field} FROM "));
                self.expr(source, false);
                self.buf.push(')');
            }
            (Syntax::Substring, [string, start, rest @ ..]) => {
                self.buf.push_str("SUBSTRING(");
                self.expr(string, false);
                self.buf.push_str(" FROM ");
                self.expr(start, false);
                if let Some(count) = rest.first() {
                    self.buf.push_str(" FOR ");
                    self.expr(count, false);
                }
                self.buf.push(')');
            }
            (Syntax::Position, [haystack, needle]) => {
                self.buf.push_str("POSITION((");
                self.expr(needle, false);
                self.buf.push_str(") IN (");
                self.expr(haystack, false);
                self.buf.push_str("))");
            }
            (Syntax::Trim(side), [string, rest @ ..]) => {
                self.buf.push_str(&format!("TRIM({side}"));
                if let Some(characters) = rest.first() {
                    self.buf.push(' ');
                    self.expr(characters, false);
                }
                self.buf.push_str(" FROM ");
                self.expr(string, false);
                self.buf.push(')');
            }
            (Syntax::AtTimeZone, [zone, timestamp]) => {
                self.buf.push('(');
                self.paren(timestamp, false, node, true);
                self.buf.push_str(" AT TIME ZONE ");
                self.paren(zone, false, node, false);
                self.buf.push(')');
            }
            _ => {
                self.buf.push_str(&quote_identifier(name));
                self.buf.push('(');
                self.list(args, true);
                self.buf.push(')');
            }
        }
    }
}
