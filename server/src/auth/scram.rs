//! SCRAM-SHA-256 (RFC 5802, RFC 7677) as PostgreSQL implements it (`auth-scram.c`).
//!
//! The stored verifier is PostgreSQL's text form,
//! `SCRAM-SHA-256$<iterations>:<salt base64>$<StoredKey base64>:<ServerKey base64>`. The
//! server never sees or keeps a password: it checks the client's proof against StoredKey and
//! proves itself with ServerKey.
//!
//! As in PostgreSQL: the user name inside the SCRAM messages is ignored (the startup packet's
//! user counts); without TLS the channel binding flags `n` and `y` are accepted and `p`
//! refused; under TLS (`SCRAM-SHA-256-PLUS` offered) `p=tls-server-end-point` binds the
//! exchange to the TLS session (`c=` must carry the certificate hash), and `y` is refused
//! because the server does support binding (a downgrade attempt),
//! an authorization identity is refused, and a user who does not exist (or has no verifier)
//! gets the same exchange with a mock salt derived from the user name and a server secret,
//! failing only at the proof check, so neither messages nor timing reveal whether the role
//! exists.
//!
//! SASLprep (RFC 4013) is applied to passwords as PostgreSQL does for ASCII passwords (no
//! change) and, for other passwords, its mapping steps (non-ASCII spaces to a space, "mapped
//! to nothing" characters removed); Unicode normalisation (NFKC) is not applied, so a password
//! whose NFKC form differs from itself must be typed in normalised form.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use rand::RngCore;

use sql::acl::password::{hmac, sha256};
pub use sql::acl::password::{Verifier, DEFAULT_ITERATIONS, SALT_LENGTH};

/// Random bytes in the server's part of the nonce (`SCRAM_RAW_NONCE_LEN`).
const SERVER_NONCE_LENGTH: usize = 18;

pub const MECHANISM: &str = "SCRAM-SHA-256";
pub const MECHANISM_PLUS: &str = "SCRAM-SHA-256-PLUS";

/// Why an exchange failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScramError {
    /// The client broke the SCRAM syntax: `08P01` with this message and detail.
    Malformed {
        message: &'static str,
        detail: String,
    },
    /// Something the client asked for that custos does not support (`0A000`).
    Unsupported(&'static str),
    /// Wrong password, unknown user, or no verifier: `28P01`.
    AuthenticationFailed,
}

fn malformed(detail: impl Into<String>) -> ScramError {
    ScramError::Malformed {
        message: "malformed SCRAM message",
        detail: detail.into(),
    }
}

enum State {
    AwaitingClientFirst,
    AwaitingClientFinal {
        /// What `c=` must carry: the GS2 header the client sent (`n,,`, `y,,` or
        /// `p=tls-server-end-point,,`) followed by the channel-binding data for `p`.
        gs2_header: Vec<u8>,
        client_first_bare: String,
        server_first: String,
        nonce: String,
    },
    Finished,
}

/// The server side of one SCRAM-SHA-256 exchange.
pub struct ScramServer {
    verifier: Verifier,
    /// True when the user does not exist or has no verifier: the exchange must fail.
    doomed: bool,
    state: State,
    /// `tls-server-end-point` data when the connection is under TLS.
    channel_binding: Option<Vec<u8>>,
    /// Whether the client chose SCRAM-SHA-256-PLUS.
    plus: bool,
}

impl ScramServer {
    /// Starts an exchange for `user`. With `None` (unknown user, no usable verifier) a mock
    /// verifier is derived from `mock_secret` and the user name, and the exchange will fail.
    pub fn new(verifier: Option<Verifier>, user: &str, mock_secret: &[u8]) -> ScramServer {
        let doomed = verifier.is_none();
        let verifier = verifier.unwrap_or_else(|| {
            let mut seed = Vec::with_capacity(user.len() + mock_secret.len());
            seed.extend_from_slice(user.as_bytes());
            seed.extend_from_slice(mock_secret);
            let digest = sha256(&seed);
            Verifier {
                iterations: DEFAULT_ITERATIONS,
                salt: digest[..SALT_LENGTH].to_vec(),
                stored_key: sha256(&digest),
                server_key: sha256(&sha256(&digest)),
            }
        });
        ScramServer {
            verifier,
            doomed,
            state: State::AwaitingClientFirst,
            channel_binding: None,
            plus: false,
        }
    }

    /// Under TLS: the channel-binding data of the session, and whether the client chose the
    /// `-PLUS` mechanism.
    pub fn with_channel_binding(mut self, data: Option<Vec<u8>>, plus: bool) -> ScramServer {
        self.channel_binding = data;
        self.plus = plus;
        self
    }

    /// Reads client-first-message; returns server-first-message.
    pub fn client_first(&mut self, message: &[u8]) -> Result<String, ScramError> {
        if !matches!(self.state, State::AwaitingClientFirst) {
            return Err(malformed("Unexpected SCRAM message."));
        }
        self.state = State::Finished;
        let message =
            std::str::from_utf8(message).map_err(|_| malformed("Message is not valid UTF-8."))?;
        // gs2-header: cbind-flag "," [authzid] ","
        let mut rest = message;
        let mut binding_data: &[u8] = &[];
        let flag_end = match rest.as_bytes().first() {
            Some(b'n') | Some(b'y') if self.plus => {
                return Err(malformed(
                    "The client selected SCRAM-SHA-256-PLUS, but the SCRAM message does not \
                     include channel binding data.",
                ))
            }
            Some(b'y') if self.channel_binding.is_some() => {
                return Err(ScramError::Malformed {
                    message: "SCRAM channel binding negotiation error",
                    detail: "The client supports SCRAM channel binding but thinks the server \
                             does not.  However, this server does support channel binding."
                        .into(),
                })
            }
            Some(b'n') | Some(b'y') => 1,
            Some(b'p') if self.plus => {
                let end = rest.find(',').unwrap_or(rest.len());
                if &rest[..end] != "p=tls-server-end-point" {
                    return Err(malformed(format!(
                        "unsupported SCRAM channel-binding type \"{}\"",
                        rest[..end].trim_start_matches("p=")
                    )));
                }
                binding_data = self.channel_binding.as_deref().unwrap_or(&[]);
                end
            }
            Some(b'p') => {
                return Err(malformed(
                    "The client selected SCRAM-SHA-256 without channel binding, but the SCRAM \
                     message includes channel binding data.",
                ))
            }
            _ => return Err(malformed("Unexpected channel-binding flag.")),
        };
        if rest.as_bytes().get(flag_end) != Some(&b',') {
            return Err(malformed("Comma expected after channel-binding flag."));
        }
        rest = &rest[flag_end + 1..];
        if rest.starts_with("a=") {
            return Err(ScramError::Unsupported(
                "client uses authorization identity, but it is not supported",
            ));
        }
        if !rest.starts_with(',') {
            return Err(malformed("Unexpected attribute in client-first-message."));
        }
        let mut gs2_header = message.as_bytes()[..message.len() - rest.len() + 1].to_vec();
        gs2_header.extend_from_slice(binding_data);
        let client_first_bare = &rest[1..];
        let mut attributes = client_first_bare.split(',');
        match attributes.next() {
            Some(user) if user.starts_with("n=") => {}
            Some(m) if m.starts_with("m=") => {
                return Err(ScramError::Unsupported(
                    "client requires an unsupported SCRAM extension",
                ))
            }
            _ => return Err(malformed("Expected attribute \"n\".")),
        }
        let client_nonce = match attributes.next() {
            Some(nonce) if nonce.starts_with("r=") => &nonce[2..],
            _ => return Err(malformed("Expected attribute \"r\".")),
        };
        if client_nonce.is_empty() || !client_nonce.bytes().all(|b| (0x21..=0x7e).contains(&b)) {
            return Err(malformed("Invalid nonce."));
        }
        let mut server_nonce = [0u8; SERVER_NONCE_LENGTH];
        rand::thread_rng().fill_bytes(&mut server_nonce);
        let nonce = format!("{client_nonce}{}", BASE64.encode(server_nonce));
        let server_first = format!(
            "r={nonce},s={},i={}",
            BASE64.encode(&self.verifier.salt),
            self.verifier.iterations
        );
        self.state = State::AwaitingClientFinal {
            gs2_header,
            client_first_bare: client_first_bare.to_string(),
            server_first: server_first.clone(),
            nonce,
        };
        Ok(server_first)
    }

    /// Reads client-final-message and checks the proof; returns server-final-message.
    pub fn client_final(&mut self, message: &[u8]) -> Result<String, ScramError> {
        let State::AwaitingClientFinal {
            gs2_header,
            client_first_bare,
            server_first,
            nonce,
        } = std::mem::replace(&mut self.state, State::Finished)
        else {
            return Err(malformed("Unexpected SCRAM message."));
        };
        let message =
            std::str::from_utf8(message).map_err(|_| malformed("Message is not valid UTF-8."))?;
        let Some(proof_at) = message.rfind(",p=") else {
            return Err(malformed("Expected attribute \"p\"."));
        };
        let without_proof = &message[..proof_at];
        let proof_text = &message[proof_at + 3..];
        let mut attributes = without_proof.split(',');
        let binding = match attributes.next() {
            Some(c) if c.starts_with("c=") => &c[2..],
            _ => return Err(malformed("Expected attribute \"c\".")),
        };
        let binding = BASE64
            .decode(binding)
            .map_err(|_| malformed("Invalid channel binding data."))?;
        if binding != gs2_header {
            return Err(ScramError::Malformed {
                message: "SCRAM channel binding check failed",
                detail: String::new(),
            });
        }
        match attributes.next() {
            Some(r) if r.strip_prefix("r=") == Some(nonce.as_str()) => {}
            Some(r) if r.starts_with("r=") => return Err(malformed("Nonce does not match.")),
            _ => return Err(malformed("Expected attribute \"r\".")),
        }
        let proof: [u8; 32] = BASE64
            .decode(proof_text)
            .ok()
            .and_then(|p| p.try_into().ok())
            .ok_or_else(|| malformed("Malformed proof in client-final-message."))?;

        let auth_message = format!("{client_first_bare},{server_first},{without_proof}");
        let client_signature = hmac(&self.verifier.stored_key, auth_message.as_bytes());
        let mut client_key = [0u8; 32];
        for i in 0..32 {
            client_key[i] = proof[i] ^ client_signature[i];
        }
        let matches = constant_time_eq(&sha256(&client_key), &self.verifier.stored_key);
        if !matches || self.doomed {
            return Err(ScramError::AuthenticationFailed);
        }
        let server_signature = hmac(&self.verifier.server_key, auth_message.as_bytes());
        Ok(format!("v={}", BASE64.encode(server_signature)))
    }
}

fn constant_time_eq(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.iter()
        .zip(b.iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}

/// The client side of an exchange, for tests (of this module and of the connection).
#[cfg(test)]
pub mod client {
    use super::*;
    use sql::acl::password::{prepare_password, salted_password};

    pub struct ScramClient {
        pub password: String,
        pub nonce: String,
        pub gs2_header: String,
        /// Channel-binding data sent after the GS2 header in `c=` (for `p=...`).
        pub binding: Vec<u8>,
        client_first_bare: String,
        auth_message: String,
        salted: [u8; 32],
    }

    impl ScramClient {
        pub fn new(password: &str) -> ScramClient {
            ScramClient {
                password: password.into(),
                nonce: "rOprNGfwEbeRWgbNEkqO".into(),
                gs2_header: "n,,".into(),
                binding: Vec::new(),
                client_first_bare: String::new(),
                auth_message: String::new(),
                salted: [0; 32],
            }
        }

        pub fn client_first(&mut self) -> String {
            self.client_first_bare = format!("n=,r={}", self.nonce);
            format!("{}{}", self.gs2_header, self.client_first_bare)
        }

        pub fn client_final(&mut self, server_first: &str) -> String {
            let mut nonce = "";
            let mut salt = Vec::new();
            let mut iterations = 0;
            for attribute in server_first.split(',') {
                match attribute.split_at(2) {
                    ("r=", v) => nonce = v,
                    ("s=", v) => salt = BASE64.decode(v).unwrap(),
                    ("i=", v) => iterations = v.parse().unwrap(),
                    _ => {}
                }
            }
            assert!(nonce.starts_with(&self.nonce));
            self.salted = salted_password(&prepare_password(&self.password), &salt, iterations);
            let mut c = self.gs2_header.as_bytes().to_vec();
            c.extend_from_slice(&self.binding);
            let without_proof = format!("c={},r={nonce}", BASE64.encode(&c));
            self.auth_message =
                format!("{},{server_first},{without_proof}", self.client_first_bare);
            let client_key = hmac(&self.salted, b"Client Key");
            let signature = hmac(&sha256(&client_key), self.auth_message.as_bytes());
            let proof: Vec<u8> = client_key
                .iter()
                .zip(signature.iter())
                .map(|(a, b)| a ^ b)
                .collect();
            format!("{without_proof},p={}", BASE64.encode(proof))
        }

        /// Checks the server's signature in server-final-message.
        pub fn verify_server(&self, server_final: &str) -> bool {
            let server_key = hmac(&self.salted, b"Server Key");
            let expected = hmac(&server_key, self.auth_message.as_bytes());
            server_final == format!("v={}", BASE64.encode(expected))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::client::ScramClient;
    use super::*;
    use sql::acl::password::{prepare_password, salted_password};

    #[test]
    fn pbkdf2_matches_rfc7677_test_vector() {
        // RFC 7677, section 3: user "user", password "pencil", salt W22ZaJ0SNY7soEsUEjb6gQ==,
        // 4096 iterations.
        let salt = BASE64.decode("W22ZaJ0SNY7soEsUEjb6gQ==").unwrap();
        let salted = salted_password(b"pencil", &salt, 4096);
        let server_key = hmac(&salted, b"Server Key");
        let client_first_bare = "n=user,r=rOprNGfwEbeRWgbNEkqO";
        let server_first = "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,\
                            s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
        let without_proof = "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
        let auth = format!("{client_first_bare},{server_first},{without_proof}");
        let client_key = hmac(&salted, b"Client Key");
        let signature = hmac(&sha256(&client_key), auth.as_bytes());
        let proof: Vec<u8> = client_key
            .iter()
            .zip(signature)
            .map(|(a, b)| a ^ b)
            .collect();
        assert_eq!(
            BASE64.encode(proof),
            "dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
        );
        assert_eq!(
            BASE64.encode(hmac(&server_key, auth.as_bytes())),
            "6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="
        );
    }

    #[test]
    fn verifier_text_round_trips() {
        let verifier = Verifier::from_password("secret", b"0123456789abcdef", 4096);
        let text = verifier.encode();
        assert!(text.starts_with("SCRAM-SHA-256$4096:MDEyMzQ1Njc4OWFiY2RlZg==$"));
        assert_eq!(Verifier::parse(&text), Some(verifier));
        assert_eq!(Verifier::parse("md5abc"), None);
        assert_eq!(Verifier::parse("SCRAM-SHA-256$0:AA==$AA==:AA=="), None);
    }

    #[test]
    fn correct_password_authenticates_and_server_proves_itself() {
        let verifier = Verifier::generate("correct horse");
        let mut server = ScramServer::new(Some(verifier), "alice", b"secret");
        let mut client = ScramClient::new("correct horse");
        let server_first = server
            .client_first(client.client_first().as_bytes())
            .unwrap();
        let client_final = client.client_final(&server_first);
        let server_final = server.client_final(client_final.as_bytes()).unwrap();
        assert!(client.verify_server(&server_final));
    }

    #[test]
    fn wrong_password_fails() {
        let verifier = Verifier::generate("right");
        let mut server = ScramServer::new(Some(verifier), "alice", b"secret");
        let mut client = ScramClient::new("wrong");
        let server_first = server
            .client_first(client.client_first().as_bytes())
            .unwrap();
        let client_final = client.client_final(&server_first);
        assert_eq!(
            server.client_final(client_final.as_bytes()),
            Err(ScramError::AuthenticationFailed)
        );
    }

    #[test]
    fn unknown_user_gets_a_stable_mock_salt_and_fails() {
        let salt_of = |user: &str| {
            let mut server = ScramServer::new(None, user, b"secret");
            let first = server.client_first(b"n,,n=,r=abc").unwrap();
            first.split(',').nth(1).unwrap().to_string()
        };
        assert_eq!(salt_of("mallory"), salt_of("mallory"));
        assert_ne!(salt_of("mallory"), salt_of("trudy"));
        let mut server = ScramServer::new(None, "mallory", b"secret");
        let mut client = ScramClient::new("anything");
        let first = server
            .client_first(client.client_first().as_bytes())
            .unwrap();
        assert!(first.ends_with(",i=4096"));
        let client_final = client.client_final(&first);
        assert_eq!(
            server.client_final(client_final.as_bytes()),
            Err(ScramError::AuthenticationFailed)
        );
    }

    #[test]
    fn channel_binding_flags() {
        let verifier = Verifier::generate("pw");
        // 'y' (client supports binding, thinks the server does not) is accepted.
        let mut server = ScramServer::new(Some(verifier.clone()), "u", b"s");
        let mut client = ScramClient::new("pw");
        client.gs2_header = "y,,".into();
        let first = server
            .client_first(client.client_first().as_bytes())
            .unwrap();
        let client_final = client.client_final(&first);
        assert!(server.client_final(client_final.as_bytes()).is_ok());
        // 'p' needs TLS.
        let mut server = ScramServer::new(Some(verifier.clone()), "u", b"s");
        assert!(matches!(
            server.client_first(b"p=tls-server-end-point,,n=,r=abc"),
            Err(ScramError::Malformed { .. })
        ));
        // c= must repeat the header: a 'y' client claiming 'n' in the final message fails.
        let mut server = ScramServer::new(Some(verifier), "u", b"s");
        let mut client = ScramClient::new("pw");
        let first = server
            .client_first(b"y,,n=,r=rOprNGfwEbeRWgbNEkqO")
            .unwrap();
        client.client_first();
        let client_final = client.client_final(&first);
        assert!(matches!(
            server.client_final(client_final.as_bytes()),
            Err(ScramError::Malformed {
                message: "SCRAM channel binding check failed",
                ..
            })
        ));
    }

    #[test]
    fn scram_plus_binds_to_the_tls_certificate_and_refuses_downgrades() {
        let verifier = Verifier::generate("pw");
        let end_point = b"certificate hash".to_vec();
        let plus = |data: &[u8]| {
            ScramServer::new(Some(verifier.clone()), "u", b"s")
                .with_channel_binding(Some(data.to_vec()), true)
        };
        let mut client = ScramClient::new("pw");
        client.gs2_header = "p=tls-server-end-point,,".into();
        client.binding = end_point.clone();
        // The right certificate hash.
        let mut server = plus(&end_point);
        let first = server
            .client_first(client.client_first().as_bytes())
            .unwrap();
        let client_final = client.client_final(&first);
        assert!(server.client_final(client_final.as_bytes()).is_ok());
        // A hash of another certificate (a man in the middle) fails the binding check.
        let mut server = plus(b"another certificate");
        let first = server
            .client_first(client.client_first().as_bytes())
            .unwrap();
        let client_final = client.client_final(&first);
        assert!(matches!(
            server.client_final(client_final.as_bytes()),
            Err(ScramError::Malformed {
                message: "SCRAM channel binding check failed",
                ..
            })
        ));
        // Another binding type is refused.
        let mut server = plus(&end_point);
        assert!(server.client_first(b"p=tls-unique,,n=,r=abc").is_err());
        // PLUS chosen without binding data in the message.
        let mut server = plus(&end_point);
        assert!(server.client_first(b"n,,n=,r=abc").is_err());
        // 'y' while the server offers PLUS: a downgrade.
        let mut server = ScramServer::new(Some(verifier), "u", b"s")
            .with_channel_binding(Some(end_point), false);
        assert!(matches!(
            server.client_first(b"y,,n=,r=abc"),
            Err(ScramError::Malformed {
                message: "SCRAM channel binding negotiation error",
                ..
            })
        ));
    }

    #[test]
    fn malformed_messages_are_protocol_errors_not_panics() {
        let verifier = Verifier::generate("pw");
        for bad in [
            &b""[..],
            b"x",
            b"n",
            b"n,",
            b"n,,",
            b"n,,r=abc",
            b"n,,n=",
            b"n,,n=,r=",
            b"n,,n=,r=a b",
            b"\xff\xfe",
        ] {
            let mut server = ScramServer::new(Some(verifier.clone()), "u", b"s");
            assert!(server.client_first(bad).is_err(), "{bad:?}");
        }
        assert!(matches!(
            ScramServer::new(Some(verifier.clone()), "u", b"s").client_first(b"n,a=bob,n=,r=x"),
            Err(ScramError::Unsupported(_))
        ));
        for bad in [
            &b""[..],
            b"c=biws",
            b"c=biws,r=wrong,p=AAAA",
            b"c=!!,r=x,p=AA==",
            b"r=x,p=AA==",
        ] {
            let mut server = ScramServer::new(Some(verifier.clone()), "u", b"s");
            server.client_first(b"n,,n=,r=abc").unwrap();
            assert!(server.client_final(bad).is_err(), "{bad:?}");
        }
        // A proof of the wrong length.
        let mut server = ScramServer::new(Some(verifier), "u", b"s");
        let first = server.client_first(b"n,,n=,r=abc").unwrap();
        let nonce = &first[2..first.find(',').unwrap()];
        let message = format!("c=biws,r={nonce},p=AAAA");
        assert!(matches!(
            server.client_final(message.as_bytes()),
            Err(ScramError::Malformed { .. })
        ));
    }

    #[test]
    fn sasl_prep_maps_spaces_and_drops_soft_hyphens() {
        assert_eq!(prepare_password("plain"), b"plain");
        assert_eq!(prepare_password("a\u{00A0}b\u{00AD}c"), b"a bc");
    }
}
