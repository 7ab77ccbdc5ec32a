//! Coercions as PostgreSQL's `coerce_type` / `coerce_type_typmod` build them: an untyped
//! literal becomes a constant of the target type; a value of another type gets a cast node
//! (a function call, or a relabelling for binary-compatible and I/O conversions); a length
//! or precision modifier adds a length-coercion call on top, which hides the type coercion
//! below it.

use super::analyze::Analyzer;
use super::constants::canonical;
use super::node::{CastForm, CastNode, Node};
use super::Unsupported;
use crate::pgtype::SqlType;

impl Analyzer<'_> {
    /// `node` coerced to `to` (with `to`'s modifier, if any).
    pub(super) fn coerce(
        &self,
        node: Node,
        to: &SqlType,
        form: CastForm,
    ) -> Result<Node, Unsupported> {
        match to {
            SqlType::Any | SqlType::AnyElement | SqlType::AnyArray | SqlType::Unknown => {
                return Ok(node)
            }
            SqlType::Record | SqlType::Composite(_) | SqlType::Void => {
                return Err(Unsupported::new("coercion to a row or void type"))
            }
            _ => {}
        }
        let from = node.ty();
        let base = to.without_modifier();
        let has_modifier = to.typmod() >= 0;
        let typed = match node {
            // An untyped literal is read by the target type's input function.
            Node::Const {
                text,
                ty: SqlType::Unknown,
            } => Node::Const {
                text: text.map(|t| canonical(self.ctx, &t, &base)),
                ty: base.clone(),
            },
            _ if from == SqlType::Unknown => {
                return Err(Unsupported::new("coercion of an untyped non-literal"))
            }
            node if from.same_type(&base) => node,
            node => Node::Cast {
                node: cast_node(&from, &base),
                arg: Box::new(node),
                ty: base.clone(),
                // Under a length coercion the type coercion is shown as implicit.
                form: if has_modifier {
                    CastForm::Implicit
                } else {
                    form
                },
            },
        };
        if has_modifier && typed.ty().typmod() != to.typmod() {
            return Ok(Node::Cast {
                arg: Box::new(typed),
                ty: to.clone(),
                form,
                node: CastNode::Function,
            });
        }
        Ok(typed)
    }

    /// PostgreSQL's `coerce_to_boolean`: a boolean, or an untyped literal read as one.
    pub(super) fn boolean(&self, node: Node) -> Result<Node, Unsupported> {
        match node.ty() {
            SqlType::Bool => Ok(node),
            SqlType::Unknown => self.coerce(node, &SqlType::Bool, CastForm::Implicit),
            other => Err(Unsupported::new(format!(
                "argument must be boolean, not {}",
                other.display_name()
            ))),
        }
    }

    /// `select_common_type` of `nodes`: the type they are all coerced to (CASE, COALESCE,
    /// ARRAY, IN lists).
    pub(super) fn common_type(&self, nodes: &[&Node]) -> Result<SqlType, Unsupported> {
        let types: Vec<SqlType> = nodes.iter().map(|n| n.ty()).collect();
        crate::func::common_type(&types, "expression")
            .map_err(|e| Unsupported::new(e.message.clone()))
    }

    /// Each node coerced to `common` (without its modifier), as `coerce_to_common_type`.
    pub(super) fn coerce_all(
        &self,
        nodes: Vec<Node>,
        common: &SqlType,
    ) -> Result<Vec<Node>, Unsupported> {
        let base = common.without_modifier();
        nodes
            .into_iter()
            .map(|n| self.coerce(n, &base, CastForm::Implicit))
            .collect()
    }
}

fn is_string(t: &SqlType) -> bool {
    matches!(t, SqlType::Text | SqlType::Varchar(_) | SqlType::Char(_))
}

fn is_oid_like(t: &SqlType) -> bool {
    matches!(
        t,
        SqlType::Oid
            | SqlType::RegClass
            | SqlType::RegType
            | SqlType::RegProc
            | SqlType::RegProcedure
            | SqlType::RegNamespace
            | SqlType::RegRole
    )
}

/// Which node `pg_cast` makes of a conversion between two different types: a cast function
/// (`castmethod` 'f'), or a relabelling / I/O conversion / array coercion.
fn cast_node(from: &SqlType, to: &SqlType) -> CastNode {
    use SqlType::*;
    match (from, to) {
        (Array(_), Array(_)) => CastNode::Relabel,
        // text(bpchar), text(name), name(text), text(boolean), text("char")...
        (Char(_), Text | Varchar(_)) => CastNode::Function,
        (Name | Bool | InternalChar, t) | (t, Name | InternalChar) if is_string(t) => {
            CastNode::Function
        }
        (Text | Varchar(_), RegClass) => CastNode::Function,
        (Int8, t) if is_oid_like(t) => CastNode::Function,
        (Int4, t) | (t, Int4) if is_oid_like(t) => CastNode::Relabel,
        (a, b) if is_oid_like(a) && is_oid_like(b) => CastNode::Relabel,
        (Json, Jsonb) | (Jsonb, Json) => CastNode::Relabel,
        // Binary-compatible string types, and I/O conversions to or from a string type.
        (a, b) if is_string(a) || is_string(b) => CastNode::Relabel,
        _ => CastNode::Function,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cast_nodes_follow_pg_cast() {
        use SqlType::*;
        assert_eq!(cast_node(&Varchar(None), &Text), CastNode::Relabel);
        assert_eq!(cast_node(&Char(None), &Text), CastNode::Function);
        assert_eq!(
            cast_node(&Int4, &crate::pgtype::NUMERIC),
            CastNode::Function
        );
        assert_eq!(cast_node(&Uuid, &Text), CastNode::Relabel);
        assert_eq!(cast_node(&Text, &RegClass), CastNode::Function);
        assert_eq!(
            cast_node(&Array(Box::new(Varchar(None))), &Array(Box::new(Text))),
            CastNode::Relabel
        );
    }
}
