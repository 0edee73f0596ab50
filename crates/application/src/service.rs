use std::sync::Arc;

use domain::code::CodeLength;
use domain::lifespan::LifespanPolicy;
use domain::secret::Secrets;
use url::Url;

use crate::ports::{Clock, Store};

/// How recovery codes are issued (`selfservice.methods.code` and `selfservice.flows.recovery`).
#[derive(Debug, Clone)]
pub struct RecoverySettings {
    /// Both the code method and the recovery flow are enabled.
    pub enabled: bool,
    pub lifespan: LifespanPolicy,
    pub code_length: CodeLength,
    pub invalidate_previous: bool,
    /// The recovery page that `recovery_link` points to.
    pub ui_url: Url,
}

/// The use cases, over any store and clock.
pub struct Service<S> {
    pub(crate) store: S,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) recovery: RecoverySettings,
    pub(crate) secrets: Secrets,
}

impl<S: Store> Service<S> {
    pub fn new(
        store: S,
        clock: Arc<dyn Clock>,
        recovery: RecoverySettings,
        secrets: Secrets,
    ) -> Self {
        Self {
            store,
            clock,
            recovery,
            secrets,
        }
    }

    /// The store, for readiness checks.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// Whether recovery codes can be issued at all.
    pub fn recovery_enabled(&self) -> bool {
        self.recovery.enabled
    }
}
