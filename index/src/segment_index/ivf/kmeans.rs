//! k-means for IVF lists: k-means++ seeding and a fixed number of Lloyd iterations on a
//! sample, then the assignment of every vector to its nearest centroid.
//!
//! Geometry: Euclidean (squared L2) for the L2 and inner-product operator classes; spherical
//! for cosine, as pgvector does: sample vectors are normalised, centroids are re-normalised
//! after each update, and "nearest" means the largest dot product (which needs no
//! normalisation of the vector being assigned).
//!
//! Everything is deterministic: the sample and the seeds come from a fixed-seed generator and
//! parallel sums are reduced in a fixed order (per chunk, chunks in order).

use rayon::prelude::*;

use crate::distance::{kernels, PairKernel};
use crate::segment_index::random::SplitMix64;

/// Lloyd iterations after seeding.
pub(super) const LLOYD_ITERATIONS: usize = 10;
/// Training sample rows per list (pgvector samples 50 per list).
pub(super) const SAMPLE_ROWS_PER_LIST: usize = 50;
/// Vectors per parallel task.
const CHUNK_ROWS: usize = 1024;
/// Seed of the sampling and seeding generator.
const KMEANS_SEED: u64 = 0x6976_6666_6c61_7421;

/// How vectors are compared to centroids.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Geometry {
    /// Squared L2 distance.
    Euclidean,
    /// Largest dot product with unit-length centroids.
    Spherical,
}

/// Compares vectors with centroids for one geometry; smaller keys are nearer.
#[derive(Clone, Copy)]
pub(super) struct CentroidKey {
    geometry: Geometry,
    kernel: PairKernel,
}

impl CentroidKey {
    pub(super) fn new(geometry: Geometry) -> CentroidKey {
        let family = kernels();
        let kernel = match geometry {
            Geometry::Euclidean => family.l2_squared,
            Geometry::Spherical => family.dot,
        };
        CentroidKey { geometry, kernel }
    }

    #[inline(always)]
    pub(super) fn key(&self, vector: &[f32], centroid: &[f32]) -> f32 {
        let raw = (self.kernel)(vector, centroid);
        match self.geometry {
            Geometry::Euclidean => raw,
            Geometry::Spherical => -raw,
        }
    }

    /// The nearest of `centroids` (`dim` values each) to `vector`, and its key.
    pub(super) fn nearest(&self, vector: &[f32], centroids: &[f32], dim: usize) -> (usize, f32) {
        let mut best = (0, f32::INFINITY);
        for (list, centroid) in centroids.chunks_exact(dim).enumerate() {
            let key = self.key(vector, centroid);
            if key < best.1 {
                best = (list, key);
            }
        }
        best
    }

    /// A non-negative spread for k-means++ weights: squared L2, or `1 - cos` on the sphere.
    fn spread(&self, vector: &[f32], centroid: &[f32]) -> f64 {
        let key = f64::from(self.key(vector, centroid));
        match self.geometry {
            Geometry::Euclidean => key.max(0.0),
            Geometry::Spherical => (1.0 + key).max(0.0),
        }
    }
}

/// Picks `count` of `candidates` (without replacement) by a partial Fisher–Yates shuffle,
/// returned in ascending order.
pub(super) fn sample_indices(candidates: usize, count: usize) -> Vec<usize> {
    let count = count.min(candidates);
    let mut rng = SplitMix64::new(KMEANS_SEED);
    if count == candidates {
        return (0..candidates).collect();
    }
    let mut pool: Vec<usize> = (0..candidates).collect();
    for position in 0..count {
        let pick = position + rng.below(candidates - position);
        pool.swap(position, pick);
    }
    let mut chosen = pool[..count].to_vec();
    chosen.sort_unstable();
    chosen
}

/// Scales `vector` to unit length (left alone if its norm is zero).
pub(super) fn normalize(vector: &mut [f32]) {
    let norm = (kernels().dot)(vector, vector).sqrt();
    if norm > 0.0 && norm.is_finite() {
        vector.iter_mut().for_each(|value| *value /= norm);
    }
}

/// Trains `lists` centroids on `sample` (`dim` values per row; normalised already for the
/// spherical geometry). Needs `1 ≤ lists ≤ sample rows`.
pub(super) fn train(sample: &[f32], dim: usize, lists: usize, geometry: Geometry) -> Vec<f32> {
    let rows = sample.len() / dim;
    debug_assert!(lists >= 1 && lists <= rows);
    let key = CentroidKey::new(geometry);
    let mut rng = SplitMix64::new(KMEANS_SEED ^ 0x5eed);
    let mut centroids = seed_plus_plus(sample, dim, lists, &key, &mut rng);
    let mut assignment = vec![0u32; rows];
    for _ in 0..LLOYD_ITERATIONS {
        let keys = assign(sample, dim, &centroids, &key, &mut assignment);
        update_centroids(sample, dim, &assignment, &keys, &mut centroids, geometry);
    }
    centroids
}

/// k-means++ seeding: the first centroid uniformly, each next one with probability
/// proportional to its spread from the nearest centroid chosen so far.
fn seed_plus_plus(
    sample: &[f32],
    dim: usize,
    lists: usize,
    key: &CentroidKey,
    rng: &mut SplitMix64,
) -> Vec<f32> {
    let rows = sample.len() / dim;
    let mut centroids = Vec::with_capacity(lists * dim);
    let first = rng.below(rows);
    centroids.extend_from_slice(&sample[first * dim..(first + 1) * dim]);
    let mut spread: Vec<f64> = sample
        .par_chunks(dim)
        .map(|vector| key.spread(vector, &centroids[..dim]))
        .collect();
    for _ in 1..lists {
        let total: f64 = spread.iter().sum();
        let chosen = if total > 0.0 && total.is_finite() {
            let target = rng.next_f64() * total;
            let mut running = 0.0;
            spread
                .iter()
                .position(|&weight| {
                    running += weight;
                    running > target
                })
                .unwrap_or(rows - 1)
        } else {
            // Every sample row coincides with a centroid: duplicates are all that is left.
            rng.below(rows)
        };
        let start = centroids.len();
        centroids.extend_from_slice(&sample[chosen * dim..(chosen + 1) * dim]);
        let newest = &centroids[start..];
        spread
            .par_iter_mut()
            .zip(sample.par_chunks(dim))
            .for_each(|(weight, vector)| *weight = weight.min(key.spread(vector, newest)));
    }
    centroids
}

/// Assigns every sample row to its nearest centroid; returns each row's key to it.
fn assign(
    sample: &[f32],
    dim: usize,
    centroids: &[f32],
    key: &CentroidKey,
    assignment: &mut [u32],
) -> Vec<f32> {
    let mut keys = vec![0f32; assignment.len()];
    assignment
        .par_iter_mut()
        .zip(keys.par_iter_mut())
        .zip(sample.par_chunks(dim))
        .for_each(|((list, nearest_key), vector)| {
            let (nearest, found_key) = key.nearest(vector, centroids, dim);
            *list = nearest as u32;
            *nearest_key = found_key;
        });
    keys
}

/// Moves each centroid to the mean of its rows; an empty list takes the row farthest from
/// its centroid (and that row is not given to a second empty list).
fn update_centroids(
    sample: &[f32],
    dim: usize,
    assignment: &[u32],
    keys: &[f32],
    centroids: &mut [f32],
    geometry: Geometry,
) {
    let lists = centroids.len() / dim;
    let (sums, counts) = sample
        .par_chunks(CHUNK_ROWS * dim)
        .zip(assignment.par_chunks(CHUNK_ROWS))
        .map(|(vectors, lists_of_rows)| {
            let mut sums = vec![0f64; lists * dim];
            let mut counts = vec![0usize; lists];
            for (vector, &list) in vectors.chunks_exact(dim).zip(lists_of_rows) {
                let list = list as usize;
                counts[list] += 1;
                let sum = &mut sums[list * dim..(list + 1) * dim];
                for (total, &value) in sum.iter_mut().zip(vector) {
                    *total += f64::from(value);
                }
            }
            (sums, counts)
        })
        .reduce(
            || (vec![0f64; lists * dim], vec![0usize; lists]),
            |(mut sums, mut counts), (other_sums, other_counts)| {
                sums.iter_mut().zip(&other_sums).for_each(|(a, b)| *a += b);
                counts
                    .iter_mut()
                    .zip(&other_counts)
                    .for_each(|(a, b)| *a += b);
                (sums, counts)
            },
        );
    let mut farthest: Vec<usize> = (0..keys.len()).collect();
    farthest.sort_unstable_by(|&left, &right| {
        keys[right].total_cmp(&keys[left]).then(left.cmp(&right))
    });
    let mut donors = farthest.into_iter();
    for list in 0..lists {
        let centroid = &mut centroids[list * dim..(list + 1) * dim];
        if counts[list] == 0 {
            if let Some(row) = donors.next() {
                centroid.copy_from_slice(&sample[row * dim..(row + 1) * dim]);
            }
            continue;
        }
        let sum = &sums[list * dim..(list + 1) * dim];
        for (value, &total) in centroid.iter_mut().zip(sum) {
            *value = (total / counts[list] as f64) as f32;
        }
        if geometry == Geometry::Spherical {
            normalize(centroid);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn well_separated_clusters_are_found() {
        let dim = 2;
        let centres = [(0.0f32, 0.0f32), (100.0, 0.0), (0.0, 100.0)];
        let mut sample = Vec::new();
        for index in 0..300 {
            let (x, y) = centres[index % 3];
            let jitter = (index / 3) as f32 * 0.01;
            sample.extend_from_slice(&[x + jitter, y - jitter]);
        }
        let centroids = train(&sample, dim, 3, Geometry::Euclidean);
        for (x, y) in centres {
            let key = CentroidKey::new(Geometry::Euclidean);
            let (_, nearest) = key.nearest(&[x, y], &centroids, dim);
            assert!(nearest < 1.0, "no centroid near ({x}, {y}): {centroids:?}");
        }
    }

    #[test]
    fn samples_are_distinct_sorted_and_reproducible() {
        let sample = sample_indices(1000, 100);
        assert_eq!(sample.len(), 100);
        assert!(sample.windows(2).all(|pair| pair[0] < pair[1]));
        assert_eq!(sample, sample_indices(1000, 100));
        assert_eq!(sample_indices(5, 10), vec![0, 1, 2, 3, 4]);
    }

    #[test]
    fn duplicate_rows_still_give_the_requested_number_of_centroids() {
        let sample = vec![1.0f32; 2 * 20];
        let centroids = train(&sample, 2, 4, Geometry::Spherical);
        assert_eq!(centroids.len(), 8);
        assert!(centroids.iter().all(|value| value.is_finite()));
    }
}
