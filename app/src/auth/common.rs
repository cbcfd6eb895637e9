//! The list of commonly used passwords shipped with Bedside (see common-passwords.LICENSE).

use std::{collections::HashSet, sync::LazyLock};

static COMMON: LazyLock<HashSet<&'static str>> =
    LazyLock::new(|| include_str!("common-passwords.txt").lines().collect());

/// Whether `lower` (a lowercased password) is a common password, or one dressed up the usual
/// ways: digits or symbols added at either end, or a common word repeated.
pub fn is_common(lower: &str) -> bool {
    if COMMON.contains(lower) {
        return true;
    }
    let decoration = |c: char| c.is_ascii_digit() || c.is_ascii_punctuation() || c == ' ';
    let core = lower.trim_matches(decoration);
    if core.chars().count() >= 4 && COMMON.contains(core) {
        return true;
    }
    // "passwordpassword", "abcabcabcabc": one common chunk, repeated.
    let chars: Vec<char> = core.chars().collect();
    (1..=chars.len() / 2).any(|len| {
        chars.len().is_multiple_of(len)
            && chars.chunks(len).all(|chunk| chunk == &chars[..len])
            && (len < 4 || COMMON.contains(chars[..len].iter().collect::<String>().as_str()))
    })
}

#[cfg(test)]
mod tests {
    use super::is_common;

    #[test]
    fn the_list_is_loaded_and_ordinary_passphrases_pass() {
        assert!(is_common("password"));
        assert!(is_common("123qweasdzxc"));
        assert!(is_common("aaaaaaaaaaaa"));
        assert!(!is_common("harbor lantern violet"));
        assert!(!is_common("correct horse battery staple"));
    }
}
