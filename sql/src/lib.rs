//! The query engine of custos.
//!
//! This crate will hold the stages a statement flows through — parsing (sqlparser plus the few
//! pre-parse rewrites it needs), binding (names, types, privileges), governance rewrites,
//! planning and execution — together with the built-in functions and the `pg_catalog` tables.
//! It sits between the wire (`server`) and durability (`storage`) and knows nothing of sockets.
//!
//! Today it holds [`types`]: PostgreSQL's text input and output of every storage type, the
//! conversions every later stage (literals, casts, COPY, the text wire format) is built on.

pub mod types;
