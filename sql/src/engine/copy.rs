//! COPY: what a COPY statement targets, and the insertion of the rows the wire layer decodes.

/// Where the rows of a COPY FROM go: a table and the attnums of the supplied columns.
pub struct CopyTarget {
    pub table: u32,
    pub attnums: Vec<u16>,
    /// Rows added so far.
    pub rows: u64,
    /// Bound at the first batch (see [`crate::dml::CopyPlan`]).
    pub plan: Option<Box<crate::dml::CopyPlan>>,
}
