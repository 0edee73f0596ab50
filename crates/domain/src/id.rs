//! Identifiers: one type per kind of thing, so that passing one where another belongs (a
//! settings flow for a recovery flow, a session for an identity) does not compile.
//!
//! ```
//! use domain::id::{IdentityId, SettingsFlowId};
//!
//! fn set_password(_flow: SettingsFlowId, _identity: IdentityId) {}
//!
//! let flow = SettingsFlowId::from(uuid::Uuid::from_u128(1));
//! let identity = IdentityId::from(uuid::Uuid::from_u128(2));
//! set_password(flow, identity);
//! ```
//!
//! The same call with its arguments swapped is refused:
//!
//! ```compile_fail,E0308
//! use domain::id::{IdentityId, SettingsFlowId};
//!
//! fn set_password(_flow: SettingsFlowId, _identity: IdentityId) {}
//!
//! let flow = SettingsFlowId::from(uuid::Uuid::from_u128(1));
//! let identity = IdentityId::from(uuid::Uuid::from_u128(2));
//! set_password(identity, flow);
//! ```

use std::fmt;
use std::str::FromStr;

use rand::Rng;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::time::Timestamp;

macro_rules! ids {
    ($($(#[$doc:meta])* $name:ident;)*) => {$(
        $(#[$doc])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
        )]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// A new id for something created at `now`: see [`uuid_v7`].
            pub fn new_v7<R: Rng + ?Sized>(now: Timestamp, rng: &mut R) -> Self {
                Self(uuid_v7(now, rng))
            }

            #[must_use]
            pub const fn from_uuid(uuid: Uuid) -> Self {
                Self(uuid)
            }

            #[must_use]
            pub const fn as_uuid(&self) -> &Uuid {
                &self.0
            }

            #[must_use]
            pub const fn into_uuid(self) -> Uuid {
                self.0
            }
        }

        impl From<Uuid> for $name {
            fn from(uuid: Uuid) -> Self {
                Self(uuid)
            }
        }

        impl From<$name> for Uuid {
            fn from(id: $name) -> Self {
                id.0
            }
        }

        /// Hyphenated, lower-case: as stored and as the API shows it.
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::try_parse(s).map(Self)
            }
        }
    )*};
}

ids! {
    /// An identity's id.
    IdentityId;
    /// A recovery flow's id: the `flow` of a recovery link.
    RecoveryFlowId;
    /// A recovery code's id, never shown outside the store.
    RecoveryCodeId;
    /// A settings flow's id: where a recovered identity sets its new password.
    SettingsFlowId;
    /// A login flow's id.
    LoginFlowId;
    /// A session's id.
    SessionId;
    /// An audit event's id.
    AuditEventId;
}

/// A UUIDv7 for something created at `now`: its leading bits are the time, so rows created
/// together sit together in every index on their id (appends, not scattered writes), and the
/// rest from `rng`.
fn uuid_v7<R: Rng + ?Sized>(now: Timestamp, rng: &mut R) -> Uuid {
    let millis = u64::try_from(now.timestamp_millis()).unwrap_or_default();
    let mut random = [0u8; 10];
    rng.fill(&mut random);
    uuid::Builder::from_unix_timestamp_millis(millis, &random).into_uuid()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeDelta, TimeZone, Utc};

    #[test]
    fn ids_are_ordered_by_time_and_unique() {
        let t = Utc.timestamp_millis_opt(1_764_066_600_123).unwrap();
        let rng = &mut rand::rng();
        let a = SessionId::new_v7(t, rng);
        let b = SessionId::new_v7(t + TimeDelta::milliseconds(1), rng);
        assert_eq!(a.as_uuid().get_version_num(), 7);
        assert!(a < b);
        assert_ne!(SessionId::new_v7(t, rng), SessionId::new_v7(t, rng));
    }

    #[test]
    fn ids_read_and_write_as_their_uuid() {
        let text = "01935c2e-7a4b-4c3d-8e9f-0a1b2c3d4e5f";
        let id: RecoveryFlowId = text.parse().unwrap();
        assert_eq!(id.to_string(), text);
        assert_eq!(id.into_uuid(), Uuid::try_parse(text).unwrap());
        assert_eq!(RecoveryFlowId::from(id.into_uuid()), id);
        assert_eq!(serde_json::to_string(&id).unwrap(), format!("\"{text}\""));
        assert_eq!(
            serde_json::from_str::<RecoveryFlowId>(&format!("\"{text}\"")).unwrap(),
            id
        );
        assert!("not-a-uuid".parse::<IdentityId>().is_err());
    }
}
