use aes_gcm::{
    aead::{Aead, KeyInit, Payload},
    Aes256Gcm, Nonce,
};
use rand::RngCore;
use serde::{de::DeserializeOwned, Serialize};
use std::{collections::BTreeMap, fmt};

/// Format version of a sealed value: `[1][key id: u32 BE][nonce: 12 bytes][ciphertext + tag]`.
const FORMAT_V1: u8 = 1;
const HEADER: usize = 1 + 4 + 12;

/// One 256-bit master key and its id.
#[derive(Clone)]
pub struct MasterKey {
    id: u32,
    key: [u8; 32],
}

impl MasterKey {
    pub fn new(id: u32, key: [u8; 32]) -> Self {
        MasterKey { id, key }
    }

    /// A fresh random key (development keys, tests, `bedside keys generate`).
    pub fn generate(id: u32) -> Self {
        let mut key = [0u8; 32];
        rand::rng().fill_bytes(&mut key);
        MasterKey { id, key }
    }

    /// Parses the key from standard base64 of exactly 32 bytes.
    pub fn from_base64(id: u32, text: &str) -> Result<Self, CryptoError> {
        use base64::Engine as _;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(text.trim())
            .map_err(|_| CryptoError::BadKey(format!("key {id} is not valid base64")))?;
        let key: [u8; 32] = bytes.try_into().map_err(|_| {
            CryptoError::BadKey(format!("key {id} must be 32 bytes (44 base64 characters)"))
        })?;
        Ok(MasterKey { id, key })
    }

    pub fn to_base64(&self) -> String {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(self.key)
    }

    pub fn id(&self) -> u32 {
        self.id
    }
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A key never reaches a log.
        write!(f, "MasterKey({}, <redacted>)", self.id)
    }
}

/// Where a value lives; bound into the ciphertext as associated data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldContext<'a> {
    pub table: &'a str,
    pub column: &'a str,
    /// The row's stable identity (its primary key or public id).
    pub row: &'a str,
}

impl FieldContext<'_> {
    fn associated_data(&self) -> Vec<u8> {
        // Lengths first, so ("ab","c") and ("a","bc") differ.
        let mut aad = b"bedside/field/v1".to_vec();
        for part in [self.table, self.column, self.row] {
            aad.extend_from_slice(&(part.len() as u64).to_be_bytes());
            aad.extend_from_slice(part.as_bytes());
        }
        aad
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CryptoError {
    #[error("{0}")]
    BadKey(String),
    #[error("the value was encrypted with key {0}, which is not configured")]
    UnknownKey(u32),
    #[error("the value is not a Bedside ciphertext")]
    Malformed,
    /// Tampered with, moved to another row or column, or encrypted under another key.
    #[error("the value could not be decrypted: it was altered or does not belong here")]
    Rejected,
    #[error("the decrypted value has an unexpected shape: {0}")]
    Decode(String),
}

/// Every configured key, one of them active for new encryptions.
#[derive(Clone)]
pub struct Keyring {
    active: u32,
    keys: BTreeMap<u32, Aes256Gcm>,
    audit: AuditSeal,
}

/// What the audit seal's keys are derived for: a label of their own, so a seal never equals
/// anything else made with the master key.
const AUDIT_SEAL_LABEL: &[u8] = b"bedside/audit-seal/v1";

/// Signs and checks the audit log's entries with keys derived from the master keys, so the
/// signing keys live where the encryption keys live and never in the database: whoever can
/// write to the database can still not make a seal. A seal names the key that made it
/// (`v1:<key id>:<hex HMAC-SHA256>`), so rotated-out keys keep checking old entries as long as
/// they are configured.
#[derive(Clone, PartialEq, Eq)]
pub struct AuditSeal {
    active: u32,
    keys: std::sync::Arc<BTreeMap<u32, [u8; 32]>>,
}

impl fmt::Debug for AuditSeal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AuditSeal(active {}, <redacted>)", self.active)
    }
}

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

fn hmac(key: &[u8], message: &[u8]) -> HmacSha256 {
    use hmac::Mac as _;
    // HMAC takes a key of any length.
    let mut mac = <HmacSha256 as hmac::Mac>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
    mac.update(message);
    mac
}

impl AuditSeal {
    fn derive(keys: &[MasterKey], active: u32) -> Self {
        use hmac::Mac as _;
        let derived = keys
            .iter()
            .map(|key| {
                let mut out = [0u8; 32];
                out.copy_from_slice(&hmac(&key.key, AUDIT_SEAL_LABEL).finalize().into_bytes());
                (key.id, out)
            })
            .collect();
        AuditSeal {
            active,
            keys: std::sync::Arc::new(derived),
        }
    }

    /// The seal of `message` under the active key.
    pub fn sign(&self, message: &[u8]) -> String {
        use hmac::Mac as _;
        let key = &self.keys[&self.active];
        let tag = hmac(key, message).finalize().into_bytes();
        format!("v1:{}:{}", self.active, hex::encode(tag))
    }

    /// Whether `seal` is `message`'s seal, in constant time. A seal made with a key that is not
    /// configured is an error (it cannot be checked), not a mismatch.
    pub fn verify(&self, message: &[u8], seal: &str) -> Result<bool, CryptoError> {
        use hmac::Mac as _;
        let mut parts = seal.splitn(3, ':');
        let (Some("v1"), Some(id), Some(tag)) = (parts.next(), parts.next(), parts.next()) else {
            return Ok(false);
        };
        let Ok(id) = id.parse::<u32>() else {
            return Ok(false);
        };
        let key = self.keys.get(&id).ok_or(CryptoError::UnknownKey(id))?;
        let Ok(tag) = hex::decode(tag) else {
            return Ok(false);
        };
        Ok(hmac(key, message).verify_slice(&tag).is_ok())
    }
}

impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keyring")
            .field("active", &self.active)
            .field("keys", &self.keys.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Keyring {
    /// `active` must be one of `keys`; ids must be unique.
    pub fn new(keys: Vec<MasterKey>, active: u32) -> Result<Self, CryptoError> {
        let mut ring = BTreeMap::new();
        let audit = AuditSeal::derive(&keys, active);
        for key in keys {
            let cipher = Aes256Gcm::new_from_slice(&key.key)
                .map_err(|_| CryptoError::BadKey("wrong key length".into()))?;
            if ring.insert(key.id, cipher).is_some() {
                return Err(CryptoError::BadKey(format!(
                    "key id {} is configured twice",
                    key.id
                )));
            }
        }
        if !ring.contains_key(&active) {
            return Err(CryptoError::BadKey(format!(
                "the active key {active} is not among the configured keys"
            )));
        }
        Ok(Keyring {
            active,
            keys: ring,
            audit,
        })
    }

    pub fn active_key_id(&self) -> u32 {
        self.active
    }

    /// The audit log's seal, derived from these keys.
    pub fn audit_seal(&self) -> &AuditSeal {
        &self.audit
    }

    /// Encrypts `plaintext` for `context` under the active key with a fresh random nonce.
    pub fn encrypt(&self, context: &FieldContext<'_>, plaintext: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; 12];
        rand::rng().fill_bytes(&mut nonce);
        let cipher = &self.keys[&self.active];
        let aad = context.associated_data();
        // AES-GCM encryption fails only for inputs beyond 64 GiB, far above any field.
        let sealed = cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad: &aad,
                },
            )
            .unwrap_or_default();
        let mut out = Vec::with_capacity(HEADER + sealed.len());
        out.push(FORMAT_V1);
        out.extend_from_slice(&self.active.to_be_bytes());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        out
    }

    pub fn decrypt(
        &self,
        context: &FieldContext<'_>,
        sealed: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        let key_id = Self::key_id_of(sealed)?;
        let cipher = self
            .keys
            .get(&key_id)
            .ok_or(CryptoError::UnknownKey(key_id))?;
        let aad = context.associated_data();
        cipher
            .decrypt(
                Nonce::from_slice(&sealed[5..HEADER]),
                Payload {
                    msg: &sealed[HEADER..],
                    aad: &aad,
                },
            )
            .map_err(|_| CryptoError::Rejected)
    }

    /// The id of the key `sealed` was encrypted under.
    pub fn key_id_of(sealed: &[u8]) -> Result<u32, CryptoError> {
        if sealed.len() < HEADER + 16 || sealed[0] != FORMAT_V1 {
            return Err(CryptoError::Malformed);
        }
        Ok(u32::from_be_bytes([
            sealed[1], sealed[2], sealed[3], sealed[4],
        ]))
    }

    /// Whether `sealed` should be re-encrypted under the active key (`bedside keys rotate`).
    pub fn needs_rotation(&self, sealed: &[u8]) -> bool {
        Self::key_id_of(sealed).is_ok_and(|id| id != self.active)
    }

    /// Decrypts under whichever key sealed it and encrypts again under the active key.
    pub fn rotate(
        &self,
        context: &FieldContext<'_>,
        sealed: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        Ok(self.encrypt(context, &self.decrypt(context, sealed)?))
    }
}

/// A typed encrypted value as stored in a column (bytes). It has no `Serialize`: ciphertext
/// never crosses the wire, and the plaintext only leaves through [`SealedField::open`].
#[derive(Clone, PartialEq, Eq)]
pub struct SealedField<T> {
    bytes: Vec<u8>,
    _type: std::marker::PhantomData<fn() -> T>,
}

impl<T> fmt::Debug for SealedField<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SealedField(<{} bytes>)", self.bytes.len())
    }
}

impl<T: Serialize + DeserializeOwned> SealedField<T> {
    pub fn seal(
        keyring: &Keyring,
        context: &FieldContext<'_>,
        value: &T,
    ) -> Result<Self, CryptoError> {
        let plaintext =
            serde_json::to_vec(value).map_err(|e| CryptoError::Decode(e.to_string()))?;
        Ok(SealedField {
            bytes: keyring.encrypt(context, &plaintext),
            _type: std::marker::PhantomData,
        })
    }

    pub fn open(&self, keyring: &Keyring, context: &FieldContext<'_>) -> Result<T, CryptoError> {
        let plaintext = keyring.decrypt(context, &self.bytes)?;
        serde_json::from_slice(&plaintext).map_err(|e| CryptoError::Decode(e.to_string()))
    }

    /// Wraps bytes read from the database.
    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        SealedField {
            bytes,
            _type: std::marker::PhantomData,
        }
    }

    /// The bytes to store.
    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }
}

/// The name later features use for an encrypted column: `pub date_of_birth: Encrypted<NaiveDate>`
/// in an entity is all it takes to store a field sealed (R9.2).
pub type Encrypted<T> = SealedField<T>;

// A sealed field is a column type of its own: it reads and writes the ciphertext bytes, and the
// plaintext only ever appears through `open`.
impl<T> From<SealedField<T>> for sea_orm::Value {
    fn from(field: SealedField<T>) -> Self {
        sea_orm::Value::Bytes(Some(field.bytes))
    }
}

impl<T> sea_orm::TryGetable for SealedField<T> {
    fn try_get_by<I: sea_orm::ColIdx>(
        res: &sea_orm::QueryResult,
        index: I,
    ) -> Result<Self, sea_orm::TryGetError> {
        Vec::<u8>::try_get_by(res, index).map(|bytes| SealedField {
            bytes,
            _type: std::marker::PhantomData,
        })
    }
}

impl<T> sea_orm::sea_query::ValueType for SealedField<T> {
    fn try_from(value: sea_orm::Value) -> Result<Self, sea_orm::sea_query::ValueTypeErr> {
        match value {
            sea_orm::Value::Bytes(Some(bytes)) => Ok(SealedField {
                bytes,
                _type: std::marker::PhantomData,
            }),
            _ => Err(sea_orm::sea_query::ValueTypeErr),
        }
    }

    fn type_name() -> String {
        "SealedField".to_owned()
    }

    fn array_type() -> sea_orm::sea_query::ArrayType {
        sea_orm::sea_query::ArrayType::Bytes
    }

    fn column_type() -> sea_orm::sea_query::ColumnType {
        sea_orm::sea_query::ColumnType::Blob
    }
}

impl<T> sea_orm::sea_query::Nullable for SealedField<T> {
    fn null() -> sea_orm::Value {
        sea_orm::Value::Bytes(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ring() -> Keyring {
        Keyring::new(
            vec![MasterKey::new(1, [7; 32]), MasterKey::new(2, [9; 32])],
            2,
        )
        .expect("keyring")
    }

    const PHONE: FieldContext<'static> = FieldContext {
        table: "patient",
        column: "phone",
        row: "17",
    };

    #[test]
    fn keys_parse_from_base64_and_are_never_printed() {
        let key = MasterKey::generate(3);
        let parsed = MasterKey::from_base64(3, &key.to_base64()).expect("round trip");
        assert_eq!(parsed.key, key.key);
        assert!(!format!("{key:?}").contains(&key.to_base64()));
        assert!(MasterKey::from_base64(1, "c2hvcnQ=").is_err());
        assert!(MasterKey::from_base64(1, "not base64!").is_err());
    }

    #[test]
    fn the_active_key_must_be_configured_and_ids_unique() {
        assert!(Keyring::new(vec![MasterKey::new(1, [1; 32])], 2).is_err());
        assert!(Keyring::new(
            vec![MasterKey::new(1, [1; 32]), MasterKey::new(1, [2; 32])],
            1
        )
        .is_err());
    }

    #[test]
    fn a_value_sealed_under_a_retired_key_still_opens_and_rotates() {
        let old = Keyring::new(vec![MasterKey::new(1, [7; 32])], 1).expect("old");
        let sealed = old.encrypt(&PHONE, b"(207) 555-0142");
        let ring = ring();
        assert!(ring.needs_rotation(&sealed));
        let rotated = ring.rotate(&PHONE, &sealed).expect("rotate");
        assert_eq!(Keyring::key_id_of(&rotated), Ok(2));
        assert!(!ring.needs_rotation(&rotated));
        assert_eq!(
            ring.decrypt(&PHONE, &rotated).expect("open"),
            b"(207) 555-0142"
        );
    }

    #[test]
    fn an_unknown_key_or_garbage_is_a_clear_error() {
        let other = Keyring::new(vec![MasterKey::new(5, [3; 32])], 5).expect("other");
        assert_eq!(
            ring().decrypt(&PHONE, &other.encrypt(&PHONE, b"x")),
            Err(CryptoError::UnknownKey(5))
        );
        assert_eq!(
            ring().decrypt(&PHONE, b"short"),
            Err(CryptoError::Malformed)
        );
    }

    proptest! {
        /// P6: decrypt(encrypt(x)) = x.
        #[test]
        fn p6_encryption_round_trips(plaintext in proptest::collection::vec(any::<u8>(), 0..2048), row in "[0-9]{1,6}") {
            let ring = ring();
            let context = FieldContext { table: "visit_note", column: "body", row: &row };
            prop_assert_eq!(ring.decrypt(&context, &ring.encrypt(&context, &plaintext)).expect("open"), plaintext);
        }

        /// P6: equal plaintexts give different ciphertexts.
        #[test]
        fn p6_equal_plaintexts_have_distinct_ciphertexts(plaintext in proptest::collection::vec(any::<u8>(), 0..256)) {
            let ring = ring();
            prop_assert_ne!(ring.encrypt(&PHONE, &plaintext), ring.encrypt(&PHONE, &plaintext));
        }

        /// P6: any single flipped bit is rejected.
        #[test]
        fn p6_tampering_is_rejected(plaintext in proptest::collection::vec(any::<u8>(), 0..256), bit in any::<proptest::sample::Index>()) {
            let ring = ring();
            let mut sealed = ring.encrypt(&PHONE, &plaintext);
            let i = bit.index(sealed.len() * 8);
            sealed[i / 8] ^= 1 << (i % 8);
            prop_assert!(ring.decrypt(&PHONE, &sealed).is_err());
        }

        /// P6: a ciphertext moved to another row, column or table does not decrypt.
        #[test]
        fn p6_row_and_column_swaps_are_rejected(plaintext in proptest::collection::vec(any::<u8>(), 0..64), a in 0u32..1000, b in 0u32..1000) {
            prop_assume!(a != b);
            let ring = ring();
            let (row_a, row_b) = (a.to_string(), b.to_string());
            let sealed = ring.encrypt(&FieldContext { table: "patient", column: "phone", row: &row_a }, &plaintext);
            prop_assert_eq!(ring.decrypt(&FieldContext { table: "patient", column: "phone", row: &row_b }, &sealed), Err(CryptoError::Rejected));
            prop_assert_eq!(ring.decrypt(&FieldContext { table: "patient", column: "email", row: &row_a }, &sealed), Err(CryptoError::Rejected));
            prop_assert_eq!(ring.decrypt(&FieldContext { table: "contact", column: "phone", row: &row_a }, &sealed), Err(CryptoError::Rejected));
        }

        #[test]
        fn typed_fields_round_trip(text in ".{0,200}") {
            let ring = ring();
            let sealed = SealedField::<String>::seal(&ring, &PHONE, &text).expect("seal");
            prop_assert!(format!("{sealed:?}").starts_with("SealedField(<"), "Debug shows no content");
            let reread = SealedField::<String>::from_bytes(sealed.clone().into_bytes());
            prop_assert_eq!(reread.open(&ring, &PHONE).expect("open"), text);
        }
    }

    #[test]
    fn an_audit_seal_checks_its_message_names_its_key_and_survives_rotation() {
        let old = Keyring::new(vec![MasterKey::new(1, [7; 32])], 1).expect("ring");
        let seal = old.audit_seal().sign(b"entry 1");
        assert!(seal.starts_with("v1:1:"));
        assert_eq!(old.audit_seal().verify(b"entry 1", &seal), Ok(true));
        assert_eq!(old.audit_seal().verify(b"entry 2", &seal), Ok(false));
        assert_eq!(old.audit_seal().verify(b"entry 1", "v1:1:00"), Ok(false));
        assert_eq!(old.audit_seal().verify(b"entry 1", "garbage"), Ok(false));
        // After a rotation the old key still checks the seals it made, while it is configured.
        let both = ring();
        assert_eq!(both.audit_seal().verify(b"entry 1", &seal), Ok(true));
        assert!(both.audit_seal().sign(b"entry 1").starts_with("v1:2:"));
        let only_new = Keyring::new(vec![MasterKey::new(2, [9; 32])], 2).expect("ring");
        assert_eq!(
            only_new.audit_seal().verify(b"entry 1", &seal),
            Err(CryptoError::UnknownKey(1))
        );
        // Another installation's key makes other seals.
        let other = Keyring::new(vec![MasterKey::new(1, [8; 32])], 1).expect("ring");
        assert_eq!(other.audit_seal().verify(b"entry 1", &seal), Ok(false));
        assert!(!format!("{:?}", old.audit_seal()).contains('7'));
    }
}
