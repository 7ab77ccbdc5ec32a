//! HNSW: recall against exact search, every metric, NULL and side rows, reproducible builds,
//! reopening from the mapping, and damaged files.

use std::sync::Arc;

use tempfile::TempDir;

use super::support::{assert_well_formed, clustered, mean_recall, tickets};
use super::{
    approximate_always, as_bits, build_and_open, build_and_open_with, damage_positions,
    naive_top_k, open_error, spec,
};
use crate::segment_index::*;

fn hnsw_spec(metric: Metric, dim: usize) -> SegmentIndexSpec {
    spec(IndexMethod::Hnsw, metric, dim)
}

#[test]
fn hnsw_recall_at_10_is_at_least_0_95_on_clustered_data_for_every_metric() {
    let directory = TempDir::new().expect("temporary directory");
    for metric in Metric::ALL {
        let (store, queries) = clustered(11, 2_000, 16, 40, 0.15, 0, 50);
        let (index, _) = build_and_open(&directory, &hnsw_spec(metric, 16), store.clone());
        assert_eq!(index.structure(), Structure::Hnsw, "{metric:?}");
        let recall = mean_recall(&store, metric, &queries, 10, &|_| true, |query| {
            index.search(query, 10, &|_| true)
        });
        assert!(recall >= 0.95, "{metric:?}: recall@10 {recall}");
    }
}

#[test]
fn hnsw_recall_at_10_is_at_least_0_95_on_ticket_embeddings() {
    let Some((store, queries)) = tickets() else {
        return;
    };
    let directory = TempDir::new().expect("temporary directory");
    let (index, _) = build_and_open(&directory, &hnsw_spec(Metric::Cosine, 384), store.clone());
    assert_eq!(index.structure(), Structure::Hnsw);
    let recall = mean_recall(&store, Metric::Cosine, &queries, 10, &|_| true, |query| {
        index.search(query, 10, &|_| true)
    });
    assert!(recall >= 0.95, "recall@10 {recall}");
}

#[test]
fn larger_ef_search_does_not_lower_recall_and_ef_at_least_k_is_used() {
    let (store, queries) = clustered(12, 1_500, 12, 60, 0.2, 0, 40);
    let directory = TempDir::new().expect("temporary directory");
    let (index, _) = build_and_open(&directory, &hnsw_spec(Metric::L2, 12), store.clone());
    let recall_at = |ef_search: usize, k: usize| {
        let params = SearchParams {
            ef_search,
            ..SearchParams::default()
        };
        mean_recall(&store, Metric::L2, &queries, k, &|_| true, |query| {
            index.search_with(query, k, params, &|_| true)
        })
    };
    let low = recall_at(10, 10);
    let high = recall_at(200, 10);
    assert!(high >= low && high >= 0.99, "ef 10: {low}, ef 200: {high}");
    // ef_search 1 with k = 50 still searches with ef = 50 and returns 50 rows.
    assert!(recall_at(1, 50) >= 0.9);
}

#[test]
fn null_rows_are_left_out_of_the_graph_and_never_returned() {
    let (store, queries) = clustered(13, 1_200, 8, 20, 0.2, 4, 20);
    let directory = TempDir::new().expect("temporary directory");
    let (index, _) = build_and_open_with(
        &directory,
        &hnsw_spec(Metric::InnerProduct, 8),
        store.clone(),
        &approximate_always(),
    );
    for query in &queries {
        let found = index.search(query, 10, &|_| true);
        assert_well_formed(&store, Metric::InnerProduct, query, 10, &|_| true, &found);
    }
    let non_null = (0..store.len() as u32)
        .filter(|&offset| store.vector(offset).is_some())
        .count();
    let everything = index.search(&queries[0], usize::MAX, &|_| true);
    assert_eq!(everything.len(), non_null);
}

#[test]
fn k_beyond_the_row_count_returns_every_row_in_exact_order() {
    let (store, queries) = clustered(14, 300, 6, 5, 0.3, 10, 3);
    let directory = TempDir::new().expect("temporary directory");
    let (index, _) = build_and_open_with(
        &directory,
        &hnsw_spec(Metric::L1, 6),
        store.clone(),
        &approximate_always(),
    );
    assert_eq!(index.structure(), Structure::Hnsw);
    for query in &queries {
        for k in [store.len(), store.len() + 1, 1_000_000] {
            let found = index.search(query, k, &|_| true);
            let expected = naive_top_k(&store, Metric::L1, query, k, &|_| true);
            assert_eq!(as_bits(&found), as_bits(&expected));
        }
    }
}

#[test]
fn zero_and_non_finite_vectors_are_side_rows_found_by_every_search() {
    // Cosine: zero vectors have NaN distances; rows with NaN or infinite elements cannot be
    // placed in a graph. They are kept outside it and still returned, NaN last.
    let (mut store, _) = clustered(15, 400, 4, 8, 0.2, 0, 0);
    let zero = store.push(Some(&[0.0; 4])).expect("push");
    let not_finite = store.push(Some(&[f32::NAN, 1.0, 0.0, 0.0])).expect("push");
    let infinite = store
        .push(Some(&[f32::INFINITY, 1.0, 0.0, 0.0]))
        .expect("push");
    let directory = TempDir::new().expect("temporary directory");
    let (index, _) = build_and_open_with(
        &directory,
        &hnsw_spec(Metric::Cosine, 4),
        store.clone(),
        &approximate_always(),
    );
    let query = [0.3, -0.2, 0.5, 0.1];
    let only_odd_ones = |offset: u32| offset >= zero;
    let found = index.search(&query, 10, &only_odd_ones);
    assert_well_formed(&store, Metric::Cosine, &query, 10, &only_odd_ones, &found);
    let offsets: Vec<u32> = found.iter().map(|row| row.0).collect();
    assert_eq!(offsets, vec![zero, not_finite, infinite]);
    let all = index.search(&query, 1_000, &|_| true);
    assert_eq!(all.len(), store.len());
    assert!(all[all.len() - 3..].iter().all(|row| row.1.is_nan()));
}

#[test]
fn queries_without_a_direction_are_answered_by_an_exact_scan() {
    let (store, _) = clustered(16, 1_100, 5, 10, 0.2, 0, 0);
    let directory = TempDir::new().expect("temporary directory");
    let (index, _) = build_and_open(&directory, &hnsw_spec(Metric::Cosine, 5), store.clone());
    assert_eq!(index.structure(), Structure::Hnsw);
    for query in [[0.0f32; 5], [f32::NAN, 0.0, 1.0, 0.0, 0.0]] {
        let found = index.search(&query, 7, &|_| true);
        let expected = naive_top_k(&store, Metric::Cosine, &query, 7, &|_| true);
        assert_eq!(as_bits(&found), as_bits(&expected));
    }
}

#[test]
fn many_identical_vectors_still_give_k_rows() {
    let mut rows: Vec<Option<Vec<f32>>> = vec![Some(vec![1.0, 2.0, 3.0]); 1_500];
    rows.extend((0..50).map(|i| Some(vec![i as f32, -1.0, 0.5])));
    let store = InMemoryVectorStore::from_rows(3, rows).expect("store");
    let directory = TempDir::new().expect("temporary directory");
    let (index, _) = build_and_open(&directory, &hnsw_spec(Metric::L2, 3), store.clone());
    for k in [1, 10, 100, 1_000] {
        let found = index.search(&[1.0, 2.0, 3.0], k, &|_| true);
        assert_well_formed(&store, Metric::L2, &[1.0, 2.0, 3.0], k, &|_| true, &found);
        assert!(found.iter().all(|row| row.1 == 0.0));
        let far = index.search(&[40.0, -1.0, 0.5], k, &|offset| offset % 3 == 0);
        assert_well_formed(
            &store,
            Metric::L2,
            &[40.0, -1.0, 0.5],
            k,
            &|offset| offset % 3 == 0,
            &far,
        );
    }
}

#[test]
fn a_reopened_file_gives_identical_results_and_builds_are_reproducible() {
    let (store, queries) = clustered(17, 1_300, 10, 30, 0.2, 20, 20);
    let directory = TempDir::new().expect("temporary directory");
    let path = directory.path().join("graph.idx");
    let spec = hnsw_spec(Metric::Cosine, 10);
    let options = BuildOptions::default();
    let one_thread = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .expect("pool");
    let built = one_thread.install(|| build_segment_index_with(&spec, &store, &path, &options));
    assert!(built.is_ok(), "{built:?}");
    let single_threaded_bytes = std::fs::read(&path).expect("index file");
    let store = Arc::new(store);
    let first = open_segment_index(&path, store.clone()).expect("open");
    let first_results: Vec<_> = queries
        .iter()
        .map(|query| as_bits(&first.search(query, 10, &|offset| offset % 2 == 0)))
        .collect();
    drop(first);

    let two_threads = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .expect("pool");
    let rebuilt =
        two_threads.install(|| build_segment_index_with(&spec, store.as_ref(), &path, &options));
    assert!(rebuilt.is_ok(), "{rebuilt:?}");
    assert_eq!(
        std::fs::read(&path).expect("index file"),
        single_threaded_bytes
    );
    let second = open_segment_index(&path, store).expect("reopen");
    assert_eq!(second.structure(), Structure::Hnsw);
    let second_results: Vec<_> = queries
        .iter()
        .map(|query| as_bits(&second.search(query, 10, &|offset| offset % 2 == 0)))
        .collect();
    assert_eq!(first_results, second_results);
}

#[test]
fn a_search_inside_a_filter_callback_works() {
    let (store, queries) = clustered(18, 1_100, 6, 10, 0.2, 0, 2);
    let directory = TempDir::new().expect("temporary directory");
    let (index, _) = build_and_open(&directory, &hnsw_spec(Metric::L2, 6), store.clone());
    let inner = |offset: u32| {
        // A filter that itself runs a vector search (as a correlated subquery might).
        let near = index.search(&queries[1], 50, &|_| true);
        near.iter().all(|row| row.0 != offset)
    };
    let found = index.search(&queries[0], 10, &inner);
    assert_well_formed(&store, Metric::L2, &queries[0], 10, &inner, &found);
}

/// A tiny HNSW file: its bytes, path and store.
fn tiny_hnsw(directory: &TempDir) -> (std::path::PathBuf, Vec<u8>, InMemoryVectorStore) {
    let (mut store, _) = clustered(19, 24, 3, 3, 0.3, 5, 0);
    store.push(Some(&[0.0, 0.0, 0.0])).expect("push"); // a side row (cosine)
    let path = directory.path().join("tiny.idx");
    let spec = SegmentIndexSpec {
        options: vec![
            ("m".into(), "4".into()),
            ("ef_construction".into(), "8".into()),
        ],
        ..hnsw_spec(Metric::Cosine, 3)
    };
    let built = build_segment_index_with(&spec, &store, &path, &approximate_always());
    assert!(built.is_ok(), "{built:?}");
    let bytes = std::fs::read(&path).expect("index file");
    (path, bytes, store)
}

#[test]
fn every_truncation_and_flipped_byte_of_an_hnsw_file_is_corrupt() {
    let directory = TempDir::new().expect("temporary directory");
    let (path, bytes, store) = tiny_hnsw(&directory);
    assert_eq!(
        open_segment_index(&path, Arc::new(store.clone()))
            .map(|index| index.structure())
            .ok(),
        Some(Structure::Hnsw)
    );
    for length in damage_positions(bytes.len()) {
        std::fs::write(&path, &bytes[..length]).expect("write");
        let error = open_error(&path, store.clone());
        assert!(
            matches!(error, IndexError::Corrupt { .. }),
            "length {length}: {error}"
        );
    }
    let header_length = u32::from_le_bytes(bytes[12..16].try_into().expect("4 bytes")) as usize;
    for position in damage_positions(bytes.len()) {
        let padding = (header_length..header_length.next_multiple_of(8)).contains(&position);
        if padding || (8..12).contains(&position) {
            continue;
        }
        let mut damaged = bytes.clone();
        damaged[position] ^= 0x10;
        std::fs::write(&path, &damaged).expect("write");
        let outcome = open_segment_index(&path, Arc::new(store.clone()));
        // The body version word may turn into another version: unsupported, not corrupt.
        let body_version = (header_length.next_multiple_of(8)
            ..header_length.next_multiple_of(8) + 4)
            .contains(&position);
        match outcome {
            Err(IndexError::Corrupt { .. }) => {}
            Err(IndexError::UnsupportedVersion { .. }) if body_version => {}
            Err(other) => panic!("byte {position}: {other}"),
            Ok(_) => panic!("byte {position}: a damaged file opened"),
        }
    }
}

#[test]
fn structurally_bad_bodies_with_valid_checksums_are_corrupt() {
    let directory = TempDir::new().expect("temporary directory");
    let (path, bytes, store) = tiny_hnsw(&directory);
    let header_length = u32::from_le_bytes(bytes[12..16].try_into().expect("4 bytes")) as usize;
    let body_start = header_length.next_multiple_of(8);
    let stride = u32::from_le_bytes(
        bytes[body_start + 28..body_start + 32]
            .try_into()
            .expect("4"),
    ) as usize;
    let layer0 = (body_start
        + 64
        + 4 * {
            let top = u32::from_le_bytes(
                bytes[body_start + 20..body_start + 24]
                    .try_into()
                    .expect("4"),
            ) as usize;
            let side = u32::from_le_bytes(
                bytes[body_start + 32..body_start + 36]
                    .try_into()
                    .expect("4"),
            ) as usize;
            top + side
        })
    .next_multiple_of(64);
    let dim = 3;
    let with_valid_checksum = |mut damaged: Vec<u8>| {
        let end = damaged.len() - 4;
        let crc = crc32c::crc32c(&damaged[body_start..end]);
        damaged[end..].copy_from_slice(&crc.to_le_bytes());
        damaged
    };
    let set_word = |bytes: &mut Vec<u8>, at: usize, value: u32| {
        bytes[at..at + 4].copy_from_slice(&value.to_le_bytes());
    };
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("link past the graph", {
            let mut damaged = bytes.clone();
            set_word(&mut damaged, layer0 + 4 * dim, 1);
            set_word(&mut damaged, layer0 + 4 * (dim + 4), 9_999);
            damaged
        }),
        ("too many links", {
            let mut damaged = bytes.clone();
            set_word(&mut damaged, layer0 + stride + 4 * dim, 1_000);
            damaged
        }),
        ("row offset past the segment", {
            let mut damaged = bytes.clone();
            set_word(&mut damaged, layer0 + 4 * (dim + 2), 5_000);
            damaged
        }),
        ("a row offset twice", {
            let mut damaged = bytes.clone();
            let first = u32::from_le_bytes(
                bytes[layer0 + 4 * (dim + 2)..layer0 + 4 * (dim + 3)]
                    .try_into()
                    .expect("4"),
            );
            set_word(&mut damaged, layer0 + stride + 4 * (dim + 2), first);
            damaged
        }),
        ("bad m", {
            let mut damaged = bytes.clone();
            set_word(&mut damaged, body_start + 4, 1);
            damaged
        }),
    ];
    for (what, damaged) in cases {
        std::fs::write(&path, with_valid_checksum(damaged)).expect("write");
        let error = open_error(&path, store.clone());
        assert!(
            matches!(error, IndexError::Corrupt { .. }),
            "{what}: {error}"
        );
    }
}

#[test]
fn a_flat_file_written_for_an_hnsw_index_still_opens_and_searches_exactly() {
    // Before HNSW existed every index file was flat; those files must keep working.
    let (store, queries) = clustered(20, 2_000, 7, 10, 0.2, 9, 5);
    let directory = TempDir::new().expect("temporary directory");
    let (index, _) = build_and_open_with(
        &directory,
        &hnsw_spec(Metric::Cosine, 7),
        store.clone(),
        &super::flat_always(),
    );
    assert_eq!(index.structure(), Structure::Flat);
    for query in &queries {
        let found = index.search(query, 10, &|_| true);
        let expected = naive_top_k(&store, Metric::Cosine, query, 10, &|_| true);
        assert_eq!(as_bits(&found), as_bits(&expected));
    }
}
