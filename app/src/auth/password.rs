//! Password hashing: argon2id at OWASP's parameters, on a bounded pool.
//!
//! Each hash takes ~19 MiB and tens of milliseconds of one core. The hasher owns as many
//! threads as the machine has cores and queues work for them, so 500 simultaneous sign-ins wait
//! their turn instead of taking 9.5 GiB or starving the async workers that serve everyone else.
//! Dedicated threads rather than tokio's blocking pool: that pool grows to hundreds of threads,
//! and each thread that ever hashed keeps its own malloc arena of ~19 MiB (the sign-in bench
//! measured 459 MB peak that way; `bench/signin.sh`).

use argon2::{
    password_hash::{
        rand_core::OsRng, PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString,
    },
    Algorithm, Argon2, Params, Version,
};
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

/// Hashes and verifies passwords on its own threads, at most one hash per thread at a time.
/// The threads end when the last clone of the hasher is dropped.
#[derive(Clone)]
pub struct PasswordHasher {
    queue: mpsc::Sender<Work>,
    params: Params,
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
            .name(format!("password-hash-{i}"))
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

fn hash_blocking(params: &Params, password: &str) -> Result<String, HashError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| HashError::Hashing(e.to_string()))
}

fn verify_blocking(params: &Params, password: &str, stored: &str) -> Verified {
    let Ok(parsed) = PasswordHash::new(stored) else {
        return Verified::No;
    };
    // Verification uses the parameters recorded in the stored hash.
    if Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_err()
    {
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
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Self::with_permits(cores)
    }

    /// A pool of `threads` hashing threads.
    pub fn with_permits(threads: usize) -> Self {
        PasswordHasher {
            queue: start_pool(threads),
            params: owasp_params(),
        }
    }

    /// A hasher with other parameters (tests of the upgrade path, and fast test fixtures).
    pub fn with_params(threads: usize, memory_kib: u32, iterations: u32) -> Self {
        PasswordHasher {
            queue: start_pool(threads),
            params: Params::new(memory_kib, iterations, 1, None).unwrap_or_default(),
        }
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(Params) -> T + Send + 'static,
    ) -> Result<T, HashError> {
        let (done, result) = tokio::sync::oneshot::channel();
        let params = self.params.clone();
        self.queue
            .send(Box::new(move || {
                let _ = done.send(work(params));
            }))
            .map_err(|_| HashError::Closed)?;
        result.await.map_err(|_| HashError::Closed)
    }

    /// A PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`) for `password`.
    pub async fn hash(&self, password: &str) -> Result<String, HashError> {
        let password = password.to_owned();
        self.run(move |params| hash_blocking(&params, &password))
            .await?
    }

    /// Checks `password` against `stored`, or against a dummy hash when there is no account.
    pub async fn verify(&self, password: &str, stored: Option<&str>) -> Verified {
        let password = password.to_owned();
        let stored = stored.map(str::to_owned);
        let known = stored.is_some();
        let outcome = self
            .run(move |params| {
                let against = stored.unwrap_or_else(|| DUMMY_HASH.clone());
                verify_blocking(&params, &password, &against)
            })
            .await
            .unwrap_or(Verified::No);
        if known {
            outcome
        } else {
            Verified::No
        }
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
            hasher.verify("harbor lantern violet", Some(&hash)).await,
            Verified::Yes
        );
        assert_eq!(
            hasher.verify("harbor lantern violeT", Some(&hash)).await,
            Verified::No
        );
        assert_eq!(hasher.verify("anything", None).await, Verified::No);
        assert_eq!(
            hasher.verify("anything", Some("garbage")).await,
            Verified::No
        );
    }

    #[tokio::test]
    async fn a_hash_with_weaker_parameters_is_upgraded_at_the_next_verification() {
        let weak = PasswordHasher::with_params(1, 4096, 1);
        let old = weak.hash("harbor lantern violet").await.expect("hash");
        assert!(old.contains("m=4096,t=1"), "{old}");
        let current = PasswordHasher::with_permits(1);
        match current.verify("harbor lantern violet", Some(&old)).await {
            Verified::YesWithUpgrade(new_hash) => {
                assert!(new_hash.contains("m=19456,t=2,p=1"), "{new_hash}");
                assert_eq!(
                    current
                        .verify("harbor lantern violet", Some(&new_hash))
                        .await,
                    Verified::Yes
                );
            }
            other => panic!("expected an upgrade, got {other:?}"),
        }
        assert_eq!(
            current.verify("wrong password!", Some(&old)).await,
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
}
