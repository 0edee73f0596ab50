//! The lifespan format of the API: `^([0-9]+(ns|us|ms|s|m|h))*$`, e.g. `1h30m` or `90s`.
//!
//! A strict subset of Go's duration strings: whole numbers only, no sign, no fraction, no days
//! and no spaces. The empty string matches the pattern and means "not given".

use std::time::Duration;

/// The pattern every accepted value matches, quoted in error messages.
pub const PATTERN: &str = "^([0-9]+(ns|us|ms|s|m|h))*$";

/// The largest duration accepted: Go's `time.Duration` limit (about 292 years), so that every
/// value this service accepts is one a Kratos client could also have sent.
pub const MAX_NANOS: u128 = i64::MAX as u128;

/// Why a value is not a duration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    /// The text does not match [`PATTERN`].
    #[error(
        "\"{input}\" is not a valid duration: use whole numbers each followed by a unit (ns, us, ms, s, m or h), for example \"1h30m\""
    )]
    Format { input: String },
    /// The text matches the pattern but is longer than [`MAX_NANOS`].
    #[error("\"{input}\" is too long: a duration can be at most 2562047h47m16s")]
    Overflow { input: String },
}

/// Parses `input`; `Ok(None)` for the empty string, which the API reads as "use the default".
///
/// # Errors
/// [`DurationError::Format`] when `input` does not match [`PATTERN`];
/// [`DurationError::Overflow`] when its total exceeds [`MAX_NANOS`].
pub fn parse(input: &str) -> Result<Option<Duration>, DurationError> {
    if input.is_empty() {
        return Ok(None);
    }
    let format_error = || DurationError::Format {
        input: input.to_owned(),
    };
    let overflow_error = || DurationError::Overflow {
        input: input.to_owned(),
    };

    let mut total: u128 = 0;
    let mut rest = input;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(format_error());
        }
        let (number, after_number) = rest.split_at(digits);
        let (unit_nanos, unit_len) = unit(after_number).ok_or_else(format_error)?;
        // A number too large for u128 cannot fit the limit either, so that is an overflow too.
        let value: u128 = number.parse().map_err(|_| overflow_error())?;
        total = value
            .checked_mul(unit_nanos)
            .and_then(|nanos| total.checked_add(nanos))
            .filter(|nanos| *nanos <= MAX_NANOS)
            .ok_or_else(overflow_error)?;
        rest = &after_number[unit_len..];
    }
    let secs = u64::try_from(total / 1_000_000_000).map_err(|_| overflow_error())?;
    let nanos = u32::try_from(total % 1_000_000_000).map_err(|_| overflow_error())?;
    Ok(Some(Duration::new(secs, nanos)))
}

/// The unit at the start of `s`: its length in nanoseconds and in bytes. Two-letter units are
/// tried first so that `ms` is not read as `m` followed by garbage.
fn unit(s: &str) -> Option<(u128, usize)> {
    const UNITS: [(&str, u128); 6] = [
        ("ns", 1),
        ("us", 1_000),
        ("ms", 1_000_000),
        ("s", 1_000_000_000),
        ("m", 60_000_000_000),
        ("h", 3_600_000_000_000),
    ];
    UNITS
        .iter()
        .find(|(name, _)| s.starts_with(name))
        .map(|(name, nanos)| (*nanos, name.len()))
}

/// Formats `d` the way Go prints durations (`1h30m0s`), for messages and the configuration.
#[must_use]
pub fn format(d: Duration) -> String {
    let total = d.as_secs();
    let (h, m, s) = (total / 3600, (total % 3600) / 60, total % 60);
    let sub = d.subsec_nanos();
    let seconds = if sub == 0 {
        format!("{s}s")
    } else {
        let fraction = format!("{sub:09}");
        format!("{s}.{}s", fraction.trim_end_matches('0'))
    };
    match (h, m) {
        (0, 0) => seconds,
        (0, _) => format!("{m}m{seconds}"),
        _ => format!("{h}h{m}m{seconds}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(input: &str) -> Duration {
        parse(input).unwrap().unwrap()
    }

    #[test]
    fn accepts_every_unit_and_combinations() {
        let table: [(&str, Duration); 14] = [
            ("1ns", Duration::from_nanos(1)),
            ("1us", Duration::from_micros(1)),
            ("1ms", Duration::from_millis(1)),
            ("1s", Duration::from_secs(1)),
            ("1m", Duration::from_secs(60)),
            ("1h", Duration::from_secs(3600)),
            ("2h30m", Duration::from_secs(9000)),
            ("1h30m", Duration::from_secs(5400)),
            ("90m", Duration::from_secs(5400)),
            ("1h1m1s1ms1us1ns", Duration::new(3661, 1_001_001)),
            ("007s", Duration::from_secs(7)),
            ("0h5m", Duration::from_secs(300)),
            ("1s1s", Duration::from_secs(2)),
            ("720h", Duration::from_secs(720 * 3600)),
        ];
        for (input, expected) in table {
            assert_eq!(ok(input), expected, "{input}");
        }
    }

    #[test]
    fn empty_means_not_given() {
        assert_eq!(parse(""), Ok(None));
    }

    #[test]
    fn zero_parses_to_zero_and_is_left_to_the_lifespan_rule() {
        assert_eq!(ok("0s"), Duration::ZERO);
        assert_eq!(ok("0h0m"), Duration::ZERO);
    }

    #[test]
    fn rejects_everything_off_the_pattern() {
        for input in [
            "1d", "1.5h", "+1h", "-1h", " 1h", "1h ", "1 h", "h", "1", "1H", "1hour", "µs", "1µs",
            "1h-30m", "1e3s", "١s", "1h\n", "0x10s", "ns1", "1h,30m",
        ] {
            assert_eq!(
                parse(input),
                Err(DurationError::Format {
                    input: input.to_owned()
                }),
                "{input:?}"
            );
        }
    }

    #[test]
    fn rejects_overflow_instead_of_wrapping() {
        for input in [
            "99999999999999999999h",
            "2562048h",
            "9223372036854775808ns",
            "2562047h47m16s854775808ns",
            "340282366920938463463374607431768211456ns",
            "9999999999999999999999999999999999999999h",
            "2562047h2562047h",
        ] {
            assert!(
                matches!(parse(input), Err(DurationError::Overflow { .. })),
                "{input}"
            );
        }
    }

    #[test]
    fn accepts_the_exact_maximum() {
        assert_eq!(
            ok("9223372036854775807ns"),
            Duration::new(9_223_372_036, 854_775_807)
        );
        assert_eq!(
            ok("2562047h47m16s854775807ns"),
            Duration::new(9_223_372_036, 854_775_807)
        );
    }

    #[test]
    fn error_messages_quote_the_input_and_say_what_is_accepted() {
        let message = parse("1d").unwrap_err().to_string();
        assert!(message.contains("\"1d\""), "{message}");
        assert!(message.contains("ns, us, ms, s, m or h"), "{message}");
        let message = parse("99999999999999999999h").unwrap_err().to_string();
        assert!(message.contains("\"99999999999999999999h\""), "{message}");
    }

    #[test]
    fn formats_like_go() {
        assert_eq!(format(Duration::from_secs(3600)), "1h0m0s");
        assert_eq!(format(Duration::from_secs(5400)), "1h30m0s");
        assert_eq!(format(Duration::from_secs(90)), "1m30s");
        assert_eq!(format(Duration::from_millis(1500)), "1.5s");
        assert_eq!(format(Duration::from_secs(720 * 3600)), "720h0m0s");
    }
}
