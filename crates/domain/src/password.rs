//! Passwords at rest: Argon2id with a random salt, stored as a PHC string.

use std::fmt;

use argon2::password_hash::{Output, ParamsString, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, PasswordHash as Phc, Version};
use rand::distr::{Alphanumeric, SampleString};
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

/// What one Argon2id hash costs (`hashers.argon2`): memory in KiB, passes over it, and lanes.
/// Every hash in flight holds `memory` for its whole run, so the number of hashes allowed at
/// once times `memory` must fit the process's memory limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashCost {
    memory_kib: u32,
    iterations: u32,
    parallelism: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid Argon2 cost: {0}")]
pub struct HashCostError(String);

impl HashCost {
    /// # Errors
    /// [`HashCostError`] for values Argon2 does not take (memory below 8 KiB per lane, zero
    /// iterations, zero or too many lanes).
    pub fn new(memory_kib: u32, iterations: u32, parallelism: u32) -> Result<Self, HashCostError> {
        Params::new(memory_kib, iterations, parallelism, None)
            .map(|_| Self {
                memory_kib,
                iterations,
                parallelism,
            })
            .map_err(|e| HashCostError(e.to_string()))
    }

    #[must_use]
    pub fn memory_kib(self) -> u32 {
        self.memory_kib
    }

    #[must_use]
    pub fn iterations(self) -> u32 {
        self.iterations
    }

    #[must_use]
    pub fn parallelism(self) -> u32 {
        self.parallelism
    }

    fn params(self) -> Params {
        // Checked in `new`; the default parameters are the fallback that cannot fail.
        Params::new(self.memory_kib, self.iterations, self.parallelism, None).unwrap_or_default()
    }
}

/// OWASP's recommendation and Kratos's defaults: 19 MiB, two passes, one lane.
impl Default for HashCost {
    fn default() -> Self {
        Self {
            memory_kib: Params::DEFAULT_M_COST,
            iterations: Params::DEFAULT_T_COST,
            parallelism: Params::DEFAULT_P_COST,
        }
    }
}

/// The memory Argon2 works in. A thread that hashes keeps one and reuses it, so that hashing
/// allocates `memory` once per thread rather than once per hash: allocators keep chunks this
/// large in per-thread arenas, and freeing and asking again grew the process by `memory` per
/// hash, without bound.
#[derive(Default)]
pub struct HashMemory(Vec<Block>);

impl HashMemory {
    /// The first `count` blocks, grown to that many when smaller.
    fn blocks(&mut self, count: usize) -> &mut [Block] {
        if self.0.len() < count {
            self.0.resize(count, Block::default());
        }
        &mut self.0[..count]
    }
}

/// An Argon2id hash in PHC format; `Debug` does not print it.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(String);

impl PasswordHash {
    /// Hashes `plain` at `cost` with a salt drawn from `rng`, in memory of its own.
    ///
    /// # Errors
    /// [`PasswordError`] when `plain` is outside the length rules.
    pub fn create<R: Rng + CryptoRng + ?Sized>(
        plain: &str,
        cost: HashCost,
        rng: &mut R,
    ) -> Result<Self, PasswordError> {
        Self::create_in(plain, None, cost, rng, &mut HashMemory::default())
    }

    /// Hashes `plain` at `cost` with a salt drawn from `rng`, working in `memory`; refuses a
    /// password equal to the identity's `identifier` (its email address), in any case.
    /// Deliberately slow and memory-hard: run it where hashing is bounded, off the async
    /// runtime.
    ///
    /// # Errors
    /// [`PasswordError`] when `plain` breaks a rule.
    pub fn create_in<R: Rng + CryptoRng + ?Sized>(
        plain: &str,
        identifier: Option<&str>,
        cost: HashCost,
        rng: &mut R,
        memory: &mut HashMemory,
    ) -> Result<Self, PasswordError> {
        if identifier.is_some_and(|id| id.eq_ignore_ascii_case(plain.trim())) {
            return Err(PasswordError::SameAsIdentifier);
        }
        let len = plain.chars().count();
        if len < MIN_LEN {
            return Err(PasswordError::TooShort(len));
        }
        if len > MAX_LEN {
            return Err(PasswordError::TooLong(len));
        }
        let mut salt = [0u8; 16];
        rng.fill(&mut salt);
        let encoded = SaltString::encode_b64(&salt).map_err(|_| PasswordError::Hashing)?;
        let params = cost.params();
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
        let output = Output::init_with(Params::DEFAULT_OUTPUT_LEN, |out| {
            argon2
                .hash_password_into_with_memory(
                    plain.as_bytes(),
                    &salt,
                    out,
                    memory.blocks(params.block_count()),
                )
                .map_err(|_| argon2::password_hash::Error::Crypto)
        })
        .map_err(|_| PasswordError::Hashing)?;
        let phc = Phc {
            algorithm: Algorithm::Argon2id.ident(),
            version: Some(Version::V0x13.into()),
            params: ParamsString::try_from(&params).map_err(|_| PasswordError::Hashing)?,
            salt: Some(encoded.as_salt()),
            hash: Some(output),
        };
        Ok(Self(phc.to_string()))
    }

    /// The hash of a random password nobody knows, at `cost`: checked against when an
    /// identifier is unknown, so that a refusal costs exactly what a wrong password costs.
    #[must_use]
    pub fn decoy<R: Rng + CryptoRng + ?Sized>(
        cost: HashCost,
        rng: &mut R,
        memory: &mut HashMemory,
    ) -> Self {
        let unknowable = Alphanumeric.sample_string(rng, 32);
        Self::create_in(&unknowable, None, cost, rng, memory)
            .unwrap_or_else(|_| Self(String::from("$argon2id$unusable")))
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

    /// Whether `plain` is the password this hash was made from, in memory of its own.
    #[must_use]
    pub fn verify(&self, plain: &str) -> bool {
        self.verify_in(plain, &mut HashMemory::default())
    }

    /// Whether `plain` is the password this hash was made from, at the cost the hash itself
    /// records (hashes made before the cost changed keep verifying), working in `memory`.
    /// The hashes are compared in constant time.
    #[must_use]
    pub fn verify_in(&self, plain: &str, memory: &mut HashMemory) -> bool {
        let Ok(phc) = Phc::new(&self.0) else {
            return false;
        };
        let (Some(expected), Some(salt)) = (phc.hash, phc.salt) else {
            return false;
        };
        let (Ok(algorithm), Ok(params)) =
            (Algorithm::try_from(phc.algorithm), Params::try_from(&phc))
        else {
            return false;
        };
        let Ok(version) = phc
            .version
            .map_or(Ok(Version::default()), Version::try_from)
        else {
            return false;
        };
        let mut salt_bytes = [0u8; 64];
        let Ok(salt) = salt.decode_b64(&mut salt_bytes) else {
            return false;
        };
        let blocks = params.block_count();
        let argon2 = Argon2::new(algorithm, version, params);
        Output::init_with(expected.len(), |out| {
            argon2
                .hash_password_into_with_memory(plain.as_bytes(), salt, out, memory.blocks(blocks))
                .map_err(|_| argon2::password_hash::Error::Crypto)
        })
        // `Output`'s equality is constant-time.
        .is_ok_and(|computed| computed == expected)
    }

    /// Whether this hash was made with another algorithm or cost than `cost`, so that it should
    /// be made again the next time the password is known.
    #[must_use]
    pub fn needs_rehash(&self, cost: HashCost) -> bool {
        let Ok(phc) = Phc::new(&self.0) else {
            return true;
        };
        let same_cost = Params::try_from(&phc).is_ok_and(|params| {
            params.m_cost() == cost.memory_kib()
                && params.t_cost() == cost.iterations()
                && params.p_cost() == cost.parallelism()
        });
        phc.algorithm != Algorithm::Argon2id.ident() || phc.version != Some(0x13) || !same_cost
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

    /// A cheap cost, so the tests run fast.
    fn cost() -> HashCost {
        HashCost::new(64, 1, 1).unwrap()
    }

    #[test]
    fn hashes_with_argon2id_and_verifies() {
        let hash = PasswordHash::create(
            "correct horse",
            HashCost::default(),
            &mut StdRng::seed_from_u64(3),
        )
        .unwrap();
        assert!(hash.as_str().starts_with("$argon2id$"));
        assert!(!hash.as_str().contains("correct horse"));
        assert!(hash.verify("correct horse"));
        assert!(!hash.verify("correct horsE"));
        assert!(!PasswordHash::from_stored("garbage".into()).verify("correct horse"));
    }

    #[test]
    fn hashes_interoperate_with_the_argon2_crate_and_memory_is_reused() {
        use argon2::password_hash::{PasswordHasher, PasswordVerifier};
        let rng = &mut StdRng::seed_from_u64(8);
        let mut memory = HashMemory::default();
        let ours =
            PasswordHash::create_in("correct horse", None, cost(), rng, &mut memory).unwrap();
        let phc = Phc::new(ours.as_str()).unwrap();
        assert!(
            Argon2::default()
                .verify_password(b"correct horse", &phc)
                .is_ok()
        );
        let salt = SaltString::encode_b64(b"sixteen byte salt").unwrap();
        let theirs = Argon2::default()
            .hash_password(b"correct horse", &salt)
            .unwrap()
            .to_string();
        let theirs = PasswordHash::from_stored(theirs);
        assert!(theirs.verify_in("correct horse", &mut memory));
        assert!(!theirs.verify_in("correct horsE", &mut memory));
        assert_eq!(
            memory.0.len(),
            19 * 1024,
            "grown to the largest cost it served"
        );
        assert!(ours.verify_in("correct horse", &mut memory));
        assert_eq!(memory.0.len(), 19 * 1024, "and never allocated again");
    }

    #[test]
    fn the_identifier_is_not_a_password() {
        let rng = &mut StdRng::seed_from_u64(5);
        assert_eq!(
            PasswordHash::create_in(
                "Ada@Example.com",
                Some("ada@example.com"),
                cost(),
                rng,
                &mut HashMemory::default()
            ),
            Err(PasswordError::SameAsIdentifier)
        );
        assert!(
            PasswordHash::create_in(
                "ada@example.org",
                Some("ada@example.com"),
                cost(),
                rng,
                &mut HashMemory::default()
            )
            .is_ok()
        );
        assert!(
            PasswordHash::create_in(
                "whatever-long",
                None,
                cost(),
                rng,
                &mut HashMemory::default()
            )
            .is_ok()
        );
    }

    #[test]
    fn length_rules_hold_at_their_edges() {
        let rng = &mut StdRng::seed_from_u64(4);
        assert_eq!(
            PasswordHash::create("1234567", cost(), rng),
            Err(PasswordError::TooShort(7))
        );
        assert!(PasswordHash::create("12345678", cost(), rng).is_ok());
        assert!(PasswordHash::create(&"x".repeat(MAX_LEN), cost(), rng).is_ok());
        assert_eq!(
            PasswordHash::create(&"x".repeat(MAX_LEN + 1), cost(), rng),
            Err(PasswordError::TooLong(MAX_LEN + 1))
        );
    }

    #[test]
    fn a_hash_made_at_another_cost_still_verifies_and_asks_to_be_made_again() {
        let rng = &mut StdRng::seed_from_u64(6);
        let old = PasswordHash::create("correct horse", cost(), rng).unwrap();
        let new_cost = HashCost::new(128, 2, 1).unwrap();
        assert!(old.verify("correct horse"));
        assert!(old.needs_rehash(new_cost));
        assert!(!old.needs_rehash(cost()));
        let new = PasswordHash::create("correct horse", new_cost, rng).unwrap();
        assert!(new.as_str().starts_with("$argon2id$v=19$m=128,t=2,p=1$"));
        assert!(!new.needs_rehash(new_cost));
        assert!(PasswordHash::from_stored("garbage".into()).needs_rehash(cost()));
    }

    #[test]
    fn the_decoy_has_the_configured_cost_and_matches_nothing() {
        let decoy = PasswordHash::decoy(
            cost(),
            &mut StdRng::seed_from_u64(7),
            &mut HashMemory::default(),
        );
        assert!(!decoy.needs_rehash(cost()));
        assert!(!decoy.verify(""));
        assert_eq!(HashCost::default(), HashCost::new(19 * 1024, 2, 1).unwrap());
        assert!(HashCost::new(19 * 1024, 0, 1).is_err());
    }
}
