#!/usr/bin/env python3
"""Python onnxruntime baseline for custos's embedding throughput (embed_bench).

Embeds texts with the same model files custos uses (model.onnx, tokenizer.json from the
models directory), the sentence-transformers recipe: tokenize (truncate to 128 tokens), sort
by length, batches of --batch texts padded to the longest in the batch, run the int8 ONNX
model, mean-pool over the attention mask, L2-normalise. ONNX Runtime gets --threads intra-op
threads (the same total thread count custos uses). Prints one JSON object on stdout:
{"texts": N, "seconds": S, "texts_per_second": R}; tokenization is timed too, as custos's
figure includes it.

Usage: embed_baseline.py --model-dir DIR --texts FILE [--batch 32] [--threads 2] [--repeats 1]
FILE holds one JSON string per line.
"""

import argparse
import json
import time

import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer

MAX_TOKENS = 256


def embed_all(session, tokenizer, texts, batch):
    encodings = tokenizer.encode_batch(texts)
    order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
    out = np.zeros((len(texts), 384), dtype=np.float32)
    for start in range(0, len(order), batch):
        group = order[start:start + batch]
        seq = max(len(encodings[i].ids) for i in group)
        ids = np.zeros((len(group), seq), dtype=np.int64)
        mask = np.zeros((len(group), seq), dtype=np.int64)
        for row, i in enumerate(group):
            e = encodings[i]
            ids[row, :len(e.ids)] = e.ids
            mask[row, :len(e.ids)] = 1
        hidden = session.run(
            ["last_hidden_state"],
            {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)},
        )[0]
        summed = (hidden * mask[:, :, None]).sum(axis=1)
        pooled = summed / np.maximum(mask.sum(axis=1, keepdims=True), 1)
        pooled /= np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        out[group] = pooled
    return out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model-dir", required=True)
    parser.add_argument("--texts", required=True)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()

    with open(args.texts, encoding="utf-8") as f:
        texts = [json.loads(line) for line in f if line.strip()]
    tokenizer = Tokenizer.from_file(f"{args.model_dir}/tokenizer.json")
    tokenizer.no_padding()
    tokenizer.enable_truncation(MAX_TOKENS)
    options = ort.SessionOptions()
    options.intra_op_num_threads = args.threads
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    session = ort.InferenceSession(
        f"{args.model_dir}/model.onnx", options, providers=["CPUExecutionProvider"]
    )
    embed_all(session, tokenizer, texts[: args.batch], args.batch)  # warm-up
    timings = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        embed_all(session, tokenizer, texts, args.batch)
        timings.append(time.perf_counter() - start)
    seconds = sorted(timings)[len(timings) // 2]
    print(json.dumps({
        "texts": len(texts),
        "seconds": seconds,
        "texts_per_second": len(texts) / seconds,
    }))


if __name__ == "__main__":
    main()
