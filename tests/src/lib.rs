//! The client-matrix and differential test harness of custos.
//!
//! It starts the real `custos` binary ([`custos_server::CustosServer`]) and a PostgreSQL 15 from
//! the distribution ([`reference_postgres::ReferencePostgres`]) on loopback ports in temporary
//! directories, and gives tests what they need to drive both with real clients: tokio-postgres
//! connections and `psql` runs ([`endpoint::Endpoint`]), a minimal hand-written wire client for
//! malformed input ([`wire`]), the customer-360 data set built from the shared support-ticket CSV
//! ([`customer360`], [`csv`]), and the differential query runner ([`differential`]).
//!
//! Contract with the tests in `tests/tests/`: tests whose name contains `custos` need the custos
//! server; the others (named `reference...`) only need PostgreSQL and validate the test material
//! itself (queries, expected outputs, the JDBC program). Every wait is bounded in time and every
//! address is a loopback address; servers are stopped when their handle is dropped.
//!
//! Threads: the harness is driven from the tests' tokio runtimes; child processes are plain
//! `std::process` children, stopped synchronously (bounded) in `Drop`.

pub mod csv;
pub mod customer360;
pub mod custos_server;
pub mod differential;
pub mod endpoint;
pub mod error;
pub mod locate;
pub mod outcome;
pub mod process;
pub mod reference_postgres;
pub mod server_tests;
pub mod wire;

pub use custos_server::{CustosServer, ServerOptions};
pub use endpoint::{Endpoint, PsqlOutput};
pub use error::{HarnessError, HarnessResult};
pub use reference_postgres::ReferencePostgres;
