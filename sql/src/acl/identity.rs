//! The session's identity, as PostgreSQL has three of them:
//!
//! * the *authenticated* user, who logged in (`Session::user`), fixed for the connection;
//! * the *session user* (`session_user`), the authenticated user unless a superuser changed
//!   it with `SET SESSION AUTHORIZATION`;
//! * the *current user* (`current_user`), whose privileges every check uses: the session
//!   user, or the role `SET ROLE` chose among those the session user is a member of.
//!
//! Both changeable identities are settings (`session_authorization`, `role`), so that SET
//! LOCAL and a rolled-back transaction undo them exactly as they undo a SET; the generic SET
//! path refuses them, only the statements here change them. `is_superuser` follows the
//! current user and is reported to the client when it changes.

use storage::catalog::Oid;

use super::{insufficient_privilege, is_member_of, role_by_name, role_flag};
use crate::engine::{Outcome, Session};
use crate::error::{code, SqlResult};

/// The OID a session stands for when its role no longer exists (dropped by another
/// session): it matches no role, owns nothing and holds no grant.
pub const NO_ROLE: Oid = u32::MAX;

impl Session {
    /// The role whose privileges statements run with (`current_user`).
    pub fn current_user(&self) -> &str {
        match self.settings.get("role") {
            Some(role) if role != "none" && !role.is_empty() => role,
            _ => self.session_user(),
        }
    }

    /// `session_user`: the authenticated user unless SET SESSION AUTHORIZATION changed it.
    pub fn session_user(&self) -> &str {
        match self.settings.get("session_authorization") {
            Some(user) if !user.is_empty() => user,
            _ => &self.user,
        }
    }
}

/// SET ROLE and SET SESSION AUTHORIZATION are settings in PostgreSQL: an unknown role is
/// an invalid value (22023), not an undefined object.
fn unknown_role_setting(name: &str) -> crate::error::SqlError {
    crate::error::SqlError::new(
        code::INVALID_PARAMETER_VALUE,
        format!("role \"{name}\" does not exist"),
    )
}

fn superuser_text(superuser: bool) -> &'static str {
    if superuser {
        "on"
    } else {
        "off"
    }
}

/// `SET [LOCAL] ROLE name | NONE`, `RESET ROLE` (role `None`).
pub fn set_role(session: &mut Session, role: Option<String>, local: bool) -> SqlResult<Outcome> {
    let in_transaction = session.in_block();
    if local && !in_transaction {
        session.warning(
            code::NO_ACTIVE_SQL_TRANSACTION,
            "SET LOCAL can only be used in transaction blocks",
        );
        return Ok(Outcome::Command { tag: "SET".into() });
    }
    let catalog = session.catalog();
    set_role_setting(
        &catalog,
        &mut session.settings,
        role.as_deref(),
        local,
        in_transaction,
    )?;
    Ok(Outcome::Command { tag: "SET".into() })
}

/// Changes the `role` setting after checking that the session user may become `role`
/// (`None`: back to the session user). Also the path of `set_config('role', ...)`.
pub fn set_role_setting(
    catalog: &storage::catalog::Catalog,
    settings: &mut crate::engine::settings::Settings,
    role: Option<&str>,
    local: bool,
    in_transaction: bool,
) -> SqlResult<()> {
    let session_user = settings
        .get("session_authorization")
        .unwrap_or("")
        .to_string();
    let session_role = role_by_name(catalog, &session_user);
    let (value, superuser) = match role {
        None => (
            "none".to_string(),
            session_role.is_some_and(|r| role_flag(r, "SUPERUSER")),
        ),
        Some(name) => {
            let target = role_by_name(catalog, name).ok_or_else(|| unknown_role_setting(name))?;
            let allowed = session_role.is_some_and(|s| is_member_of(catalog, s.oid, target.oid));
            if !allowed {
                return Err(insufficient_privilege(format!(
                    "permission denied to set role \"{name}\""
                )));
            }
            (name.to_string(), role_flag(target, "SUPERUSER"))
        }
    };
    settings.set_identity("role", Some(&value), local, in_transaction)?;
    settings.set_identity(
        "is_superuser",
        Some(superuser_text(superuser)),
        local,
        in_transaction,
    )
}

/// `SET [LOCAL] SESSION AUTHORIZATION name | DEFAULT`, `RESET SESSION AUTHORIZATION`
/// (`None`): only a superuser who logged in may become another user; anyone may return to
/// themselves. The current role returns to the new session user.
pub fn set_session_authorization(
    session: &mut Session,
    user: Option<String>,
    local: bool,
) -> SqlResult<Outcome> {
    let in_transaction = session.in_block();
    if local && !in_transaction {
        session.warning(
            code::NO_ACTIVE_SQL_TRANSACTION,
            "SET LOCAL can only be used in transaction blocks",
        );
        return Ok(Outcome::Command { tag: "SET".into() });
    }
    let catalog = session.catalog();
    let authenticated = session.user.clone();
    if catalog.roles.is_empty() {
        // An engine without roles (no server): nothing to become but the user it has.
        if user.as_ref().is_some_and(|u| *u != authenticated) {
            return Err(unknown_role_setting(user.as_deref().unwrap_or_default()));
        }
        return Ok(Outcome::Command { tag: "SET".into() });
    }
    let authenticated_superuser =
        role_by_name(&catalog, &authenticated).is_some_and(|r| role_flag(r, "SUPERUSER"));
    let target_name = user.unwrap_or_else(|| authenticated.clone());
    let target =
        role_by_name(&catalog, &target_name).ok_or_else(|| unknown_role_setting(&target_name))?;
    if target_name != authenticated && !authenticated_superuser {
        return Err(insufficient_privilege(format!(
            "permission denied to set session authorization \"{target_name}\""
        )));
    }
    let superuser = role_flag(target, "SUPERUSER");
    let settings = &mut session.settings;
    settings.set_identity(
        "session_authorization",
        Some(&target_name),
        local,
        in_transaction,
    )?;
    settings.set_identity("role", Some("none"), local, in_transaction)?;
    settings.set_identity(
        "is_superuser",
        Some(superuser_text(superuser)),
        local,
        in_transaction,
    )?;
    Ok(Outcome::Command { tag: "SET".into() })
}

/// A role's `VALID UNTIL` as microseconds since 2000-01-01 UTC (`infinity` is `i64::MAX`).
pub fn valid_until_micros(role: &storage::catalog::RoleDef) -> Option<i64> {
    let text = role.attributes.get("VALID UNTIL")?;
    let value = crate::types::parse_text(
        &storage::types::DataType::Timestamptz,
        text,
        &crate::types::SessionFormat::default(),
    )
    .ok()?;
    match value {
        storage::types::Value::Timestamptz(micros) => Some(micros),
        // Unreadable: treat as already expired rather than as no limit.
        _ => Some(i64::MIN),
    }
}

/// The current time as microseconds since 2000-01-01 UTC (for `VALID UNTIL`).
pub fn now_micros() -> i64 {
    crate::types::SessionFormat::default().now_micros()
}

impl crate::engine::Database {
    /// Whether role `member` is a member of role `role`, directly or through other roles
    /// (superuser status does not count: this is what `+role` in host rules means).
    pub fn role_is_member_of(&self, member: &str, role: &str) -> bool {
        let catalog = self.storage.catalog();
        let (Some(m), Some(r)) = (role_by_name(&catalog, member), role_by_name(&catalog, role))
        else {
            return false;
        };
        m.oid == r.oid || super::member_closure(&catalog, m.oid, false).contains(&r.oid)
    }
}
