//! Signing in with an email address and a password.

use domain::identity::{Identity, IdentityState, normalize_email};
use domain::password::PasswordHash;
use domain::recovery::FlowType;
use domain::selfservice::{LoginFlow, ReturnToError, check_return_to};
use domain::session::{AuthMethod, Session, SessionToken};
use domain::time::new_id;
use uuid::Uuid;

use crate::Service;
use crate::ports::{Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    #[error("login flow {0} was not found")]
    FlowNotFound(Uuid),
    #[error("login flow {0} has expired")]
    FlowExpired(Uuid),
    /// Unknown identifier or wrong password: the same answer, in the same time.
    #[error("the provided credentials are invalid")]
    InvalidCredentials,
    #[error("this account was disabled")]
    Disabled,
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
            id: new_id(now, &mut rand::rng()),
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
    pub async fn login_flow(&self, id: Uuid) -> Result<LoginFlow, LoginError> {
        let flow = self
            .store
            .find_login_flow(id)
            .await?
            .ok_or(LoginError::FlowNotFound(id))?;
        if flow.expires_at <= self.clock.now() {
            return Err(LoginError::FlowExpired(id));
        }
        Ok(flow)
    }

    /// Signs in through flow `flow_id`. An unknown identifier costs the same hashing time as a
    /// wrong password, so the answer tells nothing about which identities exist.
    ///
    /// # Errors
    /// [`LoginError`], one variant per refusal.
    pub async fn log_in(
        &self,
        flow_id: Uuid,
        identifier: &str,
        password: String,
    ) -> Result<SignedIn, LoginError> {
        let flow = self.login_flow(flow_id).await?;
        let found = match normalize_email(identifier) {
            Ok(identifier) => self.store.find_by_identifier(&identifier).await?,
            Err(_) => None,
        };
        let (identity, stored) = match found {
            Some((identity, Some(hash))) => (Some(identity), hash),
            _ => (None, PasswordHash::from_stored(DECOY_HASH.to_owned())),
        };
        let matches = crate::blocking::run(move || stored.verify(&password)).await?;
        let identity = identity
            .filter(|_| matches)
            .ok_or(LoginError::InvalidCredentials)?;
        if identity.state == IdentityState::Inactive {
            return Err(LoginError::Disabled);
        }
        let now = self.clock.now();
        let token = SessionToken::generate(&mut rand::rng());
        let session = Session {
            id: new_id(now, &mut rand::rng()),
            identity_id: identity.id,
            token_hash: token.hash(),
            method: AuthMethod::Password,
            authenticated_at: now,
            expires_at: now + self.selfservice.session_lifespan,
        };
        self.store.insert_session(session.clone(), false).await?;
        tracing::info!(target: "audit", identity_id = %identity.id, session_id = %session.id, "signed in");
        Ok(SignedIn {
            token,
            session,
            identity,
            flow,
        })
    }
}

/// An Argon2id hash, with the parameters every stored hash has, of a random password nobody
/// knows. It is verified against when the identifier is unknown or has no password, so that
/// every refusal costs what a real check costs, from the first one on.
const DECOY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$Leg8Hy7Jp6f/puRjUNm7Og$GzUhN6wxxVS2wzA5x56yRTpAzDJzTHDOOQlCWgLRcvs";
