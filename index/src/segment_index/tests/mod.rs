//! Build, open and search segment indexes end to end: results against a naive sort, filters,
//! NULLs, the file layout, and every way a file can be damaged. This file covers what every
//! structure shares and the flat structure; `hnsw.rs`, `ivf.rs` and `filters.rs` cover the
//! approximate structures, `support.rs` holds data generators and the `.npy` reader.

mod filters;
mod hnsw;
mod ivf;
mod progress;
mod support;

use std::cmp::Ordering;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use proptest::prelude::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tempfile::TempDir;

use super::*;
use crate::distance::distance;

fn spec(method: IndexMethod, metric: Metric, dim: usize) -> SegmentIndexSpec {
    SegmentIndexSpec {
        method,
        metric,
        dim,
        options: Vec::new(),
    }
}

/// `row_count` random rows; about one in `null_every` is NULL (0 = none).
fn random_store(seed: u64, row_count: usize, dim: usize, null_every: u32) -> InMemoryVectorStore {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut store = InMemoryVectorStore::new(dim);
    for _ in 0..row_count {
        let is_null = null_every > 0 && rng.gen_ratio(1, null_every);
        let vector: Vec<f32> = (0..dim).map(|_| rng.gen_range(-1.0..1.0)).collect();
        let pushed = store.push((!is_null).then_some(vector.as_slice()));
        assert!(pushed.is_ok());
    }
    store
}

/// Every accepted non-NULL row, sorted by (distance with NaN last, offset), first `k`.
fn naive_top_k(
    store: &InMemoryVectorStore,
    metric: Metric,
    query: &[f32],
    k: usize,
    accept: &dyn Fn(u32) -> bool,
) -> Vec<(u32, f32)> {
    let mut rows: Vec<(u32, f32)> = (0..store.len() as u32)
        .filter(|&offset| accept(offset))
        .filter_map(|offset| Some((offset, distance(metric, query, store.vector(offset)?))))
        .collect();
    rows.sort_by(|left, right| {
        (left.1.is_nan().cmp(&right.1.is_nan()))
            .then(left.1.partial_cmp(&right.1).unwrap_or(Ordering::Equal))
            .then(left.0.cmp(&right.0))
    });
    rows.truncate(k);
    rows
}

fn as_bits(rows: &[(u32, f32)]) -> Vec<(u32, u32)> {
    rows.iter()
        .map(|&(offset, d)| (offset, d.to_bits()))
        .collect()
}

fn build_and_open(
    directory: &TempDir,
    spec: &SegmentIndexSpec,
    store: InMemoryVectorStore,
) -> (Box<dyn SegmentIndex>, PathBuf) {
    build_and_open_with(directory, spec, store, &BuildOptions::default())
}

/// Options that build the structure the method names, however small the segment.
fn approximate_always() -> BuildOptions {
    BuildOptions {
        min_rows_for_approximate: 0,
        ..BuildOptions::default()
    }
}

/// Options that build a flat index whatever the method.
fn flat_always() -> BuildOptions {
    BuildOptions {
        min_rows_for_approximate: usize::MAX,
        ..BuildOptions::default()
    }
}

fn build_and_open_with(
    directory: &TempDir,
    spec: &SegmentIndexSpec,
    store: InMemoryVectorStore,
    options: &BuildOptions,
) -> (Box<dyn SegmentIndex>, PathBuf) {
    let path = directory.path().join("vectors.idx");
    let built = build_segment_index_with(spec, &store, &path, options);
    assert!(built.is_ok(), "{built:?}");
    let opened = open_segment_index(&path, Arc::new(store));
    match opened {
        Ok(index) => (index, path),
        Err(error) => panic!("open failed: {error}"),
    }
}

/// Keeps roughly `percent`% of offsets, chosen by a hash so filters are not contiguous.
fn percent_filter(percent: u32) -> impl Fn(u32) -> bool {
    move |offset: u32| offset.wrapping_mul(2_654_435_761) % 100 < percent
}

fn assert_search_matches_naive(row_count: usize, dim: usize, seed: u64) {
    let directory = TempDir::new().expect("temporary directory");
    for metric in Metric::ALL {
        let store = random_store(seed, row_count, dim, 20);
        let reference = store.clone();
        let method = if metric == Metric::L1 {
            IndexMethod::Hnsw
        } else {
            IndexMethod::IvfFlat
        };
        let (index, _) = build_and_open_with(
            &directory,
            &spec(method, metric, dim),
            store,
            &flat_always(),
        );
        assert_eq!(index.structure(), Structure::Flat);
        let mut rng = StdRng::seed_from_u64(seed ^ 0xfeed);
        let query: Vec<f32> = (0..dim).map(|_| rng.gen_range(-1.0..1.0)).collect();
        for percent in [1, 50, 100] {
            let accept = percent_filter(percent);
            for k in [1, 10, 100, row_count + 5] {
                let found = index.search(&query, k, &accept);
                let expected = naive_top_k(&reference, metric, &query, k, &accept);
                assert_eq!(
                    as_bits(&found),
                    as_bits(&expected),
                    "{metric:?} {percent}% k={k}"
                );
            }
        }
    }
}

#[test]
fn flat_search_equals_naive_sort_for_every_metric_and_filter() {
    assert_search_matches_naive(2_000, 17, 1);
}

#[test]
fn parallel_flat_search_of_a_large_segment_equals_naive_sort() {
    assert_search_matches_naive(PARALLEL_SCAN_MIN_ROWS + SCAN_CHUNK_ROWS / 2, 8, 2);
}

#[test]
fn k_larger_than_the_accepted_set_returns_every_accepted_non_null_row() {
    let directory = TempDir::new().expect("temporary directory");
    let store = random_store(3, 500, 4, 3);
    let accepted_non_null = (0..500u32)
        .filter(|&offset| percent_filter(10)(offset) && store.vector(offset).is_some())
        .count();
    let (index, _) = build_and_open(&directory, &spec(IndexMethod::Hnsw, Metric::L2, 4), store);
    let found = index.search(&[0.0; 4], 1_000_000, &percent_filter(10));
    assert_eq!(found.len(), accepted_non_null);
    assert!(found.windows(2).all(|pair| pair[0].1 <= pair[1].1));
    assert!(index.search(&[0.0; 4], 0, &|_| true).is_empty());
    assert!(index.search(&[0.0; 4], 10, &|_| false).is_empty());
}

#[test]
fn null_vectors_are_never_returned() {
    let directory = TempDir::new().expect("temporary directory");
    let rows = [None, Some([1.0f32, 0.0]), None, Some([0.0, 1.0]), None];
    let store = InMemoryVectorStore::from_rows(2, rows).expect("store");
    let (index, _) = build_and_open(
        &directory,
        &spec(IndexMethod::Hnsw, Metric::Cosine, 2),
        store,
    );
    let found = index.search(&[1.0, 0.0], 10, &|_| true);
    assert_eq!(as_bits(&found), as_bits(&[(1, 0.0), (3, 1.0)]));
}

#[test]
fn zero_vectors_under_cosine_sort_last_but_still_count() {
    let directory = TempDir::new().expect("temporary directory");
    let rows = [Some([0.0f32, 0.0]), Some([1.0, 1.0]), Some([-1.0, 0.0])];
    let store = InMemoryVectorStore::from_rows(2, rows).expect("store");
    let (index, _) = build_and_open(
        &directory,
        &spec(IndexMethod::Hnsw, Metric::Cosine, 2),
        store,
    );
    let found = index.search(&[1.0, 0.0], 3, &|_| true);
    let offsets: Vec<u32> = found.iter().map(|row| row.0).collect();
    assert_eq!(offsets, vec![1, 2, 0]);
    assert!(found[2].1.is_nan());
}

#[test]
fn a_query_of_the_wrong_dimension_returns_nothing_or_an_error() {
    let directory = TempDir::new().expect("temporary directory");
    let store = random_store(4, 10, 3, 0);
    let (index, _) = build_and_open(&directory, &spec(IndexMethod::Hnsw, Metric::L2, 3), store);
    assert!(index.search(&[1.0, 2.0], 5, &|_| true).is_empty());
    assert!(matches!(
        index.try_search(&[1.0, 2.0], 5, &|_| true),
        Err(IndexError::DimensionMismatch {
            expected: 3,
            actual: 2
        })
    ));
    assert_eq!(
        index
            .try_search(&[1.0, 2.0, 3.0], 5, &|_| true)
            .map(|rows| rows.len())
            .ok(),
        Some(5)
    );
}

#[test]
fn the_file_records_method_metric_dimension_and_options() {
    let directory = TempDir::new().expect("temporary directory");
    let requested = SegmentIndexSpec {
        method: IndexMethod::IvfFlat,
        metric: Metric::InnerProduct,
        dim: 5,
        options: vec![("lists".into(), "42".into())],
    };
    let (index, _) = build_and_open(&directory, &requested, random_store(5, 30, 5, 0));
    assert_eq!(index.spec(), &requested);
    assert_eq!(index.spec().integer_option("lists"), Some(42));
}

#[test]
fn version_1_layout_is_byte_exact() {
    let directory = TempDir::new().expect("temporary directory");
    let path = directory.path().join("layout.idx");
    let requested = SegmentIndexSpec {
        method: IndexMethod::Hnsw,
        metric: Metric::Cosine,
        dim: 2,
        options: vec![("m".into(), "16".into())],
    };
    let store = InMemoryVectorStore::from_rows(2, [Some([3.0f32, 4.0]), None]).expect("store");
    assert!(build_segment_index(&requested, &store, &path).is_ok());

    let mut expected = Vec::new();
    expected.extend_from_slice(b"CUSTOSVI");
    expected.extend_from_slice(&1u32.to_le_bytes());
    expected.extend_from_slice(&51u32.to_le_bytes());
    expected.extend_from_slice(&[1, 1, 2, 0]); // flat, hnsw, cosine, reserved
    expected.extend_from_slice(&2u32.to_le_bytes());
    expected.extend_from_slice(&2u64.to_le_bytes());
    expected.extend_from_slice(&1u32.to_le_bytes());
    expected.extend_from_slice(&1u32.to_le_bytes());
    expected.extend_from_slice(b"m");
    expected.extend_from_slice(&2u32.to_le_bytes());
    expected.extend_from_slice(b"16");
    let header_crc = crc32c::crc32c(&expected);
    expected.extend_from_slice(&header_crc.to_le_bytes());
    assert_eq!(expected.len(), 51);
    expected.extend_from_slice(&[0; 5]); // padding to the 8-aligned body at 56
    let mut body = Vec::new();
    body.extend_from_slice(&25.0f32.to_le_bytes());
    body.extend_from_slice(&f32::NAN.to_le_bytes());
    expected.extend_from_slice(&body);
    expected.extend_from_slice(&crc32c::crc32c(&body).to_le_bytes());

    assert_eq!(std::fs::read(&path).expect("index file"), expected);
}

/// Byte positions to damage in a file of `length` bytes: every one of the first 256 (header and
/// fixed body fields), then every third (every section and record field is still hit).
fn damage_positions(length: usize) -> impl Iterator<Item = usize> {
    (0..length).filter(|&position| position < 256 || position % 3 == 0)
}

#[test]
fn a_flat_file_from_before_hnsw_existed_opens_and_searches() {
    // The bytes the first release wrote for an `hnsw` cosine index over [3, 4] and NULL, by
    // hand (not by today's writer): header version 1, structure 1 (flat), then the norms.
    let mut bytes = Vec::new();
    bytes.extend_from_slice(b"CUSTOSVI");
    bytes.extend_from_slice(&1u32.to_le_bytes());
    bytes.extend_from_slice(&40u32.to_le_bytes());
    bytes.extend_from_slice(&[1, 1, 2, 0]);
    bytes.extend_from_slice(&2u32.to_le_bytes());
    bytes.extend_from_slice(&2u64.to_le_bytes());
    bytes.extend_from_slice(&0u32.to_le_bytes());
    let header_crc = crc32c::crc32c(&bytes);
    bytes.extend_from_slice(&header_crc.to_le_bytes());
    let mut body = Vec::new();
    body.extend_from_slice(&25.0f32.to_le_bytes());
    body.extend_from_slice(&f32::NAN.to_le_bytes());
    bytes.extend_from_slice(&body);
    bytes.extend_from_slice(&crc32c::crc32c(&body).to_le_bytes());
    let directory = TempDir::new().expect("temporary directory");
    let path = directory.path().join("old.idx");
    std::fs::write(&path, &bytes).expect("write");
    let store = InMemoryVectorStore::from_rows(2, [Some([3.0f32, 4.0]), None]).expect("store");
    let index = open_segment_index(&path, Arc::new(store)).expect("a version 1 flat file opens");
    assert_eq!(index.structure(), Structure::Flat);
    assert_eq!(index.spec().method, IndexMethod::Hnsw);
    assert_eq!(
        as_bits(&index.search(&[3.0, 4.0], 5, &|_| true)),
        as_bits(&[(0, 0.0)])
    );
}

fn open_error(path: &Path, store: InMemoryVectorStore) -> IndexError {
    match open_segment_index(path, Arc::new(store)) {
        Ok(_) => panic!("{} opened although it should not", path.display()),
        Err(error) => error,
    }
}

/// Builds a small cosine index (it has a body) and returns its path, bytes and store.
fn small_cosine_index(directory: &TempDir) -> (PathBuf, Vec<u8>, InMemoryVectorStore) {
    let path = directory.path().join("small.idx");
    let store = random_store(6, 7, 3, 4);
    let requested = SegmentIndexSpec {
        options: vec![("m".into(), "8".into())],
        ..spec(IndexMethod::Hnsw, Metric::Cosine, 3)
    };
    assert!(build_segment_index(&requested, &store, &path).is_ok());
    let bytes = std::fs::read(&path).expect("index file");
    (path, bytes, store)
}

fn assert_corrupt_naming(error: &IndexError, path: &Path, reason_part: &str) {
    let message = error.to_string();
    assert!(matches!(error, IndexError::Corrupt { .. }), "{message}");
    assert!(message.contains(&path.display().to_string()), "{message}");
    assert!(
        message.contains(reason_part),
        "{message} lacks {reason_part:?}"
    );
}

#[test]
fn every_truncation_is_reported_as_corrupt() {
    let directory = TempDir::new().expect("temporary directory");
    let (path, bytes, store) = small_cosine_index(&directory);
    for length in 0..bytes.len() {
        std::fs::write(&path, &bytes[..length]).expect("write truncated file");
        let error = open_error(&path, store.clone());
        assert_corrupt_naming(&error, &path, "truncated");
    }
}

#[test]
fn every_flipped_byte_is_caught() {
    let directory = TempDir::new().expect("temporary directory");
    let (path, bytes, store) = small_cosine_index(&directory);
    let header_length: usize = 36 + 8 + 1 + 1 + 4;
    for position in 0..bytes.len() {
        let padding = (header_length..header_length.next_multiple_of(8)).contains(&position);
        let is_version = (8..12).contains(&position);
        if padding || is_version {
            continue;
        }
        let mut damaged = bytes.clone();
        damaged[position] ^= 0x20;
        std::fs::write(&path, &damaged).expect("write damaged file");
        let error = open_error(&path, store.clone());
        assert!(
            matches!(error, IndexError::Corrupt { .. }),
            "byte {position}: {error}"
        );
    }
}

#[test]
fn checksum_errors_say_which_part_is_damaged() {
    let directory = TempDir::new().expect("temporary directory");
    let (path, bytes, store) = small_cosine_index(&directory);
    let mut damaged = bytes.clone();
    damaged[20] ^= 1; // the dimension field
    std::fs::write(&path, &damaged).expect("write");
    assert_corrupt_naming(&open_error(&path, store.clone()), &path, "header checksum");
    let mut damaged = bytes.clone();
    let last_norm_byte = bytes.len() - 5;
    damaged[last_norm_byte] ^= 1;
    std::fs::write(&path, &damaged).expect("write");
    assert_corrupt_naming(&open_error(&path, store.clone()), &path, "body checksum");
    let mut damaged = bytes.clone();
    damaged[0] = b'X';
    std::fs::write(&path, &damaged).expect("write");
    assert_corrupt_naming(&open_error(&path, store.clone()), &path, "bad magic");
    let mut extended = bytes;
    extended.push(0);
    std::fs::write(&path, &extended).expect("write");
    assert_corrupt_naming(&open_error(&path, store), &path, "trailing bytes");
}

#[test]
fn an_unknown_version_is_reported_as_unsupported() {
    let directory = TempDir::new().expect("temporary directory");
    let (path, mut bytes, store) = small_cosine_index(&directory);
    bytes[8..12].copy_from_slice(&2u32.to_le_bytes());
    std::fs::write(&path, &bytes).expect("write");
    let error = open_error(&path, store);
    assert!(
        matches!(
            error,
            IndexError::UnsupportedVersion {
                found: 2,
                supported: 1,
                ..
            }
        ),
        "{error}"
    );
    assert!(error.to_string().contains(&path.display().to_string()));
}

#[test]
fn opening_over_the_wrong_segment_is_a_store_mismatch() {
    let directory = TempDir::new().expect("temporary directory");
    let (path, _, _) = small_cosine_index(&directory);
    let other_dim = open_error(&path, random_store(7, 7, 4, 0));
    assert!(
        matches!(other_dim, IndexError::StoreMismatch { .. }),
        "{other_dim}"
    );
    let other_rows = open_error(&path, random_store(7, 8, 3, 0));
    assert!(
        matches!(other_rows, IndexError::StoreMismatch { .. }),
        "{other_rows}"
    );
}

#[test]
fn a_missing_file_is_an_io_error_naming_it() {
    let directory = TempDir::new().expect("temporary directory");
    let path = directory.path().join("absent.idx");
    let error = open_error(&path, random_store(8, 1, 1, 0));
    assert!(matches!(error, IndexError::Io { .. }));
    assert!(error.to_string().contains("absent.idx"));
}

/// A store that breaks its promise: row 1 is shorter than `dim()`.
struct RaggedStore;

impl VectorStore for RaggedStore {
    fn dim(&self) -> usize {
        2
    }
    fn len(&self) -> usize {
        2
    }
    fn vector(&self, offset: u32) -> Option<&[f32]> {
        match offset {
            0 => Some(&[1.0, 2.0]),
            1 => Some(&[1.0]),
            _ => None,
        }
    }
}

#[test]
fn failed_builds_leave_no_file_and_keep_the_previous_one() {
    let directory = TempDir::new().expect("temporary directory");
    let (path, original, _) = small_cosine_index(&directory);
    let ragged = build_segment_index(
        &spec(IndexMethod::Hnsw, Metric::Cosine, 2),
        &RaggedStore,
        &path,
    );
    assert!(
        matches!(ragged, Err(IndexError::DimensionMismatch { .. })),
        "{ragged:?}"
    );
    let wrong_dim =
        build_segment_index(&spec(IndexMethod::Hnsw, Metric::L2, 3), &RaggedStore, &path);
    assert!(
        matches!(wrong_dim, Err(IndexError::InvalidSpec(_))),
        "{wrong_dim:?}"
    );
    assert_eq!(std::fs::read(&path).expect("index file"), original);
    let leftovers: Vec<_> = std::fs::read_dir(directory.path())
        .expect("list directory")
        .filter_map(Result::ok)
        .map(|entry| entry.file_name())
        .collect();
    assert_eq!(leftovers, vec![std::ffi::OsString::from("small.idx")]);
}

#[test]
fn rebuilding_replaces_the_file_and_leaves_no_temporary() {
    let directory = TempDir::new().expect("temporary directory");
    let path = directory.path().join("vectors.idx");
    for row_count in [3, 9] {
        let store = random_store(9, row_count, 2, 0);
        assert!(
            build_segment_index(&spec(IndexMethod::Hnsw, Metric::L2, 2), &store, &path).is_ok()
        );
        let index = open_segment_index(&path, Arc::new(store));
        assert_eq!(
            index
                .map(|index| index.search(&[0.0, 0.0], 100, &|_| true).len())
                .ok(),
            Some(row_count)
        );
    }
    assert!(!directory.path().join("vectors.idx.tmp").exists());
}

#[test]
fn an_empty_segment_builds_and_searches_to_nothing() {
    let directory = TempDir::new().expect("temporary directory");
    let (index, _) = build_and_open(
        &directory,
        &spec(IndexMethod::IvfFlat, Metric::Cosine, 3),
        InMemoryVectorStore::new(3),
    );
    assert!(index.search(&[1.0, 0.0, 0.0], 10, &|_| true).is_empty());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn search_agrees_with_naive_sort_on_random_segments(
        rows in prop::collection::vec(
            prop::option::weighted(0.8, prop::collection::vec(-4i8..4, 3)),
            0..60,
        ),
        query in prop::collection::vec(-4i8..4, 3),
        accepted_mask in prop::collection::vec(any::<bool>(), 60),
        k in 0usize..70,
        metric_index in 0usize..4,
    ) {
        // Small integers make ties and zero vectors common.
        let to_f32 = |values: &Vec<i8>| values.iter().map(|&v| f32::from(v)).collect::<Vec<f32>>();
        let store = InMemoryVectorStore::from_rows(3, rows.iter().map(|row| row.as_ref().map(to_f32)))
            .expect("store");
        let query = to_f32(&query);
        let metric = Metric::ALL[metric_index];
        let directory = TempDir::new().expect("temporary directory");
        let (index, _) = build_and_open(&directory, &spec(IndexMethod::Hnsw, metric, 3), store.clone());
        let accept = |offset: u32| accepted_mask[offset as usize];
        let found = index.search(&query, k, &accept);
        let expected = naive_top_k(&store, metric, &query, k, &accept);
        prop_assert_eq!(as_bits(&found), as_bits(&expected));
    }
}
