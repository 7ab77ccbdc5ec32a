//! The engine's entry points: [`Database`] (one per data directory, shared by every session)
//! and [`Session`] (one per connection), which parses, binds, plans and executes statements
//! inside the session's transaction.

pub mod api;
pub(crate) mod copy;
pub(crate) mod run;
pub(crate) mod sequences;
mod session;
pub(crate) mod settings;

use std::path::Path;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Arc;

use storage::catalog::{RoleDef, FIRST_USER_OID};
use storage::{Engine, EngineOptions};

use crate::error::{code, SqlError, SqlResult};

pub use api::{Column, CopyFormat, CopyIn, CopyOptions, Notice, Outcome, TransactionStatus};
pub use session::{Prepared, Session, Statement};

/// The name of the one database a custos server serves.
pub const DATABASE_NAME: &str = "custos";

/// Settings of a database that the server passes in.
#[derive(Clone, Default)]
pub struct DatabaseOptions {
    pub storage: EngineOptions,
    /// Key of the audit log's HMAC chain (from a file outside the data directory); `None`:
    /// plain SHA-256 chaining (see `storage::audit`).
    pub audit_key: Option<Vec<u8>>,
    /// `pgaudit.log` for every session (default [`crate::audit::DEFAULT_LOG_CLASSES`]).
    pub audit_log_classes: Option<String>,
}

/// What authentication needs to know about a role.
#[derive(Debug, Clone)]
pub struct LoginInfo {
    pub role_oid: u32,
    /// The SCRAM-SHA-256 verifier (`SCRAM-SHA-256$<iter>:<salt>$<stored>:<server>`).
    pub verifier: Option<String>,
    pub can_login: bool,
    pub superuser: bool,
    /// `VALID UNTIL` as microseconds since 2000-01-01 UTC (`None`: no limit); after it the
    /// password no longer authenticates.
    pub valid_until: Option<i64>,
    /// `CONNECTION LIMIT` (-1: none).
    pub connection_limit: i32,
}

/// One data directory opened for SQL.
pub struct Database {
    pub(crate) storage: Arc<Engine>,
    pub(crate) sequences: sequences::Sequences,
    next_process_id: AtomicI32,
    pub(crate) audit: Arc<crate::audit::AuditLog>,
    /// `pgaudit.log` sessions start with.
    pub(crate) audit_log_classes: String,
}

impl Database {
    /// Opens (creating it if needed) the data directory; makes sure the `public` schema exists.
    pub fn open(path: &Path, options: DatabaseOptions) -> SqlResult<Arc<Database>> {
        let storage = Arc::new(Engine::open(path, options.storage.clone())?);
        let sequences = sequences::Sequences::open(path)?;
        crate::governance::secrets::load_or_create(path)?;
        let audit = crate::audit::AuditLog::open(path, options.audit_key.as_deref())
            .map_err(|e| SqlError::new(code::IO_ERROR, format!("audit log: {e}")))?;
        let audit_log_classes = options
            .audit_log_classes
            .clone()
            .unwrap_or_else(|| crate::audit::DEFAULT_LOG_CLASSES.to_string());
        crate::audit::classify::parse_classes(&audit_log_classes)?;
        let database = Arc::new(Database {
            storage,
            sequences,
            next_process_id: AtomicI32::new(1000),
            audit: Arc::new(audit),
            audit_log_classes,
        });
        if database
            .storage
            .catalog()
            .schema_by_name("public")
            .is_none()
        {
            let mut txn = database.storage.begin();
            txn.catalog_mut()
                .ensure_schema("public", crate::pg_catalog::BOOTSTRAP_SUPERUSER_OID);
            txn.commit()?;
        }
        Ok(database)
    }

    pub fn storage(&self) -> &Arc<Engine> {
        &self.storage
    }

    /// On a database without roles, creates the superuser `name` with the SCRAM verifier that
    /// `verifier` makes; returns whether it was created.
    pub fn bootstrap_superuser(
        &self,
        name: &str,
        verifier: impl FnOnce() -> String,
    ) -> SqlResult<bool> {
        if !self.storage.catalog().roles.is_empty() {
            return Ok(false);
        }
        let mut txn = self.storage.begin();
        let catalog = txn.catalog_mut();
        let oid = catalog.allocate_oid();
        let mut role = RoleDef {
            oid,
            name: name.to_string(),
            password_verifier: Some(verifier()),
            ..Default::default()
        };
        for attribute in [
            "SUPERUSER",
            "LOGIN",
            "CREATEROLE",
            "CREATEDB",
            "BYPASSRLS",
            "INHERIT",
            "REPLICATION",
        ] {
            role.attributes.insert(attribute.into(), "true".into());
        }
        catalog.roles.insert(oid, role);
        // Objects created before the role existed belong to it.
        for schema in catalog.schemas.values_mut() {
            if schema.owner < FIRST_USER_OID {
                schema.owner = oid;
            }
        }
        txn.commit()?;
        Ok(true)
    }

    /// The login facts of role `name`, if it exists.
    pub fn login_info(&self, name: &str) -> Option<LoginInfo> {
        let catalog = self.storage.catalog();
        let role = catalog.roles.values().find(|r| r.name == name)?;
        let flag = |f: &str| role.attributes.get(f).is_some_and(|v| v == "true");
        Some(LoginInfo {
            role_oid: role.oid,
            verifier: role.password_verifier.clone(),
            can_login: flag("LOGIN"),
            superuser: flag("SUPERUSER"),
            valid_until: crate::acl::identity::valid_until_micros(role),
            connection_limit: role
                .attributes
                .get("CONNECTION LIMIT")
                .and_then(|v| v.parse().ok())
                .unwrap_or(-1),
        })
    }

    /// Starts a session for `user` on `database` with the startup packet's options.
    pub fn session(
        self: &Arc<Self>,
        user: &str,
        database: &str,
        options: &[(String, String)],
    ) -> SqlResult<Session> {
        if database != DATABASE_NAME {
            return Err(SqlError::new(
                code::INVALID_CATALOG_NAME,
                format!("database \"{database}\" does not exist"),
            ));
        }
        let process_id = self.next_process_id.fetch_add(1, Ordering::Relaxed);
        Session::new(self.clone(), user, process_id, options)
    }
}
