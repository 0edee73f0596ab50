//! Issuing a recovery code for an identity (`POST /iam/recovery/code`).

use domain::audit::{Action, Origin};
use domain::code::PlainCode;
use domain::id::{IdentityId, RecoveryCodeId, RecoveryFlowId};
use domain::lifespan::LifespanError;
use domain::recovery::{
    CodeIssue, CodeType, FlowState, FlowType, RecoveryFlow, StoredCode, flow_request_url,
    recovery_link,
};
use domain::selfservice::{ReturnToError, check_return_to};
use domain::time::Timestamp;
use url::Url;

use crate::Service;
use crate::ports::{Revoked, Store, StoreCodeIssueError, StoreError};

#[derive(Debug, Clone)]
pub struct RecoveryCodeRequest {
    pub identity_id: IdentityId,
    /// As sent; `None` or `""` means the configured default.
    pub expires_in: Option<String>,
    pub flow_type: FlowType,
    /// Where the public API is reached (`serve.public.base_url`): the flow's `request_url` is
    /// its public URL there, never the internal admin URL of this request.
    pub public_base_url: Url,
    /// Who asks, for the audit trail.
    pub origin: Origin,
    /// Where the browser goes once the new password is set; must be allowed.
    pub return_to: Option<String>,
    /// Whether redeeming the code verifies the identity's recovery addresses; `None` means
    /// the configured default.
    pub mark_address_verified: Option<bool>,
}

/// What the operator gets back, once: the only place the plain code exists.
#[derive(Debug)]
pub struct IssuedRecoveryCode {
    pub flow_id: RecoveryFlowId,
    pub code: PlainCode,
    pub link: Url,
    pub expires_at: Timestamp,
}

#[derive(Debug, thiserror::Error)]
pub enum CreateRecoveryCodeError {
    /// Recovery by code is switched off in the configuration.
    #[error("recovery by code is disabled")]
    Disabled,
    #[error(transparent)]
    InvalidLifespan(#[from] LifespanError),
    #[error(transparent)]
    InvalidReturnTo(#[from] ReturnToError),
    #[error("identity {0} was not found")]
    IdentityNotFound(IdentityId),
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Debug, thiserror::Error)]
pub enum RevokeCodesError {
    #[error("identity {0} was not found")]
    IdentityNotFound(IdentityId),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl<S: Store> Service<S> {
    /// Takes back every outstanding code of `identity_id` at once, and ends the live sessions
    /// its recovery codes opened: a code handed to the wrong person may have been used already.
    /// A revoked code then answers as a used one. Audited.
    ///
    /// # Errors
    /// [`RevokeCodesError::IdentityNotFound`] for an unknown identity (nothing written);
    /// [`RevokeCodesError::Store`] when the store fails.
    pub async fn revoke_recovery_codes(
        &self,
        identity_id: IdentityId,
        origin: &Origin,
    ) -> Result<Revoked, RevokeCodesError> {
        let now = self.clock.now();
        let event = self
            .audit(origin, Action::RecoveryCodesRevoked, now)
            .identity(identity_id);
        let revoked = self
            .store
            .revoke_codes(identity_id, now, event)
            .await?
            .ok_or(RevokeCodesError::IdentityNotFound(identity_id))?;
        metrics::counter!("iam_recovery_codes_revoked_total").increment(revoked.codes as u64);
        tracing::info!(
            target: "audit",
            identity_id = %identity_id,
            codes = revoked.codes,
            sessions = revoked.sessions,
            "recovery codes revoked"
        );
        Ok(revoked)
    }

    /// Issues a code for `request.identity_id`: the expiry is checked first, then the flow and
    /// the code's hash are written in one transaction with the audit event (which holds no
    /// code).
    ///
    /// # Errors
    /// [`CreateRecoveryCodeError::Disabled`] when switched off;
    /// [`CreateRecoveryCodeError::InvalidLifespan`] for a bad `expires_in`, before any lookup;
    /// [`CreateRecoveryCodeError::IdentityNotFound`] for an unknown identity;
    /// [`CreateRecoveryCodeError::Store`] when the store fails.
    pub async fn create_recovery_code(
        &self,
        request: RecoveryCodeRequest,
    ) -> Result<IssuedRecoveryCode, CreateRecoveryCodeError> {
        if !self.recovery.enabled {
            return Err(CreateRecoveryCodeError::Disabled);
        }
        let issued_at = self.clock.now();
        let expires_at = self
            .recovery
            .lifespan
            .expiry(request.expires_in.as_deref(), issued_at)?;
        let return_to = request
            .return_to
            .as_deref()
            .map(|url| check_return_to(url, &self.selfservice.allowed_return_urls))
            .transpose()?
            .map(String::from);
        let code = PlainCode::generate(&mut rand::rng(), self.recovery.code_length);
        let flow_id = RecoveryFlowId::new_v7(issued_at, &mut rand::rng());
        let issue = CodeIssue {
            flow: RecoveryFlow {
                id: flow_id,
                identity_id: request.identity_id,
                flow_type: request.flow_type,
                state: FlowState::SentEmail,
                issued_at,
                expires_at,
                request_url: flow_request_url(&request.public_base_url, flow_id),
                return_to,
                submissions: 0,
                verifies_addresses: request
                    .mark_address_verified
                    .unwrap_or(self.recovery.mark_address_verified),
            },
            code: StoredCode {
                id: RecoveryCodeId::new_v7(issued_at, &mut rand::rng()),
                flow_id,
                identity_id: request.identity_id,
                hash: self.secrets.hash(&code),
                code_type: CodeType::Admin,
                issued_at,
                expires_at,
            },
            revoke_previous: self.recovery.invalidate_previous,
            audit: self
                .audit(&request.origin, Action::RecoveryCodeIssued, issued_at)
                .identity(request.identity_id)
                .flow(flow_id),
        };
        self.store
            .store_code_issue(issue)
            .await
            .map_err(|error| match error {
                StoreCodeIssueError::IdentityNotFound => {
                    CreateRecoveryCodeError::IdentityNotFound(request.identity_id)
                }
                StoreCodeIssueError::Store(error) => CreateRecoveryCodeError::Store(error),
            })?;
        metrics::counter!("iam_recovery_codes_issued_total").increment(1);
        tracing::info!(
            target: "audit",
            identity_id = %request.identity_id,
            flow_id = %flow_id,
            expires_at = %domain::time::format_rfc3339_millis(expires_at),
            "recovery code created"
        );
        Ok(IssuedRecoveryCode {
            flow_id,
            code,
            link: recovery_link(&self.recovery.ui_url, flow_id),
            expires_at,
        })
    }
}
