//! The inside of the hexagon: identities, recovery flows and codes, and the rules that govern them.
//!
//! Nothing here performs I/O or reads the clock: callers pass the current time and a random number
//! generator in, which keeps every rule testable at its exact boundaries.

pub mod address;
pub mod audit;
pub mod client;
pub mod code;
pub mod document;
pub mod duration;
pub mod id;
pub mod identity;
pub mod identity_patch;
pub mod identity_schema;
pub mod lifespan;
pub mod lockout;
pub mod password;
pub mod recovery;
pub mod secret;
pub mod selfservice;
pub mod session;
pub mod time;
