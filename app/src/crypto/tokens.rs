use chrono::{DateTime, Duration, Utc};
use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use std::fmt;

/// Issues and verifies short-lived HS256 tokens (video room tokens, share links).
///
/// Only HS256 is accepted, whatever a token's header claims (no `none`, no algorithm
/// confusion); the issuer and audience must match; expiry is checked against the caller's
/// clock with no leeway, so tests move time instead of sleeping.
#[derive(Clone)]
pub struct TokenSigner {
    issuer: String,
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl fmt::Debug for TokenSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenSigner")
            .field("issuer", &self.issuer)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TokenError {
    #[error("the link has expired")]
    Expired,
    #[error("the link is not valid")]
    Invalid,
}

#[derive(Debug, Serialize, Deserialize)]
struct Envelope<C> {
    iss: String,
    aud: String,
    iat: i64,
    exp: i64,
    #[serde(flatten)]
    claims: C,
}

impl TokenSigner {
    /// `secret` should be at least 32 random bytes.
    pub fn new(issuer: impl Into<String>, secret: &[u8]) -> Self {
        TokenSigner {
            issuer: issuer.into(),
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
        }
    }

    /// A token for `audience` (e.g. `video-room`), valid from `now` for `ttl`.
    pub fn issue<C: Serialize>(
        &self,
        audience: &str,
        claims: C,
        now: DateTime<Utc>,
        ttl: Duration,
    ) -> Result<String, TokenError> {
        let envelope = Envelope {
            iss: self.issuer.clone(),
            aud: audience.to_owned(),
            iat: now.timestamp(),
            exp: (now + ttl).timestamp(),
            claims,
        };
        encode(&Header::new(Algorithm::HS256), &envelope, &self.encoding)
            .map_err(|_| TokenError::Invalid)
    }

    /// The claims of a token issued by this signer for `audience`, if it has not expired at `now`.
    pub fn verify<C: DeserializeOwned>(
        &self,
        token: &str,
        audience: &str,
        now: DateTime<Utc>,
    ) -> Result<C, TokenError> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.algorithms = vec![Algorithm::HS256];
        validation.set_audience(&[audience]);
        validation.set_issuer(&[&self.issuer]);
        validation.set_required_spec_claims(&["exp", "aud", "iss"]);
        // Expiry is checked below against the caller's clock.
        validation.validate_exp = false;
        validation.leeway = 0;
        let data = decode::<Envelope<C>>(token, &self.decoding, &validation)
            .map_err(|_| TokenError::Invalid)?;
        if now.timestamp() >= data.claims.exp {
            return Err(TokenError::Expired);
        }
        Ok(data.claims.claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;

    #[derive(Debug, Serialize, Deserialize, PartialEq)]
    struct Room {
        room: String,
        participant: String,
    }

    fn room() -> Room {
        Room {
            room: "visit-42".into(),
            participant: "patient-7".into(),
        }
    }

    fn signer() -> TokenSigner {
        TokenSigner::new("bedside", b"0123456789abcdef0123456789abcdef")
    }

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).expect("time")
    }

    #[test]
    fn a_token_verifies_for_its_audience_until_it_expires() {
        let token = signer()
            .issue("video-room", room(), now(), Duration::minutes(5))
            .expect("issue");
        assert_eq!(
            signer().verify::<Room>(&token, "video-room", now() + Duration::seconds(299)),
            Ok(room())
        );
    }

    #[test]
    fn a_token_expired_by_one_second_is_rejected() {
        let token = signer()
            .issue("video-room", room(), now(), Duration::minutes(5))
            .expect("issue");
        assert_eq!(
            signer().verify::<Room>(&token, "video-room", now() + Duration::seconds(300)),
            Err(TokenError::Expired)
        );
        assert_eq!(
            signer().verify::<Room>(&token, "video-room", now() + Duration::seconds(301)),
            Err(TokenError::Expired)
        );
    }

    /// A five-minute room token for `audience` from `issuer`, verified by [`signer`] now.
    fn verified_by_signer(issuer: &TokenSigner, audience: &str) -> Result<Room, TokenError> {
        let token = issuer
            .issue(audience, room(), now(), Duration::minutes(5))
            .expect("issue");
        signer().verify::<Room>(&token, "video-room", now())
    }

    #[test]
    fn a_token_for_another_audience_is_rejected() {
        assert_eq!(
            verified_by_signer(&signer(), "share-link"),
            Err(TokenError::Invalid)
        );
    }

    #[test]
    fn a_token_signed_with_another_key_is_rejected() {
        let other = TokenSigner::new("bedside", b"another-secret-another-secret-!!");
        assert_eq!(
            verified_by_signer(&other, "video-room"),
            Err(TokenError::Invalid)
        );
    }

    #[test]
    fn a_token_from_another_issuer_is_rejected() {
        let other = TokenSigner::new("elsewhere", b"0123456789abcdef0123456789abcdef");
        assert_eq!(
            verified_by_signer(&other, "video-room"),
            Err(TokenError::Invalid)
        );
    }

    #[test]
    fn an_unsigned_alg_none_token_is_rejected() {
        let b64 = |v: &serde_json::Value| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
        };
        let header = b64(&serde_json::json!({"alg": "none", "typ": "JWT"}));
        let exp = (now() + Duration::minutes(5)).timestamp();
        let body = b64(
            &serde_json::json!({"iss": "bedside", "aud": "video-room", "iat": now().timestamp(), "exp": exp, "room": "visit-42", "participant": "intruder"}),
        );
        for token in [format!("{header}.{body}."), format!("{header}.{body}")] {
            assert_eq!(
                signer().verify::<Room>(&token, "video-room", now()),
                Err(TokenError::Invalid)
            );
        }
    }

    #[test]
    fn a_tampered_payload_is_rejected() {
        let token = signer()
            .issue("video-room", room(), now(), Duration::minutes(5))
            .expect("issue");
        let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
        let forged = serde_json::json!({"iss": "bedside", "aud": "video-room", "iat": now().timestamp(), "exp": (now() + Duration::minutes(5)).timestamp(), "room": "visit-42", "participant": "intruder"});
        parts[1] = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(forged.to_string());
        assert_eq!(
            signer().verify::<Room>(&parts.join("."), "video-room", now()),
            Err(TokenError::Invalid)
        );
    }
}
