//! Recovery flows and the codes that unlock them.

use url::Url;

use crate::id::{IdentityId, RecoveryCodeId, RecoveryFlowId};
use crate::secret::CodeHash;
use crate::time::{Expires, Timestamp};

/// Who drives the flow: a browser (cookies, redirects) or an API client (tokens).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FlowType {
    #[default]
    Browser,
    Api,
}

impl FlowType {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Browser => "browser",
            Self::Api => "api",
        }
    }

    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Browser, Self::Api]
            .into_iter()
            .find(|t| t.as_str() == s)
    }
}

/// Where a recovery flow stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlowState {
    /// A code exists and waits to be entered.
    SentEmail,
    /// The right code was entered.
    PassedChallenge,
}

impl FlowState {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SentEmail => "sent_email",
            Self::PassedChallenge => "passed_challenge",
        }
    }

    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        [Self::SentEmail, Self::PassedChallenge]
            .into_iter()
            .find(|state| state.as_str() == s)
    }
}

/// The method that redeems a flow; recovery by code is the only one.
pub const CODE_METHOD: &str = "code";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecoveryFlow {
    pub id: RecoveryFlowId,
    pub identity_id: IdentityId,
    pub flow_type: FlowType,
    pub state: FlowState,
    pub issued_at: Timestamp,
    pub expires_at: Timestamp,
    /// The URL of the request that created the flow.
    pub request_url: String,
    /// Where the browser goes once the new password is set.
    pub return_to: Option<String>,
    /// Codes submitted so far.
    pub submissions: u32,
    /// Redeeming the flow's code proves the identity's recovery addresses: the operator says
    /// the code was delivered there (`mark_address_verified`).
    pub verifies_addresses: bool,
}

impl RecoveryFlow {
    /// Whether the flow has taken every submission it allows, `max_submissions`: the next one
    /// is refused, even with the right code.
    #[must_use]
    pub fn attempts_exhausted(&self, max_submissions: u32) -> bool {
        !admits_submission(self.submissions.saturating_add(1), max_submissions)
    }

    /// Whether the latest submission, already counted in `submissions` (a submission is
    /// counted before its code is checked), is one the flow allows.
    #[must_use]
    pub fn latest_submission_allowed(&self, max_submissions: u32) -> bool {
        admits_submission(self.submissions, max_submissions)
    }
}

/// A flow allows `max` submissions: the `nth` is checked when `nth <= max`, and every one
/// after is refused. Kratos counts the submission first and refuses it when the count exceeds
/// the limit.
fn admits_submission(nth: u32, max: u32) -> bool {
    nth <= max
}

impl Expires for RecoveryFlow {
    fn expires_at(&self) -> Timestamp {
        self.expires_at
    }
}

/// Who created a code: an operator through the admin API, or the person through a self-service
/// flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeType {
    Admin,
    SelfService,
}

impl CodeType {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::SelfService => "self_service",
        }
    }

    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Admin, Self::SelfService]
            .into_iter()
            .find(|t| t.as_str() == s)
    }
}

/// A code as stored: its hash, never its digits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCode {
    pub id: RecoveryCodeId,
    pub flow_id: RecoveryFlowId,
    pub identity_id: IdentityId,
    pub hash: CodeHash,
    pub code_type: CodeType,
    pub issued_at: Timestamp,
    pub expires_at: Timestamp,
}

impl Expires for StoredCode {
    fn expires_at(&self) -> Timestamp {
        self.expires_at
    }
}

/// Everything an admin-issued code writes, in one unit: the flow, its code, whether the
/// identity's earlier unused admin codes are revoked, and the audit event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeIssue {
    pub flow: RecoveryFlow,
    pub code: StoredCode,
    pub revoke_previous: bool,
    pub audit: crate::audit::Event,
}

/// A redeemed code and what it opens, written as one unit: the code is consumed (only if still
/// unused and unrevoked), the flow has passed, the session is stored (the identity's other
/// sessions revoked when asked), the settings flow for the new password is opened, the
/// identifier's failed sign-ins are forgotten and the audit event is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redemption {
    pub flow_id: RecoveryFlowId,
    pub code_id: RecoveryCodeId,
    pub at: Timestamp,
    pub session: crate::session::Session,
    pub revoke_other_sessions: bool,
    pub settings: crate::selfservice::SettingsFlow,
    /// The identity's verifiable addresses, newly proven, when the flow verifies addresses.
    pub proven_addresses: Option<ProvenAddresses>,
    /// The identity's failed sign-ins to forget, if it signs in with an identifier.
    pub clear_lockout: Option<crate::lockout::IdentifierKey>,
    pub audit: crate::audit::Event,
}

/// Verifiable addresses that a redemption proves, written only if the identity is still as it
/// was read: an update in between may have changed its addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProvenAddresses {
    pub identity_id: IdentityId,
    /// The identity's `updated_at` when it was read.
    pub unchanged_since: Timestamp,
    pub verifiable: Vec<crate::address::VerifiableAddress>,
}

/// The link that opens the recovery page for `flow_id`: `ui_url` with `flow=<id>` added to its
/// query, keeping any query it already has. The code itself never goes into a link.
#[must_use]
pub fn recovery_link(ui_url: &Url, flow_id: RecoveryFlowId) -> Url {
    let mut link = ui_url.clone();
    link.query_pairs_mut()
        .append_pair("flow", &flow_id.to_string());
    link
}

/// The public URL of recovery flow `flow_id`, its `request_url`:
/// `<public base URL>self-service/recovery?flow=<id>`, where the flow is submitted. Never the
/// admin URL that issued it, which is internal.
#[must_use]
pub fn flow_request_url(public_base_url: &Url, flow_id: RecoveryFlowId) -> String {
    format!("{public_base_url}self-service/recovery?flow={flow_id}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeDelta, TimeZone, Utc};

    use uuid::Uuid;

    const FLOW: RecoveryFlowId =
        RecoveryFlowId::from_uuid(Uuid::from_u128(0x0193_5c2e_7a4b_4c3d_8e9f_0a1b_2c3d_4e5f));

    fn issued_at() -> Timestamp {
        Utc.timestamp_millis_opt(1_764_064_800_000).unwrap()
    }

    fn flow(submissions: u32) -> RecoveryFlow {
        RecoveryFlow {
            id: FLOW,
            identity_id: IdentityId::from_uuid(Uuid::nil()),
            flow_type: FlowType::Browser,
            state: FlowState::SentEmail,
            issued_at: issued_at(),
            expires_at: issued_at() + TimeDelta::hours(1),
            request_url: String::new(),
            return_to: None,
            submissions,
            verifies_addresses: false,
        }
    }

    #[test]
    fn a_flow_takes_its_limit_of_submissions_and_refuses_the_next() {
        // Four made: the fifth may come.
        assert!(!flow(4).attempts_exhausted(5));
        // Five made: the page says so before a sixth is typed.
        assert!(flow(5).attempts_exhausted(5));
        assert!(flow(6).attempts_exhausted(5));
        // Counted with the submission itself: the fifth is checked, the sixth refused.
        assert!(flow(5).latest_submission_allowed(5));
        assert!(!flow(6).latest_submission_allowed(5));
        // The two views agree: a flow exhausted before a submission refuses it.
        for max in 1..=6 {
            for made in 0..=7 {
                assert_eq!(
                    flow(made).attempts_exhausted(max),
                    !flow(made + 1).latest_submission_allowed(max),
                    "{made} of {max}"
                );
            }
        }
    }

    #[test]
    fn flows_and_codes_expire_at_their_instant() {
        let flow = flow(0);
        let code = StoredCode {
            id: RecoveryCodeId::from_uuid(Uuid::nil()),
            flow_id: flow.id,
            identity_id: flow.identity_id,
            hash: CodeHash::from_stored(String::new()),
            code_type: CodeType::Admin,
            issued_at: flow.issued_at,
            expires_at: flow.expires_at,
        };
        let just_before = flow.expires_at - TimeDelta::milliseconds(1);
        assert!(!flow.is_expired(just_before));
        assert!(flow.is_expired(flow.expires_at));
        assert!(!code.is_expired(just_before));
        assert!(code.is_expired(code.expires_at));
    }

    #[test]
    fn link_adds_the_flow_to_the_query() {
        let ui = Url::parse("http://127.0.0.1:4433/recovery").unwrap();
        assert_eq!(
            recovery_link(&ui, FLOW).as_str(),
            "http://127.0.0.1:4433/recovery?flow=01935c2e-7a4b-4c3d-8e9f-0a1b2c3d4e5f"
        );
    }

    #[test]
    fn link_keeps_an_existing_query_and_fragment() {
        let ui =
            Url::parse("https://id.example.com/account/recover?lang=de&theme=dark#top").unwrap();
        assert_eq!(
            recovery_link(&ui, FLOW).as_str(),
            "https://id.example.com/account/recover?lang=de&theme=dark&flow=01935c2e-7a4b-4c3d-8e9f-0a1b2c3d4e5f#top"
        );
    }

    #[test]
    fn request_url_is_the_public_flow_url() {
        let base = Url::parse("https://id.example.com/").unwrap();
        assert_eq!(
            flow_request_url(&base, FLOW),
            "https://id.example.com/self-service/recovery?flow=01935c2e-7a4b-4c3d-8e9f-0a1b2c3d4e5f"
        );
    }

    #[test]
    fn names_parse_back() {
        for t in [FlowType::Browser, FlowType::Api] {
            assert_eq!(FlowType::parse(t.as_str()), Some(t));
        }
        for state in [FlowState::SentEmail, FlowState::PassedChallenge] {
            assert_eq!(FlowState::parse(state.as_str()), Some(state));
        }
        for t in [CodeType::Admin, CodeType::SelfService] {
            assert_eq!(CodeType::parse(t.as_str()), Some(t));
        }
        assert_eq!(FlowType::parse("mobile"), None);
    }

    #[test]
    fn names_match_the_wire_format() {
        assert_eq!(FlowType::default().as_str(), "browser");
        assert_eq!(FlowType::Api.as_str(), "api");
        assert_eq!(FlowState::SentEmail.as_str(), "sent_email");
        assert_eq!(CodeType::Admin.as_str(), "admin");
    }
}
