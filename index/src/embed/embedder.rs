//! [`Embedder`]: tokenizer + ONNX session + mean pooling, turning texts into unit vectors.
//!
//! Pipeline of [`Embedder::embed_batch`]:
//!
//! 1. Tokenize each text with `tokenizer.json` as shipped: `[CLS] … [SEP]`, truncated to
//!    [`MAX_TOKENS`] and right-padded to a fixed [`MAX_TOKENS`].
//! 2. Order the texts by token count and cut that order into groups of at most
//!    [`SESSION_BATCH`], so texts of similar length share a session run.
//! 3. Per group, cut the padded `[batch, MAX_TOKENS]` grid to the columns that hold a real
//!    token in some row. Padding is masked out of attention, so dropping it leaves the real
//!    tokens' hidden states unchanged (up to float rounding) while the model, whose cost grows
//!    with the sequence length, does a fraction of the work on short texts.
//! 4. Run the session with int64 `input_ids`, `attention_mask`, `token_type_ids` of shape
//!    `[batch, seq]` and read `last_hidden_state` `[batch, seq, DIMENSIONS]`.
//! 5. Average the hidden states of the tokens whose attention mask is 1 (the mask comes from
//!    each text's own encoding), divide by the L2 norm, and put the vector back at its text's
//!    position.
//!
//! The session lock (`session`) is held for steps 4 and 5 of one group (the outputs borrow
//! the session); tokenizing happens outside it.

use std::num::NonZeroUsize;
use std::path::Path;

use ort::session::Session;
use ort::value::TensorRef;
use parking_lot::Mutex;
use tokenizers::{Encoding, Tokenizer};

use super::{
    prefix_within, read_verified, runtime, EmbedError, ModelFiles, ModelInfo, DIMENSIONS,
    EMBED_INPUT_BYTES, MAX_TOKENS, MODEL_NAME, MODEL_SHA256, TOKENIZER_SHA256,
};

/// Texts per session run. Bounds the output tensor to `32 × 256 × 384` floats (12 MiB) however
/// many texts a caller passes, and is past the point where larger batches stop paying off on
/// a CPU.
pub const SESSION_BATCH: usize = 32;
/// Upper bound for [`EmbedderOptions::intra_op_threads`].
pub const MAX_INTRA_OP_THREADS: usize = 16;

const INPUT_IDS: &str = "input_ids";
const ATTENTION_MASK: &str = "attention_mask";
const TOKEN_TYPE_IDS: &str = "token_type_ids";
const LAST_HIDDEN_STATE: &str = "last_hidden_state";

/// How an [`Embedder`] runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmbedderOptions {
    /// Threads ONNX Runtime uses inside one session run, the calling thread included; clamped
    /// to `1..=MAX_INTRA_OP_THREADS`. Default: 2, or 1 on a single-core machine. More than two
    /// buys little for a model this small and takes cores from concurrent queries.
    pub intra_op_threads: usize,
}

impl Default for EmbedderOptions {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, NonZeroUsize::get);
        EmbedderOptions {
            intra_op_threads: cores.clamp(1, 2),
        }
    }
}

/// A loaded sentence-embedding model. `Send + Sync`; see the module docs for threading.
pub struct Embedder {
    /// `tokenizer.json` truncating to [`MAX_TOKENS`], without padding.
    tokenizer: Tokenizer,
    /// The same tokenizer without truncation or padding, for offsets over whole documents.
    pub(super) document_tokenizer: Tokenizer,
    /// Guards the ONNX session: `ort` needs exclusive access to run it.
    session: Mutex<Session>,
    /// Whether the graph takes `token_type_ids` (all-MiniLM exports do; some omit it).
    takes_token_type_ids: bool,
    info: ModelInfo,
}

impl std::fmt::Debug for Embedder {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Embedder")
            .field("info", &self.info)
            .field("takes_token_type_ids", &self.takes_token_type_ids)
            .finish_non_exhaustive()
    }
}

impl Embedder {
    /// Opens the model in `model_dir` with default options. Fails with
    /// [`EmbedError::ModelMissing`] when a file is absent, [`EmbedError::ChecksumMismatch`]
    /// when the model or tokenizer is not the pinned one.
    pub fn open(model_dir: impl AsRef<Path>) -> Result<Embedder, EmbedError> {
        Embedder::open_with(model_dir, &EmbedderOptions::default())
    }

    /// Opens the model in `model_dir`. Reads and hashes `model.onnx` (23 MB), so this takes a
    /// fraction of a second: open once and share.
    pub fn open_with(
        model_dir: impl AsRef<Path>,
        options: &EmbedderOptions,
    ) -> Result<Embedder, EmbedError> {
        let files = ModelFiles::locate(model_dir.as_ref())?;

        let tokenizer_bytes = read_verified(&files.tokenizer, TOKENIZER_SHA256)?;
        let mut tokenizer = Tokenizer::from_bytes(&tokenizer_bytes).map_err(|error| {
            EmbedError::Tokenizer(format!(
                "cannot load {}: {error}",
                files.tokenizer.display()
            ))
        })?;
        // The shipped tokenizer.json truncates and pads to 128; the model's window (what
        // sentence-transformers and the reference vectors use) is MAX_TOKENS = 256. Padding
        // is done per session run by `ModelInputs`.
        tokenizer.with_padding(None);
        tokenizer
            .with_truncation(Some(tokenizers::TruncationParams {
                max_length: MAX_TOKENS,
                ..Default::default()
            }))
            .map_err(|error| EmbedError::Tokenizer(error.to_string()))?;
        let mut document_tokenizer = tokenizer.clone();
        document_tokenizer.with_padding(None);
        document_tokenizer
            .with_truncation(None)
            .map_err(|error| EmbedError::Tokenizer(error.to_string()))?;

        let model_bytes = read_verified(&files.model, MODEL_SHA256)?;
        let environment = runtime::environment(&files.runtime_library)?;
        let threads = options.intra_op_threads.clamp(1, MAX_INTRA_OP_THREADS);
        let session = runtime::create_session(environment, &model_bytes, threads)?;

        let has_input = |name: &str| session.inputs().iter().any(|input| input.name() == name);
        for required in [INPUT_IDS, ATTENTION_MASK] {
            if !has_input(required) {
                return Err(EmbedError::UnexpectedModel(format!(
                    "{} has no input named {required}",
                    files.model.display()
                )));
            }
        }
        let takes_token_type_ids = has_input(TOKEN_TYPE_IDS);
        if !session
            .outputs()
            .iter()
            .any(|output| output.name() == LAST_HIDDEN_STATE)
        {
            return Err(EmbedError::UnexpectedModel(format!(
                "{} has no output named {LAST_HIDDEN_STATE}",
                files.model.display()
            )));
        }

        Ok(Embedder {
            tokenizer,
            document_tokenizer,
            session: Mutex::new(session),
            takes_token_type_ids,
            info: ModelInfo {
                name: MODEL_NAME,
                dimensions: DIMENSIONS,
                max_tokens: MAX_TOKENS,
                model_sha256: MODEL_SHA256.to_owned(),
                model_dir: files.dir,
            },
        })
    }

    /// Components of every vector this embedder returns.
    pub fn dim(&self) -> usize {
        DIMENSIONS
    }

    /// Name, dimensions, window and checksum of the loaded model.
    pub fn model_info(&self) -> &ModelInfo {
        &self.info
    }

    /// Embeds one text; see [`Embedder::embed_batch`].
    pub fn embed(&self, text: &str) -> Result<Vec<f32>, EmbedError> {
        let encoding = self.encode(text)?;
        let mut vectors = self.run_group(&[&encoding])?;
        debug_assert_eq!(vectors.len(), 1);
        vectors.pop().ok_or_else(|| {
            EmbedError::UnexpectedModel("the model returned no vector for one text".to_owned())
        })
    }

    /// Embeds each text: one unit vector of [`DIMENSIONS`] components per text, in order.
    /// Texts past [`MAX_TOKENS`] tokens are truncated; the empty text is embedded like any
    /// other (it is `[CLS] [SEP]`). An empty slice gives an empty result without running the
    /// model.
    pub fn embed_batch(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let encodings = texts
            .iter()
            .map(|text| self.encode(text))
            .collect::<Result<Vec<Encoding>, EmbedError>>()?;
        // Stable, so equal lengths keep input order and a batch is processed deterministically.
        let mut by_length: Vec<usize> = (0..texts.len()).collect();
        by_length.sort_by_key(|&index| attended_len(&encodings[index]));

        let mut vectors = vec![Vec::new(); texts.len()];
        for group in by_length.chunks(SESSION_BATCH) {
            let group_encodings: Vec<&Encoding> =
                group.iter().map(|&index| &encodings[index]).collect();
            let group_vectors = self.run_group(&group_encodings)?;
            debug_assert_eq!(group_vectors.len(), group.len());
            for (&index, vector) in group.iter().zip(group_vectors) {
                vectors[index] = vector;
            }
        }
        debug_assert!(vectors.iter().all(|vector| vector.len() == DIMENSIONS));
        Ok(vectors)
    }

    /// Tokenizes `texts` as the model sees them, for [`Embedder::embed_encoded`]. Callers that
    /// spread a large batch over several sessions tokenize first, so that they can cut the
    /// batch into runs of texts of equal token count (which pad least).
    pub fn encode_texts(&self, texts: &[&str]) -> Result<Vec<EncodedText>, EmbedError> {
        texts
            .iter()
            .map(|text| self.encode(text).map(EncodedText))
            .collect()
    }

    /// Embeds texts tokenized by [`Embedder::encode_texts`] (of any embedder of the same
    /// model), in the order given, [`SESSION_BATCH`] per session run: callers order them.
    pub fn embed_encoded(&self, texts: &[&EncodedText]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let mut vectors = Vec::with_capacity(texts.len());
        for group in texts.chunks(SESSION_BATCH) {
            let encodings: Vec<&Encoding> = group.iter().map(|text| &text.0).collect();
            vectors.extend(self.run_group(&encodings)?);
        }
        Ok(vectors)
    }

    /// Tokenizes one text as the model sees it (truncated and padded to [`MAX_TOKENS`]).
    fn encode(&self, text: &str) -> Result<Encoding, EmbedError> {
        self.tokenizer
            .encode_fast(prefix_within(text, EMBED_INPUT_BYTES), true)
            .map_err(|error| EmbedError::Tokenizer(error.to_string()))
    }

    /// Runs the model once over at most [`SESSION_BATCH`] encodings and pools each row.
    fn run_group(&self, encodings: &[&Encoding]) -> Result<Vec<Vec<f32>>, EmbedError> {
        debug_assert!(!encodings.is_empty() && encodings.len() <= SESSION_BATCH);
        let inputs = ModelInputs::from_encodings(encodings);
        let shape = [inputs.batch, inputs.seq_len];

        let runtime_error = |error: ort::Error| EmbedError::Runtime(error.to_string());
        let mut named = vec![
            (
                INPUT_IDS,
                TensorRef::from_array_view((shape, &*inputs.input_ids)).map_err(runtime_error)?,
            ),
            (
                ATTENTION_MASK,
                TensorRef::from_array_view((shape, &*inputs.attention_mask))
                    .map_err(runtime_error)?,
            ),
        ];
        if self.takes_token_type_ids {
            named.push((
                TOKEN_TYPE_IDS,
                TensorRef::from_array_view((shape, &*inputs.token_type_ids))
                    .map_err(runtime_error)?,
            ));
        }
        let mut session = self.session.lock();
        let outputs = session.run(named).map_err(runtime_error)?;
        let hidden = outputs.get(LAST_HIDDEN_STATE).ok_or_else(|| {
            EmbedError::UnexpectedModel(format!("no {LAST_HIDDEN_STATE} in the session outputs"))
        })?;
        let (hidden_shape, hidden_states) =
            hidden.try_extract_tensor::<f32>().map_err(|error| {
                EmbedError::UnexpectedModel(format!("{LAST_HIDDEN_STATE}: {error}"))
            })?;
        let expected_shape = [inputs.batch, inputs.seq_len, DIMENSIONS].map(|dim| dim as i64);
        if **hidden_shape != expected_shape
            || hidden_states.len() != inputs.batch * inputs.seq_len * DIMENSIONS
        {
            return Err(EmbedError::UnexpectedModel(format!(
                "{LAST_HIDDEN_STATE} has shape {:?}, expected {expected_shape:?}",
                &**hidden_shape
            )));
        }

        let token_stride = inputs.seq_len * DIMENSIONS;
        Ok(hidden_states
            .chunks_exact(token_stride)
            .zip(inputs.attention_mask.chunks_exact(inputs.seq_len))
            .map(|(row_states, mask)| mean_pool_normalized(row_states, mask))
            .collect())
    }
}

/// A text tokenized for the model (see [`Embedder::encode_texts`]).
#[derive(Debug, Clone)]
pub struct EncodedText(Encoding);

impl EncodedText {
    /// Tokens the model attends to, `[CLS]` and `[SEP]` included: what a run's cost grows
    /// with.
    pub fn tokens(&self) -> usize {
        attended_len(&self.0)
    }
}

/// The three int64 input grids of one session run, row-major `[batch, seq_len]`.
struct ModelInputs {
    batch: usize,
    seq_len: usize,
    input_ids: Vec<i64>,
    attention_mask: Vec<i64>,
    token_type_ids: Vec<i64>,
}

impl ModelInputs {
    /// Lays out `encodings` in a grid as wide as the last attended token of any row; shorter
    /// rows are padded with id 0 and mask 0 (what the tokenizer's own padding writes).
    fn from_encodings(encodings: &[&Encoding]) -> ModelInputs {
        // At least one column: a model run over zero tokens is not defined.
        let seq_len = encodings
            .iter()
            .map(|encoding| attended_len(encoding))
            .max()
            .unwrap_or(0)
            .max(1);
        let batch = encodings.len();
        let mut inputs = ModelInputs {
            batch,
            seq_len,
            input_ids: vec![0; batch * seq_len],
            attention_mask: vec![0; batch * seq_len],
            token_type_ids: vec![0; batch * seq_len],
        };
        for (row, encoding) in encodings.iter().enumerate() {
            let columns = encoding.len().min(seq_len);
            let start = row * seq_len;
            let grids = [
                (&mut inputs.input_ids, encoding.get_ids()),
                (&mut inputs.attention_mask, encoding.get_attention_mask()),
                (&mut inputs.token_type_ids, encoding.get_type_ids()),
            ];
            for (grid, values) in grids {
                for (cell, &value) in grid[start..start + columns].iter_mut().zip(values) {
                    *cell = i64::from(value);
                }
            }
        }
        inputs
    }
}

/// Tokens up to and including the last attended one (padding is on the right).
fn attended_len(encoding: &Encoding) -> usize {
    encoding
        .get_attention_mask()
        .iter()
        .rposition(|&mask| mask != 0)
        .map_or(0, |last| last + 1)
}

/// Mean of the rows of `token_states` (`mask.len()` rows of [`DIMENSIONS`]) whose mask is
/// non-zero, scaled to unit L2 norm. A row set with no attended token or a zero mean gives
/// the zero vector, which cannot happen for real encodings (`[CLS]` is always attended).
pub(crate) fn mean_pool_normalized(token_states: &[f32], mask: &[i64]) -> Vec<f32> {
    debug_assert_eq!(token_states.len(), mask.len() * DIMENSIONS);
    let mut sum = vec![0.0_f32; DIMENSIONS];
    let mut attended = 0_usize;
    for (state, &mask_value) in token_states.chunks_exact(DIMENSIONS).zip(mask) {
        if mask_value == 0 {
            continue;
        }
        attended += 1;
        for (total, &value) in sum.iter_mut().zip(state) {
            *total += value;
        }
    }
    if attended == 0 {
        return sum;
    }
    let count = attended as f32;
    for total in &mut sum {
        *total /= count;
    }
    let norm = sum.iter().map(|value| value * value).sum::<f32>().sqrt();
    // sentence-transformers divides by max(norm, 1e-12); same here.
    let divisor = norm.max(1e-12);
    for value in &mut sum {
        *value /= divisor;
    }
    sum
}

#[cfg(test)]
mod pooling_tests {
    use super::*;

    fn token(fill: f32) -> Vec<f32> {
        vec![fill; DIMENSIONS]
    }

    #[test]
    fn mean_pool_ignores_masked_tokens_and_normalizes() {
        let states: Vec<f32> = [token(1.0), token(3.0), token(1000.0)].concat();
        let pooled = mean_pool_normalized(&states, &[1, 1, 0]);
        let expected = 1.0 / (DIMENSIONS as f32).sqrt();
        assert!(pooled.iter().all(|&value| (value - expected).abs() < 1e-6));
    }

    #[test]
    fn mean_pool_of_nothing_attended_is_zero_not_nan() {
        let states = token(2.0);
        let pooled = mean_pool_normalized(&states, &[0]);
        assert!(pooled.iter().all(|&value| value == 0.0));
    }

    #[test]
    fn embedder_can_be_shared_between_threads() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Embedder>();
    }

    #[test]
    fn default_threads_are_one_or_two() {
        let threads = EmbedderOptions::default().intra_op_threads;
        assert!((1..=2).contains(&threads));
    }
}
