//! The client side of SCRAM-SHA-256 (RFC 5802, RFC 7677) as PostgreSQL uses it: no channel
//! binding (`n,,` GS2 header), the user name left empty in the SCRAM messages (the server takes
//! it from the startup packet, as libpq does), the password used as it is (no SASLprep: the
//! harness only uses ASCII passwords).

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use hmac::{Hmac, Mac};
use rand::distributions::Alphanumeric;
use rand::Rng;
use sha2::{Digest, Sha256};

use crate::error::{HarnessError, HarnessResult};

type HmacSha256 = Hmac<Sha256>;

/// The SASL mechanism name.
pub const MECHANISM: &str = "SCRAM-SHA-256";

/// One SCRAM-SHA-256 exchange, client side.
pub struct ScramClient {
    password: String,
    client_first_bare: String,
    client_nonce: String,
    /// Set once the server-first message has been answered: the expected server signature.
    expected_server_signature: Option<Vec<u8>>,
}

impl ScramClient {
    /// A client with a random nonce and an empty SCRAM user name (PostgreSQL's convention).
    pub fn new(password: &str) -> Self {
        let nonce: String = rand::thread_rng()
            .sample_iter(&Alphanumeric)
            .take(24)
            .map(char::from)
            .collect();
        Self::with_nonce("", password, &nonce)
    }

    /// A client with a fixed user name and nonce (for the RFC 7677 test vector).
    pub fn with_nonce(user: &str, password: &str, nonce: &str) -> Self {
        ScramClient {
            password: password.to_string(),
            client_first_bare: format!("n={user},r={nonce}"),
            client_nonce: nonce.to_string(),
            expected_server_signature: None,
        }
    }

    /// The client-first message.
    pub fn client_first(&self) -> String {
        format!("n,,{}", self.client_first_bare)
    }

    /// Answers the server-first message (`r=...,s=...,i=...`) with the client-final message.
    pub fn client_final(&mut self, server_first: &str) -> HarnessResult<String> {
        let mut nonce = None;
        let mut salt = None;
        let mut iterations = None;
        for attribute in server_first.split(',') {
            if let Some(value) = attribute.strip_prefix("r=") {
                nonce = Some(value);
            } else if let Some(value) = attribute.strip_prefix("s=") {
                salt =
                    Some(BASE64.decode(value).map_err(|e| {
                        HarnessError::new(format!("SCRAM salt is not base64: {e}"))
                    })?);
            } else if let Some(value) = attribute.strip_prefix("i=") {
                iterations = value.parse::<u32>().ok();
            }
        }
        let (Some(nonce), Some(salt), Some(iterations)) = (nonce, salt, iterations) else {
            return Err(HarnessError::new(format!(
                "malformed SCRAM server-first message {server_first:?}"
            )));
        };
        if !nonce.starts_with(&self.client_nonce) || iterations == 0 {
            return Err(HarnessError::new(format!(
                "SCRAM server-first message {server_first:?} does not extend our nonce or has \
                 no iterations"
            )));
        }
        let salted_password = hi(self.password.as_bytes(), &salt, iterations);
        let client_key = hmac(&salted_password, b"Client Key");
        let stored_key = Sha256::digest(&client_key);
        // "biws" is base64("n,,"): the GS2 header without channel binding.
        let client_final_without_proof = format!("c=biws,r={nonce}");
        let auth_message = format!(
            "{},{server_first},{client_final_without_proof}",
            self.client_first_bare
        );
        let client_signature = hmac(&stored_key, auth_message.as_bytes());
        let proof: Vec<u8> = client_key
            .iter()
            .zip(&client_signature)
            .map(|(key, signature)| key ^ signature)
            .collect();
        let server_key = hmac(&salted_password, b"Server Key");
        self.expected_server_signature = Some(hmac(&server_key, auth_message.as_bytes()));
        Ok(format!(
            "{client_final_without_proof},p={}",
            BASE64.encode(proof)
        ))
    }

    /// Checks the server-final message (`v=<server signature>`).
    pub fn verify_server_final(&self, server_final: &str) -> HarnessResult<()> {
        let expected = self
            .expected_server_signature
            .as_ref()
            .ok_or_else(|| HarnessError::new("SCRAM server-final before server-first"))?;
        let signature = server_final
            .strip_prefix("v=")
            .and_then(|value| BASE64.decode(value.trim_end_matches('\0')).ok())
            .ok_or_else(|| {
                HarnessError::new(format!("malformed SCRAM server-final {server_final:?}"))
            })?;
        if &signature == expected {
            Ok(())
        } else {
            Err(HarnessError::new("SCRAM server signature does not verify"))
        }
    }
}

fn hmac(key: &[u8], message: &[u8]) -> Vec<u8> {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC accepts keys of any length");
    mac.update(message);
    mac.finalize().into_bytes().to_vec()
}

/// `Hi()` of RFC 5802: PBKDF2 with HMAC-SHA-256 and one output block.
fn hi(password: &[u8], salt: &[u8], iterations: u32) -> Vec<u8> {
    let mut first_input = salt.to_vec();
    first_input.extend_from_slice(&1u32.to_be_bytes());
    let mut previous = hmac(password, &first_input);
    let mut result = previous.clone();
    for _ in 1..iterations {
        previous = hmac(password, &previous);
        for (accumulated, byte) in result.iter_mut().zip(&previous) {
            *accumulated ^= byte;
        }
    }
    result
}

#[cfg(test)]
mod tests {
    use super::ScramClient;

    /// The example exchange of RFC 7677, section 3.
    #[test]
    fn rfc7677_test_vector() {
        let mut client = ScramClient::with_nonce("user", "pencil", "rOprNGfwEbeRWgbNEkqO");
        assert_eq!(client.client_first(), "n,,n=user,r=rOprNGfwEbeRWgbNEkqO");
        let server_first = "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,\
                            s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
        let client_final = client.client_final(server_first).unwrap();
        assert_eq!(
            client_final,
            "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,\
             p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
        );
        client
            .verify_server_final("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=")
            .unwrap();
        assert!(client.verify_server_final("v=AAAA").is_err());
    }
}
