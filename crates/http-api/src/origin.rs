//! Who sent a request, as its audit events record it: the admin key's name (set by
//! [`crate::admin_auth`]), `unauthenticated`, or the person at the public API; with the
//! client's address and the request id.

use actix_web::{HttpMessage, HttpRequest};
use domain::audit::{Actor, Origin, RequestId};

use crate::client_address::client_address;
use crate::envelope::request_id_of;

/// The origin of `req`. Only the admin listener's access check names an admin actor; any
/// other request is self-service.
pub(crate) fn origin(req: &HttpRequest) -> Origin {
    Origin {
        actor: req
            .extensions()
            .get::<Actor>()
            .cloned()
            .unwrap_or(Actor::SelfService),
        client_address: Some(client_address(req)),
        request_id: RequestId::parse(&request_id_of(req)),
    }
}
