//! A connection's first moments: the startup packet (an SSLRequest answered `S` and the TLS
//! handshake when TLS is configured, `N` otherwise; GSSAPI encryption refused with `N`; a
//! CancelRequest served and the connection closed), the connection limit, protocol
//! negotiation, admission ([`crate::auth::login`]: host rules, SCRAM-SHA-256 or -PLUS,
//! LOGIN, the role's connection limit), the session, then ParameterStatus, BackendKeyData
//! and the first ReadyForQuery.
//!
//! A client that leaves during start-up (pg_isready, or psql going to ask for a password)
//! is not an error and is not logged. Reads during start-up time out after the configured
//! authentication timeout.

use std::collections::HashMap;
use std::net::TcpStream;
use std::sync::Arc;

use sql::error::code;
use sql::SqlError;

use super::{admin_shutdown, guarded, ConnError, Connection};
use crate::auth;
use crate::registry::{Admission, Registry, SlotGuard};
use crate::server::Shared;
use crate::tls::NetStream;
use crate::wire::{BackendWriter, FrontendReader, ReadError, Severity, StartupPacket};

/// The only protocol minor version custos speaks (3.0).
const NEWEST_MINOR_VERSION: i32 = 0;

/// The parameters of an accepted startup packet.
struct Startup {
    minor: u16,
    parameters: Vec<(String, String)>,
}

/// Serves one accepted TCP connection from start to end.
pub fn serve(stream: TcpStream, shared: Arc<Shared>, admission: Admission) {
    let _ = stream.set_nodelay(true);
    let _ = stream.set_read_timeout(Some(shared.authentication_timeout));
    let stream = NetStream::Plain(stream);
    let Ok(read_half) = stream.try_clone() else {
        return;
    };
    let mut reader = FrontendReader::new(read_half);
    let mut writer = BackendWriter::new(stream);
    let registry: &Registry = match &admission {
        Admission::Accepted(guard) => guard.registry(),
        Admission::TooMany(guard) => guard.registry(),
        Admission::Dropped => return,
    };
    let startup = match read_startup_packet(&mut reader, &mut writer, registry, &shared) {
        Ok(Some(startup)) => startup,
        Ok(None) => return,
        Err(error) => {
            report_fatal(&mut writer, &error);
            return;
        }
    };
    let guard = match admission {
        Admission::Accepted(guard) => guard,
        _ => {
            let error = SqlError::new(
                code::TOO_MANY_CONNECTIONS,
                "sorry, too many clients already",
            );
            report_fatal(&mut writer, &error);
            return;
        }
    };
    match establish(reader, writer, guard, shared, startup) {
        Ok(connection) => connection.run(),
        Err(failure) => match *failure {
            (mut writer, ConnError::Fatal(error)) => report_fatal(&mut writer, &error),
            (mut writer, ConnError::Sql(error, _)) => report_fatal(&mut writer, &error),
            (_, ConnError::Disconnected) => {}
        },
    }
}

fn report_fatal(writer: &mut BackendWriter<NetStream>, error: &SqlError) {
    let _ = writer.error_response(Severity::Fatal, error, None);
    let _ = writer.flush();
}

/// Reads packets until the startup packet proper; `None` when the connection is done (a
/// cancel request, or a client that left).
fn read_startup_packet(
    reader: &mut FrontendReader<NetStream>,
    writer: &mut BackendWriter<NetStream>,
    registry: &Registry,
    shared: &Shared,
) -> Result<Option<Startup>, SqlError> {
    let mut encryption_refused = false;
    loop {
        let packet = match reader.read_startup() {
            Ok(packet) => packet,
            Err(ReadError::Closed) => return Ok(None),
            Err(ReadError::Fatal(error)) => return Err(error),
        };
        match packet {
            StartupPacket::SslRequest if !reader.get_ref().is_tls() && !encryption_refused => {
                let Some(tls) = shared.access.tls.clone() else {
                    encryption_refused = true;
                    if writer.raw_byte(b'N').is_err() {
                        return Ok(None);
                    }
                    continue;
                };
                if reader.has_buffered() {
                    return Err(SqlError::new(
                        code::PROTOCOL_VIOLATION,
                        "received unencrypted data after SSL request",
                    ));
                }
                if writer.raw_byte(b'S').is_err() {
                    return Ok(None);
                }
                let Ok(socket) = reader.get_ref().socket().try_clone() else {
                    return Ok(None);
                };
                // A failed handshake ends the connection; there is no channel to report on.
                let Ok(stream) = tls.accept(socket) else {
                    return Ok(None);
                };
                let Ok(read_half) = stream.try_clone() else {
                    return Ok(None);
                };
                *reader = FrontendReader::new(read_half);
                *writer = BackendWriter::new(stream);
            }
            StartupPacket::SslRequest if reader.get_ref().is_tls() => {
                return Err(SqlError::new(
                    code::PROTOCOL_VIOLATION,
                    "SSL request received on an encrypted connection",
                ));
            }
            StartupPacket::SslRequest | StartupPacket::GssEncRequest => {
                if encryption_refused && reader.has_buffered() {
                    return Err(SqlError::new(
                        code::PROTOCOL_VIOLATION,
                        "received unencrypted data after SSL request",
                    ));
                }
                encryption_refused = true;
                if writer.raw_byte(b'N').is_err() {
                    return Ok(None);
                }
            }
            StartupPacket::Cancel {
                process_id,
                secret_key,
            } => {
                registry.cancel(process_id, secret_key);
                return Ok(None);
            }
            StartupPacket::Startup {
                major: _,
                minor,
                parameters,
            } => return Ok(Some(Startup { minor, parameters })),
        }
    }
}

/// The connection, or the writer to report the failure on and the failure.
type Establishing = Result<Connection, Box<(BackendWriter<NetStream>, ConnError)>>;

fn fail(writer: BackendWriter<NetStream>, error: SqlError) -> Establishing {
    Err(Box::new((writer, ConnError::Fatal(error))))
}

/// Authenticates, opens the session and greets the client.
fn establish(
    mut reader: FrontendReader<NetStream>,
    mut writer: BackendWriter<NetStream>,
    mut guard: SlotGuard,
    shared: Arc<Shared>,
    startup: Startup,
) -> Establishing {
    macro_rules! attempt {
        ($e:expr) => {
            match $e {
                Ok(value) => value,
                Err(error) => return Err(Box::new((writer, ConnError::from(error)))),
            }
        };
    }
    // Protocol options (`_pq_.*`) and minor versions past 3.0 are answered with
    // NegotiateProtocolVersion; the connection continues with 3.0.
    let (options, parameters): (Vec<_>, Vec<_>) = startup
        .parameters
        .into_iter()
        .partition(|(name, _)| name.starts_with("_pq_."));
    if startup.minor > 0 || !options.is_empty() {
        let names: Vec<String> = options.into_iter().map(|(name, _)| name).collect();
        attempt!(writer.negotiate_protocol_version(NEWEST_MINOR_VERSION, &names));
    }
    let by_name: HashMap<&str, &str> = parameters
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    let user = match by_name.get("user") {
        Some(user) if !user.is_empty() => user.to_string(),
        _ => {
            return fail(
                writer,
                SqlError::new(
                    code::INVALID_AUTHORIZATION_SPECIFICATION,
                    "no PostgreSQL user name specified in startup packet",
                ),
            )
        }
    };
    let database = by_name
        .get("database")
        .filter(|d| !d.is_empty())
        .map_or_else(|| user.clone(), |d| d.to_string());

    let stream = reader.get_ref();
    let peer = auth::login::Peer {
        address: stream
            .socket()
            .peer_addr()
            .map(|a| a.ip())
            .unwrap_or(std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED)),
        tls: stream.is_tls(),
        channel_binding: match (&shared.access.tls, stream.is_tls()) {
            (Some(tls), true) => Some(tls.channel_binding().to_vec()),
            _ => None,
        },
    };
    let admitted = auth::login::admit(
        &mut reader,
        &mut writer,
        &shared.database,
        &shared.access,
        &shared.role_sessions,
        &shared.mock_secret,
        &peer,
        &user,
        &database,
    );
    let client_addr = peer.address.to_string();
    let failure = match &admitted {
        Ok(_) => None,
        Err(ConnError::Sql(e, _) | ConnError::Fatal(e)) => Some((e.code, e.message.clone())),
        Err(ConnError::Disconnected) => Some((
            "08006",
            "the client disconnected during authentication".to_string(),
        )),
    };
    let audited = shared.database.audit_login(
        &user,
        &database,
        &client_addr,
        failure
            .as_ref()
            .map(|(code, message)| (*code, message.as_str())),
    );
    let role_slot = attempt!(admitted);
    // A login that cannot be audited is refused (fail-closed).
    attempt!(audited);
    if !guard.slot().start_session(guard.registry()) {
        let error = if guard.registry().is_shutting_down() {
            SqlError::new("57P03", "the database system is shutting down")
        } else {
            admin_shutdown()
        };
        return fail(writer, error);
    }
    let database_handle = shared.database.clone();
    let session = match guarded(|| database_handle.session(&user, &database, &parameters)) {
        Ok(session) => session,
        Err(error) => return fail(writer, error),
    };
    let mut session = session;
    session.set_client_addr(client_addr);
    let _ = reader.get_ref().set_read_timeout(None);
    let secret_key = guard.register_cancel(session.process_id(), session.cancel_flag());
    let mut connection = Connection {
        reader,
        writer,
        guard,
        _role_slot: role_slot,
        shared,
        session,
        statements: Default::default(),
        portals: Default::default(),
        skip_until_sync: false,
    };
    let greeting = (|| -> Result<(), ConnError> {
        for (name, value) in connection.session.reported_parameters() {
            connection.writer.parameter_status(&name, &value)?;
        }
        connection.session.take_parameter_changes();
        let process_id = connection.session.process_id();
        connection.writer.backend_key_data(process_id, secret_key)?;
        connection.ready_for_query()
    })();
    match greeting {
        Ok(()) => Ok(connection),
        Err(error) => {
            let Connection {
                writer, session, ..
            } = connection;
            session.close();
            Err(Box::new((writer, error)))
        }
    }
}
