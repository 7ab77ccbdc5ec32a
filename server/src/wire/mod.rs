//! The PostgreSQL frontend/backend protocol, version 3.0, as bytes: [`frontend`] reads and
//! decodes what clients send, [`backend`] encodes what the server answers, [`body`] is the
//! checked cursor both decoding paths use. Nothing here knows about sessions or SQL; the
//! connection state machine in [`crate::connection`] drives it.

pub mod backend;
pub mod body;
pub mod frontend;

pub use backend::{BackendWriter, FieldDescription, Severity};
pub use frontend::{decode_message, FrontendMessage, FrontendReader, ReadError, StartupPacket};
