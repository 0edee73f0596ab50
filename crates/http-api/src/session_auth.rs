//! How a request proves its session: the `ory_kratos_session` cookie for browsers, the
//! `X-Session-Token` header (or `Authorization: Bearer`) for API clients, as Kratos does.

use actix_web::HttpRequest;
use actix_web::cookie::{Cookie, SameSite, time::OffsetDateTime};
use domain::session::SessionToken;
use domain::time::Timestamp;

pub(crate) const SESSION_COOKIE: &str = "ory_kratos_session";

/// The session token a request carries, if any.
pub(crate) fn session_token(req: &HttpRequest) -> Option<SessionToken> {
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::trim)
            .filter(|value| !value.is_empty())
            .map(str::to_owned)
    };
    header("x-session-token")
        .or_else(|| {
            header("authorization").and_then(|value| {
                value
                    .strip_prefix("Bearer ")
                    .map(|token| token.trim().to_owned())
            })
        })
        .or_else(|| req.cookie(SESSION_COOKIE).map(|c| c.value().to_owned()))
        .map(|token| SessionToken::from_client(&token))
}

/// The cookie that carries a browser's session: HttpOnly, SameSite=Lax, Secure unless in
/// development (plain http on localhost), expiring with the session.
pub(crate) fn session_cookie(
    token: &SessionToken,
    expires_at: Timestamp,
    dev: bool,
) -> Cookie<'static> {
    let mut cookie = Cookie::build(SESSION_COOKIE, token.expose().to_owned())
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(!dev)
        .finish();
    if let Ok(expires) = OffsetDateTime::from_unix_timestamp(expires_at.timestamp()) {
        cookie.set_expires(expires);
    }
    cookie
}

/// The cookie that removes the session from a browser.
pub(crate) fn removal_cookie() -> Cookie<'static> {
    let mut cookie = Cookie::build(SESSION_COOKIE, "").path("/").finish();
    cookie.make_removal();
    cookie
}
