//! Who may call the admin listener: a configured API key in `Authorization` (`Bearer <key>`, or
//! the bare key, as Kratos's SDKs send it), on a `Host` the listener is meant to be reached by.
//!
//! The `Host` check stops DNS rebinding: a web page whose name an attacker re-points to the
//! admin listener's address can make a browser send requests there, but always with the
//! attacker's name in `Host`. Only the SHA-256 of each key is kept, and a presented key is
//! compared with every one of them in constant time.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, web};
use sha2::{Digest, Sha256};
use subtle::{ConditionallySelectable, ConstantTimeEq};

use crate::ApiError;
use domain::audit::Actor;

/// Routes answered without a key: health, for probes and load balancers, and the OpenAPI
/// document, which holds no secret and which tools read before they authenticate.
const OPEN_PATHS: [&str; 3] = ["/health/alive", "/health/ready", crate::openapi::PATH];

/// Whether `path` is answered without a key (the `Host` check still applies).
pub(crate) fn is_open(path: &str) -> bool {
    OPEN_PATHS.contains(&path)
}

/// One admin API key: the name that audit events record as the actor, and the SHA-256 of the
/// key itself.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey {
    name: String,
    digest: [u8; 32],
}

impl ApiKey {
    /// The key whose secret is `secret`; only its digest is kept.
    #[must_use]
    pub fn from_secret(name: impl Into<String>, secret: &str) -> Self {
        Self {
            name: name.into(),
            digest: Sha256::digest(secret.as_bytes()).into(),
        }
    }

    /// The key whose SHA-256 is `hex` (64 hexadecimal digits), for configurations that do not
    /// hold the key itself.
    ///
    /// # Errors
    /// When `hex` is not 64 hexadecimal digits.
    pub fn from_hex_digest(name: impl Into<String>, hex: &str) -> Result<Self, InvalidDigest> {
        let mut digest = [0u8; 32];
        hex::decode_to_slice(hex, &mut digest).map_err(|_| InvalidDigest)?;
        Ok(Self {
            name: name.into(),
            digest,
        })
    }

    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether two keys are the same secret (under different names, say).
    #[must_use]
    pub fn same_secret(&self, other: &Self) -> bool {
        self.digest == other.digest
    }
}

/// Names the key only: even its digest stays out of logs.
impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiKey")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a SHA-256 digest is 64 hexadecimal digits")]
pub struct InvalidDigest;

/// How the admin listener admits requests.
#[derive(Debug, Clone, Default)]
pub struct AdminAccess {
    /// No keys means no authentication: for a loopback listener, or behind a gateway that
    /// authenticates (start-up decides which is allowed).
    pub keys: Vec<ApiKey>,
    /// Host names accepted in `Host` besides IP literals, `localhost` and the admin base URL's
    /// host: lower-case, without port.
    pub allowed_hosts: Vec<String>,
}

impl AdminAccess {
    /// The name of the key `presented` is, comparing it with every key in constant time.
    fn authenticate(&self, presented: &[u8]) -> Option<&str> {
        let digest: [u8; 32] = Sha256::digest(presented).into();
        let mut found = subtle::Choice::from(0);
        let mut index = 0u32;
        for (i, key) in (0u32..).zip(&self.keys) {
            let equal = key.digest.ct_eq(&digest);
            index.conditional_assign(&i, equal);
            found |= equal;
        }
        bool::from(found).then(|| self.keys[index as usize].name.as_str())
    }

    /// Whether `host` (a `Host` value, port included or not) names this listener.
    fn admits_host(&self, host: &str, base_url_host: Option<&str>) -> bool {
        match parse_host(host) {
            None => false,
            Some(Host::IpLiteral) => true,
            Some(Host::Name(name)) => {
                name.eq_ignore_ascii_case("localhost")
                    || base_url_host.is_some_and(|base| base.eq_ignore_ascii_case(name))
                    || self
                        .allowed_hosts
                        .iter()
                        .any(|allowed| allowed.eq_ignore_ascii_case(name))
            }
        }
    }
}

/// What a `Host` value names.
enum Host<'a> {
    /// An IPv4 address, or an IPv6 address in brackets: no DNS name, so nothing to rebind.
    IpLiteral,
    /// A name, without port or trailing dot.
    Name(&'a str),
}

/// The host of a `Host` value, without its port; `None` when the value is malformed.
fn parse_host(host: &str) -> Option<Host<'_>> {
    let host = host.trim();
    if let Some(rest) = host.strip_prefix('[') {
        let (address, after) = rest.split_once(']')?;
        address.parse::<Ipv6Addr>().ok()?;
        let port_ok = after.is_empty() || after.strip_prefix(':').is_some_and(is_port);
        return port_ok.then_some(Host::IpLiteral);
    }
    let name = match host.rsplit_once(':') {
        Some((name, port)) if is_port(port) => name,
        Some(_) => return None,
        None => host,
    };
    if name.parse::<Ipv4Addr>().is_ok() {
        return Some(Host::IpLiteral);
    }
    // A fully qualified name may end with a dot; it names the same host.
    let name = name.strip_suffix('.').unwrap_or(name);
    (!name.is_empty()).then_some(Host::Name(name))
}

fn is_port(text: &str) -> bool {
    !text.is_empty() && text.len() <= 5 && text.bytes().all(|b| b.is_ascii_digit())
}

/// Refuses requests on a foreign `Host` (421) and, when keys are configured, requests without
/// one of them (401) except to the health routes. The key's name is recorded as the `actor`
/// of the request span and of the request, so every audit event of the request carries it.
pub(crate) async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let Some(access) = req.app_data::<web::Data<AdminAccess>>().cloned() else {
        // Wired wrongly: fail closed.
        return Ok(req
            .error_response(ApiError::internal())
            .map_into_right_body());
    };
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|value| value.to_str().ok())
        .or_else(|| req.uri().authority().map(|authority| authority.as_str()));
    let base_url_host = req
        .app_data::<web::Data<crate::HttpSettings>>()
        .and_then(|settings| settings.admin_base_url.host_str());
    if !host.is_some_and(|host| access.admits_host(host, base_url_host)) {
        let error = misdirected(host.is_some());
        return Ok(req.error_response(error).map_into_right_body());
    }
    if access.keys.is_empty() || is_open(req.path()) {
        req.extensions_mut().insert(Actor::Unauthenticated);
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_left_body);
    }
    let presented = req
        .headers()
        .get(header::AUTHORIZATION)
        .map(|value| presented_key(value.as_bytes()));
    let Some(presented) = presented.filter(|key| !key.is_empty()) else {
        let error = unauthorized("The request carries no API key");
        return Ok(req.error_response(error).map_into_right_body());
    };
    match access.authenticate(presented) {
        Some(name) => {
            tracing::Span::current().record("actor", name);
            req.extensions_mut()
                .insert(Actor::AdminKey(name.to_owned()));
            next.call(req)
                .await
                .map(ServiceResponse::map_into_left_body)
        }
        None => {
            let error = unauthorized("The API key is not valid");
            Ok(req.error_response(error).map_into_right_body())
        }
    }
}

/// The key in an `Authorization` value: after `Bearer ` (the scheme is case-insensitive), or
/// the whole value.
fn presented_key(value: &[u8]) -> &[u8] {
    let value = value.trim_ascii();
    if value.eq_ignore_ascii_case(b"bearer") {
        return b"";
    }
    match value.split_at_checked(7) {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case(b"bearer ") => rest.trim_ascii(),
        _ => value,
    }
}

fn unauthorized(message: &str) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, message)
        .with_reason(
            "Send one of the admin API keys configured in serve.admin.api_keys as \
             \"Authorization: Bearer <key>\".",
        )
        .with_header(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"))
}

fn misdirected(has_host: bool) -> ApiError {
    let message = if has_host {
        "This admin API does not answer for the host in the Host header"
    } else {
        "The request has no Host header"
    };
    ApiError::new(StatusCode::MISDIRECTED_REQUEST, message).with_reason(
        "Call the admin API by an IP address, localhost, the host of serve.admin.base_url, or a \
         name listed in serve.admin.allowed_hosts.",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn access() -> AdminAccess {
        AdminAccess {
            keys: vec![
                ApiKey::from_secret("ops", "first-key-that-is-long-enough-000000"),
                ApiKey::from_hex_digest(
                    "support",
                    &hex::encode(Sha256::digest(b"second-key-that-is-long-enough-11111")),
                )
                .unwrap(),
            ],
            allowed_hosts: vec!["iam-recovery-admin".into()],
        }
    }

    #[test]
    fn every_key_authenticates_as_its_name() {
        let access = access();
        assert_eq!(
            access.authenticate(b"first-key-that-is-long-enough-000000"),
            Some("ops")
        );
        assert_eq!(
            access.authenticate(b"second-key-that-is-long-enough-11111"),
            Some("support")
        );
        assert_eq!(
            access.authenticate(b"first-key-that-is-long-enough-00000"),
            None
        );
        assert_eq!(access.authenticate(b""), None);
    }

    #[test]
    fn the_key_comes_bare_or_after_bearer() {
        assert_eq!(presented_key(b"Bearer abc"), b"abc");
        assert_eq!(presented_key(b"bearer  abc "), b"abc");
        assert_eq!(presented_key(b"abc"), b"abc");
        assert_eq!(presented_key(b"Bearer "), b"");
    }

    #[test]
    fn digests_must_be_64_hex_digits() {
        assert!(ApiKey::from_hex_digest("x", "abc").is_err());
        assert!(ApiKey::from_hex_digest("x", &"g".repeat(64)).is_err());
        assert!(ApiKey::from_hex_digest("x", &"AB".repeat(32)).is_ok());
    }

    #[test]
    fn debug_never_shows_the_digest() {
        let key = ApiKey::from_secret("ops", "first-key-that-is-long-enough-000000");
        let shown = format!("{key:?}");
        assert!(shown.contains("ops"));
        assert!(!shown.contains(&hex::encode(key.digest)[..8]));
    }

    #[test]
    fn hosts_are_ip_literals_localhost_the_base_url_or_allowed() {
        let access = access();
        let admits = |host| access.admits_host(host, Some("admin.internal"));
        for host in [
            "127.0.0.1",
            "127.0.0.1:4434",
            "10.1.2.3:80",
            "[::1]",
            "[::1]:4434",
            "localhost",
            "LOCALHOST:4434",
            "admin.internal:4434",
            "Admin.Internal",
            "iam-recovery-admin",
            "iam-recovery-admin.:4434",
        ] {
            assert!(admits(host), "{host}");
        }
        for host in [
            "",
            ":4434",
            "evil.example.com",
            "evil.example.com:4434",
            "localhost.evil.example.com",
            "127.0.0.1.evil.example.com",
            "::1",
            "[::1",
            "[evil]:4434",
            "[::1]x",
            "localhost:abc",
            "127.1",
        ] {
            assert!(!admits(host), "{host}");
        }
    }
}
