//! [`InMemoryVectorStore`]: a [`VectorStore`] over vectors held in one `Vec<f32>`, for tests,
//! benchmarks and small callers. The storage engine's own store reads memory-mapped segment
//! blocks instead.

use super::{IndexError, VectorStore};

/// Vectors of one dimension stored contiguously, with NULL rows.
#[derive(Debug, Clone, Default)]
pub struct InMemoryVectorStore {
    dim: usize,
    /// `dim` values per row; NULL rows hold zeros that are never handed out.
    values: Vec<f32>,
    present: Vec<bool>,
}

impl InMemoryVectorStore {
    /// An empty store of `dim`-dimensional vectors.
    pub fn new(dim: usize) -> InMemoryVectorStore {
        InMemoryVectorStore {
            dim,
            values: Vec::new(),
            present: Vec::new(),
        }
    }

    /// A store holding `rows` in order (`None` for NULL).
    pub fn from_rows<Row: AsRef<[f32]>>(
        dim: usize,
        rows: impl IntoIterator<Item = Option<Row>>,
    ) -> Result<InMemoryVectorStore, IndexError> {
        let mut store = InMemoryVectorStore::new(dim);
        for row in rows {
            store.push(row.as_ref().map(AsRef::as_ref))?;
        }
        Ok(store)
    }

    /// A store over `values`, `dim` per row, every row non-NULL (no copy is made).
    pub fn from_dense(dim: usize, values: Vec<f32>) -> Result<InMemoryVectorStore, IndexError> {
        if dim == 0 || !values.len().is_multiple_of(dim) {
            return Err(IndexError::InvalidSpec(format!(
                "{} values do not make whole {dim}-dimensional rows",
                values.len()
            )));
        }
        let rows = values.len() / dim;
        if u32::try_from(rows).is_err() {
            return Err(IndexError::InvalidSpec(
                "an in-memory vector store holds at most 2^32 rows".into(),
            ));
        }
        Ok(InMemoryVectorStore {
            dim,
            values,
            present: vec![true; rows],
        })
    }

    /// Every row's values, `dim` per row, in order (zeros for NULL rows).
    pub fn values(&self) -> &[f32] {
        &self.values
    }

    /// Appends a row (`None` for NULL) and returns its offset.
    pub fn push(&mut self, vector: Option<&[f32]>) -> Result<u32, IndexError> {
        let offset = u32::try_from(self.present.len()).map_err(|_| {
            IndexError::InvalidSpec("an in-memory vector store holds at most 2^32 rows".into())
        })?;
        match vector {
            Some(vector) if vector.len() != self.dim => {
                return Err(IndexError::DimensionMismatch {
                    expected: self.dim,
                    actual: vector.len(),
                });
            }
            Some(vector) => self.values.extend_from_slice(vector),
            None => self.values.resize(self.values.len() + self.dim, 0.0),
        }
        self.present.push(vector.is_some());
        Ok(offset)
    }
}

impl VectorStore for InMemoryVectorStore {
    fn dim(&self) -> usize {
        self.dim
    }

    fn len(&self) -> usize {
        self.present.len()
    }

    fn vector(&self, offset: u32) -> Option<&[f32]> {
        let row = offset as usize;
        if !*self.present.get(row)? {
            return None;
        }
        let start = row * self.dim;
        self.values.get(start..start + self.dim)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_come_back_with_nulls_and_out_of_range_offsets_as_none() {
        let store =
            InMemoryVectorStore::from_rows(2, [Some(vec![1.0, 2.0]), None, Some(vec![3.0, 4.0])])
                .unwrap();
        assert_eq!(store.len(), 3);
        assert_eq!(store.vector(0), Some(&[1.0, 2.0][..]));
        assert_eq!(store.vector(1), None);
        assert_eq!(store.vector(2), Some(&[3.0, 4.0][..]));
        assert_eq!(store.vector(3), None);
    }

    #[test]
    fn dense_values_become_rows_and_partial_rows_are_rejected() {
        let store = InMemoryVectorStore::from_dense(2, vec![1.0, 2.0, 3.0, 4.0]).unwrap();
        assert_eq!(store.len(), 2);
        assert_eq!(store.vector(1), Some(&[3.0, 4.0][..]));
        assert_eq!(store.values(), &[1.0, 2.0, 3.0, 4.0]);
        assert!(InMemoryVectorStore::from_dense(2, vec![1.0, 2.0, 3.0]).is_err());
        assert!(InMemoryVectorStore::from_dense(0, Vec::new()).is_err());
    }

    #[test]
    fn a_row_of_the_wrong_dimension_is_rejected() {
        let mut store = InMemoryVectorStore::new(3);
        assert!(matches!(
            store.push(Some(&[1.0])),
            Err(IndexError::DimensionMismatch {
                expected: 3,
                actual: 1
            })
        ));
        assert!(store.is_empty());
    }
}
