//! How long a client must wait before trying again: as `Retry-After` counts it, and in words.

use std::num::NonZeroU32;
use std::time::Duration;

use actix_web::http::header::{self, HeaderName, HeaderValue};

/// A wait in whole seconds, rounded up, at least one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Wait(NonZeroU32);

impl Wait {
    pub(crate) fn new(wait: Duration) -> Self {
        let seconds = wait
            .as_secs()
            .saturating_add(u64::from(wait.subsec_nanos() > 0));
        Self(NonZeroU32::new(u32::try_from(seconds).unwrap_or(u32::MAX)).unwrap_or(NonZeroU32::MIN))
    }

    /// The value of `Retry-After`.
    pub(crate) fn seconds(self) -> NonZeroU32 {
        self.0
    }

    /// The `Retry-After` header of an answer asking to wait this long.
    pub(crate) fn header(self) -> (HeaderName, HeaderValue) {
        (header::RETRY_AFTER, HeaderValue::from(self.0.get()))
    }

    /// `1 second`, `90 seconds`, `15 minutes` (rounded up).
    pub(crate) fn in_words(self) -> String {
        match self.0.get() {
            1 => "1 second".to_owned(),
            n if n < 120 => format!("{n} seconds"),
            n => format!("{} minutes", n.div_ceil(60)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_seconds_rounded_up_and_at_least_one() {
        let seconds = |wait| Wait::new(wait).seconds().get();
        assert_eq!(seconds(Duration::ZERO), 1);
        assert_eq!(seconds(Duration::from_millis(1)), 1);
        assert_eq!(seconds(Duration::from_secs(30)), 30);
        assert_eq!(seconds(Duration::from_millis(30_001)), 31);
        assert_eq!(seconds(Duration::from_secs(u64::MAX)), u32::MAX);
    }

    #[test]
    fn in_words() {
        let words = |seconds| Wait::new(Duration::from_secs(seconds)).in_words();
        assert_eq!(words(1), "1 second");
        assert_eq!(words(90), "90 seconds");
        assert_eq!(words(900), "15 minutes");
        assert_eq!(words(901), "16 minutes");
    }
}
