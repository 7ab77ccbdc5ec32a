//! Tests of the embedding service against the real model (found in `$CUSTOS_MODEL_DIR`, else
//! `<workspace>/models`; `scripts/fetch-models` puts it there, CI runs it first). Each test
//! builds its own [`EmbeddingService`], so counters and caches do not leak between tests.

use std::path::{Path, PathBuf};

use super::*;

fn model_dir() -> PathBuf {
    index::embed::model_dir_from_env()
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../models"))
}

fn settings(cache_entries: usize) -> EmbeddingSettings {
    EmbeddingSettings {
        model_dir: Some(model_dir()),
        cache_entries,
        sessions: 2,
        intra_op_threads: 1,
    }
}

fn embed_all(service: &EmbeddingService, texts: &[Option<&str>]) -> Vec<Option<Vec<f32>>> {
    match service.embed_texts(texts) {
        Ok(vectors) => vectors,
        Err(error) => panic!(
            "embedding failed (run scripts/fetch-models if the model is missing): {error} {:?}",
            error.hint
        ),
    }
}

fn cosine(left: &[f32], right: &[f32]) -> f32 {
    let dot: f32 = left.iter().zip(right).map(|(a, b)| a * b).sum();
    let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
    dot / (norm(left) * norm(right))
}

#[test]
fn null_in_null_out_and_order_kept() {
    let service = EmbeddingService::new(&settings(100));
    let out = embed_all(
        &service,
        &[
            Some("card charged twice"),
            None,
            Some(""),
            None,
            Some("weather"),
        ],
    );
    assert_eq!(out.len(), 5);
    assert!(out[1].is_none() && out[3].is_none());
    for index in [0, 2, 4] {
        let vector = out[index].as_ref().expect("non-NULL text gives a vector");
        assert_eq!(vector.len(), DIMENSIONS);
        let norm: f32 = vector.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-4, "unit norm, got {norm}");
    }
    assert!(embed_all(&service, &[None, None])
        .iter()
        .all(Option::is_none));
    assert!(embed_all(&service, &[]).is_empty());
}

#[test]
fn matches_the_reference_similarities() {
    let service = EmbeddingService::new(&settings(100));
    let out = embed_all(
        &service,
        &[
            Some("My card was charged twice for the same order"),
            Some("Duplicate payment on my credit card"),
            Some("The weather is nice today"),
        ],
    );
    let vectors: Vec<&Vec<f32>> = out.iter().map(|v| v.as_ref().unwrap()).collect();
    assert!((cosine(vectors[0], vectors[1]) - 0.686).abs() < 0.002);
    assert!((cosine(vectors[0], vectors[2]) - 0.085).abs() < 0.002);
}

#[test]
fn cache_hits_return_the_same_vector_and_skip_the_model() {
    let service = EmbeddingService::new(&settings(100));
    let first = embed_all(&service, &[Some("refund please")]);
    let before = service.status();
    assert_eq!(before.texts_embedded, 1);
    let again = embed_all(&service, &[Some("refund please"), Some("refund please")]);
    let after = service.status();
    assert_eq!(after.texts_embedded, 1, "cached text was embedded again");
    assert!(after.cache.hits > before.cache.hits);
    assert_eq!(again[0], first[0]);
    assert_eq!(again[1], first[0]);
}

#[test]
fn duplicates_in_one_batch_are_embedded_once() {
    let service = EmbeddingService::new(&settings(0));
    let out = embed_all(&service, &[Some("same"), Some("same"), Some("other")]);
    assert_eq!(service.status().texts_embedded, 2);
    assert_eq!(service.status().model_calls, 1, "one call, one batch");
    assert_eq!(out[0], out[1]);
}

#[test]
fn a_large_batch_equals_embedding_one_by_one() {
    // More than one work unit, so helper sessions take part.
    let texts: Vec<String> = (0..3 * WORK_UNIT_TEXTS + 5)
        .map(|index| {
            format!(
                "ticket {index}: the {} is broken",
                ["printer", "app", "router"][index % 3]
            )
        })
        .collect();
    let batch_service = EmbeddingService::new(&settings(0));
    let inputs: Vec<Option<&str>> = texts.iter().map(|text| Some(text.as_str())).collect();
    let batch = embed_all(&batch_service, &inputs);
    let single_service = EmbeddingService::new(&settings(0));
    for index in [0, 1, WORK_UNIT_TEXTS, texts.len() - 1] {
        let single = embed_all(&single_service, &[Some(texts[index].as_str())]);
        let similarity = cosine(batch[index].as_ref().unwrap(), single[0].as_ref().unwrap());
        assert!(similarity > 0.99999, "text {index}: cosine {similarity}");
    }
}

#[test]
fn long_and_non_english_texts_embed() {
    let service = EmbeddingService::new(&settings(10));
    let long = "lorem ipsum dolor sit amet ".repeat(4_000); // ~108 KB
    let head: String = long.chars().take(2_000).collect();
    let out = embed_all(
        &service,
        &[
            Some(long.as_str()),
            Some(head.as_str()),
            Some("我的信用卡被扣了两次款"),
            Some("تم خصم المبلغ مرتين من بطاقتي"),
            Some("🔥🚀 order #42 never arrived 😡"),
        ],
    );
    // Truncated to the window: the 100 KB text embeds like its first few hundred words.
    let similarity = cosine(out[0].as_ref().unwrap(), out[1].as_ref().unwrap());
    assert!(similarity > 0.9999, "long text vs its head: {similarity}");
    for vector in &out[2..] {
        assert_eq!(vector.as_ref().unwrap().len(), DIMENSIONS);
    }
}

#[test]
fn missing_model_errors_with_the_fetch_hint_and_state() {
    let empty = tempfile::tempdir().expect("temp dir");
    let service = EmbeddingService::new(&EmbeddingSettings {
        model_dir: Some(empty.path().to_path_buf()),
        ..settings(10)
    });
    let error = service.embed_texts(&[Some("x")]).unwrap_err();
    assert_eq!(error.code, code::UNDEFINED_FILE);
    assert!(
        error.message.contains("scripts/fetch-models"),
        "{}",
        error.message
    );
    assert!(error
        .hint
        .as_deref()
        .unwrap_or("")
        .contains("CUSTOS_MODEL_DIR"));
    // NULLs alone need no model.
    assert_eq!(service.embed_texts(&[None]).unwrap(), vec![None]);
    assert!(!service.status().loaded);

    let unconfigured = EmbeddingService::new(&EmbeddingSettings {
        model_dir: None,
        ..settings(10)
    });
    let error = unconfigured.model_info().unwrap_err();
    assert_eq!(error.code, code::UNDEFINED_FILE);
    assert!(error
        .hint
        .as_deref()
        .unwrap_or("")
        .contains("scripts/fetch-models"));
}

#[test]
fn model_info_names_the_pinned_model() {
    let service = EmbeddingService::new(&settings(10));
    let info = service.model_info().expect("model opens");
    assert_eq!(info.name, "all-MiniLM-L6-v2");
    assert_eq!(info.dimensions, 384);
    assert_eq!(info.sha256, index::embed::MODEL_SHA256);
    assert!(service.status().loaded);
}

#[test]
fn chunk_text_rejects_bad_windows_with_22023() {
    let service = EmbeddingService::new(&settings(10));
    let error = service.chunk_text("some text", 0, 0).unwrap_err();
    assert_eq!(error.code, code::INVALID_PARAMETER_VALUE);
    let chunks = service.chunk_text("one two three four five", 2, 0).unwrap();
    assert_eq!(chunks.len(), 3);
}
