//! Who may log in, decided in PostgreSQL's order once the startup packet has named the user
//! and database:
//!
//! 1. the host rules ([`super::hba`], when a file is configured): no matching line or a
//!    `reject` line ends the attempt (28000) before any password is asked;
//! 2. authentication: SCRAM-SHA-256 (or -PLUS under TLS), or nothing for a `trust` line
//!    from a loopback address. A role that does not exist, has no password, or whose
//!    `VALID UNTIL` has passed goes through the same exchange with a mock salt and fails
//!    with the same 28P01 as a wrong password, so a client cannot tell them apart;
//! 3. the role must have LOGIN (28000 `role "x" is not permitted to log in`);
//! 4. its `CONNECTION LIMIT` (not for superusers) must leave room (53300 `too many
//!    connections for role "x"`); the slot is held by the returned [`RoleSlot`] until the
//!    connection ends.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::IpAddr;
use std::sync::Arc;

use parking_lot::Mutex;
use sql::error::code;
use sql::SqlError;

use super::hba::{is_loopback, HbaRules, Method};
use crate::connection::ConnError;
use crate::wire::{BackendWriter, FrontendReader};

/// The access settings of a server: host rules and TLS.
#[derive(Default, Clone)]
pub struct AccessPolicy {
    pub hba: Option<Arc<HbaRules>>,
    pub tls: Option<Arc<crate::tls::TlsSettings>>,
}

impl std::fmt::Debug for AccessPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessPolicy")
            .field("hba", &self.hba.is_some())
            .field("tls", &self.tls.is_some())
            .finish()
    }
}

/// Sessions per role, for CONNECTION LIMIT.
#[derive(Default)]
pub struct RoleSessions {
    counts: Mutex<HashMap<u32, usize>>,
}

/// A role's place among its connections; given back when dropped.
pub struct RoleSlot {
    sessions: Arc<RoleSessions>,
    role: u32,
}

impl Drop for RoleSlot {
    fn drop(&mut self) {
        let mut counts = self.sessions.counts.lock();
        if let Some(n) = counts.get_mut(&self.role) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                counts.remove(&self.role);
            }
        }
    }
}

impl RoleSessions {
    /// Takes a slot for `role` unless `limit` (>= 0) connections already hold one.
    fn take(self: &Arc<Self>, role: u32, limit: Option<usize>) -> Option<RoleSlot> {
        let mut counts = self.counts.lock();
        let count = counts.entry(role).or_insert(0);
        if limit.is_some_and(|limit| *count >= limit) {
            return None;
        }
        *count += 1;
        Some(RoleSlot {
            sessions: self.clone(),
            role,
        })
    }
}

/// File in the data directory holding the secret that mock SCRAM salts of unknown users
/// are derived from. Kept across restarts, so that an unknown user's salt is as stable as
/// a real user's (a salt that changed with each restart would tell them apart).
const MOCK_SECRET_FILE: &str = "auth_mock_secret";

/// The data directory's mock-salt secret, created (random, mode 0600) on first use. When
/// the file cannot be read or written, a random secret for this process is used.
pub fn mock_secret(data_dir: &std::path::Path) -> [u8; 32] {
    use rand::RngCore;
    let path = data_dir.join(MOCK_SECRET_FILE);
    if let Ok(bytes) = std::fs::read(&path) {
        if let Ok(secret) = <[u8; 32]>::try_from(bytes.as_slice()) {
            return secret;
        }
    }
    let mut secret = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut secret);
    let written = (|| -> std::io::Result<()> {
        use std::io::Write as _;
        use std::os::unix::fs::OpenOptionsExt;
        let temporary = data_dir.join(format!("{MOCK_SECRET_FILE}.tmp"));
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&temporary)?;
        file.write_all(&secret)?;
        file.sync_all()?;
        std::fs::rename(&temporary, &path)
    })();
    if let Err(error) = written {
        eprintln!("custos: cannot keep {}: {error}", path.display());
    }
    secret
}

/// What the server knows about the connection being admitted.
pub struct Peer {
    pub address: IpAddr,
    pub tls: bool,
    /// `tls-server-end-point` channel-binding data when under TLS.
    pub channel_binding: Option<Vec<u8>>,
}

fn encryption_text(tls: bool) -> &'static str {
    if tls {
        "SSL encryption"
    } else {
        "no encryption"
    }
}

/// Runs steps 1 to 4 for `user` on `database`; on success AuthenticationOk has been sent.
#[allow(clippy::too_many_arguments)]
pub fn admit<R: Read, W: Write>(
    reader: &mut FrontendReader<R>,
    writer: &mut BackendWriter<W>,
    database_handle: &sql::engine::Database,
    policy: &AccessPolicy,
    sessions: &Arc<RoleSessions>,
    mock_secret: &[u8],
    peer: &Peer,
    user: &str,
    database: &str,
) -> Result<RoleSlot, ConnError> {
    let mut method = Method::ScramSha256;
    if let Some(rules) = &policy.hba {
        let is_member = |member: &str, role: &str| database_handle.role_is_member_of(member, role);
        let host = peer.address.to_string();
        match rules.decide(peer.address, peer.tls, database, user, &is_member) {
            None => {
                return Err(ConnError::Fatal(SqlError::new(
                    code::INVALID_AUTHORIZATION_SPECIFICATION,
                    format!(
                        "no pg_hba.conf entry for host \"{host}\", user \"{user}\", database \"{database}\", {}",
                        encryption_text(peer.tls)
                    ),
                )))
            }
            Some(rule) if rule.method == Method::Reject => {
                return Err(ConnError::Fatal(SqlError::new(
                    code::INVALID_AUTHORIZATION_SPECIFICATION,
                    format!(
                        "pg_hba.conf rejects connection for host \"{host}\", user \"{user}\", database \"{database}\", {}",
                        encryption_text(peer.tls)
                    ),
                )))
            }
            Some(rule) => method = rule.method,
        }
    }
    let login = database_handle.login_info(user);
    match method {
        Method::Trust if is_loopback(&peer.address) => {
            writer.authentication_ok()?;
        }
        _ => {
            let now = sql::acl::identity::now_micros();
            let verifier = login
                .as_ref()
                .filter(|l| l.valid_until.is_none_or(|until| until > now))
                .and_then(|l| l.verifier.clone());
            super::authenticate_with_binding(
                reader,
                writer,
                user,
                verifier.as_deref(),
                mock_secret,
                peer.channel_binding.as_deref(),
            )?;
        }
    }
    let Some(login) = login else {
        // Only a trusted connection gets here without a role.
        return Err(ConnError::Fatal(SqlError::new(
            code::INVALID_AUTHORIZATION_SPECIFICATION,
            format!("role \"{user}\" does not exist"),
        )));
    };
    if !login.can_login {
        return Err(ConnError::Fatal(SqlError::new(
            code::INVALID_AUTHORIZATION_SPECIFICATION,
            format!("role \"{user}\" is not permitted to log in"),
        )));
    }
    let limit = (!login.superuser && login.connection_limit >= 0)
        .then_some(login.connection_limit as usize);
    sessions.take(login.role_oid, limit).ok_or_else(|| {
        ConnError::Fatal(SqlError::new(
            code::TOO_MANY_CONNECTIONS,
            format!("too many connections for role \"{user}\""),
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_slots_count_and_free_on_drop() {
        let sessions = Arc::new(RoleSessions::default());
        let a = sessions.take(7, Some(2)).unwrap();
        let b = sessions.take(7, Some(2)).unwrap();
        assert!(sessions.take(7, Some(2)).is_none());
        assert!(sessions.take(8, Some(2)).is_some());
        drop(a);
        let c = sessions.take(7, Some(2)).unwrap();
        drop((b, c));
        assert!(sessions.counts.lock().is_empty());
        assert!(sessions.take(7, Some(0)).is_none());
        assert!(sessions.take(7, None).is_some());
    }
}
