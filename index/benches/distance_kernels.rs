//! Distance kernels per family (the numbers behind the choice in `distance/kernels.rs`), and
//! the exact scan of a flat segment index.
//!
//! Run: `cargo bench -p custos-index --bench distance_kernels`. Filter with a trailing
//! argument, e.g. `-- dot/384`. Compare families within one run; these machines are shared,
//! so absolute times drift between runs.

use std::hint::black_box;
use std::sync::Arc;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use index::distance::Kernels;
use index::segment_index::{
    build_segment_index, open_segment_index, InMemoryVectorStore, IndexMethod, Metric,
    SegmentIndexSpec,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const DIMENSIONS: &[usize] = &[96, 384, 1536];

fn random_vector(rng: &mut StdRng, dim: usize) -> Vec<f32> {
    (0..dim).map(|_| rng.gen_range(-1.0..1.0)).collect()
}

fn kernel_families(criterion: &mut Criterion) {
    let mut rng = StdRng::seed_from_u64(42);
    for &dim in DIMENSIONS {
        let a = random_vector(&mut rng, dim);
        let b = random_vector(&mut rng, dim);
        for primitive in ["l2_squared", "dot", "l1", "cosine_parts"] {
            let mut group = criterion.benchmark_group(format!("{primitive}/{dim}"));
            group.throughput(Throughput::Elements(dim as u64));
            for family in Kernels::all_available() {
                group.bench_function(BenchmarkId::from_parameter(family.name), |bencher| {
                    bencher.iter(|| match primitive {
                        "l2_squared" => (family.l2_squared)(black_box(&a), black_box(&b)),
                        "dot" => (family.dot)(black_box(&a), black_box(&b)),
                        "l1" => (family.l1)(black_box(&a), black_box(&b)),
                        _ => (family.cosine_parts)(black_box(&a), black_box(&b)).dot,
                    })
                });
            }
            group.finish();
        }
    }
}

fn flat_search(criterion: &mut Criterion) {
    let mut rng = StdRng::seed_from_u64(7);
    let dim = 384;
    let directory = match tempfile::TempDir::new() {
        Ok(directory) => directory,
        Err(error) => panic!("temporary directory: {error}"),
    };
    let mut group = criterion.benchmark_group("flat_search/384");
    group.sample_size(10);
    for row_count in [20_000usize, 100_000] {
        let mut store = InMemoryVectorStore::new(dim);
        for _ in 0..row_count {
            let vector = random_vector(&mut rng, dim);
            if let Err(error) = store.push(Some(&vector)) {
                panic!("push: {error}");
            }
        }
        let path = directory.path().join(format!("flat-{row_count}.idx"));
        let spec = SegmentIndexSpec {
            method: IndexMethod::Hnsw,
            metric: Metric::Cosine,
            dim,
            options: Vec::new(),
        };
        if let Err(error) = build_segment_index(&spec, &store, &path) {
            panic!("build: {error}");
        }
        let index = match open_segment_index(&path, Arc::new(store)) {
            Ok(index) => index,
            Err(error) => panic!("open: {error}"),
        };
        let query = random_vector(&mut rng, dim);
        group.throughput(Throughput::Elements(row_count as u64));
        group.bench_function(BenchmarkId::new("k10_all_rows", row_count), |bencher| {
            bencher.iter(|| index.search(black_box(&query), 10, &|_| true))
        });
        group.bench_function(BenchmarkId::new("k10_1pct_rows", row_count), |bencher| {
            bencher.iter(|| index.search(black_box(&query), 10, &|offset| offset % 100 == 0))
        });
    }
    group.finish();
}

criterion_group!(benches, kernel_families, flat_search);
criterion_main!(benches);
