//! Sessions as clients see them: who am I, signing out, a person's other sessions, and the
//! admin's view of an identity's sessions.

use domain::audit::{Action, Origin};
use domain::id::{IdentityId, SessionId};
use domain::identity::Identity;
use domain::session::{Session, SessionToken};

use crate::ports::{Purge, SessionQuery, Store, StoreError, StoredSession};
use crate::{Service, paging};

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
        let now = self.clock.now();
        self.store
            .purge_expired(Purge {
                expired_before: now - RETENTION,
                // A retention too long to subtract keeps everything.
                audit_before: now
                    .checked_sub_signed(self.audit_retention)
                    .unwrap_or(chrono::DateTime::<chrono::Utc>::MIN_UTC),
            })
            .await
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
    pub async fn log_out(&self, token: &SessionToken, origin: &Origin) -> Result<(), SessionError> {
        let (session, _) = self.whoami(token).await?;
        let now = self.clock.now();
        let event = self
            .audit(origin, Action::SessionRevoked, now)
            .identity(session.identity_id);
        self.store.revoke_session(session.id, now, event).await?;
        tracing::info!(target: "audit", session_id = %session.id, "signed out");
        Ok(())
    }
}

/// The page size bounds of session listings (as Kratos: default 250, at most 500).
pub const DEFAULT_SESSION_PAGE_SIZE: usize = 250;
pub const MAX_SESSION_PAGE_SIZE: usize = 500;

/// Which page of sessions: as returned in the previous page's `next_page_token`.
#[derive(Debug, Clone, Default)]
pub struct SessionPageRequest {
    pub page_size: Option<usize>,
    pub page_token: Option<String>,
}

#[derive(Debug)]
pub struct SessionPage {
    pub sessions: Vec<StoredSession>,
    pub page_size: usize,
    pub next_page_token: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum SessionsError {
    /// No token, or one that names no active session.
    #[error("no active session")]
    Unauthorized,
    #[error("identity {0} was not found")]
    IdentityNotFound(IdentityId),
    /// No such session, or (for a person) not one of theirs.
    #[error("session {0} was not found")]
    SessionNotFound(SessionId),
    /// A person cannot end the session they call with here: signing out does.
    #[error("the current session cannot be revoked here; sign out instead")]
    CurrentSession,
    #[error("\"page_size\" must be between 1 and {MAX_SESSION_PAGE_SIZE}, not {0}")]
    InvalidPageSize(usize),
    #[error("\"page_token\" \"{0}\" is not a token this service returned")]
    InvalidPageToken(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<SessionError> for SessionsError {
    fn from(error: SessionError) -> Self {
        match error {
            SessionError::Unauthorized => Self::Unauthorized,
            SessionError::Store(error) => Self::Store(error),
        }
    }
}

impl<S: Store> Service<S> {
    /// One page of `identity_id`'s sessions in id order, optionally only the active (or
    /// inactive) ones, with the identity.
    ///
    /// # Errors
    /// [`SessionsError::IdentityNotFound`], a page request out of bounds, or the store's.
    pub async fn identity_sessions(
        &self,
        identity_id: IdentityId,
        page: SessionPageRequest,
        active: Option<bool>,
    ) -> Result<(SessionPage, Identity), SessionsError> {
        let (page_size, after) = checked_page(page)?;
        let identity = self
            .store
            .find_identity(identity_id)
            .await?
            .ok_or(SessionsError::IdentityNotFound(identity_id))?;
        let page = self
            .session_page(identity_id, page_size, after, active, None)
            .await?;
        Ok((page, identity))
    }

    /// Ends every active session of `identity_id`; how many.
    ///
    /// # Errors
    /// [`SessionsError::IdentityNotFound`] or the store's.
    pub async fn revoke_identity_sessions(
        &self,
        identity_id: IdentityId,
        origin: &Origin,
    ) -> Result<usize, SessionsError> {
        if self.store.find_identity(identity_id).await?.is_none() {
            return Err(SessionsError::IdentityNotFound(identity_id));
        }
        let now = self.clock.now();
        let event = self
            .audit(origin, Action::SessionsRevoked, now)
            .identity(identity_id);
        let count = self
            .store
            .revoke_identity_sessions(identity_id, None, now, event)
            .await?;
        tracing::info!(target: "audit", identity_id = %identity_id, count, "identity sessions revoked");
        Ok(count)
    }

    /// Session `id`, active or not, with its identity.
    ///
    /// # Errors
    /// [`SessionsError::SessionNotFound`] or the store's.
    pub async fn session(&self, id: SessionId) -> Result<(StoredSession, Identity), SessionsError> {
        self.store
            .find_session_by_id(id)
            .await?
            .ok_or(SessionsError::SessionNotFound(id))
    }

    /// Ends session `id` (no matter whether it still was active).
    ///
    /// # Errors
    /// [`SessionsError::SessionNotFound`] or the store's.
    pub async fn disable_session(
        &self,
        id: SessionId,
        origin: &Origin,
    ) -> Result<(), SessionsError> {
        let (stored, _) = self.session(id).await?;
        let now = self.clock.now();
        let event = self
            .audit(origin, Action::SessionRevoked, now)
            .identity(stored.session.identity_id);
        let revoked = self.store.revoke_session(id, now, event).await?;
        tracing::info!(
            target: "audit",
            identity_id = %stored.session.identity_id,
            session_id = %id,
            count = usize::from(revoked),
            "session revoked"
        );
        Ok(())
    }

    /// One page of the other active sessions of the identity `token`'s session belongs to.
    ///
    /// # Errors
    /// [`SessionsError::Unauthorized`], a page request out of bounds, or the store's.
    pub async fn my_other_sessions(
        &self,
        token: &SessionToken,
        page: SessionPageRequest,
    ) -> Result<(SessionPage, Identity), SessionsError> {
        let (page_size, after) = checked_page(page)?;
        let (current, identity) = self.whoami(token).await?;
        let page = self
            .session_page(identity.id, page_size, after, Some(true), Some(current.id))
            .await?;
        Ok((page, identity))
    }

    /// Ends session `id`, one of the caller's other sessions.
    ///
    /// # Errors
    /// [`SessionsError::Unauthorized`], [`SessionsError::CurrentSession`] when `id` is the
    /// caller's, [`SessionsError::SessionNotFound`] when it is not one of the identity's.
    pub async fn disable_my_session(
        &self,
        token: &SessionToken,
        id: SessionId,
        origin: &Origin,
    ) -> Result<(), SessionsError> {
        let (current, identity) = self.whoami(token).await?;
        if current.id == id {
            return Err(SessionsError::CurrentSession);
        }
        match self.store.find_session_by_id(id).await? {
            Some((stored, _)) if stored.session.identity_id == identity.id => {}
            _ => return Err(SessionsError::SessionNotFound(id)),
        }
        let now = self.clock.now();
        let event = self
            .audit(origin, Action::SessionRevoked, now)
            .identity(identity.id);
        self.store.revoke_session(id, now, event).await?;
        tracing::info!(target: "audit", identity_id = %identity.id, session_id = %id, "own session revoked");
        Ok(())
    }

    /// Ends every other active session of the caller's identity; how many.
    ///
    /// # Errors
    /// [`SessionsError::Unauthorized`] or the store's.
    pub async fn disable_my_other_sessions(
        &self,
        token: &SessionToken,
        origin: &Origin,
    ) -> Result<usize, SessionsError> {
        let (current, identity) = self.whoami(token).await?;
        let now = self.clock.now();
        let event = self
            .audit(origin, Action::SessionsRevoked, now)
            .identity(identity.id);
        let count = self
            .store
            .revoke_identity_sessions(identity.id, Some(current.id), now, event)
            .await?;
        tracing::info!(target: "audit", identity_id = %identity.id, count, "own other sessions revoked");
        Ok(count)
    }

    async fn session_page(
        &self,
        identity_id: IdentityId,
        page_size: usize,
        after: Option<SessionId>,
        active: Option<bool>,
        except: Option<SessionId>,
    ) -> Result<SessionPage, SessionsError> {
        // One more than asked tells whether another page follows.
        let mut sessions = self
            .store
            .list_sessions(SessionQuery {
                identity_id,
                after,
                limit: page_size + 1,
                active,
                now: self.clock.now(),
                except,
            })
            .await?;
        let next_page_token =
            paging::next_page(&mut sessions, page_size, |stored| stored.session.id);
        Ok(SessionPage {
            sessions,
            page_size,
            next_page_token,
        })
    }
}

/// The page size within bounds and where the page starts.
fn checked_page(page: SessionPageRequest) -> Result<(usize, Option<SessionId>), SessionsError> {
    let page_size = page.page_size.unwrap_or(DEFAULT_SESSION_PAGE_SIZE);
    if !(1..=MAX_SESSION_PAGE_SIZE).contains(&page_size) {
        return Err(SessionsError::InvalidPageSize(page_size));
    }
    let after =
        paging::cursor::<SessionId>(page.page_token).map_err(SessionsError::InvalidPageToken)?;
    Ok((page_size, after))
}
