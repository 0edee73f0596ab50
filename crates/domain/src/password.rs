//! Passwords at rest: Argon2id with a random salt, stored as a PHC string.

use std::fmt;

use argon2::password_hash::{PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Argon2, PasswordHash as Phc};
use rand::{CryptoRng, Rng};

pub const MIN_LEN: usize = 8;
pub const MAX_LEN: usize = 1024;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    #[error("the password must be at least {MIN_LEN} characters long, it has {0}")]
    TooShort(usize),
    #[error("the password must be at most {MAX_LEN} characters long, it has {0}")]
    TooLong(usize),
    #[error("the password must not be the same as the email address")]
    SameAsIdentifier,
    #[error("the password could not be hashed")]
    Hashing,
}

/// An Argon2id hash in PHC format; `Debug` does not print it.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(String);

impl PasswordHash {
    /// Hashes `plain` with a salt drawn from `rng`. Deliberately slow: run it off the async
    /// runtime.
    ///
    /// # Errors
    /// [`PasswordError`] when `plain` is outside the length rules.
    pub fn create<R: Rng + CryptoRng + ?Sized>(
        plain: &str,
        rng: &mut R,
    ) -> Result<Self, PasswordError> {
        let len = plain.chars().count();
        if len < MIN_LEN {
            return Err(PasswordError::TooShort(len));
        }
        if len > MAX_LEN {
            return Err(PasswordError::TooLong(len));
        }
        let mut salt = [0u8; 16];
        rng.fill(&mut salt);
        let salt = SaltString::encode_b64(&salt).map_err(|_| PasswordError::Hashing)?;
        Argon2::default()
            .hash_password(plain.as_bytes(), &salt)
            .map(|hash| Self(hash.to_string()))
            .map_err(|_| PasswordError::Hashing)
    }

    /// [`PasswordHash::create`], refusing a password equal to the identity's `identifier`
    /// (its email address), in any case.
    ///
    /// # Errors
    /// [`PasswordError`] when `plain` breaks a rule.
    pub fn create_for<R: Rng + CryptoRng + ?Sized>(
        plain: &str,
        identifier: Option<&str>,
        rng: &mut R,
    ) -> Result<Self, PasswordError> {
        if identifier.is_some_and(|id| id.eq_ignore_ascii_case(plain.trim())) {
            return Err(PasswordError::SameAsIdentifier);
        }
        Self::create(plain, rng)
    }

    /// Wraps a hash read back from storage.
    #[must_use]
    pub fn from_stored(phc: String) -> Self {
        Self(phc)
    }

    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `plain` is the password this hash was made from.
    #[must_use]
    pub fn verify(&self, plain: &str) -> bool {
        Phc::new(&self.0).is_ok_and(|phc| {
            Argon2::default()
                .verify_password(plain.as_bytes(), &phc)
                .is_ok()
        })
    }
}

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordHash(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    #[test]
    fn hashes_with_argon2id_and_verifies() {
        let hash = PasswordHash::create("correct horse", &mut StdRng::seed_from_u64(3)).unwrap();
        assert!(hash.as_str().starts_with("$argon2id$"));
        assert!(!hash.as_str().contains("correct horse"));
        assert!(hash.verify("correct horse"));
        assert!(!hash.verify("correct horsE"));
        assert!(!PasswordHash::from_stored("garbage".into()).verify("correct horse"));
    }

    #[test]
    fn the_identifier_is_not_a_password() {
        let rng = &mut StdRng::seed_from_u64(5);
        assert_eq!(
            PasswordHash::create_for("Ada@Example.com", Some("ada@example.com"), rng),
            Err(PasswordError::SameAsIdentifier)
        );
        assert!(PasswordHash::create_for("ada@example.org", Some("ada@example.com"), rng).is_ok());
        assert!(PasswordHash::create_for("whatever-long", None, rng).is_ok());
    }

    #[test]
    fn length_rules_hold_at_their_edges() {
        let rng = &mut StdRng::seed_from_u64(4);
        assert_eq!(
            PasswordHash::create("1234567", rng),
            Err(PasswordError::TooShort(7))
        );
        assert!(PasswordHash::create("12345678", rng).is_ok());
        assert!(PasswordHash::create(&"x".repeat(MAX_LEN), rng).is_ok());
        assert_eq!(
            PasswordHash::create(&"x".repeat(MAX_LEN + 1), rng),
            Err(PasswordError::TooLong(MAX_LEN + 1))
        );
    }
}
