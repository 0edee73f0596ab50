//! The one place where blocking diesel work leaves the async runtime.

use application::ports::StoreError;
use diesel::PgConnection;
use tracing::Instrument;

use crate::PgStore;

impl PgStore {
    /// Runs `work` with a pooled connection on tokio's blocking pool, inside the caller's
    /// tracing span. A panic in `work` is raised again in the caller; a pool that cannot hand
    /// out a connection in time is [`StoreError::Unavailable`].
    pub(crate) async fn run<T, E, F>(&self, work: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: FnOnce(&mut PgConnection) -> Result<T, E> + Send + 'static,
    {
        let pool = self.pool.clone();
        let span = tracing::Span::current();
        let task = tokio::task::spawn_blocking(move || {
            let _entered = span.enter();
            let mut conn = pool
                .get()
                .map_err(|error| StoreError::Unavailable(Box::new(error)))?;
            work(&mut conn)
        });
        match task.in_current_span().await {
            Ok(result) => result,
            Err(join) if join.is_panic() => std::panic::resume_unwind(join.into_panic()),
            Err(join) => Err(StoreError::Unexpected(Box::new(join)).into()),
        }
    }
}
