//! JSON Web Encryption, compact serialization, for SMART Health Links' files: `alg: "dir"` (the
//! link's 32-byte key is the content key), `enc: "A256GCM"`, and `cty` naming what is inside.
//! Only this one shape is read or written, so there is no algorithm to negotiate (and none to
//! downgrade to). The protected header's base64url is the AAD, and every encryption takes a
//! fresh 96-bit IV. A small module over `aes-gcm` rather than a JOSE crate: the choices here
//! link OpenSSL or carry every algorithm; the test holds it against the spec's published
//! example and Python's `jwcrypto` both ways.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;

/// Why a JWE was not opened. Deliberately without detail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum JweError {
    #[error("not a compact JWE with alg dir and enc A256GCM")]
    Shape,
    #[error("the JWE does not open with this key, or was changed")]
    Tampered,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Header {
    alg: String,
    enc: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    cty: Option<String>,
}

/// `plaintext` sealed under `key` as a compact JWE whose `cty` is `content_type`.
pub fn encrypt(key: &[u8; 32], content_type: &str, plaintext: &[u8]) -> String {
    let header = Header {
        alg: "dir".into(),
        enc: "A256GCM".into(),
        cty: Some(content_type.to_owned()),
    };
    let header = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header).unwrap_or_default());
    let mut iv = [0u8; 12];
    rand::rng().fill_bytes(&mut iv);
    let cipher = Aes256Gcm::new(key.into());
    let sealed = cipher
        .encrypt(
            Nonce::from_slice(&iv),
            Payload {
                msg: plaintext,
                aad: header.as_bytes(),
            },
        )
        .unwrap_or_default();
    let (ciphertext, tag) = sealed.split_at(sealed.len().saturating_sub(16));
    format!(
        "{header}..{}.{}.{}",
        URL_SAFE_NO_PAD.encode(iv),
        URL_SAFE_NO_PAD.encode(ciphertext),
        URL_SAFE_NO_PAD.encode(tag)
    )
}

/// The content type and plaintext of compact JWE `jwe`, opened with `key`.
pub fn decrypt(key: &[u8; 32], jwe: &str) -> Result<(Option<String>, Vec<u8>), JweError> {
    let parts: Vec<&str> = jwe.trim().split('.').collect();
    let [header_b64, encrypted_key, iv, ciphertext, tag] = parts[..] else {
        return Err(JweError::Shape);
    };
    let decode = |part: &str| URL_SAFE_NO_PAD.decode(part).map_err(|_| JweError::Shape);
    let header: Header =
        serde_json::from_slice(&decode(header_b64)?).map_err(|_| JweError::Shape)?;
    if header.alg != "dir" || header.enc != "A256GCM" || !encrypted_key.is_empty() {
        return Err(JweError::Shape);
    }
    let iv = decode(iv)?;
    if iv.len() != 12 {
        return Err(JweError::Shape);
    }
    let mut sealed = decode(ciphertext)?;
    let tag = decode(tag)?;
    if tag.len() != 16 {
        return Err(JweError::Shape);
    }
    sealed.extend_from_slice(&tag);
    let plaintext = Aes256Gcm::new(key.into())
        .decrypt(
            Nonce::from_slice(&iv),
            Payload {
                msg: &sealed,
                aad: header_b64.as_bytes(),
            },
        )
        .map_err(|_| JweError::Tampered)?;
    Ok((header.cty, plaintext))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The key and file of the SMART Health Links specification's "Example Encryption".
    const SPEC_KEY: &str = "rxTgYlOaKJPFtcEd0qcceN8wEU4p94SqAwIWQe6uX7Q";
    const SPEC_JWE: &str = include_str!("spec-example.jwe");

    fn spec_key() -> [u8; 32] {
        URL_SAFE_NO_PAD
            .decode(SPEC_KEY)
            .expect("base64url")
            .try_into()
            .expect("32 bytes")
    }

    #[test]
    fn the_specifications_example_opens_as_a_smart_health_card() {
        let (cty, plaintext) = decrypt(&spec_key(), SPEC_JWE).expect("opens");
        assert_eq!(cty.as_deref(), Some("application/smart-health-card"));
        let card: serde_json::Value = serde_json::from_slice(&plaintext).expect("JSON");
        let first = card["verifiableCredential"][0].as_str().expect("a JWS");
        assert!(first.starts_with("eyJ6aXAiOiJERUYiLCJhbGciOiJFUzI1NiIsImtpZCI6IjNLZmRnLVh3UC03Z1h5eXd0VWZVQUR3QnVtRE9QS01ReC1pRUxMMTFX"));
    }

    #[test]
    fn a_round_trip_opens_and_each_encryption_differs() {
        let key = spec_key();
        let one = encrypt(
            &key,
            "application/fhir+json",
            b"{\"resourceType\":\"Bundle\"}",
        );
        let two = encrypt(
            &key,
            "application/fhir+json",
            b"{\"resourceType\":\"Bundle\"}",
        );
        assert_ne!(one, two, "a fresh IV each time");
        let (cty, plaintext) = decrypt(&key, &one).expect("opens");
        assert_eq!(cty.as_deref(), Some("application/fhir+json"));
        assert_eq!(plaintext, b"{\"resourceType\":\"Bundle\"}");
    }

    #[test]
    fn a_changed_header_iv_ciphertext_or_tag_or_another_key_is_refused() {
        let key = spec_key();
        let jwe = encrypt(&key, "application/fhir+json", b"hello, world");
        let parts: Vec<&str> = jwe.split('.').collect();
        for i in [0usize, 2, 3, 4] {
            let mut changed: Vec<String> = parts.iter().map(|p| (*p).to_owned()).collect();
            let mut bytes = URL_SAFE_NO_PAD.decode(&changed[i]).expect("b64");
            bytes[0] ^= 1;
            changed[i] = URL_SAFE_NO_PAD.encode(bytes);
            assert!(
                decrypt(&key, &changed.join(".")).is_err(),
                "part {i} changed"
            );
        }
        let mut other = key;
        other[0] ^= 1;
        assert_eq!(decrypt(&other, &jwe), Err(JweError::Tampered));
        // Another algorithm, or an encrypted key, is not read at all.
        let none = jwe.replacen(
            parts[0],
            &URL_SAFE_NO_PAD.encode(br#"{"alg":"none","enc":"A256GCM"}"#),
            1,
        );
        assert_eq!(decrypt(&key, &none), Err(JweError::Shape));
        assert_eq!(decrypt(&key, "a.b.c"), Err(JweError::Shape));
    }
}
