//! The wire: one Rust type per JSON shape the API takes or answers, each named and typed as in
//! Kratos's OpenAPI document (enums where it has enums, optional fields left out when absent,
//! never `null` where it says string), so that clients generated from that document read ours.
//! Our own OpenAPI document is derived from these types.

pub(crate) mod audit_event;
pub(crate) mod continue_with;
pub(crate) mod error;
pub(crate) mod flows;
pub(crate) mod health;
pub(crate) mod identifier;
pub(crate) mod identity;
pub(crate) mod lockout;
pub(crate) mod recovery_code;
pub(crate) mod schema;
pub(crate) mod session;
pub(crate) mod submissions;
pub(crate) mod texts;
pub(crate) mod time;
pub(crate) mod ui;

pub(crate) use time::Time;
