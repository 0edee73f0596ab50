//! The use cases of the recovery service, and the ports (traits) they need from the outside:
//! storage and the clock. Adapters implement the ports; this crate knows none of them.

pub mod audit;
pub mod blocking;
#[cfg(feature = "testing")]
pub mod contract;
pub mod hashing;
pub mod identities;
pub mod lockout;
pub mod login;
mod paging;
pub mod ports;
pub mod recovery_codes;
pub mod redemption;
pub mod schemas;
mod service;
pub mod sessions;
pub mod settings;
#[cfg(feature = "testing")]
pub mod testing;

pub use service::{DEFAULT_AUDIT_RETENTION, RecoverySettings, SelfServiceSettings, Service};
