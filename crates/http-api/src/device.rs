//! What a request tells of the device it comes from, recorded with the session it opens.

use actix_web::HttpRequest;
use actix_web::http::header::USER_AGENT;
use domain::session::{Device, UserAgent};

use crate::client_address::client_address;

/// The request's `User-Agent`, bounded; a missing or odd header is no reason to refuse.
pub(crate) fn user_agent(req: &HttpRequest) -> Option<UserAgent> {
    req.headers()
        .get(USER_AGENT)
        .and_then(|value| UserAgent::from_header(value.as_bytes()))
}

/// The client address (by the trusted-proxy rule) and the user agent of the request.
pub(crate) fn device(req: &HttpRequest) -> Device {
    Device {
        ip_address: Some(client_address(req)),
        user_agent: user_agent(req),
    }
}
