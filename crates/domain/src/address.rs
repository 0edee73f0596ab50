//! An identity's addresses: where a recovery code can reach it, and which of its addresses are
//! proven to be its own. Both follow from the traits its schema marks (see
//! [`crate::identity_schema`]); only the proof is kept beyond the traits.

use crate::time::Timestamp;

/// How an address is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Via {
    Email,
    Sms,
}

impl Via {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::Sms => "sms",
        }
    }

    /// `email` or `sms`, as the `ory.sh/kratos` extension writes them.
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "email" => Some(Self::Email),
            "sms" => Some(Self::Sms),
            _ => None,
        }
    }
}

/// An address that can recover the identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecoveryAddress {
    pub via: Via,
    /// Email addresses lower-cased, as they are compared.
    pub value: String,
}

/// An address whose ownership can be proven, and when it was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiableAddress {
    pub via: Via,
    /// Email addresses lower-cased, as they are compared.
    pub value: String,
    pub verified_at: Option<Timestamp>,
}

impl VerifiableAddress {
    #[must_use]
    pub fn is_verified(&self) -> bool {
        self.verified_at.is_some()
    }

    fn is(&self, via: Via, value: &str) -> bool {
        self.via == via && self.value == value
    }
}

/// The addresses the traits of an identity mark.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Addresses {
    pub recovery: Vec<RecoveryAddress>,
    pub verifiable: Vec<VerifiableAddress>,
}

impl Addresses {
    /// The same addresses, each verifiable one keeping the proof it had in `before`: an address
    /// that stays stays verified; a new one starts unverified.
    #[must_use]
    pub fn keeping_proofs_of(mut self, before: &[VerifiableAddress]) -> Self {
        for address in &mut self.verifiable {
            address.verified_at = before
                .iter()
                .find(|old| old.is(address.via, &address.value))
                .and_then(|old| old.verified_at);
        }
        self
    }

    /// The verifiable addresses after a recovery code reached the identity at its recovery
    /// addresses: those that are also recovery addresses are proven at `now` (unless they were
    /// already). `None` when nothing changes.
    #[must_use]
    pub fn verified_by_recovery(&self, now: Timestamp) -> Option<Vec<VerifiableAddress>> {
        let mut changed = false;
        let verifiable = self
            .verifiable
            .iter()
            .map(|address| {
                let reached = self
                    .recovery
                    .iter()
                    .any(|recovery| address.is(recovery.via, &recovery.value));
                let mut address = address.clone();
                if reached && address.verified_at.is_none() {
                    address.verified_at = Some(now);
                    changed = true;
                }
                address
            })
            .collect();
        changed.then_some(verifiable)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    fn now() -> Timestamp {
        Utc.timestamp_millis_opt(1_764_064_800_000).unwrap()
    }

    fn verifiable(value: &str, verified_at: Option<Timestamp>) -> VerifiableAddress {
        VerifiableAddress {
            via: Via::Email,
            value: value.into(),
            verified_at,
        }
    }

    #[test]
    fn an_address_that_stays_keeps_its_proof_and_a_new_one_has_none() {
        let before = [
            verifiable("a@b.co", Some(now())),
            verifiable("old@b.co", Some(now())),
        ];
        let after = Addresses {
            recovery: Vec::new(),
            verifiable: vec![verifiable("a@b.co", None), verifiable("new@b.co", None)],
        }
        .keeping_proofs_of(&before);
        assert_eq!(
            after.verifiable,
            [
                verifiable("a@b.co", Some(now())),
                verifiable("new@b.co", None)
            ]
        );
    }

    #[test]
    fn a_recovery_proves_only_the_addresses_it_reaches() {
        let earlier = now() - chrono::Duration::days(1);
        let addresses = Addresses {
            recovery: vec![
                RecoveryAddress {
                    via: Via::Email,
                    value: "a@b.co".into(),
                },
                RecoveryAddress {
                    via: Via::Email,
                    value: "c@d.co".into(),
                },
            ],
            verifiable: vec![
                verifiable("a@b.co", None),
                verifiable("c@d.co", Some(earlier)),
                verifiable("other@b.co", None),
            ],
        };
        assert_eq!(
            addresses.verified_by_recovery(now()),
            Some(vec![
                verifiable("a@b.co", Some(now())),
                verifiable("c@d.co", Some(earlier)),
                verifiable("other@b.co", None),
            ])
        );
        let proven = Addresses {
            recovery: addresses.recovery.clone(),
            verifiable: vec![verifiable("a@b.co", Some(earlier))],
        };
        assert_eq!(proven.verified_by_recovery(now()), None);
    }
}
