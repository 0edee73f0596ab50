//! Setting a new password in the settings flow a redeemed code opened.

use domain::audit::{Action, Origin};
use domain::id::SettingsFlowId;
use domain::identity::Identity;
use domain::password::PasswordError;
use domain::selfservice::{PasswordChange, SettingsFlow, SettingsState};
use domain::session::{Session, SessionToken};
use domain::time::Expires;

use crate::Service;
use crate::hashing::HashingError;
use crate::ports::{Store, StoreError};
use crate::sessions::SessionError;

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("no active session")]
    Unauthorized,
    #[error("settings flow {0} was not found")]
    NotFound(SettingsFlowId),
    #[error("settings flow {0} has expired")]
    Expired(SettingsFlowId),
    /// The flow belongs to another session's identity.
    #[error("this settings flow belongs to another account")]
    Forbidden,
    /// The session is too old to change the password (a session other than the one the code
    /// opened, signed in long ago); a new recovery code opens a fresh one.
    #[error("the session is too old to change the password")]
    PrivilegeExpired,
    #[error("the password was already changed in this flow")]
    AlreadyDone,
    #[error(transparent)]
    InvalidPassword(PasswordError),
    #[error(transparent)]
    Hashing(#[from] HashingError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<SessionError> for SettingsError {
    fn from(error: SessionError) -> Self {
        match error {
            SessionError::Unauthorized => Self::Unauthorized,
            SessionError::Store(error) => Self::Store(error),
        }
    }
}

impl<S: Store> Service<S> {
    /// Settings flow `id`, for the session `token` names, which must own it.
    ///
    /// # Errors
    /// [`SettingsError`] for a missing session, an unknown, expired or foreign flow.
    pub async fn settings_flow(
        &self,
        id: SettingsFlowId,
        token: &SessionToken,
    ) -> Result<(SettingsFlow, Session, Identity), SettingsError> {
        let (session, identity) = self.whoami(token).await?;
        let flow = self
            .store
            .find_settings_flow(id)
            .await?
            .ok_or(SettingsError::NotFound(id))?;
        if flow.identity_id != identity.id {
            return Err(SettingsError::Forbidden);
        }
        if flow.is_expired(self.clock.now()) {
            return Err(SettingsError::Expired(id));
        }
        Ok((flow, session, identity))
    }

    /// Sets the password of the identity `token`'s session belongs to, in settings flow
    /// `flow_id`: the session must be privileged (recent), and the password must follow the
    /// rules (8 to 1024 characters, not the email address). Stored as Argon2id. Unless
    /// configured otherwise, the identity's other sessions end; this one stays.
    ///
    /// Returns the flow, now succeeded, and its identity.
    ///
    /// # Errors
    /// [`SettingsError`], one variant per refusal.
    pub async fn set_new_password(
        &self,
        flow_id: SettingsFlowId,
        token: &SessionToken,
        password: String,
        origin: &Origin,
    ) -> Result<(SettingsFlow, Identity), SettingsError> {
        let (mut flow, session, identity) = self.settings_flow(flow_id, token).await?;
        if flow.state == SettingsState::Success {
            return Err(SettingsError::AlreadyDone);
        }
        let now = self.clock.now();
        if !session.is_privileged(self.selfservice.privileged_session_max_age, now) {
            return Err(SettingsError::PrivilegeExpired);
        }
        let identifier = identity.identifier.clone();
        let hash = self
            .hasher
            .hash(password, identifier)
            .await?
            .map_err(SettingsError::InvalidPassword)?;
        let revoke_other_sessions = self.selfservice.revoke_sessions_on_password_change;
        let change = PasswordChange {
            flow_id: flow.id,
            identity_id: identity.id,
            password: hash,
            at: now,
            session_id: session.id,
            revoke_other_sessions,
        };
        let event = self
            .audit(origin, Action::PasswordChanged, now)
            .identity(identity.id)
            .flow(flow.id);
        self.store.set_password(change, event).await?;
        tracing::info!(
            target: "audit",
            identity_id = %identity.id,
            other_sessions_revoked = revoke_other_sessions,
            "password changed"
        );
        flow.state = SettingsState::Success;
        Ok((flow, identity))
    }
}
