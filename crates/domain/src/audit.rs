//! The audit trail: who did what, to which identity, from where and when. An event is written
//! in the transaction of the change it records, so the trail never tells of a change that did
//! not happen nor misses one that did. It never holds a secret: admin keys appear by their
//! configured name, and codes, tokens and passwords not at all.

use std::fmt;

use uuid::Uuid;

use crate::client::ClientAddress;
use crate::id::{AuditEventId, IdentityId};
use crate::time::Timestamp;

/// Who acted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// A caller of the admin API, by the name of its key.
    AdminKey(String),
    /// A caller of the admin API while `serve.admin.allow_unauthenticated` admits anyone.
    Unauthenticated,
    /// The person at the public API: recovering, signing in, managing their sessions.
    SelfService,
}

const UNAUTHENTICATED: &str = "unauthenticated";
const SELF_SERVICE: &str = "self-service";

impl Actor {
    /// How the trail names the actor: the key's name, `unauthenticated` or `self-service`.
    #[must_use]
    pub fn as_str(&self) -> &str {
        match self {
            Self::AdminKey(name) => name,
            Self::Unauthenticated => UNAUTHENTICATED,
            Self::SelfService => SELF_SERVICE,
        }
    }

    /// The actor a stored name stands for; see [`is_reserved_actor_name`].
    #[must_use]
    pub fn parse(name: &str) -> Self {
        match name {
            UNAUTHENTICATED => Self::Unauthenticated,
            SELF_SERVICE => Self::SelfService,
            name => Self::AdminKey(name.to_owned()),
        }
    }
}

/// Whether an admin key may not be called `name`: the trail would take it for another actor.
#[must_use]
pub fn is_reserved_actor_name(name: &str) -> bool {
    [UNAUTHENTICATED, SELF_SERVICE].contains(&name)
}

macro_rules! named {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident => $text:literal,)* }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum $name { $($(#[$vdoc])* $variant,)* }

        impl $name {
            #[must_use]
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $text,)* }
            }

            #[must_use]
            pub fn parse(text: &str) -> Option<Self> {
                match text { $($text => Some(Self::$variant),)* _ => None }
            }

            /// Every value, in the order declared.
            pub const ALL: &'static [Self] = &[$(Self::$variant,)*];
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

named! {
    /// What happened.
    Action {
        IdentityCreated => "identity.created",
        IdentityUpdated => "identity.updated",
        IdentityDeleted => "identity.deleted",
        RecoveryCodeIssued => "recovery_code.issued",
        /// Every outstanding code of an identity taken back, with the sessions they opened.
        RecoveryCodesRevoked => "recovery_codes.revoked",
        /// A code was redeemed: the person is signed in and may set a new password.
        RecoverySucceeded => "recovery.succeeded",
        /// A code was submitted on a flow and refused.
        RecoveryRefused => "recovery.refused",
        PasswordChanged => "password.changed",
        SignInSucceeded => "sign_in.succeeded",
        SignInFailed => "sign_in.failed",
        SignInThrottled => "sign_in.throttled",
        LockoutCleared => "lockout.cleared",
        /// One session ended.
        SessionRevoked => "session.revoked",
        /// Several sessions of an identity ended at once.
        SessionsRevoked => "sessions.revoked",
    }
}

named! {
    /// Why an attempt was refused.
    Reason {
        WrongCode => "wrong_code",
        CodeUsed => "code_used",
        CodeRevoked => "code_revoked",
        FlowExpired => "flow_expired",
        AttemptsExhausted => "attempts_exhausted",
        IdentityInactive => "identity_inactive",
        WrongCredentials => "wrong_credentials",
        NoPassword => "no_password",
    }
}

/// The id a request was given (the caller's `X-Request-Id` or a new one): 1 to 128 visible
/// ASCII characters, so that it can be stored and shown as it came.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(String);

impl RequestId {
    pub const MAX_LEN: usize = 128;

    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        (!text.is_empty()
            && text.len() <= Self::MAX_LEN
            && text.bytes().all(|b| b.is_ascii_graphic()))
        .then(|| Self(text.to_owned()))
    }

    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where a request came from: what every event of the request records about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub actor: Actor,
    pub client_address: Option<ClientAddress>,
    pub request_id: Option<RequestId>,
}

impl Origin {
    /// The event `action` of this request, at `at`, as `id`.
    #[must_use]
    pub fn event(&self, id: AuditEventId, action: Action, at: Timestamp) -> Event {
        Event {
            id,
            at,
            actor: self.actor.clone(),
            action,
            reason: None,
            identity_id: None,
            flow_id: None,
            client_address: self.client_address,
            request_id: self.request_id.clone(),
        }
    }
}

/// One entry of the trail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// Time-ordered, and ordered as created within a process: the trail is listed by id.
    pub id: AuditEventId,
    pub at: Timestamp,
    pub actor: Actor,
    pub action: Action,
    pub reason: Option<Reason>,
    /// The identity acted on. No foreign key: the event outlives the identity.
    pub identity_id: Option<IdentityId>,
    /// The recovery, login or settings flow the action belongs to.
    pub flow_id: Option<Uuid>,
    pub client_address: Option<ClientAddress>,
    pub request_id: Option<RequestId>,
}

impl Event {
    /// The identity acted on, when known.
    #[must_use]
    pub fn identity(self, id: impl Into<Option<IdentityId>>) -> Self {
        Self {
            identity_id: id.into(),
            ..self
        }
    }

    #[must_use]
    pub fn flow(self, id: impl Into<Uuid>) -> Self {
        Self {
            flow_id: Some(id.into()),
            ..self
        }
    }

    #[must_use]
    pub fn reason(self, reason: Reason) -> Self {
        Self {
            reason: Some(reason),
            ..self
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_read_back_as_written() {
        for action in Action::ALL {
            assert_eq!(Action::parse(action.as_str()), Some(*action));
        }
        for reason in Reason::ALL {
            assert_eq!(Reason::parse(reason.as_str()), Some(*reason));
        }
        for actor in [
            Actor::AdminKey("support".into()),
            Actor::Unauthenticated,
            Actor::SelfService,
        ] {
            assert_eq!(Actor::parse(actor.as_str()), actor);
        }
        assert!(is_reserved_actor_name("self-service"));
        assert!(!is_reserved_actor_name("support"));
    }

    #[test]
    fn request_ids_are_bounded_visible_ascii() {
        assert!(RequestId::parse("req-1").is_some());
        assert!(RequestId::parse("").is_none());
        assert!(RequestId::parse("a b").is_none());
        assert!(RequestId::parse("é").is_none());
        assert!(RequestId::parse(&"a".repeat(129)).is_none());
        assert!(RequestId::parse(&"a".repeat(128)).is_some());
    }
}
