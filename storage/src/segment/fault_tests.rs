//! Damaged segments and failing writes: truncated or corrupted files of every kind give a
//! clear error naming the file (never a panic), unknown versions are refused, and a write that
//! fails leaves no segment directory behind.

use std::fs::{self, OpenOptions};
use std::path::{Path, PathBuf};

use super::tests::{columns, sample_value, Fixture};
use super::*;
use crate::error::StorageError;
use crate::files::Faults;

/// A segment of 2,500 rows (three blocks) with a scalar, a text and a raw vector column.
fn write_sample(dir: &Path) -> Fixture {
    let fixture = Fixture::new(
        columns(vec![
            (1, DataType::Int8),
            (2, DataType::Text),
            (3, DataType::Vector(Some(4))),
        ]),
        2500,
        sample_value,
    );
    fixture.write(dir, &Faults::default()).unwrap();
    fixture
}

fn flip_byte(path: &Path, offset: usize) {
    let mut bytes = fs::read(path).unwrap();
    bytes[offset] ^= 0x5a;
    fs::write(path, bytes).unwrap();
}

fn truncate(path: &Path, len: u64) {
    let file = OpenOptions::new().write(true).open(path).unwrap();
    file.set_len(len).unwrap();
}

fn file_len(path: &Path) -> u64 {
    fs::metadata(path).unwrap().len()
}

/// Asserts `error` is a corruption report naming `file`.
fn assert_corrupt_naming(error: &StorageError, file: &str) {
    match error {
        StorageError::Corrupt { path, .. } => {
            assert_eq!(
                path.file_name().and_then(|n| n.to_str()),
                Some(file),
                "{error}"
            )
        }
        other => panic!("expected corruption in {file}, got {other}"),
    }
}

/// Opens and reads everything; returns the first error.
fn open_and_read_all(dir: &Path) -> crate::Result<()> {
    let segment = Segment::open(dir)?;
    for attnum in 1..=3 {
        for block in 0..segment.block_count() {
            segment.read_block(attnum, block)?;
        }
    }
    segment.verify_checksums()
}

fn fresh(temp: &tempfile::TempDir, name: &str) -> PathBuf {
    let dir = temp.path().join(name);
    write_sample(&dir);
    dir
}

#[test]
fn truncated_files_of_every_kind_fail_to_open() {
    let temp = tempfile::tempdir().unwrap();
    for file in ["meta", "rowids", "lsns", "col-1", "col-2", "vec-3"] {
        for keep in [0.0, 0.5, 0.999] {
            let dir = fresh(&temp, &format!("{file}-{keep}"));
            let path = dir.join(file);
            truncate(&path, (file_len(&path) as f64 * keep) as u64);
            let error = Segment::open(&dir)
                .err()
                .unwrap_or_else(|| panic!("{file} cut to {keep} opened"));
            assert_corrupt_naming(&error, file);
        }
    }
}

#[test]
fn a_missing_file_is_an_io_error_naming_it() {
    let temp = tempfile::tempdir().unwrap();
    let dir = fresh(&temp, "s");
    fs::remove_file(dir.join("vec-3")).unwrap();
    match Segment::open(&dir) {
        Err(StorageError::Io { path, .. }) => assert_eq!(path, dir.join("vec-3")),
        other => panic!("{:?}", other.err()),
    }
}

#[test]
fn corrupted_meta_rowids_and_lsns_fail_to_open() {
    let temp = tempfile::tempdir().unwrap();
    for file in ["meta", "rowids", "lsns"] {
        let dir = fresh(&temp, file);
        let path = dir.join(file);
        flip_byte(&path, file_len(&path) as usize / 2);
        let error = Segment::open(&dir)
            .err()
            .unwrap_or_else(|| panic!("corrupt {file} opened"));
        assert_corrupt_naming(&error, file);
    }
}

#[test]
fn a_corrupted_column_block_fails_when_read_naming_file_and_offset() {
    let temp = tempfile::tempdir().unwrap();
    let dir = fresh(&temp, "s");
    let meta = fs::read(dir.join("meta")).unwrap();
    let block_offset = format::decode_meta(&meta, Path::new("meta"))
        .unwrap()
        .columns[1]
        .blocks[1]
        .offset;
    flip_byte(&dir.join("col-2"), block_offset as usize + 3);
    let segment = Segment::open(&dir).unwrap();
    segment.read_block(2, 0).unwrap();
    segment.read_block(2, 2).unwrap();
    let error = segment.read_block(2, 1).unwrap_err();
    assert_corrupt_naming(&error, "col-2");
    assert!(matches!(error, StorageError::Corrupt { offset, .. } if offset == block_offset));
    assert!(error.to_string().contains("col-2"), "{error}");
    assert_corrupt_naming(
        &segment.value(BLOCK_ROWS as u32 + 5, 2).unwrap_err(),
        "col-2",
    );
    assert_corrupt_naming(&segment.verify_checksums().unwrap_err(), "col-2");
    assert_eq!(
        segment.value(5, 2).unwrap(),
        sample_value(2, &DataType::Text, 5)
    );
}

#[test]
fn a_corrupted_vector_file_is_detected() {
    let temp = tempfile::tempdir().unwrap();
    // In the data: found when the block is read or the segment verified.
    let dir = fresh(&temp, "data");
    let path = dir.join("vec-3");
    flip_byte(&path, file_len(&path) as usize - 10);
    let segment = Segment::open(&dir).unwrap();
    assert_corrupt_naming(&segment.read_block(3, 2).unwrap_err(), "vec-3");
    assert_corrupt_naming(&segment.verify_checksums().unwrap_err(), "vec-3");
    segment.read_block(3, 0).unwrap();
    // In the header (dimension, row count, null bitmap): found at open.
    for offset in [0, 9, 13, 20, 40, 63] {
        let dir = fresh(&temp, &format!("header-{offset}"));
        flip_byte(&dir.join("vec-3"), offset);
        assert_corrupt_naming(&Segment::open(&dir).err().unwrap(), "vec-3");
    }
}

#[test]
fn every_damage_to_meta_is_an_error_never_a_panic() {
    let temp = tempfile::tempdir().unwrap();
    let dir = fresh(&temp, "s");
    let path = dir.join("meta");
    let original = fs::read(&path).unwrap();
    for cut in 0..original.len() {
        fs::write(&path, &original[..cut]).unwrap();
        assert!(Segment::open(&dir).is_err(), "meta cut at {cut} opened");
    }
    for i in 0..original.len() {
        let mut damaged = original.clone();
        damaged[i] ^= 0x01;
        fs::write(&path, &damaged).unwrap();
        assert!(
            Segment::open(&dir).is_err(),
            "meta with byte {i} flipped opened"
        );
    }
    fs::write(&path, &original).unwrap();
    open_and_read_all(&dir).unwrap();
}

#[test]
fn damage_anywhere_in_column_files_is_caught_by_reads() {
    let temp = tempfile::tempdir().unwrap();
    let dir = fresh(&temp, "s");
    for file in ["col-1", "col-2", "vec-3"] {
        let path = dir.join(file);
        let original = fs::read(&path).unwrap();
        let step = (original.len() / 97).max(1);
        for i in (0..original.len()).step_by(step) {
            let mut damaged = original.clone();
            damaged[i] ^= 0x80;
            fs::write(&path, &damaged).unwrap();
            let error = open_and_read_all(&dir).expect_err("damage went unnoticed");
            assert_corrupt_naming(&error, file);
        }
        fs::write(&path, &original).unwrap();
    }
    open_and_read_all(&dir).unwrap();
}

#[test]
fn an_unknown_format_version_is_refused() {
    let temp = tempfile::tempdir().unwrap();
    let dir = fresh(&temp, "s");
    let path = dir.join("meta");
    let mut bytes = fs::read(&path).unwrap();
    bytes[8..12].copy_from_slice(&2u32.to_le_bytes());
    let body_len = bytes.len() - 4;
    let crc = crc32c::crc32c(&bytes[..body_len]);
    bytes[body_len..].copy_from_slice(&crc.to_le_bytes());
    fs::write(&path, &bytes).unwrap();
    match Segment::open(&dir) {
        Err(StorageError::UnsupportedVersion {
            found: 2,
            supported: 1,
            path: p,
        }) => assert_eq!(p, path),
        other => panic!("{:?}", other.err()),
    }
}

#[test]
fn a_leftover_tmp_dir_does_not_prevent_writing() {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path().join("seg-7");
    let tmp = tmp_dir_of(&dir);
    assert_eq!(tmp, temp.path().join("seg-7.tmp"));
    fs::create_dir(&tmp).unwrap();
    fs::write(tmp.join("rowids"), b"half a segment").unwrap();
    fs::write(tmp.join("col-1"), b"junk").unwrap();
    let fixture = write_sample(&dir);
    assert!(!tmp.exists());
    let segment = Segment::open(&dir).unwrap();
    assert_eq!(segment.row_ids(), fixture.row_ids.as_slice());
}

#[test]
fn an_existing_segment_is_never_overwritten() {
    let temp = tempfile::tempdir().unwrap();
    let dir = fresh(&temp, "s");
    let before = fs::read(dir.join("meta")).unwrap();
    let fixture = Fixture::new(columns(vec![(1, DataType::Int8)]), 10, sample_value);
    assert!(matches!(
        fixture.write(&dir, &Faults::default()),
        Err(StorageError::Io { .. })
    ));
    assert_eq!(fs::read(dir.join("meta")).unwrap(), before);
}

#[test]
fn a_full_disk_fails_the_write_and_leaves_no_segment() {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path().join("s");
    let fixture = Fixture::new(
        columns(vec![(1, DataType::Int8), (2, DataType::Vector(Some(2)))]),
        3000,
        sample_value,
    );
    let faults = Faults::default();
    faults.set_disk_full(true);
    let error = fixture.write(&dir, &faults).unwrap_err();
    assert!(matches!(error, StorageError::DiskFull { .. }), "{error}");
    assert_eq!(error.sqlstate(), "53100");
    assert!(!dir.exists() && !tmp_dir_of(&dir).exists());
    faults.set_disk_full(false);
    fixture.write(&dir, &faults).unwrap();
    Segment::open(&dir).unwrap();
}

#[test]
fn a_failed_fsync_fails_the_write_and_leaves_no_segment() {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path().join("s");
    let fixture = Fixture::new(columns(vec![(1, DataType::Text)]), 1500, sample_value);
    let faults = Faults::default();
    faults.fail_next_fsyncs(1);
    let error = fixture.write(&dir, &faults).unwrap_err();
    assert!(matches!(error, StorageError::Io { .. }), "{error}");
    assert!(!dir.exists() && !tmp_dir_of(&dir).exists());
    fixture.write(&dir, &faults).unwrap();
    Segment::open(&dir).unwrap();
}
