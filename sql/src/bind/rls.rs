//! Row-level security at the scan of a table (see [`super::governance`]), as PostgreSQL 15's
//! `rowsecurity.c` and `check_enable_rls`:
//!
//! * a table's policies apply when it has ROW LEVEL SECURITY enabled and the checking role
//!   (the current user, or a view's owner for the tables its definition reads) is neither a
//!   superuser, nor BYPASSRLS, nor the table's owner (unless FORCE ROW LEVEL SECURITY);
//!   with `row_security = off` a statement they would apply to fails instead (42501);
//! * the policies of a command (`FOR ALL` ones included) whose roles the checking role has
//!   the privileges of (PUBLIC: every role) combine as `(P1 OR P2 ...) AND R1 AND R2 ...`:
//!   permissive OR-ed, restrictive AND-ed, and no permissive policy means no row;
//! * existing rows are filtered by USING ("security quals"), new rows are checked against
//!   WITH CHECK (or USING when a policy has none) and a failure is an error
//!   ([`RowCheck`]); SELECT policies join UPDATE / DELETE quals and INSERT / UPDATE checks
//!   when the statement reads the table's columns (WHERE, SET, RETURNING).
//!
//! Security quals are security barriers: they go into the table's scan as the first
//! conjuncts of its filter, each as `(qual) IS TRUE`, so the filter's AND stops at the first
//! one that does not hold and nothing the query adds (pushed into the same scan after them,
//! or evaluated above the scan) ever sees a hidden row. The optimizer still turns an
//! equality of a policy (`tenant_id = current_setting(...)::int`) into an index lookup, and
//! a nearest-neighbour scan takes the whole filter into its search.

use storage::catalog::{Oid, PolicyDef, TableDef};
use storage::types::Value;

use super::expr::ExprContext;
use super::{Binder, ScopeColumn};
use crate::acl::{has_privileges_of, is_superuser, role_flag};
use crate::error::{code, SqlError, SqlResult};
use crate::exec::{eval, truthy, Env, ExecCtx};
use crate::pgtype::SqlType;
use crate::plan::{Expr, Plan};

/// The command a policy is chosen for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    Select,
    Insert,
    Update,
    Delete,
}

impl Command {
    fn keyword(self) -> &'static str {
        match self {
            Command::Select => "SELECT",
            Command::Insert => "INSERT",
            Command::Update => "UPDATE",
            Command::Delete => "DELETE",
        }
    }
}

/// The binder's row-security bookkeeping.
#[derive(Debug, Default, Clone)]
pub struct RlsState {
    /// The statement touches a table with row-level security enabled: its plan depends on
    /// the role and settings it was bound for, so it must not be reused for another.
    pub depends_on_role: bool,
    /// Tables whose policies are being bound (a policy reaching its own table again is
    /// PostgreSQL's "infinite recursion detected in policy").
    expanding: Vec<Oid>,
    /// While binding a query level with FOR UPDATE / FOR SHARE: the names (or aliases)
    /// after OF, empty for all the level's tables. Their scans also get the USING of the
    /// UPDATE policies, as in PostgreSQL.
    pub locking: Option<Vec<String>>,
    /// Set just before binding a subquery in FROM or a view (Some of its alias or name):
    /// the query level's FOR UPDATE applies inside it when it locks that item.
    pub from_item: Option<Option<String>>,
}

impl RlsState {
    /// Starts binding a query level with `locks`; returns the state to restore after it
    /// (an inner query level locks what its own clause says, and all of its tables when
    /// it is a subquery in FROM or a view that the outer level locks).
    pub fn enter_query(&mut self, locks: &[sqlparser::ast::LockClause]) -> Option<Vec<String>> {
        let outer = self.locking.take();
        let from_item = self.from_item.take();
        if let (Some(of), Some(item)) = (&outer, from_item) {
            if of.is_empty() || item.is_some_and(|name| of.contains(&name)) {
                self.locking = Some(Vec::new());
            }
        }
        let all_locked = matches!(&self.locking, Some(of) if of.is_empty());
        if !locks.is_empty() && !all_locked {
            let mut of = Vec::new();
            let mut all = false;
            for lock in locks {
                match &lock.of {
                    Some(name) => of.extend(super::object_name_parts(name).pop()),
                    None => all = true,
                }
            }
            self.locking = Some(if all { Vec::new() } else { of });
        }
        outer
    }
}

/// A check of a new row (PostgreSQL's `WithCheckOption`): its expression over a row of the
/// table (columns in attnum order) and the error it raises when it does not hold.
#[derive(Clone)]
pub struct RowCheck {
    pub expr: Expr,
    pub table: String,
    /// The restrictive policy it comes from; `None` for the OR of the permissive ones.
    pub policy: Option<String>,
    /// An UPDATE USING checked on ON CONFLICT's existing row.
    pub using: bool,
}

impl RowCheck {
    pub fn error(&self) -> SqlError {
        let using = if self.using {
            " (USING expression)"
        } else {
            ""
        };
        let message = match &self.policy {
            Some(p) => format!(
                "new row violates row-level security policy \"{p}\"{using} for table \"{}\"",
                self.table
            ),
            None => format!(
                "new row violates row-level security policy{using} for table \"{}\"",
                self.table
            ),
        };
        SqlError::new(code::INSUFFICIENT_PRIVILEGE, message)
    }
}

/// Evaluates `checks` against `row`: the first that does not hold is the error.
pub fn check_row(checks: &[RowCheck], row: &[Value], ctx: &ExecCtx) -> SqlResult<()> {
    let env = Env { row, parent: None };
    for check in checks {
        if !truthy(&eval(&check.expr, &env, ctx)?) {
            return Err(check.error());
        }
    }
    Ok(())
}

/// `(e) IS TRUE`: NULL counts as false, so an AND of these stops at the first that fails.
/// Distributed over AND (`(a AND b) IS TRUE` is `a IS TRUE AND b IS TRUE`), so that each
/// part of a policy is a conjunct of the scan's filter (an equality can be an index key).
fn is_true(e: Expr) -> Expr {
    match e {
        Expr::And(items) => Expr::And(items.into_iter().map(is_true).collect()),
        Expr::Const(Value::Bool(b)) => Expr::Const(Value::Bool(b)),
        Expr::Const(Value::Null) => Expr::Const(Value::Bool(false)),
        Expr::BoolTest {
            value: Some(true),
            negated: false,
            ..
        } => e,
        other => Expr::BoolTest {
            expr: Box::new(other),
            value: Some(true),
            negated: false,
        },
    }
}

fn or_all(mut items: Vec<Expr>) -> Expr {
    if items.len() == 1 {
        items.pop().unwrap_or(Expr::Const(Value::Bool(false)))
    } else {
        Expr::Or(items)
    }
}

/// `plan` with `quals` as the first conjuncts of the filter of its scan of `table` (the
/// scan itself, or the target scan under an UPDATE / DELETE's WHERE and FROM join).
pub fn with_scan_filter(plan: Plan, table: Oid, quals: Vec<Expr>) -> Plan {
    if quals.is_empty() {
        return plan;
    }
    match plan {
        Plan::SeqScan {
            table: t,
            width,
            filter,
            predicates,
            row_id,
        } if t == table => {
            let mut all = quals;
            if let Some(f) = filter {
                crate::optimize::conjuncts(f, &mut all);
            }
            let filter = if all.len() == 1 {
                all.pop()
            } else {
                Some(Expr::And(all))
            };
            Plan::SeqScan {
                table: t,
                width,
                filter,
                predicates,
                row_id,
            }
        }
        Plan::Filter { input, predicate } => Plan::Filter {
            input: Box::new(with_scan_filter(*input, table, quals)),
            predicate,
        },
        Plan::NestedLoopJoin {
            left,
            right,
            kind,
            on,
            left_width,
            right_width,
        } => Plan::NestedLoopJoin {
            left: Box::new(with_scan_filter(*left, table, quals)),
            right,
            kind,
            on,
            left_width,
            right_width,
        },
        // Not a shape the binder makes: refuse every row rather than show one.
        other => Plan::Filter {
            input: Box::new(other),
            predicate: Expr::Const(Value::Bool(false)),
        },
    }
}

impl Binder<'_> {
    /// `plan` (the scan of table `oid`) restricted to the rows the table's SELECT policies
    /// let the checking role see.
    pub(super) fn apply_row_security(
        &mut self,
        oid: Oid,
        plan: Plan,
        columns: &[ScopeColumn],
    ) -> SqlResult<Plan> {
        let locked = match &self.rls.locking {
            None => false,
            Some(of) if of.is_empty() => true,
            Some(of) => columns
                .first()
                .and_then(|c| c.qualifier.as_ref())
                .is_some_and(|q| of.contains(q)),
        };
        let commands: &[Command] = if locked {
            &[Command::Select, Command::Update]
        } else {
            &[Command::Select]
        };
        match self.security_quals(oid, commands)? {
            Some(quals) => Ok(with_scan_filter(plan, oid, quals)),
            None => Ok(plan),
        }
    }

    /// `row_security_active(table)`: whether policies apply to the table for the current
    /// user here (PostgreSQL's `check_enable_rls` without raising). Decided when the statement is bound, like the policies themselves (a
    /// plan that depends on the role is not reused by another role); the argument must be a
    /// constant.
    pub(super) fn row_security_active(&mut self, arg: super::expr::Typed) -> SqlResult<Expr> {
        let accepted = matches!(
            arg.1,
            SqlType::RegClass
                | SqlType::Text
                | SqlType::Unknown
                | SqlType::Oid
                | SqlType::Int2
                | SqlType::Int4
                | SqlType::Int8
        );
        if !accepted {
            return Err(SqlError::new(
                code::UNDEFINED_FUNCTION,
                format!(
                    "function row_security_active({}) does not exist",
                    arg.1.display_name()
                ),
            )
            .with_hint(
                "No function matches the given name and argument types. You might need to add explicit type casts.",
            ));
        }
        // A constant, possibly under casts (`NULL::regclass`, `'t'::text`).
        let mut e = arg.0;
        while let Expr::Cast { expr, .. } = e {
            e = *expr;
        }
        let value = match e {
            Expr::Const(Value::Text(text)) => {
                crate::exec::input_value(&self.catalog, self.format, &text, &SqlType::RegClass)?
            }
            Expr::Const(v) => v,
            _ => {
                return Err(SqlError::unsupported(
                    "row_security_active() with an argument that is not a constant",
                ))
            }
        };
        let oid = match value {
            Value::Null => return Ok(Expr::Const(Value::Null)),
            Value::Int8(n) => Oid::try_from(n).unwrap_or(0),
            Value::Int4(n) => Oid::try_from(n).unwrap_or(0),
            Value::Int2(n) => Oid::try_from(n).unwrap_or(0),
            _ => 0,
        };
        let active = match self.row_security_applies(oid) {
            Ok(active) => active,
            // `row_security = off` where policies apply: they are active (the statement
            // reading the table would fail).
            Err(e) if e.code == code::INSUFFICIENT_PRIVILEGE => true,
            Err(e) => return Err(e),
        };
        Ok(Expr::Const(Value::Bool(active)))
    }

    /// The role policies are checked for: a view's owner inside its definition (or a
    /// SECURITY DEFINER function's), else the current user.
    fn checking_role(&self) -> Oid {
        self.privileges
            .view_owner
            .unwrap_or_else(|| crate::acl::check::role_of(&self.catalog, self.user))
    }

    /// Whether policies apply to table `oid` for the checking role (PostgreSQL's
    /// `check_enable_rls`); with `row_security = off` a statement they would apply to fails.
    pub fn row_security_applies(&mut self, oid: Oid) -> SqlResult<bool> {
        let Some(table) = self.catalog.tables.get(&oid) else {
            return Ok(false);
        };
        if !table.row_security {
            return Ok(false);
        }
        self.rls.depends_on_role = true;
        if self.catalog.roles.is_empty() {
            return Ok(false);
        }
        let role = self.checking_role();
        let bypass = is_superuser(&self.catalog, role)
            || self
                .catalog
                .roles
                .get(&role)
                .is_some_and(|r| role_flag(r, "BYPASSRLS"));
        if bypass {
            return Ok(false);
        }
        let owner = has_privileges_of(&self.catalog, role, table.owner);
        if owner && !table.force_row_security {
            return Ok(false);
        }
        let off = (self.setting)("row_security").is_some_and(|v| {
            matches!(
                v.to_ascii_lowercase().as_str(),
                "off" | "false" | "no" | "0" | "of"
            )
        });
        if off {
            let mut error = SqlError::new(
                code::INSUFFICIENT_PRIVILEGE,
                format!(
                    "query would be affected by row-level security policy for table \"{}\"",
                    table.name
                ),
            );
            if owner {
                error = error.with_hint(
                    "To disable the policy for the table's owner, use ALTER TABLE NO FORCE ROW LEVEL SECURITY.",
                );
            }
            return Err(error);
        }
        Ok(true)
    }

    /// The policies of `command` on `table` that apply to the checking role: permissive
    /// ones, and restrictive ones in name order.
    fn policies_for(&self, table: Oid, command: Command) -> (Vec<PolicyDef>, Vec<PolicyDef>) {
        let role = self.checking_role();
        let mut permissive = Vec::new();
        let mut restrictive = Vec::new();
        for p in self.catalog.policies.values().filter(|p| p.table == table) {
            let cmd = p.command.to_ascii_uppercase();
            if cmd != "ALL" && cmd != command.keyword() {
                continue;
            }
            let applies = p.roles.is_empty()
                || p.roles
                    .iter()
                    .any(|r| *r == 0 || has_privileges_of(&self.catalog, role, *r));
            if !applies {
                continue;
            }
            if p.permissive {
                permissive.push(p.clone());
            } else {
                restrictive.push(p.clone());
            }
        }
        permissive.sort_by(|a, b| a.name.cmp(&b.name));
        restrictive.sort_by(|a, b| a.name.cmp(&b.name));
        (permissive, restrictive)
    }

    /// A policy expression (SQL text) bound over a row of `table`, in a context of its own:
    /// no outer query, no CTEs, column reads not charged to the statement.
    pub fn bind_policy_expr(&mut self, table: &TableDef, text: &str) -> SqlResult<Expr> {
        let ast = crate::dml::parse_expr(text)?;
        let scope = crate::dml::table_scope(&self.catalog, table, &table.name);
        let outer = std::mem::take(&mut self.outer);
        let ctes = std::mem::take(&mut self.ctes);
        let outer_refs = self.outer_refs;
        let suspended = std::mem::replace(&mut self.privileges.suspended, true);
        let mut cx = ExprContext::plain("policy expressions");
        let result = self
            .bind_expr(&ast, &scope, &mut cx)
            .and_then(|(e, t)| match t {
                SqlType::Bool => Ok(e),
                SqlType::Unknown => self.coerce(e, &t, &SqlType::Bool),
                other => Err(SqlError::new(
                    code::DATATYPE_MISMATCH,
                    format!(
                        "argument of POLICY must be type boolean, not type {}",
                        other.display_name()
                    ),
                )),
            });
        self.privileges.suspended = suspended;
        self.outer_refs = outer_refs;
        self.outer = outer;
        self.ctes = ctes;
        result
    }

    /// Binds the USING (or, with `with_check`, the WITH CHECK-or-USING) expressions of
    /// `policies`, guarding against a policy that reaches its own table again.
    fn bind_policies(
        &mut self,
        table: &TableDef,
        policies: &[PolicyDef],
        with_check: bool,
    ) -> SqlResult<Vec<(String, Expr)>> {
        if self.rls.expanding.contains(&table.oid) {
            return Err(SqlError::new(
                code::INVALID_OBJECT_DEFINITION,
                format!(
                    "infinite recursion detected in policy for relation \"{}\"",
                    table.name
                ),
            ));
        }
        self.rls.expanding.push(table.oid);
        let mut out = Vec::new();
        let mut result = Ok(());
        for p in policies {
            let text = if with_check {
                p.with_check.as_ref().or(p.using.as_ref())
            } else {
                p.using.as_ref()
            };
            let Some(text) = text else {
                continue;
            };
            match self.bind_policy_expr(table, text) {
                Ok(e) => out.push((p.name.clone(), e)),
                Err(e) => {
                    result = Err(e);
                    break;
                }
            }
        }
        self.rls.expanding.pop();
        result.map(|()| out)
    }

    /// The security quals of `commands` on table `oid` (AND-ed across commands), each
    /// `IS TRUE`; `None` when no policy applies (row-level security off or exempt).
    pub fn security_quals(
        &mut self,
        oid: Oid,
        commands: &[Command],
    ) -> SqlResult<Option<Vec<Expr>>> {
        if !self.row_security_applies(oid)? {
            return Ok(None);
        }
        let Some(table) = self.catalog.tables.get(&oid).cloned() else {
            return Ok(None);
        };
        let mut quals = Vec::new();
        for &command in commands {
            let (permissive, restrictive) = self.policies_for(oid, command);
            let permissive = self.bind_policies(&table, &permissive, false)?;
            if permissive.is_empty() {
                // Default deny.
                return Ok(Some(vec![Expr::Const(Value::Bool(false))]));
            }
            let restrictive = self.bind_policies(&table, &restrictive, false)?;
            quals.push(is_true(or_all(
                permissive.into_iter().map(|(_, e)| e).collect(),
            )));
            quals.extend(restrictive.into_iter().map(|(_, e)| is_true(e)));
        }
        Ok(Some(quals))
    }

    /// The checks of new rows for `command` (INSERT or UPDATE: WITH CHECK, else USING; with
    /// `using`, ON CONFLICT's check of the existing row against UPDATE USING; SELECT: the
    /// USING of SELECT policies, applied to rows the statement returns). Empty when no
    /// policy applies.
    pub fn row_checks(
        &mut self,
        oid: Oid,
        command: Command,
        using: bool,
    ) -> SqlResult<Vec<RowCheck>> {
        if !self.row_security_applies(oid)? {
            return Ok(Vec::new());
        }
        let Some(table) = self.catalog.tables.get(&oid).cloned() else {
            return Ok(Vec::new());
        };
        let with_check = !using && command != Command::Select;
        let (permissive, restrictive) = self.policies_for(oid, command);
        let permissive = self.bind_policies(&table, &permissive, with_check)?;
        let check = |expr: Expr, policy: Option<String>| RowCheck {
            expr,
            table: table.name.clone(),
            policy,
            using,
        };
        if permissive.is_empty() {
            return Ok(vec![check(Expr::Const(Value::Bool(false)), None)]);
        }
        let restrictive = self.bind_policies(&table, &restrictive, with_check)?;
        let mut checks = vec![check(
            or_all(permissive.into_iter().map(|(_, e)| e).collect()),
            None,
        )];
        checks.extend(
            restrictive
                .into_iter()
                .map(|(name, e)| check(e, Some(name))),
        );
        Ok(checks)
    }
}
