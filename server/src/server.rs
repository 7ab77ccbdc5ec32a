//! The server: a listener thread that accepts TCP connections and gives each one its own OS
//! thread with blocking I/O (no async runtime: sessions do CPU work between short reads and
//! writes, and a thread per connection is simple and robust at the connection counts custos
//! targets), the state those threads share, and graceful shutdown.
//!
//! Threads: the caller's (main) thread waits for a signal; `custos-listener` accepts;
//! `custos-conn` threads serve one connection each (see [`crate::connection`]). Shutdown
//! stops accepting (the listening socket is shut down, so new connections are refused), asks
//! idle connections to end (FATAL 57P01), lets busy ones finish their statement, and waits up
//! to a deadline.

use std::io;
use std::net::{SocketAddr, TcpListener};
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use sql::engine::Database;

use crate::connection::startup;
use crate::registry::{Admission, Registry};

/// Stack of a connection thread: deep expressions recurse in the engine.
const CONNECTION_STACK_BYTES: usize = 8 << 20;

/// What the connection threads share.
pub struct Shared {
    pub database: Arc<Database>,
    pub registry: Arc<Registry>,
    /// Secret mixed into the mock SCRAM salt of unknown users (random per server process).
    pub mock_secret: [u8; 32],
    /// How long a client may take to complete start-up and authentication.
    pub authentication_timeout: Duration,
    /// Host rules and TLS.
    pub access: crate::auth::login::AccessPolicy,
    /// Connections per role (CONNECTION LIMIT).
    pub role_sessions: Arc<crate::auth::login::RoleSessions>,
}

/// Settings of [`Server::start`].
#[derive(Debug, Clone)]
pub struct ServerSettings {
    pub listen: String,
    pub max_connections: usize,
    pub authentication_timeout: Duration,
    pub access: crate::auth::login::AccessPolicy,
}

/// A running server.
pub struct Server {
    shared: Arc<Shared>,
    local_address: SocketAddr,
    listener_fd: i32,
    listener_thread: Option<JoinHandle<()>>,
}

impl Server {
    /// Binds the listening socket and starts accepting connections.
    pub fn start(database: Arc<Database>, settings: &ServerSettings) -> io::Result<Server> {
        let listener = TcpListener::bind(&settings.listen)?;
        let local_address = listener.local_addr()?;
        let mock_secret = crate::auth::login::mock_secret(database.storage().data_dir());
        let shared = Arc::new(Shared {
            database,
            registry: Registry::new(settings.max_connections.max(1)),
            mock_secret,
            authentication_timeout: settings.authentication_timeout,
            access: settings.access.clone(),
            role_sessions: Default::default(),
        });
        let listener_fd = listener.as_raw_fd();
        let accepting = shared.clone();
        let listener_thread = std::thread::Builder::new()
            .name("custos-listener".into())
            .spawn(move || accept_loop(listener, accepting))?;
        Ok(Server {
            shared,
            local_address,
            listener_fd,
            listener_thread: Some(listener_thread),
        })
    }

    pub fn local_address(&self) -> SocketAddr {
        self.local_address
    }

    /// Connections currently holding a slot.
    pub fn active_connections(&self) -> usize {
        self.shared.registry.active()
    }

    /// Graceful shutdown; returns whether every connection ended within `timeout`.
    pub fn shutdown(mut self, timeout: Duration) -> bool {
        let registry = &self.shared.registry;
        registry.begin_shutdown();
        // Wake the listener: shutting a listening socket down makes a blocked accept() fail
        // on Linux; the listener thread then sees the flag and drops (closes) the socket.
        // SAFETY: the descriptor stays open until the listener thread, joined below, drops it.
        unsafe {
            libc::shutdown(self.listener_fd, libc::SHUT_RDWR);
        }
        if let Some(thread) = self.listener_thread.take() {
            let _ = thread.join();
        }
        let deadline = Instant::now() + timeout;
        loop {
            registry.close_waiting_connections();
            if registry.active() == 0 {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    loop {
        let accepted = listener.accept();
        if shared.registry.is_shutting_down() {
            return;
        }
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(error) => {
                // Out of descriptors or a connection reset before accept: back off briefly.
                if error.kind() != io::ErrorKind::ConnectionAborted {
                    std::thread::sleep(Duration::from_millis(10));
                }
                continue;
            }
        };
        let admission = shared.registry.admit(stream.try_clone().ok());
        if let Admission::Dropped = admission {
            continue;
        }
        let connection_shared = shared.clone();
        let spawned = std::thread::Builder::new()
            .name("custos-conn".into())
            .stack_size(CONNECTION_STACK_BYTES)
            .spawn(move || startup::serve(stream, connection_shared, admission));
        if let Err(error) = spawned {
            eprintln!("custos: cannot start a connection thread: {error}");
        }
    }
}
