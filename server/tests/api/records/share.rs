//! SMART Health Links' file encryption (issue 14 §5) against an independent JOSE implementation
//! (Python's jwcrypto, when the test command installed it): what Bedside seals, jwcrypto opens;
//! what jwcrypto seals, Bedside opens; a changed byte opens in neither.

use app::records::share::jwe;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

fn checker() -> Option<String> {
    let python = std::env::var("BEDSIDE_TEST_CHECKERS").ok();
    if python.is_none() {
        eprintln!("skipped: the test command installs the JOSE checker (BEDSIDE_TEST_CHECKERS)");
    }
    python
}

fn jose(python: &str, args: &[&str]) -> std::process::Output {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../tools/jose_check.py");
    std::process::Command::new(python)
        .arg(script)
        .args(args)
        .output()
        .expect("run the JOSE checker")
}

#[test]
fn files_sealed_here_open_in_jwcrypto_and_the_other_way_round() {
    let Some(python) = checker() else { return };
    let key: [u8; 32] = rand::random();
    let key_text = URL_SAFE_NO_PAD.encode(key);
    let bundle = br#"{"resourceType":"Bundle","type":"collection","entry":[]}"#;

    // Sealed here, opened there.
    let sealed = jwe::encrypt(&key, "application/fhir+json", bundle);
    let file = tempfile::NamedTempFile::new().expect("temp");
    std::fs::write(file.path(), &sealed).expect("write");
    let path = file.path().to_str().expect("utf-8");
    let out = jose(&python, &["decrypt", &key_text, path]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let expected = [b"application/fhir+json\n".as_slice(), bundle].concat();
    assert_eq!(out.stdout, expected);

    // A changed byte: refused there too.
    let mut changed = sealed.clone().into_bytes();
    let last = changed.len() - 3;
    changed[last] = if changed[last] == b'A' { b'B' } else { b'A' };
    std::fs::write(file.path(), &changed).expect("write");
    assert!(!jose(&python, &["decrypt", &key_text, path])
        .status
        .success());

    // Sealed there, opened here.
    std::fs::write(file.path(), bundle).expect("write");
    let out = jose(
        &python,
        &["encrypt", &key_text, "application/fhir+json", path],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let theirs = String::from_utf8(out.stdout).expect("ascii");
    let (cty, plaintext) = jwe::decrypt(&key, &theirs).expect("opens here");
    assert_eq!(cty.as_deref(), Some("application/fhir+json"));
    assert_eq!(plaintext, bundle);
}
