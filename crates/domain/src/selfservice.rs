//! What follows a redeemed code: the settings flow that sets a new password, the login flow
//! that signs in with it, and where the browser goes at the end.

use url::Url;

use crate::id::{IdentityId, LoginFlowId, SessionId, SettingsFlowId};
use crate::password::PasswordHash;
use crate::recovery::FlowType;
use crate::time::{Expires, Timestamp};

/// Where a settings flow stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SettingsState {
    /// Waiting for the new password.
    ShowForm,
    /// The password was set.
    Success,
}

impl SettingsState {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ShowForm => "show_form",
            Self::Success => "success",
        }
    }

    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        [Self::ShowForm, Self::Success]
            .into_iter()
            .find(|state| state.as_str() == s)
    }
}

/// Setting a new password, opened by a redeemed recovery code for its session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingsFlow {
    pub id: SettingsFlowId,
    pub identity_id: IdentityId,
    pub session_id: SessionId,
    pub flow_type: FlowType,
    pub state: SettingsState,
    pub issued_at: Timestamp,
    pub expires_at: Timestamp,
    /// Where the browser goes once the password is set.
    pub return_to: Option<String>,
}

impl Expires for SettingsFlow {
    fn expires_at(&self) -> Timestamp {
        self.expires_at
    }
}

/// A new password set in a settings flow, written at once with the flow's success.
#[derive(Debug, Clone)]
pub struct PasswordChange {
    pub flow_id: SettingsFlowId,
    pub identity_id: IdentityId,
    pub password: PasswordHash,
    pub at: Timestamp,
    /// The session that set the password: it stays signed in whatever happens to the others.
    pub session_id: SessionId,
    /// The identity's other sessions end at `at` (`flows.settings.revoke_active_sessions`):
    /// whoever knew the old password is signed out.
    pub revoke_other_sessions: bool,
}

/// Signing in with an identifier and a password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginFlow {
    pub id: LoginFlowId,
    pub flow_type: FlowType,
    pub issued_at: Timestamp,
    pub expires_at: Timestamp,
    pub return_to: Option<String>,
}

impl Expires for LoginFlow {
    fn expires_at(&self) -> Timestamp {
        self.expires_at
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReturnToError {
    #[error("\"return_to\" value \"{0}\" is not an absolute URL")]
    NotAUrl(String),
    #[error(
        "\"return_to\" value \"{0}\" is not allowed: add its origin to selfservice.allowed_return_urls"
    )]
    NotAllowed(String),
    #[error(
        "\"return_to\" value \"{0}\" must not carry a user name or password (the part before @): remove it"
    )]
    Userinfo(String),
}

/// `return_to` when it is under one of `allowed`: the same scheme, host and port, and a path
/// that starts with the allowed one, and no user name or password. Anything else could send
/// people to another site, or make `https://app.example.com@evil.example/`-style links look
/// trusted.
///
/// # Errors
/// [`ReturnToError`] when it is not a URL, carries userinfo or is not allowed.
pub fn check_return_to(return_to: &str, allowed: &[Url]) -> Result<Url, ReturnToError> {
    let url = Url::parse(return_to).map_err(|_| ReturnToError::NotAUrl(return_to.to_owned()))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(ReturnToError::Userinfo(return_to.to_owned()));
    }
    let permitted = allowed.iter().any(|base| {
        base.scheme() == url.scheme()
            && base.host() == url.host()
            && base.port_or_known_default() == url.port_or_known_default()
            && under(url.path(), base.path())
    });
    if permitted {
        Ok(url)
    } else {
        Err(ReturnToError::NotAllowed(return_to.to_owned()))
    }
}

/// Whether `path` is `base` or below it, segment by segment: `/portal` covers `/portal/x` but
/// not `/portalx`.
fn under(path: &str, base: &str) -> bool {
    let base = base.trim_end_matches('/');
    path == base || path.starts_with(&format!("{base}/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allowed() -> Vec<Url> {
        vec![
            Url::parse("https://app.example.com/").unwrap(),
            Url::parse("https://admin.example.com/portal/").unwrap(),
        ]
    }

    #[test]
    fn urls_under_an_allowed_base_pass() {
        for ok in [
            "https://app.example.com/",
            "https://app.example.com/welcome?x=1",
            "https://app.example.com:443/a",
            "https://admin.example.com/portal/users",
            "https://admin.example.com/portal",
        ] {
            assert!(check_return_to(ok, &allowed()).is_ok(), "{ok}");
        }
    }

    #[test]
    fn other_origins_schemes_ports_and_paths_do_not() {
        for bad in [
            "https://evil.example.com/",
            "http://app.example.com/",
            "https://app.example.com:8443/",
            "https://admin.example.com/other",
            "https://admin.example.com/portalx",
            "https://admin.example.com/portal-evil/x",
            "https://app.example.com.evil.net/",
        ] {
            assert_eq!(
                check_return_to(bad, &allowed()),
                Err(ReturnToError::NotAllowed(bad.into())),
                "{bad}"
            );
        }
        assert_eq!(
            check_return_to("/relative", &allowed()),
            Err(ReturnToError::NotAUrl("/relative".into()))
        );
        assert!(check_return_to("https://app.example.com/", &[]).is_err());
    }

    #[test]
    fn userinfo_is_refused_even_on_an_allowed_origin() {
        for bad in [
            "https://evil@app.example.com/",
            "https://user:pw@app.example.com/welcome",
            "https://:pw@app.example.com/",
            "https://app.example.com@evil.example.com/",
        ] {
            assert_eq!(
                check_return_to(bad, &allowed()),
                Err(ReturnToError::Userinfo(bad.into())),
                "{bad}"
            );
        }
        let message = ReturnToError::Userinfo("https://evil@app.example.com/".into()).to_string();
        assert!(message.contains("user name or password"), "{message}");
    }

    #[test]
    fn settings_and_login_flows_expire_at_their_instant() {
        use chrono::{TimeDelta, TimeZone, Utc};

        let issued_at = Utc.timestamp_millis_opt(1_764_064_800_000).unwrap();
        let expires_at = issued_at + TimeDelta::hours(1);
        let nil = uuid::Uuid::nil();
        let settings = SettingsFlow {
            id: nil.into(),
            identity_id: nil.into(),
            session_id: nil.into(),
            flow_type: FlowType::Browser,
            state: SettingsState::ShowForm,
            issued_at,
            expires_at,
            return_to: None,
        };
        let login = LoginFlow {
            id: nil.into(),
            flow_type: FlowType::Api,
            issued_at,
            expires_at,
            return_to: None,
        };
        let just_before = expires_at - TimeDelta::milliseconds(1);
        assert!(!settings.is_expired(just_before));
        assert!(settings.is_expired(expires_at));
        assert!(!login.is_expired(just_before));
        assert!(login.is_expired(expires_at));
    }

    #[test]
    fn states_parse_back() {
        for state in [SettingsState::ShowForm, SettingsState::Success] {
            assert_eq!(SettingsState::parse(state.as_str()), Some(state));
        }
    }
}
