//! `GET /admin/audit-events` (also under `/iam`): the stored audit trail, oldest first, paged as
//! Kratos pages its listings.

use actix_web::{HttpRequest, HttpResponse, web};
use application::Service;
use application::audit::AuditPageRequest;
use application::ports::Store;

use crate::openapi::Unavailable;
use crate::routes::paging;
use crate::wire::audit_event::{AuditEvent, AuditEventsQuery};
use crate::wire::error::ErrorGeneric;
use crate::{ApiError, HttpSettings};

pub(crate) fn configure<S: Store>(cfg: &mut web::ServiceConfig) {
    for path in super::with_iam_alias("/admin/audit-events") {
        cfg.service(web::resource(path).route(web::get().to(list::<S>)));
    }
}

/// A JSON array; the next page, when there is one, is in the `Link` header as Kratos does.
#[utoipa::path(
    get,
    path = "/admin/audit-events",
    operation_id = "listAuditEvents",
    tag = "identity",
    summary = "List Audit Events",
    description = "The stored audit trail, oldest first (not in Kratos): every admin action \
        (identities created, updated and deleted, recovery codes issued and revoked, lockouts \
        lifted, sessions revoked) and every recovery and sign-in outcome, each written in the \
        transaction of the change it records. Events outlive the identity they name and are \
        kept for audit.retention (90 days by default).",
    params(AuditEventsQuery),
    responses(
        (
            status = 200,
            description = "A page of events.",
            body = Vec<AuditEvent>,
            headers((
                "Link" = String,
                description = "The first page (`rel=\"first\"`) and, when there is one, the next \
                    (`rel=\"next\"`), as absolute URLs."
            )),
        ),
        (
            status = 400,
            description = "`identity_id` is not a UUID, `page_size` is out of range, \
                `page_token` is not one this service returned, or the query cannot be read.",
            body = ErrorGeneric,
        ),
        (status = 503, response = Unavailable),
    ),
)]
async fn list<S: Store>(
    service: web::Data<Service<S>>,
    settings: web::Data<HttpSettings>,
    req: HttpRequest,
    query: web::Query<AuditEventsQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let page = service
        .audit_events(AuditPageRequest {
            identity_id: query.identity_id.map(Into::into),
            page_size: query.page_size,
            page_token: query.page_token,
        })
        .await?;
    let filters: Vec<(&str, String)> = query
        .identity_id
        .map(|id| ("identity_id", id.to_string()))
        .into_iter()
        .collect();
    let body: Vec<AuditEvent> = page.events.iter().map(AuditEvent::from).collect();
    Ok(paging::respond(
        &settings.admin_base_url,
        &req,
        &paging::Page {
            page_size: page.page_size,
            next_page_token: page.next_page_token.as_deref(),
            filters: &filters,
        },
        &body,
    ))
}
