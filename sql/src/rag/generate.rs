//! `rag_answer(question text, k int DEFAULT 5) → text`: sends `rag_prompt(question, k)` to an
//! OpenAI-compatible chat-completions endpoint and returns the answer's text.
//!
//! Generation is pluggable: the server's configuration names the endpoint (`llm_endpoint`, an
//! `http://` URL — either the full `/chat/completions` URL or a base such as `.../v1` to which
//! `/chat/completions` is added), the model (`llm_model`), optionally the environment variable
//! holding an API key (`llm_api_key_env`, sent as `Authorization: Bearer ...`; the key itself
//! is never stored in a file custos writes) and a timeout. The server installs them with
//! [`configure_generation`] at start-up.
//!
//! Request: `{"model": ..., "messages": [{"role": "system", ...}, {"role": "user", "content":
//! <prompt>}], "temperature": 0}`. Answer: `choices[0].message.content`.
//!
//! Errors (each names the endpoint URL, credentials removed): nothing configured → 55000;
//! cannot connect → 08001; connection lost or no answer within the timeout → 08006; an HTTP
//! error status or a body that is not a chat completion → 58000 (with the start of the body).

use std::time::Duration;

use parking_lot::RwLock;
use storage::types::Value;

use super::http::{self, HttpError, HttpUrl};
use super::prompt::prompt_for;
use crate::error::{code, SqlError, SqlResult};
use crate::func::FnCtx;

/// Default bound on one generation call.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
/// Most characters of an error body quoted in a message.
const QUOTED_BODY_CHARS: usize = 300;
const CONNECTION_FAILURE: &str = "08006";
const UNABLE_TO_CONNECT: &str = "08001";
const SYSTEM_ERROR: &str = "58000";

/// The system message of every request.
pub const SYSTEM_MESSAGE: &str = "You answer questions about a company's customer data using \
only the context you are given, and you cite it by entry number.";

/// Where and how `rag_answer` generates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenerationSettings {
    /// `http://` URL of the chat-completions endpoint (or of its `/v1` base).
    pub endpoint: String,
    pub model: String,
    /// Environment variable with the API key, if the endpoint wants one.
    pub api_key_env: Option<String>,
    pub timeout: Duration,
}

static GENERATION: RwLock<Option<GenerationSettings>> = RwLock::new(None);

/// Installs (or, with `None`, removes) the generation endpoint for the whole process.
pub fn configure_generation(settings: Option<GenerationSettings>) {
    *GENERATION.write() = settings;
}

/// The endpoint URL requests go to: `/chat/completions` appended to a base URL.
pub fn completions_url(endpoint: &str) -> String {
    let trimmed = endpoint.trim_end_matches('/');
    if trimmed.ends_with("/chat/completions") {
        trimmed.to_string()
    } else {
        format!("{trimmed}/chat/completions")
    }
}

/// The scalar implementation: arguments `(question [, k])`.
pub fn rag_answer(ctx: &FnCtx, args: &[Value]) -> SqlResult<Value> {
    let Some(Value::Text(question)) = args.first() else {
        return Ok(Value::Null);
    };
    let settings = GENERATION.read().clone().ok_or_else(|| {
        SqlError::new(
            code::OBJECT_NOT_IN_PREREQUISITE_STATE,
            "rag_answer: no LLM endpoint is configured",
        )
        .with_hint(
            "Set llm_endpoint (an OpenAI-compatible http:// chat-completions URL) and llm_model \
             in the server's config file, or use rag_prompt() and send the prompt yourself.",
        )
    })?;
    let prompt = prompt_for(ctx, question, args.get(1))?;
    complete(&settings, &prompt).map(Value::Text)
}

/// Sends `prompt` to the configured endpoint and returns the answer's text.
pub fn complete(settings: &GenerationSettings, prompt: &str) -> SqlResult<String> {
    let url_text = completions_url(&settings.endpoint);
    let shown = http::redacted(&url_text);
    let url = HttpUrl::parse(&url_text).map_err(|e| http_error(e, &shown))?;
    let api_key = match &settings.api_key_env {
        Some(variable) => Some(std::env::var(variable).map_err(|_| {
            SqlError::new(
                code::OBJECT_NOT_IN_PREREQUISITE_STATE,
                format!(
                    "rag_answer: the environment variable {variable} (llm_api_key_env) is not set"
                ),
            )
        })?),
        None => None,
    };
    let body = serde_json::json!({
        "model": settings.model,
        "messages": [
            {"role": "system", "content": SYSTEM_MESSAGE},
            {"role": "user", "content": prompt},
        ],
        "temperature": 0,
    })
    .to_string();
    let authorization = api_key.map(|key| format!("Bearer {key}"));
    let mut headers: Vec<(&str, &str)> = Vec::new();
    if let Some(value) = &authorization {
        headers.push(("Authorization", value));
    }
    let response = http::post_json(&url, &headers, body.as_bytes(), settings.timeout)
        .map_err(|e| http_error(e, &shown))?;
    let text = String::from_utf8_lossy(&response.body);
    if !(200..300).contains(&response.status) {
        return Err(SqlError::new(
            SYSTEM_ERROR,
            format!(
                "rag_answer: the LLM endpoint {shown} answered HTTP {}",
                response.status
            ),
        )
        .with_detail(excerpt(&text)));
    }
    answer_text(&text).ok_or_else(|| {
        SqlError::new(
            SYSTEM_ERROR,
            format!("rag_answer: the LLM endpoint {shown} did not return a chat completion"),
        )
        .with_detail(excerpt(&text))
    })
}

/// `choices[0].message.content` of a chat-completion response.
pub fn answer_text(body: &str) -> Option<String> {
    let json: serde_json::Value = serde_json::from_str(body).ok()?;
    json.get("choices")?
        .get(0)?
        .get("message")?
        .get("content")?
        .as_str()
        .map(str::to_string)
}

fn excerpt(text: &str) -> String {
    let mut out: String = text.chars().take(QUOTED_BODY_CHARS).collect();
    if text.chars().count() > QUOTED_BODY_CHARS {
        out.push('…');
    }
    out
}

fn http_error(error: HttpError, url: &str) -> SqlError {
    match error {
        HttpError::InvalidUrl(why) => SqlError::new(
            code::INVALID_PARAMETER_VALUE,
            format!("rag_answer: invalid llm_endpoint: {why}"),
        ),
        HttpError::Connect(why) => SqlError::new(
            UNABLE_TO_CONNECT,
            format!("rag_answer: could not connect to the LLM endpoint {url}: {why}"),
        ),
        HttpError::Exchange(why) => SqlError::new(
            CONNECTION_FAILURE,
            format!("rag_answer: the LLM endpoint {url} failed: {why}"),
        ),
        HttpError::BadResponse(why) => SqlError::new(
            SYSTEM_ERROR,
            format!("rag_answer: the LLM endpoint {url} sent a malformed response: {why}"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_get_the_completions_path() {
        assert_eq!(
            completions_url("http://h:1/v1"),
            "http://h:1/v1/chat/completions"
        );
        assert_eq!(
            completions_url("http://h/v1/chat/completions/"),
            "http://h/v1/chat/completions"
        );
    }

    #[test]
    fn the_answer_is_read_from_the_first_choice() {
        let body = r#"{"id":"x","choices":[{"index":0,"message":{"role":"assistant","content":"Refund it [1]."}}]}"#;
        assert_eq!(answer_text(body).as_deref(), Some("Refund it [1]."));
        assert_eq!(answer_text(r#"{"choices":[]}"#), None);
        assert_eq!(answer_text("not json"), None);
    }

    #[test]
    fn connection_failures_name_the_url_without_credentials() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let settings = GenerationSettings {
            endpoint: format!("http://127.0.0.1:{port}/v1"),
            model: "m".into(),
            api_key_env: None,
            timeout: Duration::from_secs(5),
        };
        let error = complete(&settings, "p").unwrap_err();
        assert_eq!(error.code, "08001");
        assert!(error
            .message
            .contains(&format!("http://127.0.0.1:{port}/v1/chat/completions")));
        let https = GenerationSettings {
            endpoint: "https://api.example.com/v1".into(),
            ..settings.clone()
        };
        assert_eq!(complete(&https, "p").unwrap_err().code, "22023");
        let missing_key = GenerationSettings {
            api_key_env: Some("CUSTOS_TEST_SURELY_UNSET_KEY".into()),
            ..settings
        };
        assert_eq!(complete(&missing_key, "p").unwrap_err().code, "55000");
    }
}
