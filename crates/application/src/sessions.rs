//! Sessions as clients see them: who am I, and signing out.

use domain::identity::Identity;
use domain::session::{Session, SessionToken};

use crate::Service;
use crate::ports::{Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// No token, or one that names no active session.
    #[error("no active session")]
    Unauthorized,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// How long expired flows and sessions are kept: long enough for a late visitor to be told
/// that a link expired rather than that it never existed.
pub const RETENTION: chrono::TimeDelta = chrono::TimeDelta::hours(24);

impl<S: Store> Service<S> {
    /// Deletes flows and sessions that expired (or sessions revoked) more than
    /// [`RETENTION`] ago, so that the store does not grow without end.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    pub async fn purge_expired(&self) -> Result<(), StoreError> {
        self.store.purge_expired(self.clock.now() - RETENTION).await
    }

    /// The active session `token` names, with its identity.
    ///
    /// # Errors
    /// [`SessionError::Unauthorized`] when there is none.
    pub async fn whoami(&self, token: &SessionToken) -> Result<(Session, Identity), SessionError> {
        self.store
            .find_session(&token.hash(), self.clock.now())
            .await?
            .ok_or(SessionError::Unauthorized)
    }

    /// Ends the session `token` names.
    ///
    /// # Errors
    /// [`SessionError::Unauthorized`] when there is none.
    pub async fn log_out(&self, token: &SessionToken) -> Result<(), SessionError> {
        let (session, _) = self.whoami(token).await?;
        self.store
            .revoke_session(session.id, self.clock.now())
            .await?;
        tracing::info!(target: "audit", session_id = %session.id, "signed out");
        Ok(())
    }
}
