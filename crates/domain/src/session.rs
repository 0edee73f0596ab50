//! Sessions: who is signed in, and the tokens that prove it.

use std::fmt;

use rand::distr::{Alphanumeric, SampleString};
use rand::{CryptoRng, Rng};
use sha2::{Digest, Sha256};

use crate::client::ClientAddress;
use crate::id::{IdentityId, SessionId};
use crate::time::{Expires, Timestamp};

/// How the session was earned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMethod {
    /// A recovery code was redeemed.
    CodeRecovery,
    Password,
}

impl AuthMethod {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::CodeRecovery => "code_recovery",
            Self::Password => "password",
        }
    }

    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        [Self::CodeRecovery, Self::Password]
            .into_iter()
            .find(|m| m.as_str() == s)
    }
}

/// A session token in clear, as the client holds it (cookie or `X-Session-Token`). Shown once;
/// `Debug` does not print it.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionToken(String);

/// The stored form of a session token: lowercase hex of its SHA-256. The token carries 190
/// random bits, so a plain digest cannot be reversed and lookups stay one indexed equality.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenHash(String);

impl SessionToken {
    const PREFIX: &'static str = "ory_st_";

    pub fn generate<R: Rng + CryptoRng + ?Sized>(rng: &mut R) -> Self {
        Self(format!(
            "{}{}",
            Self::PREFIX,
            Alphanumeric.sample_string(rng, 32)
        ))
    }

    /// A token as presented by a client.
    #[must_use]
    pub fn from_client(token: &str) -> Self {
        Self(token.to_owned())
    }

    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }

    #[must_use]
    pub fn hash(&self) -> TokenHash {
        TokenHash(hex::encode(Sha256::digest(self.0.as_bytes())))
    }
}

impl fmt::Debug for SessionToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionToken(<redacted>)")
    }
}

impl TokenHash {
    #[must_use]
    pub fn from_stored(hex: String) -> Self {
        Self(hex)
    }

    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A client's `User-Agent`, as text, cut to [`UserAgent::MAX_CHARS`] characters: whatever a
/// client sends, it is kept and never refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserAgent(String);

impl UserAgent {
    pub const MAX_CHARS: usize = 512;

    /// The header's bytes as text (invalid UTF-8 replaced), bounded; `None` when empty.
    #[must_use]
    pub fn from_header(bytes: &[u8]) -> Option<Self> {
        let text = String::from_utf8_lossy(bytes);
        let text = text.trim();
        (!text.is_empty()).then(|| Self(text.chars().take(Self::MAX_CHARS).collect()))
    }

    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The device that opened a session: what the request told of it, each part unknown for
/// sessions opened before devices were recorded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Device {
    pub ip_address: Option<ClientAddress>,
    pub user_agent: Option<UserAgent>,
}

impl Device {
    #[must_use]
    pub fn is_unknown(&self) -> bool {
        self.ip_address.is_none() && self.user_agent.is_none()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub id: SessionId,
    pub identity_id: IdentityId,
    pub token_hash: TokenHash,
    pub method: AuthMethod,
    pub authenticated_at: Timestamp,
    pub expires_at: Timestamp,
    pub device: Device,
}

impl Session {
    /// A session for `identity_id`, earned by `method` on `device` at `now`, lasting
    /// `lifespan`, with the token that names it: in clear, to be shown once; the session keeps
    /// only its hash.
    pub fn open<R: Rng + CryptoRng + ?Sized>(
        identity_id: IdentityId,
        method: AuthMethod,
        device: Device,
        now: Timestamp,
        lifespan: chrono::TimeDelta,
        rng: &mut R,
    ) -> (SessionToken, Self) {
        let token = SessionToken::generate(rng);
        let session = Self {
            id: SessionId::new_v7(now, rng),
            identity_id,
            token_hash: token.hash(),
            method,
            authenticated_at: now,
            expires_at: now + lifespan,
            device,
        };
        (token, session)
    }

    /// Whether the session is recent enough for privileged changes (a new password).
    #[must_use]
    pub fn is_privileged(&self, max_age: chrono::TimeDelta, now: Timestamp) -> bool {
        now < self.authenticated_at + max_age
    }
}

impl Expires for Session {
    fn expires_at(&self) -> Timestamp {
        self.expires_at
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeDelta, TimeZone, Utc};
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    #[test]
    fn tokens_are_long_random_and_stored_hashed() {
        let mut rng = StdRng::seed_from_u64(9);
        let token = SessionToken::generate(&mut rng);
        assert!(token.expose().starts_with("ory_st_"));
        assert_eq!(token.expose().len(), 7 + 32);
        assert_ne!(token, SessionToken::generate(&mut rng));
        assert_eq!(
            token.hash(),
            SessionToken::from_client(token.expose()).hash()
        );
        assert_eq!(token.hash().as_str().len(), 64);
        assert!(!token.hash().as_str().contains(&token.expose()[7..]));
        assert_eq!(format!("{token:?}"), "SessionToken(<redacted>)");
    }

    fn start() -> Timestamp {
        Utc.timestamp_millis_opt(1_764_064_800_000).unwrap()
    }

    #[test]
    fn an_opened_session_lasts_its_lifespan_and_is_named_by_its_token() {
        let identity = IdentityId::from_uuid(uuid::Uuid::from_u128(7));
        let day = TimeDelta::hours(24);
        let (token, session) = Session::open(
            identity,
            AuthMethod::Password,
            Device::default(),
            start(),
            day,
            &mut StdRng::seed_from_u64(3),
        );
        assert_eq!(session.identity_id, identity);
        assert_eq!(session.method, AuthMethod::Password);
        assert_eq!(session.authenticated_at, start());
        assert_eq!(session.expires_at, start() + day);
        assert_eq!(session.token_hash, token.hash());
        assert_eq!(session.id.as_uuid().get_version_num(), 7);
        let (other_token, other) = Session::open(
            identity,
            AuthMethod::Password,
            Device::default(),
            start(),
            day,
            &mut StdRng::seed_from_u64(4),
        );
        assert_ne!(other.id, session.id);
        assert_ne!(other_token, token);
    }

    #[test]
    fn a_session_expires_at_its_instant() {
        let (_, session) = Session::open(
            IdentityId::from_uuid(uuid::Uuid::nil()),
            AuthMethod::CodeRecovery,
            Device::default(),
            start(),
            TimeDelta::hours(24),
            &mut rand::rng(),
        );
        assert!(!session.is_expired(session.expires_at - TimeDelta::milliseconds(1)));
        assert!(session.is_expired(session.expires_at));
    }

    #[test]
    fn privilege_ends_at_its_exact_age() {
        let start = start();
        let (_, session) = Session::open(
            IdentityId::from_uuid(uuid::Uuid::nil()),
            AuthMethod::CodeRecovery,
            Device::default(),
            start,
            TimeDelta::hours(24),
            &mut rand::rng(),
        );
        let hour = TimeDelta::hours(1);
        assert!(session.is_privileged(hour, start + hour - TimeDelta::milliseconds(1)));
        assert!(!session.is_privileged(hour, start + hour));
    }

    #[test]
    fn user_agents_are_kept_as_text_and_bounded() {
        assert_eq!(UserAgent::from_header(b"  "), None);
        assert_eq!(
            UserAgent::from_header(b" curl/8.5.0 ").unwrap().as_str(),
            "curl/8.5.0"
        );
        let long = "\u{e9}".repeat(600);
        let kept = UserAgent::from_header(long.as_bytes()).unwrap();
        assert_eq!(kept.as_str().chars().count(), UserAgent::MAX_CHARS);
        assert_eq!(
            UserAgent::from_header(b"bad \xff byte").unwrap().as_str(),
            "bad \u{fffd} byte"
        );
    }

    #[test]
    fn methods_parse_back() {
        for m in [AuthMethod::CodeRecovery, AuthMethod::Password] {
            assert_eq!(AuthMethod::parse(m.as_str()), Some(m));
        }
    }
}
