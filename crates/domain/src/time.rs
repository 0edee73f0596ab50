//! The service's one notion of an instant.

use chrono::{DateTime, DurationRound, SecondsFormat, TimeDelta, Utc};

/// An instant in UTC. Every stored and returned time is kept at millisecond precision, so the
/// value a client reads is exactly the value the store holds.
pub type Timestamp = DateTime<Utc>;

/// Truncates `t` to whole milliseconds.
#[must_use]
pub fn truncate_to_millis(t: Timestamp) -> Timestamp {
    t.duration_trunc(TimeDelta::milliseconds(1)).unwrap_or(t)
}

/// Rounds `t` up to the next whole millisecond (unchanged when already whole), so that an expiry
/// computed from a sub-millisecond lifespan never falls before the requested instant.
#[must_use]
pub fn ceil_to_millis(t: Timestamp) -> Timestamp {
    let truncated = truncate_to_millis(t);
    if truncated == t {
        t
    } else {
        truncated + TimeDelta::milliseconds(1)
    }
}

/// Something that holds until an instant, and no longer from that instant on: flows, codes and
/// sessions alike.
pub trait Expires {
    /// The first instant it no longer holds.
    fn expires_at(&self) -> Timestamp;

    /// Whether it has expired at `now`: at `expires_at` itself it has.
    fn is_expired(&self, now: Timestamp) -> bool {
        self.expires_at() <= now
    }
}

/// RFC 3339 in UTC with milliseconds, e.g. `2026-11-25T10:30:00.123Z`.
#[must_use]
pub fn format_rfc3339_millis(t: Timestamp) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn rounding_keeps_whole_milliseconds_and_moves_fractions_up() {
        let whole = Utc.timestamp_millis_opt(1_764_000_000_123).unwrap();
        assert_eq!(ceil_to_millis(whole), whole);
        assert_eq!(truncate_to_millis(whole), whole);
        let fraction = whole + TimeDelta::nanoseconds(1);
        assert_eq!(ceil_to_millis(fraction), whole + TimeDelta::milliseconds(1));
        assert_eq!(truncate_to_millis(fraction), whole);
    }

    #[test]
    fn formats_with_milliseconds_and_z() {
        let t = Utc.timestamp_millis_opt(1_764_066_600_123).unwrap();
        assert_eq!(format_rfc3339_millis(t), "2025-11-25T10:30:00.123Z");
    }
}
