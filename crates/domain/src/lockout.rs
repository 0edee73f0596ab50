//! Slowing down password guessing. Every sign-in attempt is counted before the password is
//! checked, twice: per identifier and client address group (strict), and per identifier over
//! all addresses (looser). Past a few failures in a row a delay applies, doubling with each
//! failure up to a cap, during which attempts are refused before any password work.
//!
//! The looser count takes at most [`LockoutPolicy::free_per_address`] failures from each
//! address group, so an attacker at one address can never lock the account for people signing
//! in from elsewhere; only many addresses together can, and only for the capped delay at a time.
//! Recovery is never blocked by either count.

use std::fmt;

use chrono::TimeDelta;

use crate::client::AddressGroup;
use crate::time::Timestamp;

/// A keyed hash of a sign-in identifier (see [`crate::secret::Secrets::identifier_key`]).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct IdentifierKey(String);

impl IdentifierKey {
    /// Wraps a key read back from storage.
    #[must_use]
    pub fn from_stored(hex: String) -> Self {
        Self(hex)
    }

    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A short prefix of the key: enough to follow one identifier through the logs, nothing
    /// to recover it from.
    #[must_use]
    pub fn short(&self) -> &str {
        self.0.get(..16).unwrap_or(&self.0)
    }
}

impl fmt::Debug for IdentifierKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IdentifierKey({})", self.short())
    }
}

/// Failures in a row recorded under one count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Failures {
    pub count: u32,
    pub last_at: Timestamp,
}

/// The counts as they stood before an attempt, which is what decides whether it may go on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttemptCounts {
    /// This identifier from this address group.
    pub address: Option<Failures>,
    /// This identifier from anywhere.
    pub identifier: Option<Failures>,
}

/// What one count of failures looks like to an operator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockoutEntry {
    /// `None` for the count over all addresses.
    pub address: Option<AddressGroup>,
    pub failures: Failures,
    /// Until when attempts are refused, if they are now.
    pub locked_until: Option<Timestamp>,
}

/// How failures are turned into delays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockoutPolicy {
    /// Failures in a row from one address group before delays start for it.
    pub free_per_address: u32,
    /// Failures in a row over all addresses before delays start for everyone; each address
    /// group adds at most `free_per_address` to it.
    pub free_per_identifier: u32,
    /// The delay after the first failure past the free ones; it doubles with each further one.
    pub first_delay: TimeDelta,
    /// The longest delay.
    pub max_delay: TimeDelta,
}

impl Default for LockoutPolicy {
    fn default() -> Self {
        Self {
            free_per_address: 5,
            free_per_identifier: 20,
            first_delay: TimeDelta::seconds(30),
            max_delay: TimeDelta::minutes(15),
        }
    }
}

impl LockoutPolicy {
    /// Until when `failures` (from one address group) hold attempts back, if past `now`.
    #[must_use]
    pub fn address_locked_until(&self, failures: Failures, now: Timestamp) -> Option<Timestamp> {
        self.locked_until(failures, self.free_per_address, now)
    }

    /// Until when `failures` (over all addresses) hold attempts back, if past `now`.
    #[must_use]
    pub fn identifier_locked_until(&self, failures: Failures, now: Timestamp) -> Option<Timestamp> {
        self.locked_until(failures, self.free_per_identifier, now)
    }

    /// Until when an attempt counted as `counts` must wait, if it must: the later of both.
    #[must_use]
    pub fn wait_until(&self, counts: AttemptCounts, now: Timestamp) -> Option<Timestamp> {
        let address = counts
            .address
            .and_then(|f| self.address_locked_until(f, now));
        let identifier = counts
            .identifier
            .and_then(|f| self.identifier_locked_until(f, now));
        address.max(identifier)
    }

    /// Whether the failure of an attempt that made its address group's count `address_count`
    /// also counts over all addresses.
    #[must_use]
    pub fn counts_for_identifier(&self, address_count: u32) -> bool {
        address_count <= self.free_per_address
    }

    fn locked_until(&self, failures: Failures, free: u32, now: Timestamp) -> Option<Timestamp> {
        let past_free = failures.count.checked_sub(free)?;
        // 2^past_free times the first delay, without overflowing on long streaks.
        let doublings = past_free.min(30);
        let delay = self
            .first_delay
            .checked_mul(1 << doublings)
            .map_or(self.max_delay, |delay| delay.min(self.max_delay));
        let until = failures.last_at + delay;
        (until > now).then_some(until)
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;

    fn at(seconds: i64) -> Timestamp {
        Utc.timestamp_opt(1_764_064_800 + seconds, 0).unwrap()
    }

    fn failures(count: u32, last: i64) -> Failures {
        Failures {
            count,
            last_at: at(last),
        }
    }

    #[test]
    fn the_first_failures_are_free_then_the_delay_doubles_up_to_the_cap() {
        let policy = LockoutPolicy::default();
        assert_eq!(policy.address_locked_until(failures(4, 0), at(0)), None);
        assert_eq!(
            policy.address_locked_until(failures(5, 0), at(0)),
            Some(at(30))
        );
        assert_eq!(
            policy.address_locked_until(failures(6, 0), at(0)),
            Some(at(60))
        );
        assert_eq!(
            policy.address_locked_until(failures(9, 0), at(0)),
            Some(at(480))
        );
        assert_eq!(
            policy.address_locked_until(failures(10, 0), at(0)),
            Some(at(900))
        );
        assert_eq!(
            policy.address_locked_until(failures(1000, 0), at(0)),
            Some(at(900))
        );
        // Once the delay has passed, the next attempt may go on.
        assert_eq!(policy.address_locked_until(failures(6, 0), at(60)), None);
        assert_eq!(
            policy.address_locked_until(failures(6, 0), at(59)),
            Some(at(60))
        );
    }

    #[test]
    fn the_count_over_all_addresses_is_looser() {
        let policy = LockoutPolicy::default();
        assert_eq!(policy.identifier_locked_until(failures(19, 0), at(0)), None);
        assert_eq!(
            policy.identifier_locked_until(failures(20, 0), at(0)),
            Some(at(30))
        );
        let counts = AttemptCounts {
            address: Some(failures(5, 0)),
            identifier: Some(failures(21, 0)),
        };
        assert_eq!(policy.wait_until(counts, at(0)), Some(at(60)));
        assert_eq!(
            policy.wait_until(
                AttemptCounts {
                    address: None,
                    identifier: None
                },
                at(0)
            ),
            None
        );
    }

    #[test]
    fn each_address_adds_at_most_its_free_failures_over_all_addresses() {
        let policy = LockoutPolicy::default();
        assert!(policy.counts_for_identifier(1));
        assert!(policy.counts_for_identifier(5));
        assert!(!policy.counts_for_identifier(6));
    }

    #[test]
    fn a_key_shows_only_its_prefix() {
        let key = IdentifierKey::from_stored("0123456789abcdef0123".into());
        assert_eq!(key.short(), "0123456789abcdef");
        assert_eq!(format!("{key:?}"), "IdentifierKey(0123456789abcdef)");
    }
}
