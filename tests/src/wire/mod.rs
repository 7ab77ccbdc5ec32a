//! A minimal PostgreSQL wire-protocol client (protocol 3.0), independent of tokio-postgres, for
//! tests that must send what no well-behaved driver sends: malformed startup packets, bad
//! lengths, unknown message types, invalid UTF-8, half messages.
//!
//! [`messages`] encodes frontend messages and decodes backend messages, [`scram`] is the
//! client side of SCRAM-SHA-256 (RFC 5802 / RFC 7677, without channel binding, as libpq does on
//! a plain connection), and [`raw_connection`] is one TCP connection with bounded reads.

pub mod messages;
pub mod raw_connection;
pub mod scram;

pub use messages::BackendMessage;
pub use raw_connection::RawConnection;
