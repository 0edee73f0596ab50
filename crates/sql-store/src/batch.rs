//! Group commit. Every write of its own pays for a hand-off to a blocking thread, a round trip
//! and a commit; on a loaded machine that overhead, not the database's work, sets the rate. The
//! batcher lets the requests that arrive while a write is in flight go together in the next one:
//! one hand-off, one statement, one commit for all of them, each caller answered with its own
//! outcome.
//!
//! There is no timer. A request that finds a writer's turn free is written at once, as a batch
//! of one; batches form only from requests that arrive while every turn is taken.

use std::collections::VecDeque;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use tokio::sync::{Semaphore, oneshot};

/// Why a request got no answer from a write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unwritten {
    /// It waited longer than the batcher's patience for a batch to take it.
    Waited,
    /// Its batch ended without answering it (the task panicked).
    Lost,
}

/// A request in the queue: what to write, where to answer, and since when it waits.
type Waiting<T, R> = (T, oneshot::Sender<R>, Instant);

/// Requests of type `T` waiting to be written together, each answered with an `R`.
pub(crate) struct Batcher<T, R> {
    waiting: Mutex<VecDeque<Waiting<T, R>>>,
    /// Batches in flight at once.
    writers: Arc<Semaphore>,
    /// The most requests one batch takes.
    max_size: usize,
    /// How long a request may wait in the queue before it is answered [`Unwritten::Waited`]
    /// unwritten: the queue is bounded in time, as the wait for a connection is.
    patience: Duration,
}

impl<T: Send + 'static, R: Send + 'static> Batcher<T, R> {
    pub(crate) fn new(writers: usize, max_size: usize, patience: Duration) -> Self {
        Self {
            waiting: Mutex::new(VecDeque::new()),
            writers: Arc::new(Semaphore::new(writers.max(1))),
            max_size: max_size.max(1),
            patience,
        }
    }

    /// Writes `item`, alone or with others, through `write`, which gets a batch and returns one
    /// answer per request, in order. `unwritten` answers a request no write answered.
    pub(crate) async fn submit<W, F>(
        &self,
        item: T,
        write: W,
        unwritten: impl Fn(Unwritten) -> R,
    ) -> R
    where
        W: Fn(Vec<T>) -> F,
        F: Future<Output = Vec<R>> + Send + 'static,
    {
        let lost = || unwritten(Unwritten::Lost);
        let (answer, mut answered) = oneshot::channel();
        self.queue().push_back((item, answer, Instant::now()));
        loop {
            // The answer may come from a batch another request led, while this one waited.
            let turn = tokio::select! {
                biased;
                answer = &mut answered => return answer.unwrap_or_else(|_| lost()),
                turn = self.writers.clone().acquire_owned() => match turn {
                    Ok(turn) => turn,
                    Err(_) => return lost(),
                },
            };
            let Some(batch) = self.next_batch(&unwritten) else {
                // Taken by another batch already.
                drop(turn);
                return answered.await.unwrap_or_else(|_| lost());
            };
            let (items, answers): (Vec<T>, Vec<oneshot::Sender<R>>) = batch.into_iter().unzip();
            if items.is_empty() {
                drop(turn);
                continue;
            }
            let written = write(items);
            // On a task of its own: a caller that goes away must not take the others' answers
            // (nor the turn) with it.
            tokio::spawn(async move {
                let outcomes = written.await;
                for (answer, outcome) in answers.into_iter().zip(outcomes) {
                    let _ = answer.send(outcome);
                }
                drop(turn);
            });
        }
    }

    /// Takes the next batch from the queue. A request whose caller went away is dropped
    /// unwritten; one that waited too long is answered [`Unwritten::Waited`]. `None` when the
    /// queue was empty.
    fn next_batch(
        &self,
        unwritten: &impl Fn(Unwritten) -> R,
    ) -> Option<Vec<(T, oneshot::Sender<R>)>> {
        let mut queue = self.queue();
        if queue.is_empty() {
            return None;
        }
        let mut batch = Vec::with_capacity(queue.len().min(self.max_size));
        while batch.len() < self.max_size
            && let Some((item, answer, since)) = queue.pop_front()
        {
            if answer.is_closed() {
                continue;
            }
            if since.elapsed() > self.patience {
                let _ = answer.send(unwritten(Unwritten::Waited));
                continue;
            }
            batch.push((item, answer));
        }
        Some(batch)
    }

    fn queue(&self) -> std::sync::MutexGuard<'_, VecDeque<Waiting<T, R>>> {
        self.waiting.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn a_lone_request_goes_at_once_and_waiting_ones_go_together() {
        let batcher = Arc::new(Batcher::<u32, u32>::new(1, 8, Duration::from_secs(5)));
        let batches = Arc::new(Mutex::new(Vec::new()));
        let write = {
            let batches = batches.clone();
            move |items: Vec<u32>| {
                batches.lock().unwrap().push(items.clone());
                async move {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    items.into_iter().map(|n| n * 10).collect()
                }
            }
        };
        assert_eq!(batcher.submit(1, write.clone(), |_| 0).await, 10);
        assert_eq!(*batches.lock().unwrap(), [vec![1]]);

        let answers = futures_join(&batcher, &write, 2..22).await;
        assert_eq!(answers, (2..22).map(|n| n * 10).collect::<Vec<_>>());
        let sizes: Vec<usize> = batches.lock().unwrap()[1..].iter().map(Vec::len).collect();
        assert_eq!(sizes.iter().sum::<usize>(), 20);
        assert!(sizes.iter().all(|&size| size <= 8), "{sizes:?}");
        assert!(sizes.len() < 20, "no batch formed: {sizes:?}");
    }

    #[tokio::test]
    async fn a_caller_that_goes_away_leaves_the_others_answered() {
        let batcher = Arc::new(Batcher::<u32, u32>::new(1, 8, Duration::from_secs(5)));
        let written = Arc::new(AtomicUsize::new(0));
        let write = {
            let written = written.clone();
            move |items: Vec<u32>| {
                let written = written.clone();
                async move {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    written.fetch_add(items.len(), Ordering::SeqCst);
                    items
                }
            }
        };
        let leader = {
            let (batcher, write) = (batcher.clone(), write.clone());
            tokio::spawn(async move { batcher.submit(1, write, |_| 0).await })
        };
        tokio::task::yield_now().await;
        let follower = {
            let (batcher, write) = (batcher.clone(), write.clone());
            tokio::spawn(async move { batcher.submit(2, write, |_| 0).await })
        };
        leader.abort();
        assert_eq!(follower.await.unwrap(), 2);
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(written.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_request_waits_no_longer_than_the_patience() {
        let batcher = Arc::new(Batcher::<u32, u32>::new(1, 8, Duration::from_millis(10)));
        let write = |items: Vec<u32>| async move {
            tokio::time::sleep(Duration::from_millis(100)).await;
            items
        };
        let first = {
            let batcher = batcher.clone();
            tokio::spawn(async move { batcher.submit(1, write, |_| 0).await })
        };
        tokio::time::sleep(Duration::from_millis(5)).await;
        let waited = |why| match why {
            Unwritten::Waited => 998,
            Unwritten::Lost => 999,
        };
        // Queued behind the first write, past its patience when the turn comes.
        assert_eq!(batcher.submit(2, write, waited).await, 998);
        assert_eq!(first.await.unwrap(), 1);
    }

    async fn futures_join<W, F>(
        batcher: &Arc<Batcher<u32, u32>>,
        write: &W,
        items: std::ops::Range<u32>,
    ) -> Vec<u32>
    where
        W: Fn(Vec<u32>) -> F + Clone + Send + Sync + 'static,
        F: Future<Output = Vec<u32>> + Send + 'static,
    {
        let tasks: Vec<_> = items
            .map(|n| {
                let (batcher, write) = (batcher.clone(), write.clone());
                tokio::spawn(async move { batcher.submit(n, write, |_| 0).await })
            })
            .collect();
        let mut answers = Vec::new();
        for task in tasks {
            answers.push(task.await.unwrap());
        }
        answers
    }
}
