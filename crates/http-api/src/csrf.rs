//! Cross-site request forgery: a browser form post is accepted only when the browser says it
//! comes from our own public origin. Browsers always send `Origin` on cross-site posts, so a
//! forged form is refused; with the SameSite=Lax cookie this closes both doors.

use actix_web::HttpRequest;
use actix_web::http::StatusCode;
use url::Url;

use crate::ApiError;

/// Accepts `req` when its `Origin` (or, without one, its `Referer`) has the origin of
/// `public_base_url`.
pub(crate) fn check_same_origin(req: &HttpRequest, public_base_url: &Url) -> Result<(), ApiError> {
    let header = |name| req.headers().get(name).and_then(|v| v.to_str().ok());
    let claimed = header("origin")
        .or_else(|| header("referer"))
        .and_then(|value| Url::parse(value).ok())
        .map(|url| url.origin());
    if claimed.as_ref() == Some(&public_base_url.origin()) {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "The request was rejected to protect you from Cross-Site-Request-Forgery (CSRF)",
        )
        .with_id("security_csrf_violation")
        .with_reason("Submit the form from this site's own page; reload it and try again."))
    }
}
