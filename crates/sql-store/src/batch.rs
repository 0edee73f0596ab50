//! Group commit. Every write of its own pays for a hand-off to a blocking thread, a round trip
//! and a commit; on a loaded machine that overhead, not the database's work, sets the rate. The
//! batcher lets the requests that arrive while a write is in flight go together in the next one:
//! one statement, one commit for all of them, each caller answered with its own outcome. A
//! writer keeps its connection while requests keep coming, up to [`ROUNDS_PER_TURN`] batches,
//! so a busy queue pays one hand-off for several batches, not one each.
//!
//! There is no timer. A request that finds a writer's turn free is written at once, as a batch
//! of one; batches form only from requests that arrive while every turn is taken.

use std::collections::VecDeque;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::{Semaphore, oneshot};
// The runtime's clock, so that tests can pause it.
use tokio::time::Instant;

/// The most batches a writer takes in a row before it gives its connection back: on a small
/// pool (SQLite has one connection) other work must not wait behind a steady stream of issues.
pub(crate) const ROUNDS_PER_TURN: usize = 8;

/// Why a request got no answer from a write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unwritten {
    /// It waited longer than the batcher's patience for a batch to take it.
    Waited,
    /// Its batch ended without answering it (the write panicked or was cancelled).
    Lost,
}

/// A request in the queue: what to write, where to answer, and since when it waits.
type Waiting<T, R> = (T, oneshot::Sender<R>, Instant);

/// Requests of type `T` waiting to be written together, each answered with an `R`.
pub(crate) struct Batcher<T, R> {
    queue: Arc<Queue<T, R>>,
    /// Batches in flight at once.
    writers: Arc<Semaphore>,
}

/// The waiting requests, shared by the callers and the writers draining them.
struct Queue<T, R> {
    waiting: Mutex<VecDeque<Waiting<T, R>>>,
    /// The most requests one batch takes.
    max_size: usize,
    /// How long a request may wait before it is answered [`Unwritten::Waited`] unwritten: the
    /// queue is bounded in time, as the wait for a connection is.
    patience: Duration,
    /// The answer for a request that no write answered.
    unwritten: fn(Unwritten) -> R,
}

/// Requests taken from the queue to be written together. Each is answered once: by
/// [`Batch::answer`], or, if the batch is dropped unanswered, with [`Unwritten::Lost`].
pub(crate) struct Batch<T, R> {
    items: Vec<T>,
    answers: Vec<oneshot::Sender<R>>,
    unwritten: fn(Unwritten) -> R,
}

impl<T, R> Batch<T, R> {
    pub(crate) fn items(&self) -> &[T] {
        &self.items
    }

    /// Answers each request with its outcome, in order.
    pub(crate) fn answer(mut self, outcomes: impl IntoIterator<Item = R>) {
        for (answer, outcome) in self.answers.drain(..).zip(outcomes) {
            let _ = answer.send(outcome);
        }
    }

    /// Answers every request with `outcome(i)`: one failure, each caller told as if alone.
    pub(crate) fn answer_each(self, outcome: impl FnMut(usize) -> R) {
        let size = self.items.len();
        self.answer((0..size).map(outcome));
    }
}

impl<T, R> Drop for Batch<T, R> {
    fn drop(&mut self) {
        for answer in self.answers.drain(..) {
            let _ = answer.send((self.unwritten)(Unwritten::Lost));
        }
    }
}

impl<T: Send + 'static, R: Send + 'static> Batcher<T, R> {
    pub(crate) fn new(
        writers: usize,
        max_size: usize,
        patience: Duration,
        unwritten: fn(Unwritten) -> R,
    ) -> Self {
        Self {
            queue: Arc::new(Queue {
                waiting: Mutex::new(VecDeque::new()),
                max_size: max_size.max(1),
                patience,
                unwritten,
            }),
            writers: Arc::new(Semaphore::new(writers.max(1))),
        }
    }

    /// Writes `item`, alone or with others. `write` gets the writer's [`Batches`]: the first
    /// batch, then whatever waits when it is written, up to [`ROUNDS_PER_TURN`] batches.
    pub(crate) async fn submit<W, F>(&self, item: T, write: W) -> R
    where
        W: Fn(Batches<T, R>) -> F,
        F: Future<Output = ()> + Send + 'static,
    {
        let lost = || (self.queue.unwritten)(Unwritten::Lost);
        let (answer, mut answered) = oneshot::channel();
        self.queue.push((item, answer, Instant::now()));
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
            let Some(batch) = self.queue.next_batch() else {
                // Taken by another batch already.
                drop(turn);
                return answered.await.unwrap_or_else(|_| lost());
            };
            let written = write(Batches {
                first: Some(batch),
                queue: self.queue.clone(),
                rounds: 0,
            });
            // On a task of its own: a caller that goes away must not take the others' answers
            // (nor the turn) with it.
            tokio::spawn(async move {
                written.await;
                drop(turn);
            });
        }
    }
}

/// What one writer's turn writes: the batch that started it, then the next ones taken as each
/// is written, while requests wait and up to [`ROUNDS_PER_TURN`] in all.
pub(crate) struct Batches<T, R> {
    first: Option<Batch<T, R>>,
    queue: Arc<Queue<T, R>>,
    rounds: usize,
}

impl<T, R> Iterator for Batches<T, R> {
    type Item = Batch<T, R>;

    fn next(&mut self) -> Option<Batch<T, R>> {
        if self.rounds == ROUNDS_PER_TURN {
            return None;
        }
        self.rounds += 1;
        self.first.take().or_else(|| self.queue.next_batch())
    }
}

impl<T, R> Queue<T, R> {
    fn push(&self, waiting: Waiting<T, R>) {
        self.waiting().push_back(waiting);
    }

    /// Takes the next batch. A request whose caller went away is dropped unwritten; one that
    /// waited too long is answered [`Unwritten::Waited`]. `None` when nothing is left to write.
    fn next_batch(&self) -> Option<Batch<T, R>> {
        let mut queue = self.waiting();
        let mut batch = Batch {
            items: Vec::with_capacity(queue.len().min(self.max_size)),
            answers: Vec::with_capacity(queue.len().min(self.max_size)),
            unwritten: self.unwritten,
        };
        while batch.items.len() < self.max_size
            && let Some((item, answer, since)) = queue.pop_front()
        {
            if answer.is_closed() {
                continue;
            }
            if since.elapsed() > self.patience {
                let _ = answer.send((self.unwritten)(Unwritten::Waited));
                continue;
            }
            batch.items.push(item);
            batch.answers.push(answer);
        }
        (!batch.items.is_empty()).then_some(batch)
    }

    fn waiting(&self) -> std::sync::MutexGuard<'_, VecDeque<Waiting<T, R>>> {
        self.waiting.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use std::pin::Pin;

    use super::*;

    type Log = Arc<Mutex<Vec<Vec<u32>>>>;
    type Written = Pin<Box<dyn Future<Output = ()> + Send>>;

    fn answer_of(why: Unwritten) -> u32 {
        match why {
            Unwritten::Waited => 998,
            Unwritten::Lost => 999,
        }
    }

    fn batcher(writers: usize, patience: Duration) -> Arc<Batcher<u32, u32>> {
        Arc::new(Batcher::new(writers, 8, patience, answer_of))
    }

    /// A write as the store's: it writes the batches of its turn one after the other, each in
    /// `pause`, answering each request ten times its number; `log` gets one line per turn with
    /// the sizes of its batches.
    fn writer(pause: Duration, log: &Log) -> impl Fn(Batches<u32, u32>) -> Written + Clone + use<> {
        let log = log.clone();
        move |batches| {
            let log = log.clone();
            Box::pin(async move {
                let mut sizes = Vec::new();
                for batch in batches {
                    sizes.push(u32::try_from(batch.items().len()).unwrap());
                    tokio::time::sleep(pause).await;
                    let outcomes: Vec<u32> = batch.items().iter().map(|n| n * 10).collect();
                    batch.answer(outcomes);
                }
                log.lock().unwrap().push(sizes);
            })
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_lone_request_goes_at_once_and_waiting_ones_go_together() {
        let batcher = batcher(1, Duration::from_secs(5));
        let log = Log::default();
        let write = writer(Duration::from_millis(20), &log);
        assert_eq!(batcher.submit(1, write.clone()).await, 10);
        assert_eq!(*log.lock().unwrap(), [vec![1]]);

        let answers = submit_all(&batcher, &write, 2..22).await;
        assert_eq!(answers, (2..22).map(|n| n * 10).collect::<Vec<_>>());
        let sizes: Vec<u32> = log.lock().unwrap()[1..].concat();
        assert_eq!(sizes.iter().sum::<u32>(), 20);
        assert!(sizes.iter().all(|&size| size <= 8), "{sizes:?}");
        assert!(sizes.len() < 20, "no batch formed: {sizes:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_writer_goes_on_with_what_waits_up_to_its_rounds() {
        let batcher = batcher(1, Duration::from_secs(5));
        let log = Log::default();
        let write = writer(Duration::from_millis(20), &log);
        let first = spawn_submit(&batcher, &write, 0);
        tokio::time::sleep(Duration::from_millis(5)).await;
        // Arriving one by one while each batch is written: each goes in a later round of the
        // first writer's turn, until its rounds are spent.
        let mut later = Vec::new();
        for n in 1..=u32::try_from(ROUNDS_PER_TURN + 1).unwrap() {
            later.push(spawn_submit(&batcher, &write, n));
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(first.await.unwrap(), 0);
        for (n, answer) in (1..).zip(later) {
            assert_eq!(answer.await.unwrap(), n * 10);
        }
        let turns = log.lock().unwrap().clone();
        assert_eq!(turns[0].len(), ROUNDS_PER_TURN, "{turns:?}");
        assert!(turns.len() >= 2, "{turns:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_turn_that_ends_early_leaves_the_rest_to_the_next_turn() {
        let batcher = batcher(1, Duration::from_secs(5));
        let turns = Arc::new(Mutex::new(0));
        // Writes one batch a turn, as the store does when the database failed it.
        let write = {
            let turns = turns.clone();
            move |mut batches: Batches<u32, u32>| {
                *turns.lock().unwrap() += 1;
                async move {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    if let Some(batch) = batches.next() {
                        let outcomes: Vec<u32> = batch.items().iter().map(|n| n * 10).collect();
                        batch.answer(outcomes);
                    }
                }
            }
        };
        let first = spawn_submit(&batcher, &write, 1);
        tokio::time::sleep(Duration::from_millis(5)).await;
        let answers = submit_all(&batcher, &write, 2..6).await;
        assert_eq!(first.await.unwrap(), 10);
        assert_eq!(answers, [20, 30, 40, 50]);
        assert_eq!(*turns.lock().unwrap(), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn a_caller_that_goes_away_leaves_the_others_answered() {
        let batcher = batcher(1, Duration::from_secs(5));
        let log = Log::default();
        let write = writer(Duration::from_millis(20), &log);
        let leader = spawn_submit(&batcher, &write, 1);
        tokio::task::yield_now().await;
        let follower = spawn_submit(&batcher, &write, 2);
        leader.abort();
        assert_eq!(follower.await.unwrap(), 20);
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(log.lock().unwrap().concat().iter().sum::<u32>(), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn a_request_waits_no_longer_than_the_patience() {
        let batcher = batcher(1, Duration::from_millis(10));
        let log = Log::default();
        let write = writer(Duration::from_millis(100), &log);
        let first = spawn_submit(&batcher, &write, 1);
        tokio::time::sleep(Duration::from_millis(5)).await;
        // Queued behind the first write, past its patience when the next round takes it.
        assert_eq!(batcher.submit(2, write).await, 998);
        assert_eq!(first.await.unwrap(), 10);
    }

    #[tokio::test(start_paused = true)]
    async fn a_batch_dropped_unanswered_answers_lost() {
        let batcher = batcher(1, Duration::from_secs(5));
        let dropped = |batches: Batches<u32, u32>| async move { drop(batches) };
        assert_eq!(batcher.submit(1, dropped).await, 999);
    }

    /// Submits `n` on a task of its own, as a request would.
    fn spawn_submit<W, F>(
        batcher: &Arc<Batcher<u32, u32>>,
        write: &W,
        n: u32,
    ) -> tokio::task::JoinHandle<u32>
    where
        W: Fn(Batches<u32, u32>) -> F + Clone + Send + Sync + 'static,
        F: Future<Output = ()> + Send + 'static,
    {
        let (batcher, write) = (batcher.clone(), write.clone());
        tokio::spawn(async move { batcher.submit(n, write).await })
    }

    async fn submit_all<W, F>(
        batcher: &Arc<Batcher<u32, u32>>,
        write: &W,
        items: std::ops::Range<u32>,
    ) -> Vec<u32>
    where
        W: Fn(Batches<u32, u32>) -> F + Clone + Send + Sync + 'static,
        F: Future<Output = ()> + Send + 'static,
    {
        let tasks: Vec<_> = items.map(|n| spawn_submit(batcher, write, n)).collect();
        let mut answers = Vec::new();
        for task in tasks {
            answers.push(task.await.unwrap());
        }
        answers
    }
}
