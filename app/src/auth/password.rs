//! Password hashing: argon2id at OWASP's parameters, on a bounded pool.
//!
//! Each hash takes ~19 MiB and tens of milliseconds of one core. The hasher owns as many
//! threads as the machine has cores (or as configured) and queues work for them, so 500
//! simultaneous sign-ins wait their turn instead of taking 9.5 GiB or starving the async workers
//! that serve everyone else. The queue is bounded too: past it, a check is refused at once
//! ([`HashError::Busy`], answered 503 with Retry-After) instead of waiting behind a backlog that
//! only grows.
//! Dedicated threads rather than tokio's blocking pool: that pool grows to hundreds of threads,
//! and each thread that ever hashed keeps its own malloc arena of ~19 MiB (the sign-in bench
//! measured 459 MB peak that way; `bench/signin.sh`).

use argon2::{
    password_hash::{rand_core::OsRng, Output, ParamsString, PasswordHash, SaltString},
    Algorithm, Argon2, Block, Params, Version,
};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, LazyLock, Mutex};

/// OWASP Password Storage Cheat Sheet (2025): argon2id, m=19 MiB, t=2, p=1.
pub const MEMORY_KIB: u32 = 19_456;
pub const ITERATIONS: u32 = 2;
pub const PARALLELISM: u32 = 1;

#[derive(Debug, thiserror::Error)]
pub enum HashError {
    #[error("password hashing failed: {0}")]
    Hashing(String),
    #[error("the hashing pool is closed")]
    Closed,
    /// The queue is full: try again shortly.
    #[error("too many password checks are waiting")]
    Busy,
}

impl HashError {
    /// How an error reaches the person: a full queue asks them to retry shortly, anything else
    /// is internal.
    pub fn into_app_error(self) -> crate::AppError {
        match self {
            HashError::Busy => crate::AppError::Busy {
                retry_after_seconds: 2,
            },
            other => crate::AppError::internal(other),
        }
    }
}

/// What verifying a password found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verified {
    /// Right password, and the stored hash is current.
    Yes,
    /// Right password, but stored with weaker parameters: store this new hash.
    YesWithUpgrade(String),
    No,
}

type Work = Box<dyn FnOnce() + Send>;

/// The hashing threads' names begin so.
const THREAD_PREFIX: &str = "password-hash-";

/// Hashes and verifies passwords on its own threads, at most one hash per thread at a time.
/// The threads end when the last clone of the hasher is dropped.
#[derive(Clone)]
pub struct PasswordHasher {
    queue: mpsc::Sender<Work>,
    params: Params,
    /// Checks queued or running now, and how many may be.
    waiting: Arc<AtomicUsize>,
    max_waiting: usize,
}

impl std::fmt::Debug for PasswordHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordHasher")
            .field("m_cost", &self.params.m_cost())
            .finish_non_exhaustive()
    }
}

/// Starts `threads` hashing threads taking work from one queue.
fn start_pool(threads: usize) -> mpsc::Sender<Work> {
    let (sender, receiver) = mpsc::channel::<Work>();
    let receiver = Arc::new(Mutex::new(receiver));
    for i in 0..threads.max(1) {
        let receiver = receiver.clone();
        let spawned = std::thread::Builder::new()
            .name(format!("{THREAD_PREFIX}{i}"))
            .spawn(move || loop {
                let next = receiver
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner())
                    .recv();
                match next {
                    Ok(work) => work(),
                    // Every hasher is gone.
                    Err(_) => break,
                }
            });
        if let Err(error) = spawned {
            tracing::error!(%error, "could not start a password hashing thread");
        }
    }
    sender
}

/// A hash of a random password, verified against when the email is unknown: the answer then
/// costs the same time as a wrong password, so timing does not tell which emails have accounts.
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| {
    hash_blocking(&owasp_params(), "not a real password; equalises timing").unwrap_or_default()
});

fn owasp_params() -> Params {
    // Constant, valid parameters: `new` cannot fail for them.
    Params::new(MEMORY_KIB, ITERATIONS, PARALLELISM, None).unwrap_or_default()
}

thread_local! {
    /// A hashing thread's argon2 memory, kept between hashes: allocated once (~19 MiB), never
    /// handed back to the allocator. Allocating it per hash let glibc keep every freed 19 MiB
    /// block in the thread's arena (its mmap threshold rises to the size of a freed block), and
    /// 1,000 sign-ins left the process 180 MB larger (`bench/messaging.sh`).
    static BLOCKS: std::cell::RefCell<Vec<Block>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Runs `f` with `count` blocks of argon2 memory: the hashing thread's own, reused; a thread
/// that does not hash passwords for a living (the first use of [`DUMMY_HASH`] may run on one)
/// gets memory of its own for this once.
fn with_blocks<R>(count: usize, f: impl FnOnce(&mut [Block]) -> R) -> R {
    let pool_thread = std::thread::current()
        .name()
        .is_some_and(|name| name.starts_with(THREAD_PREFIX));
    if !pool_thread {
        return f(&mut vec![Block::default(); count]);
    }
    BLOCKS.with(|blocks| {
        let mut blocks = blocks.borrow_mut();
        if blocks.len() < count {
            blocks.resize(count, Block::default());
        }
        f(&mut blocks[..count])
    })
}

/// `password` hashed by `argon` with `salt`, `len` bytes.
fn output(
    argon: &Argon2<'_>,
    password: &str,
    salt: &[u8],
    len: usize,
    blocks: usize,
) -> Result<Output, HashError> {
    with_blocks(blocks, |memory| {
        Output::init_with(len, |out| {
            argon
                .hash_password_into_with_memory(password.as_bytes(), salt, out, memory)
                .map_err(|_| argon2::password_hash::Error::Password)
        })
    })
    .map_err(|e| HashError::Hashing(e.to_string()))
}

fn hash_blocking(params: &Params, password: &str) -> Result<String, HashError> {
    let salt = SaltString::generate(&mut OsRng);
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let mut raw = [0u8; 64];
    let salt_bytes = salt
        .decode_b64(&mut raw)
        .map_err(|e| HashError::Hashing(e.to_string()))?;
    let len = params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN);
    let hash = output(&argon, password, salt_bytes, len, params.block_count())?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(params).map_err(|e| HashError::Hashing(e.to_string()))?,
        salt: Some(salt.as_salt()),
        hash: Some(hash),
    };
    Ok(phc.to_string())
}

/// Whether `password` is the one `stored` was made from, with the parameters recorded in it.
fn matches(password: &str, stored: &PasswordHash<'_>) -> bool {
    let (Some(salt), Some(expected)) = (stored.salt, stored.hash) else {
        return false;
    };
    let (Ok(algorithm), Ok(params)) = (
        Algorithm::try_from(stored.algorithm),
        Params::try_from(stored),
    ) else {
        return false;
    };
    let version = match stored.version.map(Version::try_from) {
        None => Version::default(),
        Some(Ok(version)) => version,
        Some(Err(_)) => return false,
    };
    let mut raw = [0u8; 64];
    let Ok(salt_bytes) = salt.decode_b64(&mut raw) else {
        return false;
    };
    let blocks = params.block_count();
    let argon = Argon2::new(algorithm, version, params);
    // `Output`'s comparison takes the same time wherever the bytes differ.
    output(&argon, password, salt_bytes, expected.len(), blocks).is_ok_and(|got| got == expected)
}

fn verify_blocking(params: &Params, password: &str, stored: &str) -> Verified {
    let Ok(parsed) = PasswordHash::new(stored) else {
        return Verified::No;
    };
    // Verification uses the parameters recorded in the stored hash.
    if !matches(password, &parsed) {
        return Verified::No;
    }
    let current = parsed.algorithm.as_str() == "argon2id"
        && Params::try_from(&parsed).is_ok_and(|stored| {
            stored.m_cost() >= params.m_cost()
                && stored.t_cost() >= params.t_cost()
                && stored.p_cost() >= params.p_cost()
        });
    if current {
        Verified::Yes
    } else {
        match hash_blocking(params, password) {
            Ok(new_hash) => Verified::YesWithUpgrade(new_hash),
            Err(_) => Verified::Yes,
        }
    }
}

impl PasswordHasher {
    /// A pool as wide as the machine's cores.
    pub fn sized_to_cores() -> Self {
        Self::configured(None, None)
    }

    /// A pool of `threads` hashing threads (default: the cores) with room for `queue` checks
    /// waiting or running (default: 64 per thread, a few seconds of work).
    pub fn configured(threads: Option<usize>, queue: Option<usize>) -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let threads = threads.unwrap_or(cores).max(1);
        let mut hasher = Self::with_permits(threads);
        hasher.max_waiting = queue.unwrap_or(threads * 64).max(threads);
        hasher
    }

    /// A pool of `threads` hashing threads.
    pub fn with_permits(threads: usize) -> Self {
        Self::with(threads, owasp_params())
    }

    /// A hasher with other parameters (tests of the upgrade path, and fast test fixtures).
    pub fn with_params(threads: usize, memory_kib: u32, iterations: u32) -> Self {
        Self::with(
            threads,
            Params::new(memory_kib, iterations, 1, None).unwrap_or_default(),
        )
    }

    fn with(threads: usize, params: Params) -> Self {
        PasswordHasher {
            queue: start_pool(threads),
            params,
            waiting: Arc::new(AtomicUsize::new(0)),
            max_waiting: threads.max(1) * 64,
        }
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(Params) -> T + Send + 'static,
    ) -> Result<T, HashError> {
        if self.waiting.fetch_add(1, Ordering::SeqCst) >= self.max_waiting {
            self.waiting.fetch_sub(1, Ordering::SeqCst);
            return Err(HashError::Busy);
        }
        let (done, result) = tokio::sync::oneshot::channel();
        let params = self.params.clone();
        let waiting = self.waiting.clone();
        let sent = self.queue.send(Box::new(move || {
            let _ = done.send(work(params));
            waiting.fetch_sub(1, Ordering::SeqCst);
        }));
        if sent.is_err() {
            self.waiting.fetch_sub(1, Ordering::SeqCst);
            return Err(HashError::Closed);
        }
        result.await.map_err(|_| HashError::Closed)
    }

    /// A PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`) for `password`.
    pub async fn hash(&self, password: &str) -> Result<String, HashError> {
        let password = password.to_owned();
        self.run(move |params| hash_blocking(&params, &password))
            .await?
    }

    /// Checks `password` against `stored`, or against a dummy hash when there is no account.
    /// [`HashError::Busy`] when the queue is full (the check did not run).
    pub async fn verify(
        &self,
        password: &str,
        stored: Option<&str>,
    ) -> Result<Verified, HashError> {
        let password = password.to_owned();
        let stored = stored.map(str::to_owned);
        let known = stored.is_some();
        let outcome = self
            .run(move |params| {
                let against = stored.unwrap_or_else(|| DUMMY_HASH.clone());
                verify_blocking(&params, &password, &against)
            })
            .await?;
        Ok(if known { outcome } else { Verified::No })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_uses_owasp_parameters_and_verifies_only_the_right_password() {
        let hasher = PasswordHasher::with_permits(2);
        let hash = hasher.hash("harbor lantern violet").await.expect("hash");
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert_eq!(
            hasher
                .verify("harbor lantern violet", Some(&hash))
                .await
                .expect("checked"),
            Verified::Yes
        );
        assert_eq!(
            hasher
                .verify("harbor lantern violeT", Some(&hash))
                .await
                .expect("checked"),
            Verified::No
        );
        assert_eq!(
            hasher.verify("anything", None).await.expect("checked"),
            Verified::No
        );
        assert_eq!(
            hasher
                .verify("anything", Some("garbage"))
                .await
                .expect("checked"),
            Verified::No
        );
    }

    #[test]
    fn hashes_read_both_ways_with_the_argon2_crates_own_hashing_and_verifying() {
        use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
        let params = owasp_params();
        // Ours, checked by the crate's verifier (on a hashing thread's memory and off it).
        for on_pool in [false, true] {
            let ours = if on_pool {
                std::thread::Builder::new()
                    .name(format!("{THREAD_PREFIX}test"))
                    .spawn(move || hash_blocking(&owasp_params(), "tide pool 42"))
                    .expect("thread")
                    .join()
                    .expect("joined")
            } else {
                hash_blocking(&params, "tide pool 42")
            }
            .expect("hash");
            let parsed = PasswordHash::new(&ours).expect("a PHC string");
            assert!(Argon2::default()
                .verify_password(b"tide pool 42", &parsed)
                .is_ok());
            assert!(Argon2::default()
                .verify_password(b"tide pool 43", &parsed)
                .is_err());
        }
        // The crate's, checked by ours; a changed password or salt does not match.
        let salt = SaltString::generate(&mut OsRng);
        let theirs = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
            .hash_password(b"harbor 7", &salt)
            .expect("hash")
            .to_string();
        assert_eq!(verify_blocking(&params, "harbor 7", &theirs), Verified::Yes);
        assert_eq!(verify_blocking(&params, "harbor 8", &theirs), Verified::No);
        let other_salt = SaltString::generate(&mut OsRng);
        let moved = theirs.replace(salt.as_str(), other_salt.as_str());
        assert_eq!(verify_blocking(&params, "harbor 7", &moved), Verified::No);
        assert_eq!(
            verify_blocking(&params, "harbor 7", "not a hash"),
            Verified::No
        );
    }

    #[tokio::test]
    async fn a_hash_with_weaker_parameters_is_upgraded_at_the_next_verification() {
        let weak = PasswordHasher::with_params(1, 4096, 1);
        let old = weak.hash("harbor lantern violet").await.expect("hash");
        assert!(old.contains("m=4096,t=1"), "{old}");
        let current = PasswordHasher::with_permits(1);
        match current
            .verify("harbor lantern violet", Some(&old))
            .await
            .expect("checked")
        {
            Verified::YesWithUpgrade(new_hash) => {
                assert!(new_hash.contains("m=19456,t=2,p=1"), "{new_hash}");
                assert_eq!(
                    current
                        .verify("harbor lantern violet", Some(&new_hash))
                        .await
                        .expect("checked"),
                    Verified::Yes
                );
            }
            other => panic!("expected an upgrade, got {other:?}"),
        }
        assert_eq!(
            current
                .verify("wrong password!", Some(&old))
                .await
                .expect("checked"),
            Verified::No
        );
    }

    #[tokio::test]
    async fn no_more_hashes_run_at_once_than_the_pool_allows() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let hasher = PasswordHasher::with_params(2, 1024, 1);
        let running = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..16)
            .map(|_| {
                let hasher = hasher.clone();
                let running = running.clone();
                let peak = peak.clone();
                tokio::spawn(async move {
                    hasher
                        .run(move |_| {
                            let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                            peak.fetch_max(now, Ordering::SeqCst);
                            std::thread::sleep(std::time::Duration::from_millis(5));
                            running.fetch_sub(1, Ordering::SeqCst);
                        })
                        .await
                })
            })
            .collect();
        for task in tasks {
            task.await.expect("task").expect("ran");
        }
        assert!(peak.load(Ordering::SeqCst) <= 2);
        assert!(peak.load(Ordering::SeqCst) >= 1);
    }

    #[tokio::test]
    async fn a_full_queue_refuses_at_once_and_takes_work_again_when_it_drains() {
        let hasher = PasswordHasher::configured(Some(1), Some(2));
        let (release, held) = std::sync::mpsc::channel::<()>();
        let held = Arc::new(Mutex::new(held));
        // One check running (held), one waiting behind it: the queue is full.
        let blocking = |hasher: &PasswordHasher| {
            let hasher = hasher.clone();
            let held = held.clone();
            tokio::spawn(async move {
                hasher
                    .run(move |_| {
                        let _ = held.lock().map(|h| h.recv());
                    })
                    .await
            })
        };
        let first = blocking(&hasher);
        let second = blocking(&hasher);
        while hasher.waiting.load(Ordering::SeqCst) < 2 {
            tokio::task::yield_now().await;
        }
        assert!(matches!(
            hasher.verify("anything", None).await,
            Err(HashError::Busy)
        ));
        assert!(matches!(
            HashError::Busy.into_app_error(),
            crate::AppError::Busy { .. }
        ));
        release.send(()).expect("release");
        release.send(()).expect("release");
        first.await.expect("join").expect("ran");
        second.await.expect("join").expect("ran");
        assert_eq!(
            hasher.verify("anything", None).await.expect("checked"),
            Verified::No
        );
    }
}
