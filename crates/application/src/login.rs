//! Signing in with an email address and a password.

use domain::audit::{Action, Origin, Reason};
use domain::client::ClientAddress;
use domain::id::LoginFlowId;
use domain::identity::{Identity, IdentityState, typed_identifier};
use domain::lockout::IdentifierKey;
use domain::recovery::FlowType;
use domain::selfservice::{LoginFlow, ReturnToError, check_return_to};
use domain::session::{AuthMethod, Device, Session, SessionToken, UserAgent};
use domain::time::Expires;

use crate::Service;
use crate::hashing::{HashingError, Verified};
use crate::ports::{Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    #[error("login flow {0} was not found")]
    FlowNotFound(LoginFlowId),
    #[error("login flow {0} has expired")]
    FlowExpired(LoginFlowId),
    /// Unknown identifier or wrong password: the same answer, in the same time.
    #[error("the provided credentials are invalid")]
    InvalidCredentials,
    #[error("this account was disabled")]
    Disabled,
    /// Too many failed sign-ins in a row on this identifier: no attempt for `wait`.
    #[error("too many failed sign-ins; try again in {wait:?}")]
    Throttled { wait: std::time::Duration },
    #[error(transparent)]
    Hashing(#[from] HashingError),
    #[error(transparent)]
    InvalidReturnTo(#[from] ReturnToError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A new session from a password.
#[derive(Debug)]
pub struct SignedIn {
    pub token: SessionToken,
    pub session: Session,
    pub identity: Identity,
    pub flow: LoginFlow,
}

impl<S: Store> Service<S> {
    /// Opens a login flow; `return_to` must be allowed.
    ///
    /// # Errors
    /// [`LoginError::InvalidReturnTo`] or [`LoginError::Store`].
    pub async fn create_login_flow(
        &self,
        flow_type: FlowType,
        return_to: Option<&str>,
    ) -> Result<LoginFlow, LoginError> {
        let return_to = return_to
            .map(|url| check_return_to(url, &self.selfservice.allowed_return_urls))
            .transpose()?
            .map(String::from);
        let now = self.clock.now();
        let flow = LoginFlow {
            id: LoginFlowId::new_v7(now, &mut rand::rng()),
            flow_type,
            issued_at: now,
            expires_at: now + self.selfservice.flow_lifespan,
            return_to,
        };
        self.store.insert_login_flow(flow.clone()).await?;
        Ok(flow)
    }

    /// Login flow `id`, while it lasts.
    ///
    /// # Errors
    /// [`LoginError::FlowNotFound`], [`LoginError::FlowExpired`] or [`LoginError::Store`].
    pub async fn login_flow(&self, id: LoginFlowId) -> Result<LoginFlow, LoginError> {
        let flow = self
            .store
            .find_login_flow(id)
            .await?
            .ok_or(LoginError::FlowNotFound(id))?;
        if flow.is_expired(self.clock.now()) {
            return Err(LoginError::FlowExpired(id));
        }
        Ok(flow)
    }

    /// Signs in through flow `flow_id` from `client`, which `user_agent` names. The attempt is counted before the
    /// password is checked; past the [`domain::lockout::LockoutPolicy`]'s free failures it waits, refused before
    /// any hashing. An unknown identifier is counted and costs the same hashing as a wrong
    /// password, so neither the answer nor its time tells which identities exist. A hash made
    /// at an older cost is made again with the password just checked.
    ///
    /// # Errors
    /// [`LoginError`], one variant per refusal.
    pub async fn log_in(
        &self,
        flow_id: LoginFlowId,
        identifier: &str,
        password: String,
        client: ClientAddress,
        user_agent: Option<UserAgent>,
        origin: &Origin,
    ) -> Result<SignedIn, LoginError> {
        let outcome = self
            .check_password(flow_id, identifier, password, client, user_agent, origin)
            .await;
        let counted = match &outcome {
            Ok(_) => Some("succeeded"),
            Err(LoginError::InvalidCredentials | LoginError::Disabled) => Some("failed"),
            Err(LoginError::Throttled { .. }) => Some("throttled"),
            Err(_) => None,
        };
        if let Some(outcome) = counted {
            metrics::counter!("iam_sign_ins_total", "outcome" => outcome).increment(1);
        }
        outcome
    }

    async fn check_password(
        &self,
        flow_id: LoginFlowId,
        identifier: &str,
        password: String,
        client: ClientAddress,
        user_agent: Option<UserAgent>,
        origin: &Origin,
    ) -> Result<SignedIn, LoginError> {
        let flow = self.login_flow(flow_id).await?;
        let event = |action, at| self.audit(origin, action, at).flow(flow_id);
        let key = self.secrets.identifier_key(identifier);
        // A place to check the password in is taken first: a sign-in refused for want of one
        // (503) is not counted as a failure.
        let slot = self.hasher.reserve()?;
        let now = self.clock.now();
        if let Some(until) = self
            .store
            .count_attempt(&key, client.site(), now, self.selfservice.lockout)
            .await?
        {
            log_failure(&key, client, "throttled");
            self.store
                .record(event(Action::SignInThrottled, now))
                .await?;
            let wait = (until - now).to_std().unwrap_or_default();
            return Err(LoginError::Throttled { wait });
        }
        // Looked up as it is counted: trimmed and lower-cased, as identifiers are stored.
        let found = self
            .store
            .find_by_identifier(&typed_identifier(identifier))
            .await?;
        let (identity, stored) =
            found.map_or((None, None), |(identity, hash)| (Some(identity), hash));
        let without_password = identity.is_some() && stored.is_none();
        // Without a stored hash the decoy is checked, at the same cost, and refused.
        let verified = self.hasher.verify(slot, stored, password).await?;
        let known = identity.as_ref().map(|identity| identity.id);
        let (Some(identity), Verified::Yes { rehashed }) = (identity, verified) else {
            let reason = if without_password {
                Reason::NoPassword
            } else {
                Reason::WrongCredentials
            };
            log_failure(&key, client, reason.as_str());
            let failed = event(Action::SignInFailed, now)
                .reason(reason)
                .identity(known);
            self.store.record(failed).await?;
            return Err(LoginError::InvalidCredentials);
        };
        if identity.state == IdentityState::Inactive {
            log_failure(&key, client, "identity disabled");
            let failed = event(Action::SignInFailed, now)
                .reason(Reason::IdentityInactive)
                .identity(identity.id);
            self.store.record(failed).await?;
            return Err(LoginError::Disabled);
        }
        self.store
            .clear_failures(&key, Some(client.site()), None)
            .await?;
        if let Some(hash) = rehashed {
            self.store.update_password_hash(identity.id, hash).await?;
            tracing::info!(target: "audit", identity_id = %identity.id, "password re-hashed at the configured cost");
        }
        let (token, session) = Session::open(
            identity.id,
            AuthMethod::Password,
            Device {
                ip_address: Some(client),
                user_agent,
            },
            now,
            self.selfservice.session_lifespan,
            &mut rand::rng(),
        );
        let signed_in = event(Action::SignInSucceeded, now).identity(identity.id);
        self.store
            .insert_session(session.clone(), false, signed_in)
            .await?;
        tracing::info!(target: "audit", identity_id = %identity.id, session_id = %session.id, client = %client, "signed in");
        Ok(SignedIn {
            token,
            session,
            identity,
            flow,
        })
    }
}

/// Every refused sign-in, for whoever watches for guessing: the identifier only as a short
/// prefix of its keyed hash, never the password.
fn log_failure(key: &IdentifierKey, client: ClientAddress, reason: &'static str) {
    tracing::warn!(
        target: "audit",
        identifier = key.short(),
        client = %client,
        reason,
        "sign-in failed"
    );
}
