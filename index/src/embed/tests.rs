//! Tests of the embedder against the real model and against reference vectors computed in
//! Python (sentence-transformers recipe over the same int8 ONNX model).
//!
//! The model files are found in `$CUSTOS_MODEL_DIR`, else `<workspace>/models`. They are not in
//! the repository: without them these tests fail and say to run `scripts/fetch-models` (CI
//! runs it first). The reference data is read in place from `<workspace>/../shared/data`.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Instant;

use super::*;

const MODELS_HINT: &str = "the embedding tests need the model files: run `scripts/fetch-models` \
     (or set CUSTOS_MODEL_DIR to a directory holding model.onnx, tokenizer.json and \
     libonnxruntime.so)";

fn model_dir() -> PathBuf {
    model_dir_from_env().unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../models"))
}

fn shared_data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data")
}

/// One embedder for the whole test binary: opening hashes 23 MB.
fn embedder() -> &'static Embedder {
    static SHARED: OnceLock<Embedder> = OnceLock::new();
    SHARED.get_or_init(|| match Embedder::open(model_dir()) {
        Ok(embedder) => embedder,
        Err(error) => panic!(
            "{MODELS_HINT}\nopening {} failed: {error}",
            model_dir().display()
        ),
    })
}

fn cosine(left: &[f32], right: &[f32]) -> f32 {
    assert_eq!(left.len(), right.len());
    let dot: f32 = left.iter().zip(right).map(|(a, b)| a * b).sum();
    let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
    dot / (norm(left) * norm(right))
}

fn embed_one(text: &str) -> Vec<f32> {
    match embedder().embed(text) {
        Ok(vector) => vector,
        Err(error) => panic!("embedding {text:?} failed: {error}"),
    }
}

fn embed_many(texts: &[&str]) -> Vec<Vec<f32>> {
    match embedder().embed_batch(texts) {
        Ok(vectors) => vectors,
        Err(error) => panic!("embedding a batch of {} failed: {error}", texts.len()),
    }
}

/// A float32 C-order 2-D `.npy` file (format versions 1–3): `(rows, columns, values)`.
fn read_npy_f32_matrix(path: &Path) -> (usize, usize, Vec<f32>) {
    let bytes = std::fs::read(path)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()));
    assert_eq!(
        &bytes[..6],
        b"\x93NUMPY",
        "{} is not a .npy file",
        path.display()
    );
    let (header_len, header_start) = match bytes[6] {
        1 => (usize::from(u16::from_le_bytes([bytes[8], bytes[9]])), 10),
        2 | 3 => {
            let len = u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]);
            (len as usize, 12)
        }
        version => panic!("unsupported .npy version {version}"),
    };
    let header = std::str::from_utf8(&bytes[header_start..header_start + header_len])
        .expect("npy header is ASCII");
    assert!(
        header.contains("'descr': '<f4'"),
        "not little-endian float32: {header}"
    );
    assert!(
        header.contains("'fortran_order': False"),
        "not C order: {header}"
    );
    let shape_start = header.find("'shape': (").expect("npy header has a shape") + 10;
    let shape_end = shape_start + header[shape_start..].find(')').expect("shape tuple closes");
    let dims: Vec<usize> = header[shape_start..shape_end]
        .split(',')
        .map(str::trim)
        .filter(|dim| !dim.is_empty())
        .map(|dim| dim.parse().expect("shape dimension is an integer"))
        .collect();
    assert_eq!(dims.len(), 2, "expected a matrix, got shape {dims:?}");
    let data = &bytes[header_start + header_len..];
    assert_eq!(
        data.len(),
        dims[0] * dims[1] * 4,
        "data size matches the shape"
    );
    let values = data
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    (dims[0], dims[1], values)
}

/// The `Ticket Description` of every data row of the tickets CSV, in file order.
fn ticket_descriptions() -> Vec<String> {
    let path = shared_data_dir().join("customer_support_tickets.csv");
    let mut reader = csv::Reader::from_path(&path)
        .unwrap_or_else(|error| panic!("cannot open {}: {error}", path.display()));
    let headers = reader.headers().expect("CSV has a header row").clone();
    let column = headers
        .iter()
        .position(|name| name == "Ticket Description")
        .expect("CSV has a Ticket Description column");
    reader
        .records()
        .map(|record| record.expect("CSV row parses")[column].to_owned())
        .collect()
}

#[test]
fn reference_sentence_cosines_match_python() {
    let vectors = embed_many(&[
        "My card was charged twice for the same order",
        "Duplicate payment on my credit card",
        "The weather is nice today",
    ]);
    let related = cosine(&vectors[0], &vectors[1]);
    let unrelated = cosine(&vectors[0], &vectors[2]);
    assert!((related - 0.686).abs() <= 0.01, "related cosine {related}");
    assert!(
        (unrelated - 0.085).abs() <= 0.01,
        "unrelated cosine {unrelated}"
    );
}

#[test]
fn ticket_descriptions_match_reference_vectors() {
    let descriptions = ticket_descriptions();
    let npy = shared_data_dir().join("customer_support_tickets.desc_emb.npy");
    let (rows, columns, reference) = read_npy_f32_matrix(&npy);
    assert_eq!(descriptions.len(), 8469);
    assert_eq!((rows, columns), (descriptions.len(), DIMENSIONS));

    // 96 rows spread evenly through the file, first and last included.
    let picked: Vec<usize> = (0..96).map(|k| k * (rows - 1) / 95).collect();
    let texts: Vec<&str> = picked
        .iter()
        .map(|&row| descriptions[row].as_str())
        .collect();
    let vectors = embed_many(&texts);
    let mut worst = (1.0_f32, 0_usize);
    for (&row, vector) in picked.iter().zip(&vectors) {
        let expected = &reference[row * DIMENSIONS..(row + 1) * DIMENSIONS];
        let similarity = cosine(vector, expected);
        if similarity < worst.0 {
            worst = (similarity, row);
        }
    }
    assert!(
        worst.0 >= 0.9999,
        "row {} has cosine {} to its reference vector",
        worst.1,
        worst.0
    );
}

#[test]
fn batch_gives_the_same_vectors_as_one_by_one() {
    let texts = [
        "short",
        "",
        "A somewhat longer sentence about a refund that never arrived at my bank account.",
        "Ünïcödé text, emoji 🚀 and CJK 数据库 all tokenize",
        "My card was charged twice for the same order",
    ];
    let batched = embed_many(&texts);
    assert_eq!(batched.len(), texts.len());
    for (text, batch_vector) in texts.iter().zip(&batched) {
        let single = embed_one(text);
        let similarity = cosine(&single, batch_vector);
        assert!(
            similarity >= 0.99999,
            "{text:?}: cosine {similarity} batch vs single"
        );
        let max_diff = single
            .iter()
            .zip(batch_vector)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0_f32, f32::max);
        assert!(
            max_diff < 1e-4,
            "{text:?}: max component difference {max_diff}"
        );
    }
}

#[test]
fn batches_larger_than_one_session_run_keep_input_order() {
    // Lengths vary so the length ordering inside embed_batch really reorders the texts.
    let texts: Vec<String> = (0..SESSION_BATCH_FOR_TESTS + 7)
        .map(|index| {
            let filler = "refund delayed again ".repeat((index * 7) % 11);
            format!("ticket {index}: {filler}order {}", index * 31)
        })
        .collect();
    let text_refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let vectors = embed_many(&text_refs);
    assert_eq!(vectors.len(), texts.len());
    for (index, vector) in vectors.iter().enumerate() {
        let similarity = cosine(vector, &embed_one(&texts[index]));
        assert!(similarity >= 0.99999, "text {index}: cosine {similarity}");
    }
    assert!(embed_many(&[]).is_empty());
}

const SESSION_BATCH_FOR_TESTS: usize = embedder::SESSION_BATCH;

#[test]
fn vectors_are_unit_length_with_384_components() {
    assert_eq!(embedder().dim(), 384);
    for vector in embed_many(&["one", "two words", "", "   "]) {
        assert_eq!(vector.len(), DIMENSIONS);
        let norm = vector.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-5, "norm {norm}");
        assert!(vector.iter().all(|x| x.is_finite()));
    }
}

#[test]
fn five_thousand_words_are_truncated_to_the_window() {
    let words: Vec<String> = (0..5000)
        .map(|index| format!("word{}", index % 97))
        .collect();
    let long_text = words.join(" ");
    let long_vector = embed_one(&long_text);
    assert_eq!(long_vector.len(), DIMENSIONS);
    // 300 words are already far past 128 tokens, so both see the same first 126 tokens.
    let prefix_vector = embed_one(&words[..300].join(" "));
    let similarity = cosine(&long_vector, &prefix_vector);
    assert!(
        similarity >= 0.99999,
        "cosine {similarity} between truncated texts"
    );
}

#[test]
fn empty_string_embeds_to_a_unit_vector() {
    let vector = embed_one("");
    assert_eq!(vector.len(), DIMENSIONS);
    let norm = vector.iter().map(|x| x * x).sum::<f32>().sqrt();
    assert!((norm - 1.0).abs() < 1e-5, "norm {norm}");
}

#[test]
fn missing_model_files_say_how_to_fetch_them() {
    let empty = tempfile::tempdir().expect("temp dir");
    let error = Embedder::open(empty.path()).expect_err("an empty directory has no model");
    assert!(matches!(error, EmbedError::ModelMissing { ref missing, .. } if missing.len() == 3));
    let message = error.to_string();
    assert!(message.contains("scripts/fetch-models"), "{message}");
    assert!(message.contains("CUSTOS_MODEL_DIR"), "{message}");
    for file in [MODEL_FILE, TOKENIZER_FILE, RUNTIME_LIBRARY_FILE] {
        assert!(message.contains(file), "{message} names {file}");
    }
}

#[test]
fn a_wrong_model_file_is_refused_by_checksum() {
    let dir = tempfile::tempdir().expect("temp dir");
    for file in [MODEL_FILE, TOKENIZER_FILE, RUNTIME_LIBRARY_FILE] {
        std::fs::write(dir.path().join(file), b"not the pinned file").expect("write");
    }
    let error = Embedder::open(dir.path()).expect_err("garbage files are refused");
    assert!(
        matches!(error, EmbedError::ChecksumMismatch { .. }),
        "{error}"
    );
    assert!(
        error.to_string().contains("scripts/fetch-models"),
        "{error}"
    );
}

#[test]
fn a_second_embedder_opens_in_the_same_process() {
    let first = embedder();
    let second = Embedder::open(model_dir()).expect("second open reuses the runtime");
    assert_eq!(second.model_info(), first.model_info());
    let info = second.model_info();
    assert_eq!(
        (info.name, info.dimensions, info.max_tokens),
        (MODEL_NAME, 384, MAX_TOKENS)
    );
    assert_eq!(info.model_sha256, MODEL_SHA256);
    let text = "Duplicate payment on my credit card";
    let similarity = cosine(&second.embed(text).expect("embed"), &embed_one(text));
    assert!(similarity >= 0.99999, "cosine {similarity}");
}

#[test]
fn chunk_windows_cover_the_text_with_the_requested_overlap() {
    let sentences = [
        "The replication slot fell behind while the checkpoint was running.",
        "Customers reported that invoices were duplicated after the upgrade.",
        "Unhyphenatedwordsthatarelong get split into many word pieces.",
        "Ünïcödé, emoji 🚀 and 数据库 must keep char boundaries intact.",
    ];
    let text = sentences
        .iter()
        .cycle()
        .take(60)
        .copied()
        .collect::<Vec<_>>()
        .join("\n ");
    let embedder = embedder();
    let tokens = embedder.document_token_offsets(&text).expect("tokenize");
    assert!(tokens.len() > 600, "the document spans several windows");

    for (max_tokens, overlap_tokens) in [(126, 32), (50, 0), (17, 16), (1, 0)] {
        let windows = embedder
            .chunk_text(&text, max_tokens, overlap_tokens)
            .expect("chunk");
        let step = max_tokens - overlap_tokens;
        assert_eq!(
            windows.len(),
            (tokens.len() - overlap_tokens).div_ceil(step)
        );
        assert_eq!(windows[0].0, tokens[0].0);
        assert_eq!(windows[windows.len() - 1].1, tokens[tokens.len() - 1].1);
        let mut covered = vec![false; text.len()];
        for (index, &(start, end)) in windows.iter().enumerate() {
            assert!(start < end && text.is_char_boundary(start) && text.is_char_boundary(end));
            covered[start..end].iter_mut().for_each(|byte| *byte = true);
            let inside = tokens.iter().filter(|t| t.0 >= start && t.1 <= end).count();
            if index + 1 == windows.len() {
                assert!(
                    (1..=max_tokens).contains(&inside),
                    "last window holds {inside}"
                );
            } else {
                assert_eq!(
                    inside, max_tokens,
                    "window {index} of ({max_tokens}, {overlap_tokens})"
                );
            }
            if let Some(&(next_start, _)) = windows.get(index + 1) {
                let shared = tokens
                    .iter()
                    .filter(|t| t.0 >= next_start && t.1 <= end)
                    .count();
                assert_eq!(shared, overlap_tokens, "overlap after window {index}");
            }
        }
        // Everything outside the windows is whitespace.
        for (offset, character) in text.char_indices() {
            assert!(
                covered[offset] || character.is_whitespace(),
                "{character:?} at {offset}"
            );
        }
    }
    // Windows of the largest size embed without truncation and without error.
    let windows = embedder
        .chunk_text(&text, MAX_CHUNK_TOKENS, 16)
        .expect("chunk");
    let pieces: Vec<&str> = windows
        .iter()
        .map(|&(start, end)| &text[start..end])
        .collect();
    assert_eq!(embed_many(&pieces).len(), pieces.len());
}

#[test]
fn chunking_edge_cases() {
    let embedder = embedder();
    assert!(embedder.chunk_text("", 10, 2).expect("empty").is_empty());
    assert!(embedder
        .chunk_text(" \n\t ", 10, 2)
        .expect("blank")
        .is_empty());
    assert_eq!(
        embedder.chunk_text("  hello  ", 10, 2).expect("one word"),
        vec![(2, 7)]
    );
    for (max_tokens, overlap_tokens) in [(0, 0), (10, 10), (MAX_CHUNK_TOKENS + 1, 0), (5, 9)] {
        let error = embedder.chunk_text("some text", max_tokens, overlap_tokens);
        assert!(
            matches!(error, Err(EmbedError::InvalidChunking { .. })),
            "{error:?}"
        );
    }
}

/// Throughput on this machine: `cargo test -p custos-index --release embed::tests::throughput
/// -- --ignored --nocapture`.
#[test]
#[ignore = "measurement, not a check; run with --release --ignored --nocapture"]
fn throughput() {
    let descriptions = ticket_descriptions();
    let tickets: Vec<&str> = descriptions.iter().take(256).map(String::as_str).collect();
    let short: Vec<&str> = [
        "My card was charged twice for the same order",
        "Duplicate payment on my credit card",
        "The weather is nice today",
        "How do I reset my password?",
    ]
    .into_iter()
    .cycle()
    .take(256)
    .collect();
    for threads in [1, 2] {
        let options = EmbedderOptions {
            intra_op_threads: threads,
        };
        let embedder = Embedder::open_with(model_dir(), &options).expect("open");
        embedder.embed_batch(&tickets[..32]).expect("warm up");
        for (label, texts) in [
            ("short sentences", &short),
            ("ticket descriptions", &tickets),
        ] {
            for batch in [1, 32, texts.len()] {
                let started = Instant::now();
                for group in texts.chunks(batch) {
                    embedder.embed_batch(group).expect("embed");
                }
                let seconds = started.elapsed().as_secs_f64();
                println!(
                    "{threads} thread(s), {label}, batch {batch:>3}: {:>7.1} sentences/s \
                     ({} texts in {seconds:.2} s)",
                    texts.len() as f64 / seconds,
                    texts.len()
                );
            }
        }
    }
}
