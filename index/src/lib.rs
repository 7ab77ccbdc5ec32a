//! Vectors and text for custos: distance kernels, the per-segment vector indexes that the
//! storage engine builds when it seals or compacts a segment, and the text-embedding model.
//!
//! This crate knows nothing of tables, SQL or transactions. The storage crate hands it raw
//! `f32` vectors (through [`segment_index::VectorStore`]) and gets back index files it keeps
//! in the segment directory.

pub mod distance;
pub mod embed;
pub mod segment_index;
