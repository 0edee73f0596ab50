//! Codes at rest: only a keyed hash is stored, under the first configured secret, and every
//! configured secret is accepted when verifying, so secrets can be rotated without voiding
//! outstanding codes.

use std::fmt;

use hmac::{Hmac, Mac};
use sha2::Sha512_256;

use crate::code::PlainCode;
use crate::lockout::IdentifierKey;

type CodeMac = Hmac<Sha512_256>;

/// The shortest secret accepted outside development mode.
pub const MIN_SECRET_LEN: usize = 32;

/// The configured secrets, each as a keyed MAC ready to use: the first signs, all verify.
/// `Debug` never prints them.
#[derive(Clone)]
pub struct Secrets {
    signing: CodeMac,
    older: Vec<CodeMac>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretsError {
    #[error("at least one secret is required")]
    Missing,
    #[error(
        "secret number {position} is {len} characters long; at least {MIN_SECRET_LEN} are required"
    )]
    TooShort { position: usize, len: usize },
}

impl Secrets {
    /// Secrets as configured, each at least [`MIN_SECRET_LEN`] characters long.
    ///
    /// # Errors
    /// [`SecretsError`] when the list is empty or a secret is short.
    pub fn new(secrets: Vec<String>) -> Result<Self, SecretsError> {
        if let Some((index, short)) = secrets
            .iter()
            .enumerate()
            .find(|(_, s)| s.chars().count() < MIN_SECRET_LEN)
        {
            return Err(SecretsError::TooShort {
                position: index + 1,
                len: short.chars().count(),
            });
        }
        Self::new_unchecked_length(secrets)
    }

    /// Secrets of any non-zero length, for development mode only.
    ///
    /// # Errors
    /// [`SecretsError::Missing`] when the list is empty.
    pub fn new_unchecked_length(secrets: Vec<String>) -> Result<Self, SecretsError> {
        if secrets.is_empty() || secrets.iter().any(String::is_empty) {
            return Err(SecretsError::Missing);
        }
        // HMAC takes keys of any length; an error here would be a broken invariant of `hmac`.
        let mut keyed = secrets
            .iter()
            .map(|secret| <CodeMac as Mac>::new_from_slice(secret.as_bytes()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| SecretsError::Missing)?
            .into_iter();
        let signing = keyed.next().ok_or(SecretsError::Missing)?;
        Ok(Self {
            signing,
            older: keyed.collect(),
        })
    }

    /// The hash to store for `code`, keyed with the first secret.
    #[must_use]
    pub fn hash(&self, code: &PlainCode) -> CodeHash {
        let mac = self.signing.clone().chain_update(code.expose());
        CodeHash(hex::encode(mac.finalize().into_bytes()))
    }

    /// The key failed sign-ins on `identifier` are counted under, taken as identifiers are
    /// compared ([`crate::identity::typed_identifier`]), so that case and spaces do not open
    /// fresh counts. Keyed with the first secret, so the store never holds the identifier
    /// itself, and unknown identifiers are counted like known ones.
    #[must_use]
    pub fn identifier_key(&self, identifier: &str) -> IdentifierKey {
        // A prefix of its own, so that no identifier hashes to what some code hashes to.
        let mac = self
            .signing
            .clone()
            .chain_update(b"login-identifier\0")
            .chain_update(crate::identity::typed_identifier(identifier));
        IdentifierKey::from_stored(hex::encode(mac.finalize().into_bytes()))
    }

    /// Whether `code` hashes to `stored` under any secret; each comparison takes constant time.
    #[must_use]
    pub fn verify(&self, code: &str, stored: &CodeHash) -> bool {
        let Ok(expected) = hex::decode(&stored.0) else {
            return false;
        };
        std::iter::once(&self.signing)
            .chain(&self.older)
            .any(|keyed| {
                keyed
                    .clone()
                    .chain_update(code)
                    .verify_slice(&expected)
                    .is_ok()
            })
    }
}

impl fmt::Debug for Secrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secrets(<{} redacted>)", 1 + self.older.len())
    }
}

/// The stored form of a code: lowercase hex of HMAC-SHA-512/256.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeHash(String);

impl CodeHash {
    /// Wraps a hash read back from storage.
    #[must_use]
    pub fn from_stored(hex: String) -> Self {
        Self(hex)
    }

    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::code::CodeLength;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    const OLD: &str = "an-old-secret-that-is-long-enough-0001";
    const NEW: &str = "a-new-secret-that-is-also-long-enough-02";

    fn code() -> PlainCode {
        PlainCode::generate(&mut StdRng::seed_from_u64(1), CodeLength::default())
    }

    #[test]
    fn hash_is_hex_hmac_sha512_256_and_not_the_code() {
        let secrets = Secrets::new(vec![OLD.into()]).unwrap();
        let hash = secrets.hash(&code());
        assert_eq!(hash.as_str().len(), 64);
        assert!(
            hash.as_str()
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        );
        assert!(!hash.as_str().contains(code().expose()));
        assert!(secrets.verify(code().expose(), &hash));
    }

    #[test]
    fn a_known_vector_holds() {
        // HMAC-SHA-512/256, key "key", message "123456", as computed by Python's hmac module.
        let known = "edbdf80b458cb1dfe3fce4c3790c75a02382394da33fd7cd0a66e7bc564c553c";
        let secrets = Secrets::new_unchecked_length(vec!["key".into()]).unwrap();
        assert!(secrets.verify("123456", &CodeHash::from_stored(known.into())));
        assert!(!secrets.verify("123457", &CodeHash::from_stored(known.into())));
    }

    #[test]
    fn wrong_codes_and_garbage_hashes_do_not_verify() {
        let secrets = Secrets::new(vec![OLD.into()]).unwrap();
        let hash = secrets.hash(&code());
        assert!(!secrets.verify("000000", &hash) || code().expose() == "000000");
        assert!(!secrets.verify("", &hash));
        assert!(!secrets.verify(code().expose(), &CodeHash::from_stored("zz".into())));
    }

    #[test]
    fn rotation_accepts_every_listed_secret_and_signs_with_the_first() {
        let before = Secrets::new(vec![OLD.into()]).unwrap();
        let after = Secrets::new(vec![NEW.into(), OLD.into()]).unwrap();
        let issued_before = before.hash(&code());
        let issued_after = after.hash(&code());
        assert!(after.verify(code().expose(), &issued_before));
        assert!(after.verify(code().expose(), &issued_after));
        assert_ne!(issued_before, issued_after);
        assert!(!before.verify(code().expose(), &issued_after));
        let retired = Secrets::new(vec![NEW.into()]).unwrap();
        assert!(!retired.verify(code().expose(), &issued_before));
    }

    #[test]
    fn secrets_must_exist_and_be_long_enough() {
        assert_eq!(Secrets::new(vec![]).unwrap_err(), SecretsError::Missing);
        assert_eq!(
            Secrets::new(vec![OLD.into(), "short".into()]).unwrap_err(),
            SecretsError::TooShort {
                position: 2,
                len: 5
            }
        );
        assert!(Secrets::new_unchecked_length(vec!["short".into()]).is_ok());
        assert_eq!(
            Secrets::new_unchecked_length(vec![String::new()]).unwrap_err(),
            SecretsError::Missing
        );
    }

    #[test]
    fn debug_output_hides_the_secrets() {
        let secrets = Secrets::new(vec![OLD.into()]).unwrap();
        assert_eq!(format!("{secrets:?}"), "Secrets(<1 redacted>)");
    }
}
