//! Bounded password hashing. Argon2id is memory-hard by design: every hash in flight holds
//! `memory` (19 MiB by default) for its whole run. Unbounded, a flood of sign-ins from the
//! internet multiplies that until the process is killed. So all of it runs on a small fixed set
//! of dedicated threads (not tokio's blocking pool, whose threads come and go), each hashing in
//! memory it allocated once and keeps, behind a short queue; past it the work is refused at
//! once, before any memory is spent, and the caller answers "try again shortly". Memory for
//! hashing is then `max_concurrent` times `memory`, whatever the load.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use domain::password::{HashCost, HashMemory, PasswordError, PasswordHash};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tracing::Instrument;

/// How much hashing may happen at once (`hashers`).
#[derive(Debug, Clone, Copy)]
pub struct HashingOptions {
    pub cost: HashCost,
    /// Hashes computed at the same time, each on its own thread. `max_concurrent` times
    /// `cost.memory` must fit the process's memory limit.
    pub max_concurrent: usize,
    /// Hashes waiting for a thread; more are refused with [`HashingError::Busy`].
    pub queue: usize,
}

impl Default for HashingOptions {
    /// Two at a time (38 MiB at the default cost), eight waiting: safe in a 256 MiB container
    /// whatever the node's core count.
    fn default() -> Self {
        Self {
            cost: HashCost::default(),
            max_concurrent: 2,
            queue: 8,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum HashingError {
    /// Every thread is busy and the queue is full; nothing was done.
    #[error("too many passwords are being checked right now; try again in a moment")]
    Busy,
    /// The work was lost (a hashing thread panicked); nothing was done.
    #[error("the password could not be checked")]
    Failed,
}

/// How long a refused caller should wait before trying again.
pub const RETRY_AFTER: Duration = Duration::from_secs(1);

/// The outcome of checking a password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verified {
    No,
    /// `rehashed` holds a new hash when the stored one was made at another cost.
    Yes {
        rehashed: Option<PasswordHash>,
    },
}

/// Work for a hashing thread, in the memory that thread keeps for Argon2.
type Job = Box<dyn FnOnce(&mut HashMemory) + Send>;

/// A place among the hashes running and waiting, held from before a sign-in is counted until
/// its hash is done: a sign-in that could not be checked is never counted as a failure.
#[derive(Debug)]
pub struct HashingSlot {
    /// Held, never read: the place is given back when the slot is dropped.
    _permit: OwnedSemaphorePermit,
}

/// The hashing threads and their queue. Cloning shares them; the threads end when the last
/// clone is dropped.
#[derive(Clone)]
pub struct PasswordHasher {
    jobs: crossbeam_channel::Sender<Job>,
    /// `max_concurrent + queue` places: the bound, taken before any work is queued.
    slots: Arc<Semaphore>,
    cost: HashCost,
    /// Made on first use, on a hashing thread.
    decoy: Arc<OnceLock<PasswordHash>>,
}

impl PasswordHasher {
    /// Starts `options.max_concurrent` threads.
    ///
    /// # Panics
    /// When the operating system refuses to start a thread, which leaves nothing to serve with.
    #[must_use]
    #[allow(clippy::expect_used)]
    pub fn start(options: HashingOptions) -> Self {
        // Unbounded here: the slots bound what is queued.
        let (jobs, queue) = crossbeam_channel::unbounded::<Job>();
        let threads = options.max_concurrent.max(1);
        for index in 0..threads {
            let queue = queue.clone();
            std::thread::Builder::new()
                .name(format!("argon2-{index}"))
                .spawn(move || {
                    // Allocated on the first hash, reused by every later one.
                    let mut memory = HashMemory::default();
                    // Ends when every sender is gone.
                    for job in queue {
                        job(&mut memory);
                    }
                })
                .expect("a password hashing thread could not be started");
        }
        Self {
            jobs,
            slots: Arc::new(Semaphore::new(threads + options.queue)),
            cost: options.cost,
            decoy: Arc::new(OnceLock::new()),
        }
    }

    /// A place for one hash, if there is one now.
    ///
    /// # Errors
    /// [`HashingError::Busy`] when every thread is busy and the queue is full.
    pub fn reserve(&self) -> Result<HashingSlot, HashingError> {
        #[allow(clippy::cast_precision_loss)]
        metrics::gauge!("iam_password_hash_queue_length").set(self.jobs.len() as f64);
        self.slots
            .clone()
            .try_acquire_owned()
            .map(|permit| HashingSlot { _permit: permit })
            .map_err(|_| {
                metrics::counter!("iam_password_hash_rejections_total").increment(1);
                HashingError::Busy
            })
    }

    /// The cost new hashes are made at.
    #[must_use]
    pub fn cost(&self) -> HashCost {
        self.cost
    }

    /// Hashes a new password for an identity whose identifier is `identifier` (the password may
    /// not equal it).
    ///
    /// # Errors
    /// [`HashingError`] when the work is refused or lost; the inner [`PasswordError`] when the
    /// password breaks a rule.
    pub async fn hash(
        &self,
        plain: String,
        identifier: Option<String>,
    ) -> Result<Result<PasswordHash, PasswordError>, HashingError> {
        let cost = self.cost;
        let slot = self.reserve()?;
        self.run(slot, move |memory| {
            PasswordHash::create_in(
                &plain,
                identifier.as_deref(),
                cost,
                &mut rand::rng(),
                memory,
            )
        })
        .await
    }

    /// Whether `plain` matches `stored`, in `slot`; without a stored hash the decoy is checked instead,
    /// so that the answer costs the same either way. A match on a hash made at another cost
    /// comes with the password hashed again at the current one, to be stored.
    ///
    /// # Errors
    /// [`HashingError`] when the work is refused or lost.
    pub async fn verify(
        &self,
        slot: HashingSlot,
        stored: Option<PasswordHash>,
        plain: String,
    ) -> Result<Verified, HashingError> {
        let decoy = self.decoy.clone();
        let cost = self.cost;
        self.run(slot, move |memory| match stored {
            Some(hash) if hash.verify_in(&plain, memory) => Verified::Yes {
                rehashed: hash
                    .needs_rehash(cost)
                    .then(|| {
                        PasswordHash::create_in(&plain, None, cost, &mut rand::rng(), memory).ok()
                    })
                    .flatten(),
            },
            Some(_) => Verified::No,
            None => {
                let decoy =
                    decoy.get_or_init(|| PasswordHash::decoy(cost, &mut rand::rng(), memory));
                let _ = decoy.verify_in(&plain, memory);
                Verified::No
            }
        })
        .await
    }

    /// Queues `work` in `slot`, inside the caller's tracing span, and waits for it; the slot is
    /// free again when the work is done.
    async fn run<T: Send + 'static>(
        &self,
        slot: HashingSlot,
        work: impl FnOnce(&mut HashMemory) -> T + Send + 'static,
    ) -> Result<T, HashingError> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let span = tracing::Span::current();
        let job: Job = Box::new(move |memory| {
            let _entered = span.enter();
            // A panic loses this job only; the thread goes on with the next.
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work(memory)));
            // Free before the answer, so that whoever gets it may hash again at once.
            drop(slot);
            if let Ok(value) = outcome {
                let _ = reply.send(value);
            }
        });
        self.jobs.send(job).map_err(|_| HashingError::Failed)?;
        answer
            .in_current_span()
            .await
            .map_err(|_| HashingError::Failed)
    }
}

impl std::fmt::Debug for PasswordHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordHasher")
            .field("cost", &self.cost)
            .field("free", &self.slots.available_permits())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cheap(max_concurrent: usize, queue: usize) -> PasswordHasher {
        PasswordHasher::start(HashingOptions {
            cost: HashCost::new(64, 1, 1).unwrap(),
            max_concurrent,
            queue,
        })
    }

    /// Checks `plain` in a slot of its own.
    async fn check(
        hasher: &PasswordHasher,
        stored: Option<PasswordHash>,
        plain: &str,
    ) -> Result<Verified, HashingError> {
        hasher.verify(hasher.reserve()?, stored, plain.into()).await
    }

    #[tokio::test]
    async fn hashes_and_verifies_off_the_runtime() {
        let hasher = cheap(1, 1);
        let hash = hasher
            .hash("correct horse".into(), None)
            .await
            .unwrap()
            .unwrap();
        assert!(hash.as_str().starts_with("$argon2id$v=19$m=64,t=1,p=1$"));
        assert_eq!(
            check(&hasher, Some(hash.clone()), "correct horse").await,
            Ok(Verified::Yes { rehashed: None })
        );
        assert_eq!(
            check(&hasher, Some(hash), "wrong horse").await,
            Ok(Verified::No)
        );
        assert_eq!(
            check(&hasher, None, "correct horse").await,
            Ok(Verified::No)
        );
        assert_eq!(
            hasher.hash("short".into(), None).await.unwrap(),
            Err(PasswordError::TooShort(5))
        );
    }

    #[tokio::test]
    async fn past_the_threads_and_the_queue_work_is_refused_at_once() {
        let hasher = cheap(1, 2);
        // Hold the one thread, then fill the queue.
        let (started, running) = std::sync::mpsc::channel::<()>();
        let (release, held) = std::sync::mpsc::channel::<()>();
        let slot = hasher.reserve().unwrap();
        let blocker: Job = Box::new(move |_| {
            let _slot = slot;
            started.send(()).unwrap();
            let _ = held.recv();
        });
        hasher.jobs.send(blocker).unwrap();
        running.recv().unwrap();
        let queued: Vec<_> = (0..2)
            .map(|_| hasher.reserve().unwrap())
            .map(|slot| {
                let hasher = hasher.clone();
                tokio::spawn(async move { hasher.verify(slot, None, "x".into()).await })
            })
            .collect();
        // Refused before anything is queued: a caller reserves first, then counts, then hashes.
        assert_eq!(hasher.reserve().map(drop), Err(HashingError::Busy));
        assert_eq!(
            hasher.hash("long enough".into(), None).await.map(drop),
            Err(HashingError::Busy)
        );
        release.send(()).unwrap();
        for waiting in queued {
            assert_eq!(waiting.await.unwrap(), Ok(Verified::No));
        }
        // Every slot is free again.
        assert_eq!(hasher.slots.available_permits(), 3);
        assert_eq!(check(&hasher, None, "x").await, Ok(Verified::No));
    }

    #[tokio::test]
    async fn a_match_on_a_hash_of_another_cost_comes_with_a_new_hash() {
        let old = PasswordHash::create(
            "correct horse",
            HashCost::new(32, 1, 1).unwrap(),
            &mut rand::rng(),
        )
        .unwrap();
        let hasher = cheap(1, 1);
        let Ok(Verified::Yes {
            rehashed: Some(new),
        }) = check(&hasher, Some(old), "correct horse").await
        else {
            panic!("no new hash");
        };
        assert!(new.as_str().starts_with("$argon2id$v=19$m=64,t=1,p=1$"));
        assert!(new.verify("correct horse"));
    }

    #[tokio::test]
    async fn a_panic_loses_one_job_and_its_slot_not_the_thread() {
        let hasher = cheap(1, 1);
        let slot = hasher.reserve().unwrap();
        assert_eq!(
            hasher.run(slot, |_| -> () { panic!("boom") }).await,
            Err(HashingError::Failed)
        );
        assert_eq!(hasher.slots.available_permits(), 2);
        assert_eq!(check(&hasher, None, "x").await, Ok(Verified::No));
    }
}
