//! The headers a listener puts on every answer, errors and pages included.

use actix_web::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use url::Url;

/// Browsers must not guess a type other than the declared one (a JSON error quoting input
/// sniffed as HTML would run it).
pub(crate) const NOSNIFF: (HeaderName, HeaderValue) = (
    header::X_CONTENT_TYPE_OPTIONS,
    HeaderValue::from_static("nosniff"),
);

/// Once a browser has reached the public listener over https, it refuses plain http to it for
/// a year, so no one on the path can strip TLS.
const HSTS: (HeaderName, HeaderValue) = (
    header::STRICT_TRANSPORT_SECURITY,
    HeaderValue::from_static("max-age=31536000"),
);

#[derive(Debug, Clone, Default)]
pub(crate) struct SecurityHeaders(Vec<(HeaderName, HeaderValue)>);

impl SecurityHeaders {
    pub(crate) fn admin() -> Self {
        Self(vec![NOSNIFF])
    }

    /// HSTS only when the public base URL is https: over plain http a browser ignores it, and
    /// it would pin a host that serves no TLS.
    pub(crate) fn public(base_url: &Url) -> Self {
        let mut headers = vec![NOSNIFF];
        if base_url.scheme() == "https" {
            headers.push(HSTS);
        }
        Self(headers)
    }

    /// Adds each header the response does not set itself.
    pub(crate) fn apply(&self, headers: &mut HeaderMap) {
        for (name, value) in &self.0 {
            if !headers.contains_key(name) {
                headers.insert(name.clone(), value.clone());
            }
        }
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &(HeaderName, HeaderValue)> {
        self.0.iter()
    }
}
