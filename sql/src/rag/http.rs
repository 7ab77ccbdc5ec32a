//! A minimal blocking HTTP/1.1 client for `rag_answer`: one `POST` of a JSON body to an
//! `http://` URL, one response read back, within a deadline.
//!
//! Why our own: the call is one request per `rag_answer`, on the connection's own thread, to a
//! server the operator names; a general client crate would bring an async runtime or a TLS
//! stack the engine does not otherwise need. `https://` URLs are refused with a clear error
//! (put a local gateway in front of a TLS-only service).
//!
//! Limits: the whole exchange (connect, write, read) must finish within the timeout given; a
//! response larger than [`MAX_RESPONSE_BYTES`] is refused. Responses may be sized by
//! `Content-Length`, chunked, or delimited by the server closing the connection (we send
//! `Connection: close`).

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

/// Largest response accepted (headers and body).
pub const MAX_RESPONSE_BYTES: usize = 8 << 20;

/// Why a request failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HttpError {
    /// The URL is not an `http://host[:port]/path` URL.
    InvalidUrl(String),
    /// No connection could be made (DNS, refused, unreachable, connect timeout).
    Connect(String),
    /// The connection failed or timed out after it was made.
    Exchange(String),
    /// The response is not HTTP/1.x or breaks its own framing.
    BadResponse(String),
}

/// A parsed `http://` URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpUrl {
    pub host: String,
    pub port: u16,
    /// Path and query, starting with `/`.
    pub path: String,
}

impl HttpUrl {
    pub fn parse(url: &str) -> Result<HttpUrl, HttpError> {
        let invalid = |why: &str| HttpError::InvalidUrl(format!("{why}: {}", redacted(url)));
        let lower = url.to_ascii_lowercase();
        if lower.starts_with("https://") {
            return Err(invalid(
                "https URLs are not supported (use an http:// endpoint, e.g. a local gateway)",
            ));
        }
        if !lower.starts_with("http://") {
            return Err(invalid("the URL must start with http://"));
        }
        let rest = &url["http://".len()..];
        let (authority, path) = match rest.find(['/', '?']) {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        if authority.contains('@') {
            return Err(invalid("credentials in the URL are not allowed"));
        }
        let (host, port) = if let Some(bracketed) = authority.strip_prefix('[') {
            let end = bracketed
                .find(']')
                .ok_or_else(|| invalid("unclosed [ in host"))?;
            let host = &bracketed[..end];
            let port = bracketed[end + 1..].strip_prefix(':');
            (host.to_string(), port)
        } else {
            match authority.rsplit_once(':') {
                Some((host, port)) => (host.to_string(), Some(port)),
                None => (authority.to_string(), None),
            }
        };
        if host.is_empty() {
            return Err(invalid("no host"));
        }
        let port = match port {
            None => 80,
            Some(p) => p.parse::<u16>().map_err(|_| invalid("bad port"))?,
        };
        let path = if path.starts_with('?') {
            format!("/{path}")
        } else {
            path.to_string()
        };
        if path.bytes().any(|b| b.is_ascii_control() || b == b' ') {
            return Err(invalid("the path contains spaces or control characters"));
        }
        Ok(HttpUrl { host, port, path })
    }

    fn host_header(&self) -> String {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        if self.port == 80 {
            host
        } else {
            format!("{host}:{}", self.port)
        }
    }
}

/// The URL without any `user:password@` part, for messages.
pub fn redacted(url: &str) -> String {
    match (url.find("://"), url.find('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let slash = url[scheme_end + 3..]
                .find('/')
                .map_or(url.len(), |i| i + scheme_end + 3);
            if at < slash {
                return format!("{}{}", &url[..scheme_end + 3], &url[at + 1..]);
            }
            url.to_string()
        }
        _ => url.to_string(),
    }
}

/// A response: status code and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    pub status: u16,
    pub body: Vec<u8>,
}

/// POSTs `body` as `application/json` with extra `headers`, and reads the response, all
/// within `timeout`.
pub fn post_json(
    url: &HttpUrl,
    headers: &[(&str, &str)],
    body: &[u8],
    timeout: Duration,
) -> Result<HttpResponse, HttpError> {
    let deadline = Instant::now() + timeout;
    let remaining = || {
        deadline
            .checked_duration_since(Instant::now())
            .filter(|d| !d.is_zero())
    };
    let addresses: Vec<_> = (url.host.as_str(), url.port)
        .to_socket_addrs()
        .map_err(|e| HttpError::Connect(format!("cannot resolve {}: {e}", url.host)))?
        .collect();
    let mut last_error = format!("{} has no address", url.host);
    let mut stream = None;
    for address in addresses {
        let Some(left) = remaining() else {
            last_error = "connect timed out".into();
            break;
        };
        match TcpStream::connect_timeout(&address, left) {
            Ok(s) => {
                stream = Some(s);
                break;
            }
            Err(e) => last_error = e.to_string(),
        }
    }
    let mut stream = stream.ok_or(HttpError::Connect(last_error))?;
    let io = |e: std::io::Error| {
        if matches!(
            e.kind(),
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
        ) {
            HttpError::Exchange(format!("no complete answer within {timeout:?}"))
        } else {
            HttpError::Exchange(e.to_string())
        }
    };
    let timed_out = || HttpError::Exchange(format!("no complete answer within {timeout:?}"));
    let _ = stream.set_nodelay(true);

    let mut request = format!(
        "POST {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: custos/{}\r\nContent-Type: \
         application/json\r\nAccept: application/json\r\nContent-Length: {}\r\nConnection: \
         close\r\n",
        url.path,
        url.host_header(),
        env!("CARGO_PKG_VERSION"),
        body.len()
    );
    for (name, value) in headers {
        if [name, value]
            .iter()
            .any(|s| s.bytes().any(|b| b == b'\r' || b == b'\n'))
        {
            return Err(HttpError::InvalidUrl(format!(
                "header {name} contains a line break"
            )));
        }
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream
        .set_write_timeout(Some(remaining().ok_or_else(timed_out)?))
        .map_err(io)?;
    stream.write_all(request.as_bytes()).map_err(io)?;
    stream.write_all(body).map_err(io)?;
    stream.flush().map_err(io)?;

    let mut received = Vec::new();
    let mut buffer = [0u8; 16 * 1024];
    loop {
        if let Some(framed) = complete_response(&received)? {
            return Ok(framed);
        }
        stream
            .set_read_timeout(Some(remaining().ok_or_else(timed_out)?))
            .map_err(io)?;
        let n = stream.read(&mut buffer).map_err(io)?;
        if n == 0 {
            return complete_at_close(&received);
        }
        received.extend_from_slice(&buffer[..n]);
        if received.len() > MAX_RESPONSE_BYTES {
            return Err(HttpError::BadResponse(format!(
                "the response is larger than {MAX_RESPONSE_BYTES} bytes"
            )));
        }
    }
}

/// Status, header block end, and framing of a response whose head has arrived.
struct Head {
    status: u16,
    body_start: usize,
    content_length: Option<usize>,
    chunked: bool,
}

fn parse_head(received: &[u8]) -> Result<Option<Head>, HttpError> {
    let Some(end) = received.windows(4).position(|w| w == b"\r\n\r\n") else {
        return Ok(None);
    };
    let head = std::str::from_utf8(&received[..end])
        .map_err(|_| HttpError::BadResponse("response headers are not UTF-8".into()))?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or("");
    let mut parts = status_line.splitn(3, ' ');
    let version = parts.next().unwrap_or("");
    if !version.starts_with("HTTP/1.") {
        return Err(HttpError::BadResponse(format!(
            "not an HTTP/1.x response: {:?}",
            status_line.chars().take(80).collect::<String>()
        )));
    }
    let status = parts
        .next()
        .and_then(|s| s.parse::<u16>().ok())
        .ok_or_else(|| HttpError::BadResponse("no status code".into()))?;
    let mut content_length = None;
    let mut chunked = false;
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            content_length = Some(
                value
                    .parse::<usize>()
                    .map_err(|_| HttpError::BadResponse("bad Content-Length".into()))?,
            );
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = value.to_ascii_lowercase().contains("chunked");
        }
    }
    Ok(Some(Head {
        status,
        body_start: end + 4,
        content_length,
        chunked,
    }))
}

/// The response, if everything its framing announces has arrived.
fn complete_response(received: &[u8]) -> Result<Option<HttpResponse>, HttpError> {
    let Some(head) = parse_head(received)? else {
        return Ok(None);
    };
    let body = &received[head.body_start..];
    if head.chunked {
        return Ok(dechunk(body)?.map(|body| HttpResponse {
            status: head.status,
            body,
        }));
    }
    match head.content_length {
        Some(length) if body.len() >= length => Ok(Some(HttpResponse {
            status: head.status,
            body: body[..length].to_vec(),
        })),
        _ if matches!(head.status, 100..=199 | 204 | 304) => Ok(Some(HttpResponse {
            status: head.status,
            body: Vec::new(),
        })),
        _ => Ok(None),
    }
}

/// The server closed the connection: what arrived is the whole response (when its framing
/// allows that).
fn complete_at_close(received: &[u8]) -> Result<HttpResponse, HttpError> {
    let head = parse_head(received)?.ok_or_else(|| {
        HttpError::Exchange("the connection closed before a complete response".into())
    })?;
    if head.chunked || head.content_length.is_some() {
        return Err(HttpError::Exchange(
            "the connection closed in the middle of the response".into(),
        ));
    }
    Ok(HttpResponse {
        status: head.status,
        body: received[head.body_start..].to_vec(),
    })
}

/// Decodes a chunked body; `None` until the last chunk has arrived.
fn dechunk(mut data: &[u8]) -> Result<Option<Vec<u8>>, HttpError> {
    let mut body = Vec::new();
    loop {
        let Some(line_end) = data.windows(2).position(|w| w == b"\r\n") else {
            return Ok(None);
        };
        let size_text = std::str::from_utf8(&data[..line_end])
            .map_err(|_| HttpError::BadResponse("bad chunk size".into()))?;
        let size_text = size_text.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size_text, 16)
            .map_err(|_| HttpError::BadResponse(format!("bad chunk size {size_text:?}")))?;
        data = &data[line_end + 2..];
        if size == 0 {
            return Ok(Some(body));
        }
        if size > MAX_RESPONSE_BYTES {
            return Err(HttpError::BadResponse(format!("chunk of {size} bytes")));
        }
        if data.len() < size + 2 {
            return Ok(None);
        }
        body.extend_from_slice(&data[..size]);
        data = &data[size + 2..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    #[test]
    fn urls_are_parsed_and_checked() {
        let url = HttpUrl::parse("http://127.0.0.1:8080/v1/chat/completions").unwrap();
        assert_eq!(
            (url.host.as_str(), url.port, url.path.as_str()),
            ("127.0.0.1", 8080, "/v1/chat/completions")
        );
        let url = HttpUrl::parse("http://[::1]/x?y=1").unwrap();
        assert_eq!(
            (url.host.as_str(), url.port, url.path.as_str()),
            ("::1", 80, "/x?y=1")
        );
        assert_eq!(HttpUrl::parse("http://llm").unwrap().path, "/");
        for bad in [
            "https://api.example.com/v1",
            "ftp://x/y",
            "http://:80/",
            "http://host:99999/",
            "http://user:secret@host/",
            "http://host/a b",
        ] {
            let error = HttpUrl::parse(bad).unwrap_err();
            let HttpError::InvalidUrl(message) = error else {
                panic!("{bad}: {error:?}")
            };
            assert!(!message.contains("secret"), "{message}");
        }
    }

    #[test]
    fn credentials_are_removed_from_urls_in_messages() {
        assert_eq!(redacted("http://u:p@h:1/x"), "http://h:1/x");
        assert_eq!(redacted("http://h/x@y"), "http://h/x@y");
    }

    #[test]
    fn chunked_and_sized_bodies_are_framed() {
        let chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;x=y\r\n world\r\n0\r\n\r\n";
        let response = complete_response(chunked).unwrap().unwrap();
        assert_eq!(
            (response.status, response.body.as_slice()),
            (200, &b"hello world"[..])
        );
        assert!(complete_response(&chunked[..40]).unwrap().is_none());
        let sized = b"HTTP/1.0 404 Not Found\r\nContent-Length: 3\r\n\r\nabcdef";
        let response = complete_response(sized).unwrap().unwrap();
        assert_eq!(
            (response.status, response.body.as_slice()),
            (404, &b"abc"[..])
        );
        assert!(complete_response(b"SSH-2.0-OpenSSH\r\n\r\n").is_err());
        let huge = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\nx";
        assert!(complete_response(huge).is_err());
        let at_close = complete_at_close(b"HTTP/1.1 200 OK\r\n\r\n{}").unwrap();
        assert_eq!(at_close.body, b"{}");
        assert!(complete_at_close(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n{}").is_err());
    }

    #[test]
    fn a_post_reaches_a_local_server_and_its_answer_comes_back() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = std::thread::spawn(move || {
            let (mut socket, _) = listener.accept().unwrap();
            let mut request = Vec::new();
            let mut buffer = [0u8; 4096];
            while !String::from_utf8_lossy(&request).contains("{\"a\":1}") {
                let n = socket.read(&mut buffer).unwrap();
                if n == 0 {
                    break;
                }
                request.extend_from_slice(&buffer[..n]);
            }
            socket
                .write_all(b"HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok")
                .unwrap();
            String::from_utf8(request).unwrap()
        });
        let url = HttpUrl::parse(&format!("http://127.0.0.1:{port}/v1/x")).unwrap();
        let response = post_json(
            &url,
            &[("Authorization", "Bearer k")],
            b"{\"a\":1}",
            Duration::from_secs(10),
        )
        .unwrap();
        assert_eq!(
            (response.status, response.body.as_slice()),
            (201, &b"ok"[..])
        );
        let request = server.join().unwrap();
        assert!(request.starts_with("POST /v1/x HTTP/1.1\r\n"));
        assert!(request.contains(&format!("Host: 127.0.0.1:{port}\r\n")));
        assert!(request.contains("Authorization: Bearer k\r\n"));
        assert!(request.contains("Content-Length: 7\r\n"));
    }

    #[test]
    fn a_refused_connection_and_a_silent_server_are_errors() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let url = HttpUrl::parse(&format!("http://127.0.0.1:{port}/")).unwrap();
        assert!(matches!(
            post_json(&url, &[], b"{}", Duration::from_secs(5)),
            Err(HttpError::Connect(_))
        ));
        // Accepts (the kernel's backlog) but never answers.
        let silent = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = HttpUrl::parse(&format!("http://{}/", silent.local_addr().unwrap())).unwrap();
        assert!(matches!(
            post_json(&url, &[], b"{}", Duration::from_millis(300)),
            Err(HttpError::Exchange(_))
        ));
    }
}
