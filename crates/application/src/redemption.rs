//! Redeeming a recovery code on the public API: the flow is shown, the code is typed, and a
//! session with a settings flow for the new password comes out.

use domain::audit::{Action, Origin, Reason};
use domain::id::{RecoveryFlowId, SettingsFlowId};
use domain::identity::{Identity, IdentityState};
use domain::recovery::{FlowState, ProvenAddresses, RecoveryFlow, Redemption};
use domain::selfservice::{SettingsFlow, SettingsState};
use domain::session::{AuthMethod, Device, Session, SessionToken};
use domain::time::Expires;

use crate::Service;
use crate::ports::{RedeemError, Store, StoreError, Submission};

#[derive(Debug, thiserror::Error)]
pub enum FlowLookupError {
    #[error("recovery flow {0} was not found")]
    NotFound(RecoveryFlowId),
    #[error("recovery flow {0} has expired")]
    Expired(RecoveryFlowId),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A redeemed code: the session it opened (its token in clear, shown once) and the settings
/// flow where the new password is set.
#[derive(Debug)]
pub struct Recovered {
    pub token: SessionToken,
    pub session: Session,
    pub identity: Identity,
    pub settings: SettingsFlow,
    /// The recovery flow, now passed.
    pub flow: RecoveryFlow,
}

#[derive(Debug, thiserror::Error)]
pub enum SubmitCodeError {
    #[error(transparent)]
    Flow(#[from] FlowLookupError),
    /// More submissions than allowed: the flow is dead, even for the right code.
    #[error("the request was submitted too often; please request another code")]
    TooManyAttempts,
    /// Wrong, used, revoked or expired code, or another flow's: the flow stays open.
    #[error("the recovery code is invalid or has already been used")]
    InvalidCode(RecoveryFlow),
    #[error("this account was disabled")]
    IdentityDisabled,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl<S: Store> Service<S> {
    /// Whether flow `flow` took every submission it may: it is dead, even for the right code.
    pub fn attempts_exhausted(&self, flow: &RecoveryFlow) -> bool {
        flow.attempts_exhausted(self.selfservice.max_submissions)
    }

    /// The recovery flow `id`, while it lasts.
    ///
    /// # Errors
    /// [`FlowLookupError`] when it does not exist or has expired.
    pub async fn recovery_flow(&self, id: RecoveryFlowId) -> Result<RecoveryFlow, FlowLookupError> {
        let flow = self
            .store
            .find_flow(id)
            .await?
            .ok_or(FlowLookupError::NotFound(id))?;
        if flow.is_expired(self.clock.now()) {
            return Err(FlowLookupError::Expired(id));
        }
        Ok(flow)
    }

    /// Checks `code` against flow `flow_id` and, when it is right, redeems it, opening a
    /// session on `device`.
    ///
    /// Every submission is counted first, atomically; past the limit the flow is dead. The
    /// code is compared, in constant time and under every secret, with the redeemable codes of
    /// this flow only. Redemption is atomic: of concurrent submissions of one code exactly one
    /// succeeds.
    ///
    /// # Errors
    /// [`SubmitCodeError`], one variant per outcome.
    pub async fn submit_recovery_code(
        &self,
        flow_id: RecoveryFlowId,
        code: &str,
        device: Device,
        origin: &Origin,
    ) -> Result<Recovered, SubmitCodeError> {
        let outcome = self.redeem_code(flow_id, code, device, origin).await;
        match &outcome {
            Ok(_) => metrics::counter!("iam_recovery_codes_redeemed_total").increment(1),
            Err(SubmitCodeError::Flow(FlowLookupError::NotFound(_))) => {
                count_refusal("unknown_flow");
            }
            Err(SubmitCodeError::Store(_) | SubmitCodeError::Flow(FlowLookupError::Store(_))) => {
                count_refusal("unavailable");
            }
            // Refusals on a flow are counted as they are recorded, with their reason.
            Err(_) => {}
        }
        outcome
    }

    async fn redeem_code(
        &self,
        flow_id: RecoveryFlowId,
        code: &str,
        device: Device,
        origin: &Origin,
    ) -> Result<Recovered, SubmitCodeError> {
        let now = self.clock.now();
        let Submission {
            flow,
            codes,
            identity,
        } = self
            .store
            .begin_submission(flow_id, now)
            .await?
            .ok_or(FlowLookupError::NotFound(flow_id))?;
        // A refusal is recorded by itself: the submission's count, the only write, came first.
        let refused = async |reason: Reason| -> Result<(), StoreError> {
            let event = self
                .audit(origin, Action::RecoveryRefused, now)
                .identity(flow.identity_id)
                .flow(flow_id)
                .reason(reason);
            self.store.record(event).await?;
            count_refusal(metric_reason(reason));
            Ok(())
        };
        if flow.is_expired(now) {
            refused(Reason::FlowExpired).await?;
            return Err(FlowLookupError::Expired(flow_id).into());
        }
        if !flow.latest_submission_allowed(self.selfservice.max_submissions) {
            refused(Reason::AttemptsExhausted).await?;
            return Err(SubmitCodeError::TooManyAttempts);
        }
        if flow.state != FlowState::SentEmail {
            refused(Reason::CodeUsed).await?;
            return Err(SubmitCodeError::InvalidCode(flow));
        }
        let Some(matched) = codes
            .into_iter()
            .find(|stored| self.secrets.verify(code, &stored.hash))
        else {
            refused(self.why_no_code_matched(flow_id, code).await?).await?;
            return Err(SubmitCodeError::InvalidCode(flow));
        };
        if identity.state == IdentityState::Inactive {
            refused(Reason::IdentityInactive).await?;
            return Err(SubmitCodeError::IdentityDisabled);
        }

        let (token, session) = Session::open(
            identity.id,
            AuthMethod::CodeRecovery,
            device,
            now,
            self.selfservice.session_lifespan,
            &mut rand::rng(),
        );
        let settings = SettingsFlow {
            id: SettingsFlowId::new_v7(now, &mut rand::rng()),
            identity_id: identity.id,
            session_id: session.id,
            flow_type: flow.flow_type,
            state: SettingsState::ShowForm,
            issued_at: now,
            expires_at: now + self.selfservice.privileged_session_max_age,
            return_to: flow.return_to.clone(),
        };
        let proven_addresses = flow
            .verifies_addresses
            .then(|| identity.addresses.verified_by_recovery(now))
            .flatten()
            .map(|verifiable| ProvenAddresses {
                identity_id: identity.id,
                unchanged_since: identity.updated_at,
                verifiable,
            });
        let redemption = Redemption {
            flow_id,
            code_id: matched.id,
            at: now,
            session: session.clone(),
            revoke_other_sessions: self.selfservice.revoke_active_sessions,
            settings: settings.clone(),
            proven_addresses: proven_addresses.clone(),
            // Whoever guessed at the old password lost the race: the lockout starts over.
            clear_lockout: self.identifier_key_of(&identity),
            audit: self
                .audit(origin, Action::RecoverySucceeded, now)
                .identity(identity.id)
                .flow(flow_id),
        };
        match self.store.redeem(redemption).await {
            Ok(()) => {}
            Err(RedeemError::CodeAlreadyUsed) => {
                refused(Reason::CodeUsed).await?;
                return Err(SubmitCodeError::InvalidCode(flow));
            }
            Err(RedeemError::Store(error)) => return Err(error.into()),
        }
        tracing::info!(
            target: "audit",
            identity_id = %identity.id,
            flow_id = %flow_id,
            session_id = %session.id,
            addresses_verified = proven_addresses.is_some(),
            "recovery code redeemed"
        );
        let mut identity = identity;
        if let Some(proven) = proven_addresses {
            identity.addresses.verifiable = proven.verifiable;
        }
        Ok(Recovered {
            token,
            session,
            identity,
            settings,
            flow: RecoveryFlow {
                state: FlowState::PassedChallenge,
                ..flow
            },
        })
    }
}

impl<S: Store> Service<S> {
    /// Why `code` matched none of the flow's redeemable codes: it was one of its spent codes
    /// (used, or revoked), or it is wrong. Asked only once a code is refused, so redemptions
    /// pay nothing for it.
    async fn why_no_code_matched(
        &self,
        flow_id: RecoveryFlowId,
        code: &str,
    ) -> Result<Reason, StoreError> {
        let spent = self.store.spent_codes(flow_id).await?;
        Ok(
            match spent
                .iter()
                .find(|spent| self.secrets.verify(code, &spent.hash))
            {
                Some(spent) if spent.revoked => Reason::CodeRevoked,
                Some(_) => Reason::CodeUsed,
                None => Reason::WrongCode,
            },
        )
    }
}

fn count_refusal(reason: &'static str) {
    metrics::counter!("iam_recovery_codes_refused_total", "reason" => reason).increment(1);
}

/// The `reason` label of a refusal, as the metrics name it.
fn metric_reason(reason: Reason) -> &'static str {
    match reason {
        Reason::WrongCode => "wrong",
        Reason::CodeUsed => "used",
        Reason::CodeRevoked => "revoked",
        Reason::FlowExpired => "expired",
        Reason::AttemptsExhausted => "attempts_exhausted",
        Reason::IdentityInactive => "identity_inactive",
        // Not refusals of a code.
        Reason::WrongCredentials | Reason::NoPassword => "other",
    }
}
