//! A SMART Health Link: the `shlink:/` payload (the manifest's URL, the files' key, when it
//! expires, its flags and label), minified JSON in base64url, as the specification builds it.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};

/// The payload, its fields in the specification's example's order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShlPayload {
    /// The manifest's URL (at least 256 bits of entropy, at most 128 characters).
    pub url: String,
    /// `P` when a passcode is asked for (flags in alphabetical order).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flag: Option<String>,
    /// The files' key: 32 random bytes, base64url (43 characters).
    pub key: String,
    /// At most 80 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// When it expires, in seconds since the epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
}

impl ShlPayload {
    /// `shlink:/…`.
    pub fn to_link(&self) -> String {
        let json = serde_json::to_vec(self).unwrap_or_default();
        format!("shlink:/{}", URL_SAFE_NO_PAD.encode(json))
    }

    /// The payload of `link` (`shlink:/…`, or a viewer URL ending in `#shlink:/…`).
    pub fn parse(link: &str) -> Option<ShlPayload> {
        let encoded = link.rsplit_once("shlink:/")?.1;
        let json = URL_SAFE_NO_PAD.decode(encoded.trim()).ok()?;
        serde_json::from_slice(&json).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_specifications_example_link_is_built_byte_for_byte() {
        let payload = ShlPayload {
            url: "https://ehr.example.org/qr/Y9xwkUdtmN9wwoJoN3ffJIhX2UGvCL1JnlPVNL3kDWM/m".into(),
            flag: Some("LP".into()),
            key: "rxTgYlOaKJPFtcEd0qcceN8wEU4p94SqAwIWQe6uX7Q".into(),
            label: Some("Back-to-school immunizations for Oliver Brown".into()),
            exp: None,
        };
        let expected = "shlink:/eyJ1cmwiOiJodHRwczovL2Voci5leGFtcGxlLm9yZy9xci9ZOXh3a1VkdG1OOXd3b0pvTjNmZkpJaFgyVUd2Q0wxSm5sUFZOTDNrRFdNL20iLCJmbGFnIjoiTFAiLCJrZXkiOiJyeFRnWWxPYUtKUEZ0Y0VkMHFjY2VOOHdFVTRwOTRTcUF3SVdRZTZ1WDdRIiwibGFiZWwiOiJCYWNrLXRvLXNjaG9vbCBpbW11bml6YXRpb25zIGZvciBPbGl2ZXIgQnJvd24ifQ";
        assert_eq!(payload.to_link(), expected);
        let viewer = format!("https://viewer.example.org#{expected}");
        assert_eq!(ShlPayload::parse(&viewer), Some(payload));
    }
}
