//! Loading the encryption keys: configured keys in production, a generated development key
//! (loudly flagged) on a developer's machine.

use crate::settings::{Environment, Settings};
use anyhow::{bail, Context};
use app::crypto::{Keyring, MasterKey};
use secrecy::ExposeSecret;
use std::path::Path;

pub const DEV_KEY_FILE: &str = "dev-master.key";

/// The keyring the settings describe. Refuses to start in production without a key: health data
/// must never be encrypted with a key that sits unprotected beside the database.
pub fn load_keyring(settings: &Settings) -> anyhow::Result<Keyring> {
    let configured = &settings.encryption.keys;
    if configured.is_empty() {
        if settings.environment == Environment::Production {
            bail!(
                "no encryption key is configured. Production needs at least one: set \
                 BEDSIDE_ENCRYPTION__KEYS='[{{id=1, key=\"<32 random bytes, base64>\"}}]' \
                 (generate one with `openssl rand -base64 32`) or [[encryption.keys]] in the settings file"
            );
        }
        return development_keyring(&settings.data_dir);
    }
    let mut keys = Vec::with_capacity(configured.len());
    for key in configured {
        let secret = key
            .key
            .as_ref()
            .with_context(|| format!("encryption key {} has no `key` value", key.id))?;
        keys.push(MasterKey::from_base64(key.id, secret.expose_secret())?);
    }
    let active = settings
        .encryption
        .active
        .or_else(|| keys.iter().map(MasterKey::id).max())
        .unwrap_or(1);
    Ok(Keyring::new(keys, active)?)
}

fn development_keyring(data_dir: &Path) -> anyhow::Result<Keyring> {
    let path = data_dir.join(DEV_KEY_FILE);
    let key = if path.exists() {
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        let (id, key) = text
            .trim()
            .split_once(':')
            .with_context(|| format!("{} must read `<id>:<base64 key>`", path.display()))?;
        MasterKey::from_base64(
            id.parse()
                .with_context(|| format!("the key id in {}", path.display()))?,
            key,
        )?
    } else {
        std::fs::create_dir_all(data_dir)
            .with_context(|| format!("creating {}", data_dir.display()))?;
        let key = MasterKey::generate(1);
        write_private(&path, &format!("1:{}\n", key.to_base64()))?;
        key
    };
    tracing::warn!(
        path = %path.display(),
        "USING A DEVELOPMENT ENCRYPTION KEY. It is stored next to the data it protects and is \
         for development and demos only; configure encryption.keys before storing real patients' data"
    );
    Ok(Keyring::new(vec![key.clone()], key.id())?)
}

pub fn write_private(path: &Path, contents: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    file.write_all(contents.as_bytes())
        .with_context(|| format!("writing {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::ConfiguredKey;
    use app::crypto::FieldContext;
    use secrecy::SecretString;

    const CONTEXT: FieldContext<'static> = FieldContext {
        table: "t",
        column: "c",
        row: "1",
    };

    #[test]
    fn development_creates_a_private_key_file_once_and_reuses_it() {
        let dir = tempfile::tempdir().expect("dir");
        let settings = Settings {
            data_dir: dir.path().to_path_buf(),
            ..Settings::default()
        };
        let first = load_keyring(&settings).expect("dev keyring");
        let sealed = first.encrypt(&CONTEXT, b"dob 1961-04-12");
        let second = load_keyring(&settings).expect("same key again");
        assert_eq!(
            second.decrypt(&CONTEXT, &sealed).expect("opens"),
            b"dob 1961-04-12"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(DEV_KEY_FILE))
                .expect("file")
                .permissions()
                .mode();
            assert_eq!(mode & 0o077, 0, "only the owner may read the key");
        }
    }

    #[test]
    fn production_refuses_to_start_without_a_configured_key() {
        let dir = tempfile::tempdir().expect("dir");
        let settings = Settings {
            environment: Environment::Production,
            data_dir: dir.path().to_path_buf(),
            ..Settings::default()
        };
        let error = load_keyring(&settings).expect_err("no key").to_string();
        assert!(error.contains("no encryption key is configured"), "{error}");
        assert!(
            !dir.path().join(DEV_KEY_FILE).exists(),
            "no development key in production"
        );
    }

    #[test]
    fn configured_keys_rotate_to_the_highest_id_unless_one_is_named_active() {
        let key = |id: u32| ConfiguredKey {
            id,
            key: Some(SecretString::from(MasterKey::generate(id).to_base64())),
        };
        let mut settings = Settings {
            environment: Environment::Production,
            ..Settings::default()
        };
        settings.encryption.keys = vec![key(1), key(2)];
        assert_eq!(load_keyring(&settings).expect("keyring").active_key_id(), 2);
        settings.encryption.active = Some(1);
        assert_eq!(load_keyring(&settings).expect("keyring").active_key_id(), 1);
        settings.encryption.keys.push(ConfiguredKey {
            id: 3,
            key: Some(SecretString::from("too-short")),
        });
        assert!(load_keyring(&settings).is_err());
    }
}
