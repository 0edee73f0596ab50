use std::sync::{Arc, Mutex};

use chrono::TimeDelta;
use domain::audit::{Action, Event, Origin};
use domain::code::CodeLength;
use domain::id::AuditEventId;
use domain::identity_schema::IdentitySchemas;
use domain::lifespan::LifespanPolicy;
use domain::lockout::LockoutPolicy;
use domain::secret::Secrets;
use domain::time::Timestamp;
use url::Url;
use uuid::ContextV7;

use crate::hashing::{HashingOptions, PasswordHasher};
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
    /// Whether redeeming an admin code verifies the identity's recovery addresses when the
    /// request does not say (`selfservice.flows.recovery.mark_address_verified`): true only
    /// where codes are delivered to those addresses.
    pub mark_address_verified: bool,
}

/// What follows a code: attempts, sessions, and where browsers may be sent (Kratos's
/// `selfservice.*` and `session.*`).
#[derive(Debug, Clone)]
pub struct SelfServiceSettings {
    /// Submissions a recovery flow takes before it is dead (`methods.code.config.max_submissions`).
    pub max_submissions: u32,
    /// A recovery ends the identity's other sessions (`flows.recovery.revoke_active_sessions`).
    pub revoke_active_sessions: bool,
    /// A new password ends the identity's other sessions
    /// (`flows.settings.revoke_active_sessions`).
    pub revoke_sessions_on_password_change: bool,
    /// How long after signing in a session may set a new password
    /// (`flows.settings.privileged_session_max_age`).
    pub privileged_session_max_age: TimeDelta,
    /// How long a session lasts (`session.lifespan`).
    pub session_lifespan: TimeDelta,
    /// How long settings and login flows last.
    pub flow_lifespan: TimeDelta,
    /// Where `return_to` may point (`allowed_return_urls`).
    pub allowed_return_urls: Vec<Url>,
    /// How failed sign-ins slow down the next ones.
    pub lockout: LockoutPolicy,
}

impl Default for SelfServiceSettings {
    fn default() -> Self {
        Self {
            max_submissions: 5,
            revoke_active_sessions: true,
            revoke_sessions_on_password_change: true,
            privileged_session_max_age: TimeDelta::hours(1),
            session_lifespan: TimeDelta::hours(24),
            flow_lifespan: TimeDelta::hours(1),
            allowed_return_urls: Vec::new(),
            lockout: LockoutPolicy::default(),
        }
    }
}

/// The use cases, over any store and clock.
pub struct Service<S> {
    pub(crate) store: S,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) recovery: RecoverySettings,
    pub(crate) selfservice: SelfServiceSettings,
    pub(crate) secrets: Secrets,
    pub(crate) hasher: PasswordHasher,
    pub(crate) schemas: Arc<IdentitySchemas>,
    /// How long audit events are kept (`audit.retention`).
    pub(crate) audit_retention: TimeDelta,
    /// Where audit event ids come from (see [`Service::audit`]).
    audit_ids: Mutex<ContextV7>,
}

/// How long audit events are kept unless configured: 90 days.
pub const DEFAULT_AUDIT_RETENTION: TimeDelta = TimeDelta::days(90);

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
            selfservice: SelfServiceSettings::default(),
            secrets,
            hasher: PasswordHasher::start(HashingOptions::default()),
            schemas: Arc::new(IdentitySchemas::built_in()),
            audit_retention: DEFAULT_AUDIT_RETENTION,
            audit_ids: Mutex::new(ContextV7::new()),
        }
    }

    /// The same service keeping audit events for `retention` instead of 90 days.
    #[must_use]
    pub fn with_audit_retention(mut self, retention: TimeDelta) -> Self {
        self.audit_retention = retention;
        self
    }

    /// The same service validating identities against `schemas` instead of the built-in one.
    #[must_use]
    pub fn with_schemas(mut self, schemas: IdentitySchemas) -> Self {
        self.schemas = Arc::new(schemas);
        self
    }

    /// The identity schemas, as configured.
    pub fn schemas(&self) -> &IdentitySchemas {
        &self.schemas
    }

    /// The same service hashing passwords as `options` says instead of by default.
    #[must_use]
    pub fn with_hashing(mut self, options: HashingOptions) -> Self {
        self.hasher = PasswordHasher::start(options);
        self
    }

    /// The same service with `selfservice` instead of Kratos's defaults.
    #[must_use]
    pub fn with_selfservice(mut self, selfservice: SelfServiceSettings) -> Self {
        self.selfservice = selfservice;
        self
    }

    /// Digits in a code, for forms that ask for one.
    pub fn code_length(&self) -> usize {
        self.recovery.code_length.get()
    }

    /// The store, for readiness checks.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The current time, by the service's clock: what "active" and "expired" are judged at.
    pub fn now(&self) -> domain::time::Timestamp {
        self.clock.now()
    }

    /// The audit event `action` of the request from `origin`, at `at`. Its id is a UUIDv7 from
    /// one counter per process: events of one millisecond keep the order they happened in.
    pub(crate) fn audit(&self, origin: &Origin, action: Action, at: Timestamp) -> Event {
        let millis = u64::try_from(at.timestamp_millis()).unwrap_or_default();
        let id = {
            let context = self
                .audit_ids
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let nanos = u32::try_from(millis % 1000).unwrap_or_default() * 1_000_000;
            uuid::Uuid::new_v7(uuid::Timestamp::from_unix(&*context, millis / 1000, nanos))
        };
        origin.event(AuditEventId::from_uuid(id), action, at)
    }

    /// Whether recovery codes can be issued at all.
    pub fn recovery_enabled(&self) -> bool {
        self.recovery.enabled
    }
}
