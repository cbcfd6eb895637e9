//! Envelope encryption of large objects (documents, recordings), frame by frame, so a 25 MB
//! upload never sits whole in memory (issue 14 §3, P6).
//!
//! - Each object has its own random [`DataKey`]. The key is not stored with the object: the
//!   caller seals it with the keyring into the object's database row (`Encrypted<DataKey>`), so
//!   `bedside keys rotate` re-wraps the key and never rewrites the object.
//! - The object is AES-256-GCM in the STREAM construction (`aead::stream`, big-endian 32-bit
//!   counter and a last-frame flag in each nonce): a header (format, frame size, a random 7-byte
//!   nonce prefix), then frames of [`FRAME`] plaintext bytes each with its 16-byte tag, the last
//!   one shorter and marked last. A frame changed, moved, dropped or added, a stream cut short,
//!   or an object opened under another object's name is refused.
//! - Every frame is bound (associated data) to the object's name (a document's public id), so
//!   one row's key cannot open another row's bytes, even with the header copied.
//!
//! [`Sealer`] and [`Opener`] take bytes in any pieces and hand back what is ready; at most one
//! frame is buffered.

use aes_gcm::aead::stream::{DecryptorBE32, EncryptorBE32};
use aes_gcm::aead::{KeyInit, Payload};
use aes_gcm::Aes256Gcm;
use rand::RngCore;
use serde::{Deserialize, Serialize};

/// Plaintext bytes per frame.
pub const FRAME: usize = 64 * 1024;
const TAG: usize = 16;
const PREFIX: usize = 7;
const MAGIC: &[u8; 4] = b"BSE1";
/// Magic, frame size, nonce prefix.
pub const HEADER: usize = 4 + 4 + PREFIX;
/// The largest frame an object may declare (a hostile header must not make us buffer more).
const MAX_FRAME: usize = 1024 * 1024;

/// Why an object could not be opened. Deliberately without detail: a wrong key, a changed
/// byte and a missing frame look the same to whoever sent them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum StreamError {
    #[error("the object is not a sealed Bedside object, or its header is damaged")]
    Header,
    #[error("the object was changed, cut short, or is not the one named")]
    Tampered,
    #[error("the object is too large to seal")]
    TooLarge,
}

/// One object's AES-256 key. Its bytes are wiped when it is dropped.
#[derive(Clone)]
pub struct DataKey(zeroize::Zeroizing<[u8; 32]>);

/// Only ever serialized to be sealed by the keyring (`Encrypted<DataKey>`).
impl Serialize for DataKey {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bytes(self.0.as_ref())
    }
}

impl<'de> Deserialize<'de> for DataKey {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let bytes = zeroize::Zeroizing::new(Vec::<u8>::deserialize(deserializer)?);
        let key: [u8; 32] = bytes
            .as_slice()
            .try_into()
            .map_err(|_| serde::de::Error::custom("a data key is 32 bytes"))?;
        Ok(DataKey(zeroize::Zeroizing::new(key)))
    }
}

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DataKey(…)")
    }
}

impl PartialEq for DataKey {
    fn eq(&self, other: &Self) -> bool {
        *self.0 == *other.0
    }
}

impl Eq for DataKey {}

impl DataKey {
    /// A fresh random key.
    pub fn generate() -> DataKey {
        let mut key = zeroize::Zeroizing::new([0u8; 32]);
        rand::rng().fill_bytes(key.as_mut());
        DataKey(key)
    }

    fn cipher(&self) -> Aes256Gcm {
        Aes256Gcm::new(self.0.as_ref().into())
    }
}

/// Seals an object as its bytes arrive.
pub struct Sealer {
    encryptor: Option<EncryptorBE32<Aes256Gcm>>,
    name: Vec<u8>,
    frame: usize,
    pending: Vec<u8>,
    header: Option<Vec<u8>>,
}

impl Sealer {
    /// Starts sealing the object `name` under `key`, in frames of [`FRAME`] bytes.
    pub fn new(key: &DataKey, name: &str) -> Sealer {
        Self::with_frame(key, name, FRAME)
    }

    /// As [`Sealer::new`] with `frame` plaintext bytes per frame (tests use small frames).
    pub fn with_frame(key: &DataKey, name: &str, frame: usize) -> Sealer {
        let frame = frame.clamp(1, MAX_FRAME);
        let mut prefix = [0u8; PREFIX];
        rand::rng().fill_bytes(&mut prefix);
        let mut header = Vec::with_capacity(HEADER);
        header.extend_from_slice(MAGIC);
        header.extend_from_slice(&u32::try_from(frame).unwrap_or(u32::MAX).to_be_bytes());
        header.extend_from_slice(&prefix);
        Sealer {
            encryptor: Some(EncryptorBE32::from_aead(key.cipher(), (&prefix).into())),
            name: name.as_bytes().to_vec(),
            frame,
            pending: Vec::with_capacity(frame),
            header: Some(header),
        }
    }

    /// Takes `bytes` and returns the sealed bytes ready so far (the header first).
    pub fn push(&mut self, mut bytes: &[u8]) -> Result<Vec<u8>, StreamError> {
        let mut out = self.header.take().unwrap_or_default();
        while !bytes.is_empty() {
            let room = self.frame - self.pending.len();
            let (now, rest) = bytes.split_at(room.min(bytes.len()));
            self.pending.extend_from_slice(now);
            bytes = rest;
            // A full frame is sealed only once more bytes follow: the last frame must be
            // sealed as the last.
            if self.pending.len() == self.frame && !bytes.is_empty() {
                out.extend(self.seal_pending()?);
            }
        }
        Ok(out)
    }

    fn seal_pending(&mut self) -> Result<Vec<u8>, StreamError> {
        let encryptor = self.encryptor.as_mut().ok_or(StreamError::TooLarge)?;
        let sealed = encryptor
            .encrypt_next(Payload {
                msg: &self.pending,
                aad: &self.name,
            })
            .map_err(|_| StreamError::TooLarge)?;
        self.pending.clear();
        Ok(sealed)
    }

    /// Seals what is left as the last frame and returns it (with the header, for an empty
    /// object).
    pub fn finish(mut self) -> Result<Vec<u8>, StreamError> {
        let mut out = self.header.take().unwrap_or_default();
        let encryptor = self.encryptor.take().ok_or(StreamError::TooLarge)?;
        out.extend(
            encryptor
                .encrypt_last(Payload {
                    msg: &self.pending,
                    aad: &self.name,
                })
                .map_err(|_| StreamError::TooLarge)?,
        );
        Ok(out)
    }
}

/// Opens a sealed object as its bytes arrive, handing back only what its tags prove.
pub struct Opener {
    key: DataKey,
    name: Vec<u8>,
    decryptor: Option<DecryptorBE32<Aes256Gcm>>,
    frame: usize,
    pending: Vec<u8>,
}

impl Opener {
    /// Starts opening the object `name` with `key`.
    pub fn new(key: &DataKey, name: &str) -> Opener {
        Opener {
            key: key.clone(),
            name: name.as_bytes().to_vec(),
            decryptor: None,
            frame: 0,
            pending: Vec::new(),
        }
    }

    /// Takes `bytes` and returns the plaintext of every frame complete so far. A frame is
    /// opened only once the next byte shows it is not the last.
    pub fn push(&mut self, bytes: &[u8]) -> Result<Vec<u8>, StreamError> {
        self.pending.extend_from_slice(bytes);
        if self.decryptor.is_none() {
            if self.pending.len() < HEADER {
                return Ok(Vec::new());
            }
            let header: Vec<u8> = self.pending.drain(..HEADER).collect();
            if &header[..4] != MAGIC {
                return Err(StreamError::Header);
            }
            let frame = u32::from_be_bytes([header[4], header[5], header[6], header[7]]);
            let frame = usize::try_from(frame).map_err(|_| StreamError::Header)?;
            if frame == 0 || frame > MAX_FRAME {
                return Err(StreamError::Header);
            }
            let prefix: [u8; PREFIX] = header[8..HEADER]
                .try_into()
                .map_err(|_| StreamError::Header)?;
            self.frame = frame;
            self.decryptor = Some(DecryptorBE32::from_aead(
                self.key.cipher(),
                (&prefix).into(),
            ));
        }
        let sealed_frame = self.frame + TAG;
        let mut out = Vec::new();
        // Keep at least one whole frame back: it may be the last.
        while self.pending.len() > sealed_frame {
            let decryptor = self.decryptor.as_mut().ok_or(StreamError::Header)?;
            let plain = decryptor
                .decrypt_next(Payload {
                    msg: &self.pending[..sealed_frame],
                    aad: &self.name,
                })
                .map_err(|_| StreamError::Tampered)?;
            self.pending.drain(..sealed_frame);
            out.extend(plain);
        }
        Ok(out)
    }

    /// Opens the last frame; an object that stops early (no last frame) is refused.
    pub fn finish(mut self) -> Result<Vec<u8>, StreamError> {
        let decryptor = self.decryptor.take().ok_or(StreamError::Header)?;
        if self.pending.len() < TAG {
            return Err(StreamError::Tampered);
        }
        decryptor
            .decrypt_last(Payload {
                msg: &self.pending,
                aad: &self.name,
            })
            .map_err(|_| StreamError::Tampered)
    }
}

/// The sealed size of `plain` bytes in frames of `frame` bytes.
pub fn sealed_len(plain: u64, frame: u64) -> u64 {
    // A full frame waits for the next byte, so an exact multiple ends in a full last frame.
    let frames = plain.div_ceil(frame.max(1)).max(1);
    HEADER as u64 + plain + frames * TAG as u64
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Seals `plain` pushed in pieces of `step` bytes.
    fn seal(key: &DataKey, name: &str, plain: &[u8], frame: usize, step: usize) -> Vec<u8> {
        let mut sealer = Sealer::with_frame(key, name, frame);
        let mut out = Vec::new();
        for piece in plain.chunks(step.max(1)) {
            out.extend(sealer.push(piece).expect("push"));
        }
        out.extend(sealer.finish().expect("finish"));
        out
    }

    fn open(key: &DataKey, name: &str, sealed: &[u8], step: usize) -> Result<Vec<u8>, StreamError> {
        let mut opener = Opener::new(key, name);
        let mut out = Vec::new();
        for piece in sealed.chunks(step.max(1)) {
            out.extend(opener.push(piece)?);
        }
        out.extend(opener.finish()?);
        Ok(out)
    }

    #[test]
    fn an_empty_object_and_one_of_exactly_one_frame_round_trip() {
        let key = DataKey::generate();
        for plain in [Vec::new(), vec![7u8; 64], vec![9u8; 65]] {
            let sealed = seal(&key, "doc", &plain, 64, 10);
            assert_eq!(sealed.len() as u64, sealed_len(plain.len() as u64, 64));
            assert_eq!(open(&key, "doc", &sealed, 7).expect("opens"), plain);
        }
    }

    #[test]
    fn a_large_object_is_sealed_with_one_frame_buffered() {
        let key = DataKey::generate();
        let mut sealer = Sealer::new(&key, "big");
        let piece = vec![1u8; 1000];
        let mut sealed = 0usize;
        for _ in 0..3000 {
            sealed += sealer.push(&piece).expect("push").len();
            assert!(sealer.pending.len() <= FRAME, "at most one frame held");
        }
        sealed += sealer.finish().expect("finish").len();
        assert_eq!(sealed as u64, sealed_len(3_000_000, FRAME as u64));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// P6: whatever the pieces the bytes arrive in, the object opens to what was sealed.
        #[test]
        fn p6_an_object_opens_to_exactly_what_was_sealed(
            plain in proptest::collection::vec(any::<u8>(), 0..2000),
            frame in 1usize..300,
            step_in in 1usize..500,
            step_out in 1usize..500,
        ) {
            let key = DataKey::generate();
            let sealed = seal(&key, "doc-1", &plain, frame, step_in);
            prop_assert_eq!(open(&key, "doc-1", &sealed, step_out).expect("opens"), plain);
        }

        /// P6: the same bytes sealed twice look nothing alike (fresh key, fresh nonces).
        #[test]
        fn p6_equal_objects_seal_to_different_bytes(plain in proptest::collection::vec(any::<u8>(), 1..500)) {
            let one = seal(&DataKey::generate(), "doc", &plain, 64, 100);
            let two = seal(&DataKey::generate(), "doc", &plain, 64, 100);
            prop_assert_ne!(&one[HEADER..], &two[HEADER..]);
            let key = DataKey::generate();
            prop_assert_ne!(seal(&key, "doc", &plain, 64, 100), seal(&key, "doc", &plain, 64, 100));
        }

        /// P6: a changed byte anywhere, an object cut short anywhere, or frames swapped, and
        /// the object is refused; so is opening it as another object or with another key.
        #[test]
        fn p6_a_changed_cut_or_reordered_object_is_refused(
            // At least three frames: two whole ones to swap or drop.
            plain in proptest::collection::vec(any::<u8>(), 129..1500),
            at in any::<prop::sample::Index>(),
            flip in 1u8..=255,
        ) {
            let key = DataKey::generate();
            let frame = 64;
            let sealed = seal(&key, "doc", &plain, frame, 333);

            let mut changed = sealed.clone();
            let i = at.index(changed.len());
            changed[i] ^= flip;
            prop_assert!(open(&key, "doc", &changed, 50).is_err(), "byte {} changed", i);

            let cut = at.index(sealed.len());
            prop_assert!(open(&key, "doc", &sealed[..cut], 50).is_err(), "cut at {}", cut);

            let sealed_frame = frame + TAG;
            let mut swapped = sealed.clone();
            let (a, b) = (HEADER, HEADER + sealed_frame);
            let first: Vec<u8> = swapped[a..b].to_vec();
            let second: Vec<u8> = swapped[b..b + sealed_frame].to_vec();
            swapped[a..b].copy_from_slice(&second);
            swapped[b..b + sealed_frame].copy_from_slice(&first);
            prop_assert!(open(&key, "doc", &swapped, 50).is_err(), "frames swapped");

            let mut dropped = sealed[..HEADER].to_vec();
            dropped.extend_from_slice(&sealed[HEADER + sealed_frame..]);
            prop_assert!(open(&key, "doc", &dropped, 50).is_err(), "a frame dropped");

            prop_assert!(open(&key, "another-doc", &sealed, 50).is_err(), "another name");
            prop_assert!(open(&DataKey::generate(), "doc", &sealed, 50).is_err(), "another key");
        }
    }

    #[test]
    fn a_hostile_header_is_refused_before_anything_is_buffered() {
        let key = DataKey::generate();
        let mut header = MAGIC.to_vec();
        header.extend_from_slice(&u32::MAX.to_be_bytes());
        header.extend_from_slice(&[0u8; PREFIX]);
        assert_eq!(
            Opener::new(&key, "x").push(&header).err(),
            Some(StreamError::Header)
        );
        assert_eq!(
            Opener::new(&key, "x").push(b"%PDF-1.7 not sealed").err(),
            Some(StreamError::Header)
        );
    }

    #[test]
    fn the_data_key_never_shows_in_logs_and_round_trips_through_serde() {
        let key = DataKey::generate();
        assert_eq!(format!("{key:?}"), "DataKey(…)");
        let json = serde_json::to_string(&key).expect("serialize");
        assert_eq!(
            serde_json::from_str::<DataKey>(&json).expect("deserialize"),
            key
        );
        assert!(serde_json::from_str::<DataKey>("[1,2,3]").is_err());
    }
}
