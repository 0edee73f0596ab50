//! Our own shape (Kratos has no lockout): the failed sign-ins counted on an identity.

use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::wire::Time;

/// The failed sign-ins on an identity's identifier, and whether they hold sign-ins back now.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = identityLockout)]
pub(crate) struct Lockout {
    pub(crate) identity_id: Uuid,
    /// Whether some address (or every one) must wait before signing in.
    pub(crate) locked: bool,
    pub(crate) counts: Vec<FailureCount>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = identityLockoutCount)]
pub(crate) struct FailureCount {
    /// The client network (an IPv4 address or an IPv6 /48); absent for the count over all
    /// networks.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub(crate) address: Option<String>,
    pub(crate) failures: u32,
    pub(crate) last_failure_at: Time,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub(crate) locked_until: Option<Time>,
}

impl Lockout {
    pub(crate) fn new(lockout: application::lockout::Lockout) -> Self {
        let counts: Vec<FailureCount> = lockout
            .entries
            .into_iter()
            .map(|entry| FailureCount {
                address: entry.address.map(|group| group.to_string()),
                failures: entry.failures.count,
                last_failure_at: entry.failures.last_at.into(),
                locked_until: entry.locked_until.map(Time),
            })
            .collect();
        Self {
            identity_id: lockout.identity_id.into(),
            locked: counts.iter().any(|count| count.locked_until.is_some()),
            counts,
        }
    }
}
