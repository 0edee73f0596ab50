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

/// A new identifier for something created at `now`: a UUIDv7, whose leading bits are the time,
/// so rows created together sit together in every index on their id (appends, not scattered
/// writes), and the rest from `rng`.
pub fn new_id<R: rand::Rng + ?Sized>(now: Timestamp, rng: &mut R) -> uuid::Uuid {
    let millis = u64::try_from(now.timestamp_millis()).unwrap_or_default();
    let mut random = [0u8; 10];
    rng.fill(&mut random);
    uuid::Builder::from_unix_timestamp_millis(millis, &random).into_uuid()
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
    fn ids_are_ordered_by_time_and_unique() {
        let t = Utc.timestamp_millis_opt(1_764_066_600_123).unwrap();
        let rng = &mut rand::rng();
        let a = new_id(t, rng);
        let b = new_id(t + TimeDelta::milliseconds(1), rng);
        assert_eq!(a.get_version_num(), 7);
        assert!(a < b);
        assert_ne!(new_id(t, rng), new_id(t, rng));
    }

    #[test]
    fn formats_with_milliseconds_and_z() {
        let t = Utc.timestamp_millis_opt(1_764_066_600_123).unwrap();
        assert_eq!(format_rfc3339_millis(t), "2025-11-25T10:30:00.123Z");
    }
}
