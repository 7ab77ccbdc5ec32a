//! Round trips and behaviour of segments: every storage type over several blocks, block
//! statistics, short rows, raw vectors, the block cache, empty segments, refused input.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use proptest::prelude::*;

use super::*;
use crate::error::StorageError;
use crate::files::Faults;
use crate::types::{Array, Interval, Numeric};

/// Rows, row ids and LSNs of a test segment.
pub(super) struct Fixture {
    pub columns: Vec<SegmentColumn>,
    pub row_ids: Vec<u64>,
    pub lsns: Vec<u64>,
    pub rows: Vec<Vec<Value>>,
}

impl Fixture {
    /// `n` rows with ids `1000, 1003, ...` whose values come from `value_of(attnum, type, row)`.
    pub fn new(
        columns: Vec<SegmentColumn>,
        n: usize,
        value_of: impl Fn(u16, &DataType, usize) -> Value,
    ) -> Fixture {
        let width = columns.last().map_or(0, |c| usize::from(c.attnum));
        let rows = (0..n)
            .map(|i| {
                let mut row = vec![Value::Text("dropped column".into()); width];
                for c in &columns {
                    row[usize::from(c.attnum) - 1] = value_of(c.attnum, &c.data_type, i);
                }
                row
            })
            .collect();
        Fixture {
            row_ids: (0..n as u64).map(|i| 1000 + 3 * i).collect(),
            lsns: (0..n as u64).map(|i| 50 + i / 10).collect(),
            columns,
            rows,
        }
    }

    /// Writes the fixture as a segment into `dir`.
    pub fn write(&self, dir: &Path, faults: &Faults) -> crate::Result<()> {
        let rows: Vec<&[Value]> = self.rows.iter().map(Vec::as_slice).collect();
        let input = SegmentInput {
            columns: &self.columns,
            row_ids: &self.row_ids,
            insert_lsns: &self.lsns,
            rows: &rows,
        };
        write_segment(dir, &input, faults)
    }

    pub fn expected(&self, row: usize, attnum: u16) -> Value {
        self.rows[row]
            .get(usize::from(attnum) - 1)
            .cloned()
            .unwrap_or(Value::Null)
    }
}

pub(super) fn columns(types: Vec<(u16, DataType)>) -> Vec<SegmentColumn> {
    types
        .into_iter()
        .map(|(attnum, data_type)| SegmentColumn { attnum, data_type })
        .collect()
}

/// One column of every storage type (attnum 25 is a dropped column, 24 is a vector column
/// that is always NULL).
fn every_type() -> Vec<SegmentColumn> {
    use DataType::*;
    columns(vec![
        (1, Bool),
        (2, Int2),
        (3, Int4),
        (4, Int8),
        (5, Float4),
        (6, Float8),
        (
            7,
            Numeric {
                precision: None,
                scale: None,
            },
        ),
        (8, Text),
        (9, Varchar(Some(20))),
        (10, Char(Some(3))),
        (11, Bytea),
        (12, Date),
        (13, Time),
        (14, Timestamp),
        (15, Timestamptz),
        (16, DataType::Interval),
        (17, Uuid),
        (18, Json),
        (19, Jsonb),
        (20, DataType::Array(Box::new(Int4))),
        (21, DataType::Array(Box::new(Text))),
        (22, Vector(Some(4))),
        (23, Vector(None)),
        (24, Vector(Some(3))),
        (26, Int8),
    ])
}

/// A deterministic value of `data_type` for row `i`, NULL for about one row in eleven.
pub(super) fn sample_value(attnum: u16, data_type: &DataType, i: usize) -> Value {
    if (i * 31 + usize::from(attnum)).is_multiple_of(11) || attnum == 24 {
        return Value::Null;
    }
    let signed = i as i64 - 1500;
    match data_type {
        DataType::Bool => Value::Bool(i.is_multiple_of(3)),
        DataType::Int2 => Value::Int2((i as i16).wrapping_mul(37)),
        DataType::Int4 => Value::Int4(signed as i32 * 1000),
        DataType::Int8 => Value::Int8(-signed * signed * 1_000_003),
        DataType::Float4 => Value::Float4(match i % 50 {
            5 => f32::NAN,
            6 => -0.0,
            7 => f32::NEG_INFINITY,
            _ => signed as f32 / 7.0,
        }),
        DataType::Float8 => Value::Float8(if i % 40 == 1 {
            f64::NAN
        } else {
            signed as f64 * 1.25e-3
        }),
        DataType::Numeric { .. } => Value::Numeric(Box::new(match i % 97 {
            1 => Numeric::NaN,
            2 => Numeric::Infinity,
            _ => format!("{signed}.{:04}", i % 10_000).parse().unwrap(),
        })),
        DataType::Text => Value::Text(format!("customer-{i:05}-é")),
        DataType::Varchar(_) => Value::Text(format!("v{}", i % 100)),
        DataType::Char(_) => Value::Text(format!("{:<3}", i % 10)),
        DataType::Bytea => Value::Bytea(vec![(i % 256) as u8; i % 5]),
        DataType::Date => Value::Date(signed as i32),
        DataType::Time => Value::Time(i as i64 * 1_000_000),
        DataType::Timestamp => Value::Timestamp(signed * 3_600_000_000),
        DataType::Timestamptz => Value::Timestamptz(-signed * 1000),
        DataType::Interval => Value::Interval(Interval {
            months: (i % 12) as i32,
            days: -((i % 30) as i32),
            micros: signed,
        }),
        DataType::Uuid => Value::Uuid(
            (i as u128)
                .wrapping_mul(0x9e37_79b9_7f4a_7c15)
                .to_le_bytes(),
        ),
        DataType::Json => Value::Json(format!("{{\"n\": {i}}}")),
        DataType::Jsonb => Value::Jsonb(format!("{{\"n\": {signed}}}")),
        DataType::Array(element) => Value::Array(Box::new(if i.is_multiple_of(10) {
            Array::from_list(vec![])
        } else if **element == DataType::Int4 {
            Array::from_list(vec![
                Value::Int4(i as i32),
                Value::Null,
                Value::Int4(-(i as i32)),
            ])
        } else {
            Array::from_list(vec![Value::Text(format!("tag{}", i % 13))])
        })),
        DataType::Vector(Some(dim)) => Value::Vector(
            (0..*dim)
                .map(|d| (signed as f32) / (d as f32 + 1.0))
                .collect(),
        ),
        DataType::Vector(None) => Value::Vector(vec![i as f32 * 0.5; 1 + i % 3]),
    }
}

fn open_every_type(n: usize) -> (tempfile::TempDir, PathBuf, Fixture, Segment) {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path().join("seg-1");
    let fixture = Fixture::new(every_type(), n, sample_value);
    fixture.write(&dir, &Faults::default()).unwrap();
    let segment = Segment::open(&dir).unwrap();
    (temp, dir, fixture, segment)
}

#[test]
fn every_storage_type_round_trips_over_several_blocks() {
    let (_temp, dir, fixture, segment) = open_every_type(3000);
    assert_eq!(segment.dir(), dir);
    assert_eq!(segment.row_count(), 3000);
    assert_eq!(segment.block_rows(), BLOCK_ROWS);
    assert_eq!(segment.block_count(), 3);
    assert_eq!(segment.row_ids(), fixture.row_ids.as_slice());
    assert_eq!(segment.insert_lsns(), fixture.lsns.as_slice());
    assert!(!segment.has_column(25) && !segment.has_column(27) && segment.has_column(26));
    assert!(segment.disk_bytes() > 0);
    for column in &fixture.columns {
        assert_eq!(segment.column_type(column.attnum), Some(&column.data_type));
        for row in 0..fixture.rows.len() {
            let value = segment.value(row as u32, column.attnum).unwrap();
            let expected = fixture.expected(row, column.attnum);
            // Debug is stricter than `==` (-0.0 vs 0.0, numeric scale).
            assert_eq!(
                format!("{value:?}"),
                format!("{expected:?}"),
                "attnum {} row {row}",
                column.attnum
            );
        }
        for block in 0..segment.block_count() {
            let values = segment.read_block(column.attnum, block).unwrap();
            let first = block * BLOCK_ROWS;
            assert_eq!(values.len(), BLOCK_ROWS.min(3000 - first));
            for (i, value) in values.iter().enumerate() {
                assert_eq!(
                    format!("{value:?}"),
                    format!("{:?}", fixture.expected(first + i, column.attnum))
                );
            }
        }
    }
    segment.verify_checksums().unwrap();
    // Raw vector files for the fixed-dimension vector columns, blocks for the mixed one.
    assert!(dir.join("vec-22").exists() && dir.join("vec-24").exists());
    assert!(dir.join("col-23").exists() && !dir.join("vec-23").exists());
}

#[test]
fn offsets_are_found_by_row_id() {
    let (_temp, _dir, fixture, segment) = open_every_type(2100);
    for (offset, row_id) in fixture.row_ids.iter().enumerate() {
        assert_eq!(segment.offset_of(*row_id), Some(offset as u32));
        assert_eq!(segment.offset_of(row_id + 1), None);
    }
    assert_eq!(segment.offset_of(0), None);
    assert_eq!(segment.offset_of(u64::MAX), None);
}

#[test]
fn block_statistics_are_exact() {
    let (_temp, _dir, fixture, segment) = open_every_type(2500);
    for column in &fixture.columns {
        for block in 0..segment.block_count() {
            let first = block * BLOCK_ROWS;
            let values: Vec<Value> = (first..(first + BLOCK_ROWS).min(2500))
                .map(|row| fixture.expected(row, column.attnum))
                .collect();
            let non_null: Vec<&Value> = values.iter().filter(|v| !v.is_null()).collect();
            let stats = segment.block_stats(column.attnum, block).unwrap();
            assert_eq!(stats.rows, values.len());
            assert_eq!(stats.null_count, values.len() - non_null.len());
            assert_eq!(stats.min.as_ref(), non_null.iter().copied().min());
            assert_eq!(stats.max.as_ref(), non_null.iter().copied().max());
        }
    }
    assert_eq!(
        segment.block_stats(24, 0).unwrap().min,
        None,
        "all-NULL block has no bounds"
    );
    assert_eq!(segment.block_stats(25, 0), None);
    assert_eq!(segment.block_stats(4, 3), None);
}

#[test]
fn block_bounds_of_a_known_column() {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path().join("s");
    let fixture = Fixture::new(
        columns(vec![(1, DataType::Int8), (2, DataType::Text)]),
        2500,
        |attnum, _, i| match attnum {
            1 if i % 10 != 0 => Value::Int8(i as i64 * 2),
            _ => Value::Null,
        },
    );
    fixture.write(&dir, &Faults::default()).unwrap();
    let segment = Segment::open(&dir).unwrap();
    let stats = |block| segment.block_stats(1, block).unwrap();
    assert_eq!(
        (stats(0).min, stats(0).max),
        (Some(Value::Int8(2)), Some(Value::Int8(2046)))
    );
    assert_eq!((stats(0).rows, stats(0).null_count), (1024, 103));
    assert_eq!(
        (stats(2).min, stats(2).max),
        (Some(Value::Int8(4096)), Some(Value::Int8(4998)))
    );
    assert_eq!((stats(2).rows, stats(2).null_count), (452, 45));
    let text = segment.block_stats(2, 1).unwrap();
    assert_eq!((text.min, text.max, text.null_count), (None, None, 1024));
}

#[test]
fn rows_shorter_than_the_column_list_read_back_null() {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path().join("s");
    let cols = columns(vec![
        (1, DataType::Int4),
        (2, DataType::Text),
        (3, DataType::Vector(Some(2))),
    ]);
    let full = [
        Value::Int4(1),
        Value::Text("x".into()),
        Value::Vector(vec![1.0, 2.0]),
    ];
    let rows: Vec<&[Value]> = (0..1500).map(|i| &full[..i % 4]).collect();
    let row_ids: Vec<u64> = (0..1500).collect();
    let input = SegmentInput {
        columns: &cols,
        row_ids: &row_ids,
        insert_lsns: &row_ids,
        rows: &rows,
    };
    write_segment(&dir, &input, &Faults::default()).unwrap();
    let segment = Segment::open(&dir).unwrap();
    for i in 0..1500u32 {
        for attnum in 1..=3u16 {
            let expected = if usize::from(attnum) <= i as usize % 4 {
                full[usize::from(attnum) - 1].clone()
            } else {
                Value::Null
            };
            assert_eq!(
                segment.value(i, attnum).unwrap(),
                expected,
                "row {i} attnum {attnum}"
            );
        }
        assert_eq!(segment.vector(3, i).is_some(), i % 4 == 3);
    }
}

#[test]
fn raw_vectors_are_aligned_and_served_to_the_index_crate() {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path().join("s");
    let fixture = Fixture::new(
        columns(vec![(1, DataType::Int8), (2, DataType::Vector(Some(3)))]),
        2049,
        |attnum, _, i| match attnum {
            2 if i % 5 == 4 => Value::Null,
            2 => Value::Vector(vec![i as f32, 1.0, -(i as f32)]),
            _ => Value::Int8(i as i64),
        },
    );
    fixture.write(&dir, &Faults::default()).unwrap();
    let segment = Arc::new(Segment::open(&dir).unwrap());
    let first = segment.vector(2, 0).unwrap();
    assert_eq!(
        first.as_ptr() as usize % 64,
        0,
        "vector data is 64-byte aligned"
    );
    let store = segment.vector_store(2).unwrap();
    assert_eq!((store.dim(), store.len()), (3, 2049));
    for i in 0..2049u32 {
        let expected = (i % 5 != 4).then(|| vec![i as f32, 1.0, -(i as f32)]);
        assert_eq!(segment.vector(2, i).map(<[f32]>::to_vec), expected);
        assert_eq!(store.vector(i).map(<[f32]>::to_vec), expected);
    }
    assert_eq!(store.vector(2049), None);
    assert!(segment.vector_store(1).is_none(), "not a vector column");
    assert!(segment.vector(1, 0).is_none());
    assert!(segment.vector_store(9).is_none(), "no such column");
}

#[test]
fn mixed_dimension_vectors_fall_back_to_blocks() {
    let (_temp, _dir, fixture, segment) = open_every_type(1100);
    let segment = Arc::new(segment);
    assert!(segment.vector_store(23).is_none());
    assert!((0..1100).all(|i| segment.vector(23, i).is_none()));
    for i in 0..1100 {
        assert_eq!(
            segment.value(i as u32, 23).unwrap(),
            fixture.expected(i, 23)
        );
    }
    // The declared-dimension column that is always NULL is raw, with every row NULL.
    let store = segment.vector_store(24).unwrap();
    assert_eq!(store.dim(), 3);
    assert!((0..1100).all(|i| store.vector(i).is_none()));
}

#[test]
fn decoded_blocks_are_cached_and_evicted() {
    let (_temp, _dir, _fixture, segment) = open_every_type(3000);
    let first = segment.read_block(8, 1).unwrap();
    assert!(Arc::ptr_eq(&first, &segment.read_block(8, 1).unwrap()));
    for attnum in 1..=21 {
        for block in 0..3 {
            segment.read_block(attnum, block).unwrap();
        }
    }
    let again = segment.read_block(8, 1).unwrap();
    assert_eq!(first, again, "an evicted block decodes to the same values");
}

#[test]
fn an_empty_segment_round_trips() {
    let (_temp, dir, _fixture, segment) = open_every_type(0);
    let segment = Arc::new(segment);
    assert_eq!((segment.row_count(), segment.block_count()), (0, 0));
    assert!(segment.row_ids().is_empty() && segment.insert_lsns().is_empty());
    assert_eq!(segment.offset_of(1000), None);
    assert!(segment.value(0, 1).is_err());
    assert!(segment.read_block(1, 0).is_err());
    assert_eq!(segment.vector_store(22).map(|s| s.len()), Some(0));
    segment.verify_checksums().unwrap();
    assert!(dir.join("meta").exists());
}

#[test]
fn out_of_range_reads_are_errors() {
    let (_temp, _dir, _fixture, segment) = open_every_type(10);
    assert!(matches!(
        segment.value(10, 1),
        Err(StorageError::InvalidValue(_))
    ));
    assert!(matches!(
        segment.value(0, 25),
        Err(StorageError::InvalidValue(_))
    ));
    assert!(matches!(
        segment.read_block(1, 1),
        Err(StorageError::InvalidValue(_))
    ));
    assert!(segment.vector(22, 10).is_none());
}

#[test]
fn input_a_caller_bug_would_produce_is_refused() {
    let temp = tempfile::tempdir().unwrap();
    let cols = columns(vec![(1, DataType::Int4)]);
    let row = [Value::Int4(1)];
    let rows: Vec<&[Value]> = vec![&row, &row];
    let faults = Faults::default();
    let attempt = |name: &str,
                   columns: &[SegmentColumn],
                   row_ids: &[u64],
                   lsns: &[u64],
                   rows: &[&[Value]]| {
        let dir = temp.path().join(name);
        let input = SegmentInput {
            columns,
            row_ids,
            insert_lsns: lsns,
            rows,
        };
        let result = write_segment(&dir, &input, &faults);
        assert!(!dir.exists() && !tmp_dir_of(&dir).exists());
        result
    };
    let invalid = |r: crate::Result<()>| matches!(r, Err(StorageError::InvalidValue(_)));
    assert!(
        invalid(attempt("a", &cols, &[2, 1], &[1, 1], &rows)),
        "decreasing row ids"
    );
    assert!(
        invalid(attempt("b", &cols, &[1, 1], &[1, 1], &rows)),
        "duplicate row ids"
    );
    assert!(
        invalid(attempt("c", &cols, &[1, 2], &[1], &rows)),
        "length mismatch"
    );
    let twice = columns(vec![(1, DataType::Int4), (1, DataType::Int4)]);
    assert!(
        invalid(attempt("d", &twice, &[1, 2], &[1, 1], &rows)),
        "repeated attnum"
    );
    let text = columns(vec![(1, DataType::Text)]);
    assert!(
        invalid(attempt("e", &text, &[1, 2], &[1, 1], &rows)),
        "int in a text column"
    );
    let zero = columns(vec![(0, DataType::Int4)]);
    assert!(
        invalid(attempt("f", &zero, &[1, 2], &[1, 1], &rows)),
        "attnum 0"
    );
}

#[test]
fn segment_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Segment>();
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    #[test]
    fn random_rows_round_trip(
        values in proptest::collection::vec((proptest::option::of(any::<i64>()), proptest::option::of(".{0,12}")), 0..2200),
    ) {
        let temp = tempfile::tempdir().unwrap();
        let dir = temp.path().join("s");
        let rows: Vec<Vec<Value>> = values
            .iter()
            .map(|(i, s)| vec![i.map_or(Value::Null, Value::Int8), s.clone().map_or(Value::Null, Value::Text)])
            .collect();
        let refs: Vec<&[Value]> = rows.iter().map(Vec::as_slice).collect();
        let row_ids: Vec<u64> = (0..rows.len() as u64).map(|i| i * 2 + 1).collect();
        let cols = columns(vec![(1, DataType::Int8), (2, DataType::Text)]);
        let input = SegmentInput { columns: &cols, row_ids: &row_ids, insert_lsns: &row_ids, rows: &refs };
        write_segment(&dir, &input, &Faults::default()).unwrap();
        let segment = Segment::open(&dir).unwrap();
        for (offset, row) in rows.iter().enumerate() {
            prop_assert_eq!(&segment.value(offset as u32, 1).unwrap(), &row[0]);
            prop_assert_eq!(&segment.value(offset as u32, 2).unwrap(), &row[1]);
        }
    }
}
