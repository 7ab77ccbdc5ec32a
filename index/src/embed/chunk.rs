//! Token windows over long documents, so a caller can embed a document piece by piece
//! (the SQL function `embed_chunks` does).
//!
//! Contract of [`Embedder::chunk_text`]`(text, max_tokens, overlap_tokens)`:
//!
//! - The text is tokenized whole, with the model's tokenizer but without `[CLS]`/`[SEP]`,
//!   truncation or padding. Let `n` be its token count and `step = max_tokens -
//!   overlap_tokens`. Window `k` holds tokens `k·step .. min(k·step + max_tokens, n)`; the last
//!   window is the first one that reaches token `n`. So every token is in at least one window,
//!   consecutive windows share exactly `overlap_tokens` tokens, and every window holds
//!   `max_tokens` tokens except the last, which may hold fewer.
//! - Each window is returned as `(start, end)`: **byte** offsets into `text`, both on char
//!   boundaries, from the first byte of its first token to the last byte of its last token.
//!   `&text[start..end]` is the window's text. Whitespace (and anything the tokenizer drops,
//!   like control characters) before the first token, after the last and between
//!   non-overlapping windows belongs to no window.
//! - A window can start or end inside a word (on a `##` word-piece): windows are cut by
//!   tokens, the unit the model counts, not by words.
//! - A text without tokens (empty, or only whitespace) has no windows.
//! - `max_tokens` must be in `1..=MAX_CHUNK_TOKENS` so a window embeds without truncation,
//!   `overlap_tokens < max_tokens`, and the text at most [`MAX_CHUNK_TEXT_BYTES`] long.
//!
//! Re-tokenizing a window's text alone gives the same tokens, except possibly at a window
//! edge that falls inside a word; its embedding is therefore that of the window's tokens to
//! within that edge.

use std::ops::Range;

use super::{EmbedError, Embedder, MAX_CHUNK_TEXT_BYTES, MAX_CHUNK_TOKENS};

impl Embedder {
    /// Windows of at most `max_tokens` tokens over `text`, consecutive windows overlapping by
    /// `overlap_tokens` tokens, as byte ranges `(start, end)` into `text`. See the module docs
    /// of `chunk.rs` for the exact contract.
    pub fn chunk_text(
        &self,
        text: &str,
        max_tokens: usize,
        overlap_tokens: usize,
    ) -> Result<Vec<(usize, usize)>, EmbedError> {
        if max_tokens == 0 || max_tokens > MAX_CHUNK_TOKENS || overlap_tokens >= max_tokens {
            return Err(EmbedError::InvalidChunking {
                max_tokens,
                overlap_tokens,
            });
        }
        if text.len() > MAX_CHUNK_TEXT_BYTES {
            return Err(EmbedError::TextTooLong {
                bytes: text.len(),
                limit: MAX_CHUNK_TEXT_BYTES,
            });
        }
        let token_offsets = self.document_token_offsets(text)?;
        let windows = token_windows(token_offsets.len(), max_tokens, overlap_tokens);
        Ok(windows
            .into_iter()
            .map(|window| {
                let start = token_offsets[window.start].0;
                let end = token_offsets[window.end - 1].1;
                (
                    floor_char_boundary(text, start),
                    ceil_char_boundary(text, end),
                )
            })
            .collect())
    }

    /// Byte offsets `(start, end)` into `text` of each of its tokens, without special tokens.
    pub(super) fn document_token_offsets(
        &self,
        text: &str,
    ) -> Result<Vec<(usize, usize)>, EmbedError> {
        let encoding = self
            .document_tokenizer
            .encode(text, false)
            .map_err(|error| EmbedError::Tokenizer(error.to_string()))?;
        let offsets = encoding.get_offsets();
        debug_assert!(
            offsets.windows(2).all(|pair| pair[0].0 <= pair[1].0),
            "token offsets run forward"
        );
        debug_assert!(offsets
            .iter()
            .all(|&(start, end)| start <= end && end <= text.len()));
        Ok(offsets.to_vec())
    }
}

/// Token index ranges of the windows over `token_count` tokens (see the module docs).
/// Requires `1 <= max_tokens` and `overlap_tokens < max_tokens`.
pub(crate) fn token_windows(
    token_count: usize,
    max_tokens: usize,
    overlap_tokens: usize,
) -> Vec<Range<usize>> {
    assert!(
        max_tokens >= 1 && overlap_tokens < max_tokens,
        "checked by chunk_text"
    );
    let step = max_tokens - overlap_tokens;
    let mut windows = Vec::with_capacity(token_count.div_ceil(step));
    let mut start = 0;
    while start < token_count {
        let end = (start + max_tokens).min(token_count);
        windows.push(start..end);
        if end == token_count {
            break;
        }
        start += step;
    }
    windows
}

/// `index`, or the nearest char boundary below it. Token offsets are char boundaries
/// already; this keeps a slip in the tokenizer from turning into a panic when slicing.
fn floor_char_boundary(text: &str, index: usize) -> usize {
    let mut index = index.min(text.len());
    while !text.is_char_boundary(index) {
        index -= 1;
    }
    index
}

/// `index`, or the nearest char boundary above it.
fn ceil_char_boundary(text: &str, index: usize) -> usize {
    let mut index = index.min(text.len());
    while !text.is_char_boundary(index) {
        index += 1;
    }
    index
}

#[cfg(test)]
mod window_tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn windows_step_by_max_minus_overlap_and_stop_at_the_end() {
        assert_eq!(token_windows(10, 4, 1), vec![0..4, 3..7, 6..10]);
        assert_eq!(token_windows(10, 5, 0), vec![0..5, 5..10]);
        assert_eq!(token_windows(11, 5, 0), vec![0..5, 5..10, 10..11]);
        assert_eq!(token_windows(3, 126, 32), vec![0..3]);
        assert_eq!(token_windows(0, 4, 1), Vec::<Range<usize>>::new());
    }

    #[test]
    fn char_boundaries_snap_outwards() {
        let text = "aé"; // 'é' is bytes 1..3
        assert_eq!(floor_char_boundary(text, 2), 1);
        assert_eq!(ceil_char_boundary(text, 2), 3);
        assert_eq!(ceil_char_boundary(text, 99), 3);
    }

    proptest! {
        #[test]
        fn windows_cover_every_token_with_the_requested_overlap(
            token_count in 0usize..2000,
            max_tokens in 1usize..=126,
            overlap_seed in 0usize..126,
        ) {
            let overlap_tokens = overlap_seed % max_tokens;
            let windows = token_windows(token_count, max_tokens, overlap_tokens);
            if token_count == 0 {
                prop_assert!(windows.is_empty());
                return Ok(());
            }
            prop_assert_eq!(windows.first().map(|w| w.start), Some(0));
            prop_assert_eq!(windows.last().map(|w| w.end), Some(token_count));
            for window in &windows {
                prop_assert!(!window.is_empty() && window.len() <= max_tokens);
            }
            for pair in windows.windows(2) {
                prop_assert!(pair[1].start > pair[0].start);
                prop_assert_eq!(pair[0].len(), max_tokens);
                prop_assert_eq!(pair[0].end - pair[1].start, overlap_tokens);
            }
        }
    }
}
