//! Recovery codes as the person types them: decimal digits, uniform, leading zeros kept.

use std::fmt;

use rand::{CryptoRng, Rng};

/// How many digits a code has: 6 to 12.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CodeLength(usize);

impl CodeLength {
    pub const MIN: usize = 6;
    pub const MAX: usize = 12;

    /// # Errors
    /// [`CodeLengthError`] outside `MIN..=MAX`.
    pub fn new(digits: usize) -> Result<Self, CodeLengthError> {
        if (Self::MIN..=Self::MAX).contains(&digits) {
            Ok(Self(digits))
        } else {
            Err(CodeLengthError(digits))
        }
    }

    #[must_use]
    pub fn get(self) -> usize {
        self.0
    }
}

impl Default for CodeLength {
    fn default() -> Self {
        Self(Self::MIN)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a code must have between 6 and 12 digits, not {0}")]
pub struct CodeLengthError(pub usize);

/// A code in clear. It exists only between generation and the response that shows it once;
/// its `Debug` never prints the digits, so it cannot leak through a log line by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct PlainCode(String);

impl PlainCode {
    /// Draws `length` digits uniformly from `rng`, which must be a CSPRNG.
    pub fn generate<R: Rng + CryptoRng + ?Sized>(rng: &mut R, length: CodeLength) -> Self {
        Self(
            (0..length.get())
                .map(|_| char::from(b'0' + rng.random_range(0..10u8)))
                .collect(),
        )
    }

    /// The digits, for the one response that shows them.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PlainCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PlainCode(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    #[test]
    fn length_is_bounded_to_6_through_12() {
        assert_eq!(CodeLength::new(5), Err(CodeLengthError(5)));
        assert_eq!(CodeLength::new(13), Err(CodeLengthError(13)));
        for digits in 6..=12 {
            assert_eq!(CodeLength::new(digits).unwrap().get(), digits);
        }
        assert_eq!(CodeLength::default().get(), 6);
    }

    #[test]
    fn codes_have_the_configured_number_of_decimal_digits() {
        let mut rng = StdRng::seed_from_u64(7);
        for digits in 6..=12 {
            let code = PlainCode::generate(&mut rng, CodeLength::new(digits).unwrap());
            assert_eq!(code.expose().len(), digits);
            assert!(code.expose().bytes().all(|b| b.is_ascii_digit()));
        }
    }

    #[test]
    fn digits_are_uniform_in_every_position_and_leading_zeros_are_kept() {
        let mut rng = StdRng::seed_from_u64(42);
        let mut counts = [[0u32; 10]; 6];
        let samples = 20_000;
        let mut leading_zero = false;
        for _ in 0..samples {
            let code = PlainCode::generate(&mut rng, CodeLength::default());
            leading_zero |= code.expose().starts_with('0');
            for (position, digit) in code.expose().bytes().enumerate() {
                counts[position][usize::from(digit - b'0')] += 1;
            }
        }
        assert!(leading_zero);
        // Each digit is expected 2000 times per position; 6 standard deviations is ~254.
        for position in counts {
            for count in position {
                assert!((1750..=2250).contains(&count), "{count}");
            }
        }
    }

    #[test]
    fn debug_output_hides_the_digits() {
        let code = PlainCode("123456".into());
        assert_eq!(format!("{code:?}"), "PlainCode(<redacted>)");
    }
}
