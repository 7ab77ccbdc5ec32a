//! Test data and checks shared by the structure tests: clustered random vectors, the ticket
//! embeddings from `../shared/data` (read with a small `.npy` reader), recall against an exact
//! answer, and the invariants every search result must satisfy.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::naive_top_k;
use crate::distance::distance;
use crate::segment_index::top_k::compare_distances;
use crate::segment_index::{InMemoryVectorStore, Metric, VectorStore};

/// Rows of the ticket embeddings used by the tests: all of them in release builds, a prefix in
/// debug builds (unoptimised distance kernels are ~50x slower).
pub fn ticket_rows() -> usize {
    if cfg!(debug_assertions) {
        1_500
    } else {
        8_469
    }
}

/// `rows` vectors around `clusters` random centres (Gaussian-ish noise of `spread`), about
/// one in `null_every` NULL (0 = none), and `queries` query vectors drawn the same way.
pub fn clustered(
    seed: u64,
    rows: usize,
    dim: usize,
    clusters: usize,
    spread: f32,
    null_every: u32,
    queries: usize,
) -> (InMemoryVectorStore, Vec<Vec<f32>>) {
    let mut rng = StdRng::seed_from_u64(seed);
    let centres: Vec<Vec<f32>> = (0..clusters)
        .map(|_| (0..dim).map(|_| rng.gen_range(-1.0..1.0)).collect())
        .collect();
    let draw = |rng: &mut StdRng| -> Vec<f32> {
        let centre = &centres[rng.gen_range(0..clusters)];
        centre
            .iter()
            .map(|&value| {
                // Sum of uniforms: a cheap bell curve.
                let noise: f32 = (0..3).map(|_| rng.gen_range(-1.0f32..1.0)).sum();
                value + spread * noise
            })
            .collect()
    };
    let mut store = InMemoryVectorStore::new(dim);
    for _ in 0..rows {
        let vector = draw(&mut rng);
        let is_null = null_every > 0 && rng.gen_ratio(1, null_every);
        store
            .push((!is_null).then_some(vector.as_slice()))
            .expect("push");
    }
    let queries = (0..queries).map(|_| draw(&mut rng)).collect();
    (store, queries)
}

/// Where the shared data sets live.
pub fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data")
}

/// A 2-d little-endian `float32` `.npy` array: (rows, columns, values), at most `max_rows`
/// rows. `None` if the file is absent or not such an array.
pub fn read_npy_f32(path: &Path, max_rows: usize) -> Option<(usize, usize, Vec<f32>)> {
    let bytes = std::fs::read(path).ok()?;
    if bytes.get(..6)? != b"\x93NUMPY" {
        return None;
    }
    let (header_length, header_start) = match bytes[6] {
        1 => (usize::from(u16::from_le_bytes([bytes[8], bytes[9]])), 10),
        _ => (
            u32::from_le_bytes(bytes.get(8..12)?.try_into().ok()?) as usize,
            12,
        ),
    };
    let header =
        std::str::from_utf8(bytes.get(header_start..header_start + header_length)?).ok()?;
    if !header.contains("'descr': '<f4'") || !header.contains("'fortran_order': False") {
        return None;
    }
    let shape_start = header.find("'shape': (")? + "'shape': (".len();
    let shape_end = shape_start + header[shape_start..].find(')')?;
    let dims: Vec<usize> = header[shape_start..shape_end]
        .split(',')
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .map(|part| part.parse().ok())
        .collect::<Option<_>>()?;
    let [rows, columns] = dims[..] else {
        return None;
    };
    let rows = rows.min(max_rows);
    let data = bytes.get(header_start + header_length..)?;
    let values = data
        .chunks_exact(4)
        .take(rows * columns)
        .map(|word| f32::from_le_bytes([word[0], word[1], word[2], word[3]]))
        .collect::<Vec<f32>>();
    (values.len() == rows * columns).then_some((rows, columns, values))
}

/// The ticket description embeddings: every 17th of the first [`ticket_rows`] rows is a query,
/// the others the store. `None` (the test then passes vacuously, saying so) when the data set
/// is not on this machine.
pub fn tickets() -> Option<(InMemoryVectorStore, Vec<Vec<f32>>)> {
    let path = data_dir().join("customer_support_tickets.desc_emb.npy");
    let Some((rows, dim, values)) = read_npy_f32(&path, ticket_rows()) else {
        eprintln!("skipped: {} not found", path.display());
        return None;
    };
    let mut store = InMemoryVectorStore::new(dim);
    let mut queries = Vec::new();
    for (row, vector) in values.chunks_exact(dim).enumerate().take(rows) {
        if row % 17 == 0 {
            queries.push(vector.to_vec());
        } else {
            store.push(Some(vector)).expect("push");
        }
    }
    Some((store, queries))
}

/// Recall of `found` against the exact answer `exact`, counting ties: a found row is a hit
/// when its distance is at most the last exact one's (rows at equal distance are
/// interchangeable; the tickets hold exact duplicates).
pub fn recall(found: &[(u32, f32)], exact: &[(u32, f32)]) -> f64 {
    let Some(&(_, threshold)) = exact.last() else {
        return 1.0;
    };
    let hits = found
        .iter()
        .filter(|&&(_, d)| compare_distances(d, threshold).is_le())
        .count();
    hits.min(exact.len()) as f64 / exact.len() as f64
}

/// Mean recall@k over `queries` of `search` against the naive answer, with filter `accept`.
pub fn mean_recall(
    store: &InMemoryVectorStore,
    metric: Metric,
    queries: &[Vec<f32>],
    k: usize,
    accept: &dyn Fn(u32) -> bool,
    search: impl Fn(&[f32]) -> Vec<(u32, f32)>,
) -> f64 {
    let total: f64 = queries
        .iter()
        .map(|query| {
            let found = search(query);
            assert_well_formed(store, metric, query, k, accept, &found);
            recall(&found, &naive_top_k(store, metric, query, k, accept))
        })
        .sum();
    total / queries.len().max(1) as f64
}

/// What every search result must be: exactly min(k, accepted non-NULL rows) rows, each
/// accepted, non-NULL and distinct, with the exact ORDER BY distance, sorted by (distance,
/// offset) with NaN last.
pub fn assert_well_formed(
    store: &InMemoryVectorStore,
    metric: Metric,
    query: &[f32],
    k: usize,
    accept: &dyn Fn(u32) -> bool,
    found: &[(u32, f32)],
) {
    let accepted = (0..store.len() as u32)
        .filter(|&offset| store.vector(offset).is_some() && accept(offset))
        .count();
    assert_eq!(
        found.len(),
        k.min(accepted),
        "k = {k}, {accepted} accepted rows"
    );
    let mut seen = HashSet::new();
    for &(offset, found_distance) in found {
        assert!(accept(offset), "row {offset} was not accepted");
        let vector = store.vector(offset).expect("a returned row is not NULL");
        assert!(seen.insert(offset), "row {offset} returned twice");
        assert_eq!(
            found_distance.to_bits(),
            distance(metric, query, vector).to_bits(),
            "distance of row {offset}"
        );
    }
    assert!(found.windows(2).all(|pair| {
        compare_distances(pair[0].1, pair[1].1)
            .then(pair[0].0.cmp(&pair[1].0))
            .is_lt()
    }));
}
