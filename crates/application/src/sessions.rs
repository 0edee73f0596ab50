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

impl<S: Store> Service<S> {
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
