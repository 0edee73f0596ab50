//! The one way blocking work (the stores' diesel calls) leaves the async runtime. Password
//! hashing has threads of its own (see [`crate::hashing`]).

use tracing::Instrument;

use crate::ports::StoreError;

/// Runs `work` on tokio's blocking pool, inside the caller's tracing span. A panic in `work` is
/// raised again in the caller; a task cancelled by a runtime shutting down is
/// [`StoreError::Unexpected`].
///
/// # Errors
/// [`StoreError::Unexpected`] when the task was cancelled.
pub async fn run<T, F>(work: F) -> Result<T, StoreError>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    let span = tracing::Span::current();
    let task = tokio::task::spawn_blocking(move || {
        let _entered = span.enter();
        work()
    });
    match task.in_current_span().await {
        Ok(done) => Ok(done),
        Err(join) if join.is_panic() => std::panic::resume_unwind(join.into_panic()),
        Err(join) => Err(StoreError::Unexpected(Box::new(join))),
    }
}
