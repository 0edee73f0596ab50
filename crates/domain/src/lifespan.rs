//! How long an issued recovery code lives: the requested `expires_in`, the default when none is
//! given, and the ceiling no request may exceed.

use std::time::Duration;

use chrono::TimeDelta;

use crate::duration::{self, DurationError};
use crate::time::{Timestamp, ceil_to_millis};

/// The configured bounds of a code's lifespan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LifespanPolicy {
    default: Duration,
    max: Duration,
}

/// Why a requested lifespan was refused. Each message names the field and quotes the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LifespanError {
    #[error("Unable to parse \"expires_in\": {0}")]
    Invalid(DurationError),
    #[error("\"expires_in\" must result in a future time, but \"{input}\" is zero")]
    NotPositive { input: String },
    #[error(
        "\"expires_in\" of \"{input}\" is longer than the allowed maximum of {}",
        duration::format(*.max)
    )]
    TooLong { input: String, max: Duration },
}

/// Why a policy cannot be built from configuration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("the default lifespan must be longer than zero")]
    ZeroDefault,
    #[error(
        "the default lifespan {} is longer than the maximum {}",
        duration::format(*.default),
        duration::format(*.max)
    )]
    DefaultAboveMax { default: Duration, max: Duration },
}

impl LifespanPolicy {
    /// # Errors
    /// [`PolicyError`] when `default` is zero or above `max`.
    pub fn new(default: Duration, max: Duration) -> Result<Self, PolicyError> {
        if default.is_zero() {
            return Err(PolicyError::ZeroDefault);
        }
        if default > max {
            return Err(PolicyError::DefaultAboveMax { default, max });
        }
        Ok(Self { default, max })
    }

    #[must_use]
    pub fn default_lifespan(&self) -> Duration {
        self.default
    }

    #[must_use]
    pub fn max_lifespan(&self) -> Duration {
        self.max
    }

    /// The expiry of a code issued at `now` for the requested `expires_in` (absent or empty:
    /// the default). Rounded up to whole milliseconds, so the instant reported is the instant
    /// stored and never earlier than asked for.
    ///
    /// # Errors
    /// [`LifespanError::Invalid`] off the format, [`LifespanError::NotPositive`] for zero,
    /// [`LifespanError::TooLong`] above the maximum (the maximum itself is allowed).
    pub fn expiry(
        &self,
        expires_in: Option<&str>,
        now: Timestamp,
    ) -> Result<Timestamp, LifespanError> {
        let input = expires_in.unwrap_or_default();
        let lifespan = match duration::parse(input).map_err(LifespanError::Invalid)? {
            None => self.default,
            Some(d) if d.is_zero() => {
                return Err(LifespanError::NotPositive {
                    input: input.to_owned(),
                });
            }
            Some(d) if d > self.max => {
                return Err(LifespanError::TooLong {
                    input: input.to_owned(),
                    max: self.max,
                });
            }
            Some(d) => d,
        };
        // Both conversions hold: `lifespan` is at most `duration::MAX_NANOS`, which fits.
        let delta = TimeDelta::from_std(lifespan).unwrap_or(TimeDelta::MAX);
        Ok(ceil_to_millis(
            now.checked_add_signed(delta).unwrap_or(Timestamp::MAX_UTC),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    fn now() -> Timestamp {
        Utc.timestamp_millis_opt(1_764_064_800_000).unwrap()
    }

    fn policy() -> LifespanPolicy {
        LifespanPolicy::new(Duration::from_secs(3600), Duration::from_secs(720 * 3600)).unwrap()
    }

    #[test]
    fn absent_or_empty_means_the_default() {
        let expected = now() + TimeDelta::hours(1);
        assert_eq!(policy().expiry(None, now()), Ok(expected));
        assert_eq!(policy().expiry(Some(""), now()), Ok(expected));
    }

    #[test]
    fn requested_lifespan_is_added_to_now() {
        assert_eq!(
            policy().expiry(Some("2h30m"), now()),
            Ok(now() + TimeDelta::minutes(150))
        );
    }

    #[test]
    fn the_maximum_itself_is_allowed_and_one_nanosecond_more_is_not() {
        assert_eq!(
            policy().expiry(Some("720h"), now()),
            Ok(now() + TimeDelta::hours(720))
        );
        assert_eq!(
            policy().expiry(Some("720h1ns"), now()),
            Err(LifespanError::TooLong {
                input: "720h1ns".into(),
                max: Duration::from_secs(720 * 3600)
            })
        );
    }

    #[test]
    fn zero_is_refused_and_one_nanosecond_rounds_up_to_a_future_millisecond() {
        assert_eq!(
            policy().expiry(Some("0s"), now()),
            Err(LifespanError::NotPositive { input: "0s".into() })
        );
        assert_eq!(
            policy().expiry(Some("1ns"), now()),
            Ok(now() + TimeDelta::milliseconds(1))
        );
        assert_eq!(
            policy().expiry(Some("1ms"), now()),
            Ok(now() + TimeDelta::milliseconds(1))
        );
    }

    #[test]
    fn sub_millisecond_clocks_are_rounded_up_too() {
        let uneven = now() + TimeDelta::microseconds(1);
        assert_eq!(
            policy().expiry(Some("1h"), uneven),
            Ok(now() + TimeDelta::hours(1) + TimeDelta::milliseconds(1))
        );
    }

    #[test]
    fn off_format_and_overflow_are_invalid() {
        for input in ["1d", "1.5h", "+1h", " 1h", "99999999999999999999h"] {
            let error = policy().expiry(Some(input), now()).unwrap_err();
            assert!(matches!(error, LifespanError::Invalid(_)), "{input}");
            assert!(error.to_string().contains(input), "{error}");
            assert!(error.to_string().contains("\"expires_in\""), "{error}");
        }
    }

    #[test]
    fn too_long_message_names_the_ceiling() {
        let error = policy().expiry(Some("1000h"), now()).unwrap_err();
        assert_eq!(
            error.to_string(),
            "\"expires_in\" of \"1000h\" is longer than the allowed maximum of 720h0m0s"
        );
    }

    #[test]
    fn policy_bounds_are_checked() {
        assert_eq!(
            LifespanPolicy::new(Duration::ZERO, Duration::from_secs(1)),
            Err(PolicyError::ZeroDefault)
        );
        assert!(matches!(
            LifespanPolicy::new(Duration::from_secs(2), Duration::from_secs(1)),
            Err(PolicyError::DefaultAboveMax { .. })
        ));
        assert!(LifespanPolicy::new(Duration::from_secs(1), Duration::from_secs(1)).is_ok());
    }
}
