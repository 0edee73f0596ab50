//! The `iam-recovery` binary's library half: configuration, logging and the wiring of the
//! adapters into the use cases, kept out of `main` so tests can start the real thing.

pub mod cli;
pub mod config;
pub mod identity_schemas;
pub mod operator;
pub mod secret_file;
pub mod startup;
pub mod telemetry;
