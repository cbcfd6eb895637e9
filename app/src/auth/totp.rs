//! Time-based one-time passwords (RFC 6238: HMAC-SHA1, 6 digits, 30-second steps) and recovery
//! codes.
//!
//! A code is accepted for the current step or one step either side (clock drift), and only for
//! a step later than the last one accepted, so a code seen over someone's shoulder cannot be
//! used again.

use rand::{Rng, RngCore};
use subtle::ConstantTimeEq;
use totp_rs::{Algorithm, Secret, TOTP};

const STEP_SECONDS: u64 = 30;
const DIGITS: usize = 6;
/// 160 bits, RFC 4226's recommended secret length.
const SECRET_BYTES: usize = 20;

/// A fresh secret for a new enrollment.
pub fn new_secret() -> Vec<u8> {
    let mut secret = vec![0u8; SECRET_BYTES];
    rand::rng().fill_bytes(&mut secret);
    secret
}

fn totp(secret: &[u8], issuer: &str, account: &str) -> Option<TOTP> {
    // The otpauth URL may not carry ':' in either label.
    TOTP::new(
        Algorithm::SHA1,
        DIGITS,
        1,
        STEP_SECONDS,
        secret.to_vec(),
        Some(issuer.replace(':', " ")),
        account.replace(':', " "),
    )
    .ok()
}

/// The `otpauth://` URL an authenticator app reads from the QR code.
pub fn otpauth_url(secret: &[u8], issuer: &str, account: &str) -> Option<String> {
    totp(secret, issuer, account).map(|t| t.get_url())
}

/// The secret in base32, in groups of four, for typing into an app by hand.
pub fn manual_key(secret: &[u8]) -> String {
    let encoded = Secret::Raw(secret.to_vec()).to_encoded().to_string();
    encoded
        .as_bytes()
        .chunks(4)
        .map(|chunk| String::from_utf8_lossy(chunk).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The QR code of `url` as an SVG image (no raster library, scales on any screen).
pub fn qr_svg(url: &str) -> Option<String> {
    let code = qrcode::QrCode::new(url.as_bytes()).ok()?;
    Some(
        code.render::<qrcode::render::svg::Color<'_>>()
            .min_dimensions(200, 200)
            .quiet_zone(true)
            .build(),
    )
}

/// The 30-second step `unix_seconds` falls in.
pub fn step_of(unix_seconds: u64) -> i64 {
    i64::try_from(unix_seconds / STEP_SECONDS).unwrap_or(i64::MAX)
}

/// The code for `step` (tests and the demo use it to act as an authenticator app).
pub fn code_at_step(secret: &[u8], step: i64) -> String {
    let seconds = u64::try_from(step).unwrap_or(0) * STEP_SECONDS;
    totp(secret, "Bedside", "code")
        .map(|t| t.generate(seconds))
        .unwrap_or_default()
}

/// Checks `code` at `unix_seconds`; returns the step it matched when it is good and later than
/// `last_step`.
pub fn verify(secret: &[u8], code: &str, unix_seconds: u64, last_step: Option<i64>) -> Option<i64> {
    let code: String = code
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect();
    if code.len() != DIGITS || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let now = step_of(unix_seconds);
    let mut matched = None;
    // Every candidate is computed and compared in constant time, whichever matches.
    for step in [now - 1, now, now + 1] {
        let expected = code_at_step(secret, step);
        let equal: bool = expected.as_bytes().ct_eq(code.as_bytes()).into();
        if equal && last_step.is_none_or(|last| step > last) {
            matched = Some(step);
        }
    }
    matched
}

/// Characters of recovery codes: lowercase letters and digits without 0/o, 1/l/i.
const RECOVERY_ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";

/// Ten codes of 16 characters (about 79 bits each), shown once as `xxxx-xxxx-xxxx-xxxx`.
pub fn new_recovery_codes() -> Vec<String> {
    let mut rng = rand::rng();
    (0..10)
        .map(|_| {
            let raw: String = (0..16)
                .map(|_| RECOVERY_ALPHABET[rng.random_range(0..RECOVERY_ALPHABET.len())] as char)
                .collect();
            raw.as_bytes()
                .chunks(4)
                .map(|c| String::from_utf8_lossy(c).into_owned())
                .collect::<Vec<_>>()
                .join("-")
        })
        .collect()
}

/// The form a recovery code is hashed in: lowercase, without separators or spaces.
pub fn normalise_recovery_code(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_6238_test_vector_for_sha1() {
        // RFC 6238 appendix B: secret "12345678901234567890", T=59 → 94287082 (8 digits);
        // the 6-digit code is its last six digits.
        let secret = b"12345678901234567890";
        assert_eq!(code_at_step(secret, step_of(59)), "287082");
        assert_eq!(code_at_step(secret, step_of(1_111_111_109)), "081804");
    }

    #[test]
    fn a_code_is_good_for_one_step_either_side_and_only_once() {
        let secret = new_secret();
        let now = 1_790_000_000u64;
        let step = step_of(now);
        let code = code_at_step(&secret, step);
        assert_eq!(verify(&secret, &code, now, None), Some(step));
        assert_eq!(verify(&secret, &code, now + 30, None), Some(step));
        assert_eq!(verify(&secret, &code, now - 30, None), Some(step));
        assert_eq!(verify(&secret, &code, now + 60, None), None);
        // Replay: the step was used.
        assert_eq!(verify(&secret, &code, now, Some(step)), None);
        assert_eq!(verify(&secret, "12345", now, None), None);
        assert_eq!(verify(&secret, "abcdef", now, None), None);
        let spaced = format!("{} {}", &code[..3], &code[3..]);
        assert_eq!(verify(&secret, &spaced, now, None), Some(step));
    }

    #[test]
    fn enrollment_material_is_readable_by_authenticator_apps() {
        let secret = new_secret();
        let url =
            otpauth_url(&secret, "Harbor Street Medicine", "dr.marsh@example.com").expect("url");
        assert!(url.starts_with("otpauth://totp/"), "{url}");
        assert!(url.contains("secret="), "{url}");
        let svg = qr_svg(&url).expect("svg");
        assert!(svg.contains("<svg"), "{svg}");
        assert_eq!(manual_key(&secret).replace(' ', "").len(), 32);
    }

    #[test]
    fn recovery_codes_are_ten_distinct_unambiguous_codes() {
        let codes = new_recovery_codes();
        assert_eq!(codes.len(), 10);
        let distinct: std::collections::HashSet<_> = codes.iter().collect();
        assert_eq!(distinct.len(), 10);
        for code in &codes {
            assert_eq!(code.len(), 19);
            assert_eq!(normalise_recovery_code(code).len(), 16);
            assert!(!code.contains(['0', 'o', '1', 'l', 'i']));
        }
        assert_eq!(normalise_recovery_code(" ABCD-efgh "), "abcdefgh");
    }
}
