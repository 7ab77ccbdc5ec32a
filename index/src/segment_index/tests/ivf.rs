//! IVF-Flat: recall against exact search, probing every list is exact, NULL and side rows,
//! more lists than rows, reopening, and damaged files.

use std::sync::Arc;

use tempfile::TempDir;

use super::support::{assert_well_formed, clustered, mean_recall, tickets};
use super::{
    approximate_always, as_bits, build_and_open, build_and_open_with, damage_positions,
    naive_top_k, open_error, spec,
};
use crate::segment_index::*;

fn ivf_spec(metric: Metric, dim: usize, lists: usize) -> SegmentIndexSpec {
    SegmentIndexSpec {
        options: vec![("lists".into(), lists.to_string())],
        ..spec(IndexMethod::IvfFlat, metric, dim)
    }
}

fn probes(probes: usize) -> SearchParams {
    SearchParams {
        probes,
        ..SearchParams::default()
    }
}

#[test]
fn probing_every_list_is_exact_for_every_metric() {
    let directory = TempDir::new().expect("temporary directory");
    for metric in [Metric::L2, Metric::Cosine, Metric::InnerProduct] {
        let (store, queries) = clustered(31, 1_500, 9, 12, 0.2, 15, 10);
        let (index, _) = build_and_open(&directory, &ivf_spec(metric, 9, 20), store.clone());
        assert_eq!(index.structure(), Structure::IvfFlat);
        for query in &queries {
            let found = index.search_with(query, 10, probes(20), &|_| true);
            let expected = naive_top_k(&store, metric, query, 10, &|_| true);
            assert_eq!(as_bits(&found), as_bits(&expected), "{metric:?}");
        }
    }
}

#[test]
fn ivf_recall_at_10_is_at_least_0_95_with_enough_probes() {
    let directory = TempDir::new().expect("temporary directory");
    for metric in [Metric::L2, Metric::Cosine, Metric::InnerProduct] {
        let (store, queries) = clustered(32, 3_000, 16, 30, 0.15, 0, 40);
        let (index, _) = build_and_open(&directory, &ivf_spec(metric, 16, 30), store.clone());
        let one_probe = mean_recall(&store, metric, &queries, 10, &|_| true, |query| {
            index.search_with(query, 10, probes(1), &|_| true)
        });
        let recall = mean_recall(&store, metric, &queries, 10, &|_| true, |query| {
            index.search_with(query, 10, probes(6), &|_| true)
        });
        assert!(
            recall >= 0.95 && recall >= one_probe,
            "{metric:?}: {one_probe} -> {recall}"
        );
    }
}

#[test]
fn ivf_recall_on_ticket_embeddings() {
    let Some((store, queries)) = tickets() else {
        return;
    };
    let lists = (store.len() as f64).sqrt() as usize;
    let directory = TempDir::new().expect("temporary directory");
    let (index, _) = build_and_open(
        &directory,
        &ivf_spec(Metric::Cosine, 384, lists),
        store.clone(),
    );
    let recall = mean_recall(&store, Metric::Cosine, &queries, 10, &|_| true, |query| {
        index.search_with(query, 10, probes(lists / 4), &|_| true)
    });
    assert!(
        recall >= 0.95,
        "recall@10 {recall} with {} of {lists} lists",
        lists / 4
    );
}

#[test]
fn more_lists_than_rows_gives_one_list_per_row_and_l1_is_refused() {
    let (store, queries) = clustered(33, 40, 4, 3, 0.2, 8, 3);
    let directory = TempDir::new().expect("temporary directory");
    let (index, _) = build_and_open_with(
        &directory,
        &ivf_spec(Metric::L2, 4, 1_000),
        store.clone(),
        &approximate_always(),
    );
    assert_eq!(index.structure(), Structure::IvfFlat);
    for query in &queries {
        for k in [1, 5, 100] {
            let found = index.search(query, k, &|_| true);
            assert_well_formed(&store, Metric::L2, query, k, &|_| true, &found);
        }
    }
    let l1 = build_segment_index(
        &ivf_spec(Metric::L1, 4, 10),
        &store,
        &directory.path().join("l1.idx"),
    );
    assert!(matches!(l1, Err(IndexError::InvalidSpec(_))), "{l1:?}");
}

#[test]
fn ivf_side_rows_and_nulls_are_handled() {
    let (mut store, _) = clustered(34, 1_200, 3, 6, 0.2, 6, 0);
    let zero = store.push(Some(&[0.0; 3])).expect("push");
    let not_finite = store.push(Some(&[f32::NAN, 0.0, 1.0])).expect("push");
    let directory = TempDir::new().expect("temporary directory");
    let (index, _) = build_and_open(&directory, &ivf_spec(Metric::Cosine, 3, 10), store.clone());
    let query = [0.5, 0.5, -0.1];
    let odd_ones = |offset: u32| offset >= zero;
    let found = index.search(&query, 5, &odd_ones);
    assert_well_formed(&store, Metric::Cosine, &query, 5, &odd_ones, &found);
    assert_eq!(
        found.iter().map(|row| row.0).collect::<Vec<_>>(),
        vec![zero, not_finite]
    );
    let everything = index.search(&query, usize::MAX, &|_| true);
    assert_well_formed(
        &store,
        Metric::Cosine,
        &query,
        usize::MAX,
        &|_| true,
        &everything,
    );
    // A query with a NaN element: an exact scan, as ORDER BY would sort.
    let nan_query = [f32::NAN, 1.0, 0.0];
    let found = index.search(&nan_query, 4, &|_| true);
    assert_eq!(
        as_bits(&found),
        as_bits(&naive_top_k(&store, Metric::Cosine, &nan_query, 4, &|_| {
            true
        }))
    );
}

#[test]
fn an_ivf_file_reopens_to_identical_results() {
    let (store, queries) = clustered(35, 1_100, 6, 8, 0.2, 0, 10);
    let directory = TempDir::new().expect("temporary directory");
    let (index, path) = build_and_open(&directory, &ivf_spec(Metric::L2, 6, 16), store.clone());
    let before: Vec<_> = queries
        .iter()
        .map(|query| as_bits(&index.search_with(query, 10, probes(3), &|o| o % 3 != 0)))
        .collect();
    drop(index);
    let reopened = open_segment_index(&path, Arc::new(store)).expect("reopen");
    let after: Vec<_> = queries
        .iter()
        .map(|query| as_bits(&reopened.search_with(query, 10, probes(3), &|o| o % 3 != 0)))
        .collect();
    assert_eq!(before, after);
}

#[test]
fn every_truncation_and_flipped_byte_of_an_ivf_file_is_corrupt() {
    let directory = TempDir::new().expect("temporary directory");
    let (mut store, _) = clustered(36, 30, 3, 3, 0.3, 5, 0);
    store.push(Some(&[0.0, 0.0, 0.0])).expect("push");
    let path = directory.path().join("tiny.idx");
    let built = build_segment_index_with(
        &ivf_spec(Metric::Cosine, 3, 4),
        &store,
        &path,
        &approximate_always(),
    );
    assert!(built.is_ok(), "{built:?}");
    let bytes = std::fs::read(&path).expect("index file");
    for length in damage_positions(bytes.len()) {
        std::fs::write(&path, &bytes[..length]).expect("write");
        let error = open_error(&path, store.clone());
        assert!(
            matches!(error, IndexError::Corrupt { .. }),
            "length {length}: {error}"
        );
    }
    let header_length = u32::from_le_bytes(bytes[12..16].try_into().expect("4 bytes")) as usize;
    let body_start = header_length.next_multiple_of(8);
    for position in damage_positions(bytes.len()) {
        let padding = (header_length..body_start).contains(&position);
        if padding || (8..12).contains(&position) {
            continue;
        }
        let mut damaged = bytes.clone();
        damaged[position] ^= 0x04;
        std::fs::write(&path, &damaged).expect("write");
        match open_segment_index(&path, Arc::new(store.clone())) {
            Err(IndexError::Corrupt { .. }) => {}
            Err(IndexError::UnsupportedVersion { .. })
                if (body_start..body_start + 4).contains(&position) => {}
            Err(other) => panic!("byte {position}: {other}"),
            Ok(_) => panic!("byte {position}: a damaged file opened"),
        }
    }
}
