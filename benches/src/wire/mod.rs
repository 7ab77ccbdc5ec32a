//! The pieces of `wire_bench`, the benchmark of the custos server against PostgreSQL 15 on the
//! same machine in one run: starting and stopping both servers ([`servers`]), the data set and
//! the statements ([`dataset`]), one measurement against one server ([`measure`]), the report
//! ([`report`]), and bounded child processes ([`process`]).
//!
//! Everything runs on loopback with bounded waits; the servers live in temporary directories
//! removed when their handles drop. Client work (tokio-postgres) runs on a current-thread tokio
//! runtime owned by the binary; psql and pgbench are child processes.

pub mod dataset;
pub mod measure;
pub mod process;
pub mod report;
pub mod servers;

/// Errors of the harness itself (a server that does not start, a file that cannot be written);
/// what a server refuses during a measurement is a `String` in [`measure`].
pub type WireResult<T> = Result<T, Box<dyn std::error::Error>>;
