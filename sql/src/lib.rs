//! The query engine of custos: parsing (sqlparser plus the few pre-parse rewrites it needs),
//! binding (names, types, privileges), planning and execution, the built-in functions and the
//! `pg_catalog` tables. It sits between the wire (`server`) and durability (`storage`) and
//! knows nothing of sockets or wire formats.
//!
//! [`types`] holds PostgreSQL's text input and output of every storage type, which literals,
//! casts, COPY and the text wire format are built on.

pub mod acl;
pub mod audit;
pub mod bind;
pub mod catalog_access;
pub mod ddl;
pub mod deparse;
pub mod dml;
pub mod embedding;
pub mod engine;
pub mod error;
pub mod exec;
pub mod explain;
pub mod func;
pub mod governance;
pub mod optimize;
pub mod parse;
pub mod pg_catalog;
pub mod pgtype;
pub mod plan;
pub mod plpgsql;
pub mod rag;
pub mod types;

pub use error::{SqlError, SqlResult};
pub use pgtype::SqlType;
