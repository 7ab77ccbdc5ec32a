//! UNION, INTERSECT and EXCEPT, with and without ALL, over two materialized inputs. Rows
//! are compared by [`row_key`], so NULLs are equal to each other here, as in PostgreSQL.

use std::collections::HashMap;

use storage::types::Row;

use super::row_key;
use crate::plan::SetOpKind;

pub(super) fn set_op(kind: SetOpKind, all: bool, ls: Vec<Row>, rs: Vec<Row>) -> Vec<Row> {
    match (kind, all) {
        (SetOpKind::Union, true) => {
            let mut out = ls;
            out.extend(rs);
            out
        }
        (SetOpKind::Union, false) => {
            let mut seen = std::collections::HashSet::new();
            ls.into_iter()
                .chain(rs)
                .filter(|r| seen.insert(row_key(r)))
                .collect()
        }
        (SetOpKind::Intersect, _) | (SetOpKind::Except, _) => {
            let mut counts: HashMap<Vec<u8>, usize> = HashMap::new();
            for r in &rs {
                *counts.entry(row_key(r)).or_default() += 1;
            }
            let mut emitted = std::collections::HashSet::new();
            let mut out = Vec::new();
            for r in ls {
                let key = row_key(&r);
                let c = counts.get(&key).copied().unwrap_or(0);
                let keep = match (kind, all) {
                    (SetOpKind::Intersect, true) => {
                        if c > 0 {
                            counts.insert(key.clone(), c - 1);
                            true
                        } else {
                            false
                        }
                    }
                    (SetOpKind::Intersect, false) => c > 0 && emitted.insert(key.clone()),
                    (SetOpKind::Except, true) => {
                        if c > 0 {
                            counts.insert(key.clone(), c - 1);
                            false
                        } else {
                            true
                        }
                    }
                    _ => c == 0 && emitted.insert(key.clone()),
                };
                if keep {
                    out.push(r);
                }
            }
            out
        }
    }
}
