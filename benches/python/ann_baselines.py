"""hnswlib and faiss on the data set ann_bench hands over, for side-by-side figures.

Called by `ann_bench` (which writes this file to a temporary directory and runs it). Reads
base vectors, queries, exact top-k ids and each query's k-th true distance (.npy files),
then for each engine: builds an HNSW index with the given M / ef_construction on
`--build-threads` threads, and for each ef_search runs the queries with one thread,
printing one line per measurement on stdout:

    RESULT <engine> build <wall seconds> <process CPU seconds>
    RESULT <engine> ef <ef> recall <recall@k> qps <queries per second>
    ERROR <engine> <message>

Query speed is per second of the calling thread's CPU time (time.thread_time(); both engines
run single-threaded queries on the calling thread), as ann_bench measures its own, because
the machines are shared. Build times are given both ways.

Cosine is run as inner product on L2-normalised vectors (what hnswlib's 'cosine' space does
internally). A missing package prints an ERROR line instead of failing the run.
"""

import argparse
import sys
import time

import numpy as np


def recall_at_k(found, truth, thresholds, base, queries, metric, k):
    """Recall@k counting ties: a returned row is a hit when its distance to the query is at
    most the k-th true neighbour's (plus a rounding allowance), so that among rows at equal
    distance any choice counts (the data sets hold exact duplicates)."""
    hits = 0
    for query, row_found, row_truth, threshold in zip(queries, found, truth, thresholds):
        ids = [int(i) for i in row_found[:k] if i >= 0]
        if not ids:
            continue
        vectors = base[ids].astype(np.float64)
        q = query.astype(np.float64)
        if metric == "cosine":
            norms = np.linalg.norm(vectors, axis=1) * np.linalg.norm(q)
            distances = 1.0 - vectors @ q / np.where(norms == 0, 1, norms)
        elif metric == "ip":
            distances = -(vectors @ q)
        else:
            distances = np.linalg.norm(vectors - q, axis=1)
        allowance = 1e-5 * (1.0 + abs(float(threshold)))
        hits += min(int(np.sum(distances <= threshold + allowance)), k)
    return hits / (k * len(truth))


def normalised(vectors):
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1
    return np.ascontiguousarray(vectors / norms, dtype=np.float32)


def run_hnswlib(args, base, queries, truth, thresholds, ef_values):
    import hnswlib

    space = {"cosine": "cosine", "l2": "l2", "ip": "ip"}[args.metric]
    index = hnswlib.Index(space=space, dim=base.shape[1])
    index.init_index(max_elements=len(base), ef_construction=args.ef_construction, M=args.m)
    index.set_num_threads(args.build_threads)
    start, cpu_start = time.perf_counter(), time.process_time()
    index.add_items(base, np.arange(len(base)))
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    print(f"RESULT hnswlib build {wall:.6f} {cpu:.6f}", flush=True)
    index.set_num_threads(1)
    for ef in ef_values:
        index.set_ef(max(ef, args.k))
        index.knn_query(queries[: min(50, len(queries))], k=args.k)  # warm-up
        best = None
        for _ in range(args.repeats):
            start = time.thread_time()
            labels, _ = index.knn_query(queries, k=args.k, num_threads=1)
            elapsed = time.thread_time() - start
            best = elapsed if best is None else min(best, elapsed)
        recall = recall_at_k(labels, truth, thresholds, base, queries, args.metric, args.k)
        print(f"RESULT hnswlib ef {ef} recall {recall:.6f} qps {len(queries) / best:.3f}", flush=True)


def run_faiss(args, base, queries, truth, thresholds, ef_values):
    import faiss

    original_base, original_queries = base, queries
    if args.metric == "cosine":
        base, queries = normalised(base), normalised(queries)
        metric = faiss.METRIC_INNER_PRODUCT
    elif args.metric == "ip":
        metric = faiss.METRIC_INNER_PRODUCT
    else:
        metric = faiss.METRIC_L2
    index = faiss.IndexHNSWFlat(base.shape[1], args.m, metric)
    index.hnsw.efConstruction = args.ef_construction
    faiss.omp_set_num_threads(args.build_threads)
    start, cpu_start = time.perf_counter(), time.process_time()
    index.add(base)
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    print(f"RESULT faiss build {wall:.6f} {cpu:.6f}", flush=True)
    faiss.omp_set_num_threads(1)
    for ef in ef_values:
        index.hnsw.efSearch = max(ef, args.k)
        index.search(queries[: min(50, len(queries))], args.k)  # warm-up
        best = None
        for _ in range(args.repeats):
            start = time.thread_time()
            _, labels = index.search(queries, args.k)
            elapsed = time.thread_time() - start
            best = elapsed if best is None else min(best, elapsed)
        recall = recall_at_k(
            labels, truth, thresholds, original_base, original_queries, args.metric, args.k
        )
        print(f"RESULT faiss ef {ef} recall {recall:.6f} qps {len(queries) / best:.3f}", flush=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", required=True)
    parser.add_argument("--queries", required=True)
    parser.add_argument("--truth", required=True)
    parser.add_argument("--thresholds", required=True)
    parser.add_argument("--metric", default="cosine", choices=["cosine", "l2", "ip"])
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--m", type=int, default=16)
    parser.add_argument("--ef-construction", type=int, default=64)
    parser.add_argument("--ef-search", default="10,20,40,80,120,200,400")
    parser.add_argument("--build-threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--engines", default="hnswlib,faiss")
    args = parser.parse_args()

    base = np.ascontiguousarray(np.load(args.base), dtype=np.float32)
    queries = np.ascontiguousarray(np.load(args.queries), dtype=np.float32)
    truth = np.load(args.truth)
    thresholds = np.load(args.thresholds).reshape(-1).astype(np.float64)
    ef_values = [int(value) for value in args.ef_search.split(",") if value]
    runners = {"hnswlib": run_hnswlib, "faiss": run_faiss}
    for engine in args.engines.split(","):
        try:
            runners[engine](args, base, queries, truth, thresholds, ef_values)
        except ImportError as error:
            print(f"ERROR {engine} not installed ({error}); try: pip install hnswlib faiss-cpu", flush=True)
        except Exception as error:  # report and go on with the next engine
            print(f"ERROR {engine} {type(error).__name__}: {error}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
