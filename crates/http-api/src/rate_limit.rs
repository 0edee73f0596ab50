//! Per-client rate limits on the public routes that write or that guessers use: creating flows
//! (each one a stored row), and submitting logins, recovery codes and new passwords.
//!
//! Each class of route has its own keyed limiter (GCRA, from `governor`), keyed by the
//! client's [`AddressGroup`]: an IPv4 address, or an IPv6 /64. Past the limit the answer is 429
//! with `Retry-After`: the envelope for the API, a page for people.

use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::{HttpMessage, web};
use domain::client::AddressGroup;
use governor::clock::{Clock, DefaultClock, Reference};
use governor::middleware::NoOpMiddleware;
use governor::state::keyed::DashMapStateStore;
use governor::{Quota, RateLimiter};

use crate::client_address::client_address;
use crate::json::accepts_json;
use crate::wait::Wait;
use crate::{ApiError, pages};

/// A class of routes that share one limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RouteClass {
    /// `GET /self-service/{flow}/api|browser`, and `GET /login` without a `flow`.
    FlowCreation,
    /// `POST /self-service/login`.
    Login,
    /// `POST /self-service/recovery`.
    Recovery,
    /// `POST /self-service/settings`.
    Settings,
}

impl RouteClass {
    const ALL: [Self; 4] = [
        Self::FlowCreation,
        Self::Login,
        Self::Recovery,
        Self::Settings,
    ];

    fn index(self) -> usize {
        self as usize
    }

    fn name(self) -> &'static str {
        match self {
            Self::FlowCreation => "flow_creation",
            Self::Login => "login",
            Self::Recovery => "recovery",
            Self::Settings => "settings",
        }
    }
}

/// How many requests one address group may send: `per_minute` on average, at most `burst` at
/// once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    pub per_minute: NonZeroU32,
    pub burst: NonZeroU32,
}

impl Limit {
    /// # Panics
    /// Never for the non-zero constants it is meant for; zero is a programming error.
    #[must_use]
    pub const fn new(per_minute: u32, burst: u32) -> Self {
        match (NonZeroU32::new(per_minute), NonZeroU32::new(burst)) {
            (Some(per_minute), Some(burst)) => Self { per_minute, burst },
            _ => panic!("a limit is never zero"),
        }
    }

    fn quota(self) -> Quota {
        Quota::per_minute(self.per_minute).allow_burst(self.burst)
    }
}

/// The limit of each class; `None` turns a class's limit off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimitSettings {
    pub flow_creation: Option<Limit>,
    pub login: Option<Limit>,
    pub recovery: Option<Limit>,
    pub settings: Option<Limit>,
}

impl RateLimitSettings {
    /// No limits at all.
    pub const OFF: Self = Self {
        flow_creation: None,
        login: None,
        recovery: None,
        settings: None,
    };

    fn limit(&self, class: RouteClass) -> Option<Limit> {
        match class {
            RouteClass::FlowCreation => self.flow_creation,
            RouteClass::Login => self.login,
            RouteClass::Recovery => self.recovery,
            RouteClass::Settings => self.settings,
        }
    }
}

/// Enough for the people behind one office NAT, far below what a script sends (see README).
impl Default for RateLimitSettings {
    fn default() -> Self {
        Self {
            flow_creation: Some(Limit::new(60, 20)),
            login: Some(Limit::new(30, 10)),
            recovery: Some(Limit::new(30, 10)),
            settings: Some(Limit::new(30, 10)),
        }
    }
}

/// A keyed limiter with its clock hidden, so that the server's type does not depend on it.
trait GroupLimiter: Send + Sync {
    /// `Err` holds how long until the group may send again.
    fn check(&self, group: AddressGroup) -> Result<(), Duration>;
    /// Forgets the groups whose buckets are full again, and frees the memory they held.
    fn prune(&self);
    fn tracked(&self) -> usize;
}

type Keyed<C> = RateLimiter<
    AddressGroup,
    DashMapStateStore<AddressGroup>,
    C,
    NoOpMiddleware<<C as Clock>::Instant>,
>;

impl<C> GroupLimiter for Keyed<C>
where
    C: Clock + Send + Sync,
    C::Instant: Send + Sync,
{
    fn check(&self, group: AddressGroup) -> Result<(), Duration> {
        self.check_key(&group)
            .map_err(|not_until| not_until.wait_time_from(self.clock().now()))
    }

    fn prune(&self) {
        self.retain_recent();
        self.shrink_to_fit();
    }

    fn tracked(&self) -> usize {
        self.len()
    }
}

/// State is pruned after this many checks, so that the groups of a flood (every address of a
/// botnet, every /64 of a large IPv6 block) are forgotten once their buckets are full again:
/// what is kept is bounded by the groups seen within one refill time.
const PRUNE_EVERY: u64 = 1024;

/// One limiter per class of route.
pub struct RateLimits {
    limiters: [Option<Box<dyn GroupLimiter>>; 4],
    checks: AtomicU64,
}

impl RateLimits {
    /// Limits on the real clock.
    #[must_use]
    pub fn new(settings: RateLimitSettings) -> Self {
        Self::with_clock(settings, &DefaultClock::default())
    }

    /// Limits on `clock` (tests pass a `governor::clock::FakeRelativeClock` they advance).
    pub fn with_clock<C>(settings: RateLimitSettings, clock: &C) -> Self
    where
        C: Clock + Clone + Send + Sync + 'static,
        C::Instant: Reference + Send + Sync,
    {
        let limiters = RouteClass::ALL.map(|class| {
            settings.limit(class).map(|limit| {
                Box::new(Keyed::dashmap_with_clock(limit.quota(), clock.clone()))
                    as Box<dyn GroupLimiter>
            })
        });
        Self {
            limiters,
            checks: AtomicU64::new(0),
        }
    }

    /// Counts a request of `class` from `group`; `Err` holds how long until it may be sent.
    fn check(&self, class: RouteClass, group: AddressGroup) -> Result<(), Duration> {
        let Some(limiter) = &self.limiters[class.index()] else {
            return Ok(());
        };
        if self.checks.fetch_add(1, Ordering::Relaxed) % PRUNE_EVERY == PRUNE_EVERY - 1 {
            self.prune();
        }
        limiter.check(group)
    }

    fn prune(&self) {
        self.limiters
            .iter()
            .flatten()
            .for_each(|limiter| limiter.prune());
    }

    /// How many address groups the limiters keep state for, all classes added up.
    #[must_use]
    pub fn tracked(&self) -> usize {
        self.limiters.iter().flatten().map(|l| l.tracked()).sum()
    }
}

/// The class of a request, from its method, the path it is routed by and its query.
fn classify(method: &Method, path: &str, query: &str) -> Option<RouteClass> {
    if method == Method::POST {
        return match path {
            "/self-service/login" => Some(RouteClass::Login),
            "/self-service/recovery" => Some(RouteClass::Recovery),
            "/self-service/settings" => Some(RouteClass::Settings),
            _ => None,
        };
    }
    if method != Method::GET {
        return None;
    }
    if path == "/login" {
        let names_flow =
            url::form_urlencoded::parse(query.as_bytes()).any(|(name, _)| name == "flow");
        return (!names_flow).then_some(RouteClass::FlowCreation);
    }
    let (flow, kind) = path.strip_prefix("/self-service/")?.split_once('/')?;
    (!flow.is_empty() && !flow.contains('/') && matches!(kind, "api" | "browser"))
        .then_some(RouteClass::FlowCreation)
}

/// Whether requests of `method` to `path` (without query) are rate-limited.
pub(crate) fn is_limited(method: &Method, path: &str) -> bool {
    classify(method, path, "").is_some()
}

/// Whether the request comes from a person's browser (a page, a browser flow not asked for as
/// JSON, a form post), who is answered with a page rather than the envelope.
fn wants_page(req: &ServiceRequest, path: &str) -> bool {
    if req.method() == Method::POST {
        return req.content_type() == "application/x-www-form-urlencoded";
    }
    path == "/login" || (path.ends_with("/browser") && !accepts_json(req.headers()))
}

/// Counts each limited request against its client's group; past the limit, answers 429.
pub(crate) async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    // The path the router matches (percent-decoded), so that an encoded path is limited too.
    let path = req.match_info().as_str().to_owned();
    let limited = req.app_data::<web::Data<RateLimits>>().zip(classify(
        req.method(),
        &path,
        req.query_string(),
    ));
    if let Some((limits, class)) = limited {
        let group = client_address(req.request()).group();
        if let Err(wait) = limits.check(class, group) {
            let wait = Wait::new(wait);
            metrics::counter!("iam_rate_limited_total", "class" => class.name()).increment(1);
            // Not logged higher: a flood would flood the log too.
            tracing::debug!(
                class = class.name(),
                client = %group,
                retry_after = wait.seconds(),
                "rate limited"
            );
            if wants_page(&req, &path) {
                let page = pages::too_many_requests(wait);
                return Ok(req.into_response(page).map_into_right_body());
            }
            let error = ApiError::too_many_requests(wait).with_reason(format!(
                "Wait {} (the Retry-After header) before sending this request again.",
                wait.in_words()
            ));
            return Err(error.into());
        }
    }
    next.call(req)
        .await
        .map(ServiceResponse::map_into_left_body)
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;

    use domain::client::ClientAddress;
    use governor::clock::FakeRelativeClock;

    use super::*;

    fn group(ip: &str) -> AddressGroup {
        ClientAddress::new(ip.parse::<IpAddr>().unwrap()).group()
    }

    #[test]
    fn routes_are_classified_by_method_path_and_flow_query() {
        let get = |path, query| classify(&Method::GET, path, query);
        let post = |path| classify(&Method::POST, path, "");
        assert_eq!(
            get("/self-service/login/api", ""),
            Some(RouteClass::FlowCreation)
        );
        assert_eq!(
            get("/self-service/login/browser", "return_to=x"),
            Some(RouteClass::FlowCreation)
        );
        assert_eq!(
            get("/self-service/registration/api", ""),
            Some(RouteClass::FlowCreation)
        );
        assert_eq!(get("/login", ""), Some(RouteClass::FlowCreation));
        assert_eq!(
            get("/login", "return_to=https://app.example.com/"),
            Some(RouteClass::FlowCreation)
        );
        assert_eq!(
            get("/login", "flow=3fa85f64-5717-4562-b3fc-2c963f66afa6"),
            None
        );
        assert_eq!(get("/login", "%66low=x"), None);
        assert_eq!(post("/self-service/login"), Some(RouteClass::Login));
        assert_eq!(post("/self-service/recovery"), Some(RouteClass::Recovery));
        assert_eq!(post("/self-service/settings"), Some(RouteClass::Settings));
        for (method, path) in [
            (Method::GET, "/self-service/login/flows"),
            (Method::GET, "/self-service/login"),
            (Method::GET, "/self-service//api"),
            (Method::GET, "/self-service/a/b/api"),
            (Method::DELETE, "/self-service/logout/api"),
            (Method::POST, "/self-service/logout"),
            (Method::POST, "/self-service/login/api"),
            (Method::GET, "/recovery"),
            (Method::GET, "/sessions/whoami"),
        ] {
            assert_eq!(classify(&method, path, ""), None, "{method} {path}");
        }
    }

    #[test]
    fn a_group_is_held_to_its_burst_then_its_rate() {
        let clock = FakeRelativeClock::default();
        let limits = RateLimits::with_clock(RateLimitSettings::default(), &clock);
        let client = group("192.0.2.7");
        for _ in 0..10 {
            limits.check(RouteClass::Login, client).unwrap();
        }
        // 30 a minute: one every two seconds.
        assert_eq!(
            limits.check(RouteClass::Login, client),
            Err(Duration::from_secs(2))
        );
        // Other classes and other groups have buckets of their own.
        limits.check(RouteClass::Recovery, client).unwrap();
        limits.check(RouteClass::Login, group("192.0.2.8")).unwrap();
        clock.advance(Duration::from_secs(2));
        limits.check(RouteClass::Login, client).unwrap();
        assert!(limits.check(RouteClass::Login, client).is_err());
    }

    #[test]
    fn a_class_without_a_limit_is_not_counted() {
        let clock = FakeRelativeClock::default();
        let settings = RateLimitSettings {
            login: None,
            ..RateLimitSettings::default()
        };
        let limits = RateLimits::with_clock(settings, &clock);
        for _ in 0..1000 {
            limits.check(RouteClass::Login, group("192.0.2.7")).unwrap();
        }
        assert_eq!(limits.tracked(), 0);
    }

    #[test]
    fn the_groups_of_a_flood_are_forgotten_once_their_buckets_refill() {
        let clock = FakeRelativeClock::default();
        let limits = RateLimits::with_clock(RateLimitSettings::default(), &clock);
        let flood = 3000_u32;
        for n in 0..flood {
            let ip = IpAddr::from(std::net::Ipv4Addr::from(0x0a00_0000_u32 + n));
            let _ = limits.check(RouteClass::Login, ClientAddress::new(ip).group());
        }
        // Pruning on the way forgets nothing that is still limited.
        assert_eq!(limits.tracked(), flood as usize);
        // A full bucket (10 requests at one every 2 s) refills within 20 s.
        clock.advance(Duration::from_secs(21));
        let last = group("192.0.2.7");
        for _ in 0..PRUNE_EVERY {
            let _ = limits.check(RouteClass::Login, last);
        }
        assert_eq!(limits.tracked(), 1, "only the group still sending is kept");
        clock.advance(Duration::from_secs(60));
        limits.prune();
        assert_eq!(limits.tracked(), 0);
    }
}
