//! `POST /iam/recovery/code`, also at Kratos's `POST /admin/recovery/code`.

use actix_web::{FromRequest, HttpRequest, HttpResponse, web};
use application::Service;
use application::ports::Store;
use application::recovery_codes::{CreateRecoveryCodeError, RecoveryCodeRequest};
use domain::recovery::FlowType;

use crate::envelope::no_store;
use crate::json::JsonObject;
use crate::openapi::Unavailable;
use crate::origin::origin;
use crate::wire::error::ErrorGeneric;
use crate::wire::recovery_code::{
    CreateRecoveryCodeForIdentityBody, RecoveryCodeForIdentity, RevokeRecoveryCodesQuery,
};
use crate::wire::submissions::ReturnToQuery;
use crate::{ApiError, HttpSettings};

pub(crate) fn configure<S: Store>(cfg: &mut web::ServiceConfig) {
    for path in super::with_iam_alias("/admin/recovery/code") {
        cfg.service(web::resource(path).route(web::post().to(create::<S>)));
    }
    for path in super::with_iam_alias("/admin/recovery/codes") {
        cfg.service(web::resource(path).route(web::delete().to(revoke::<S>)));
    }
}

/// Takes back a code handed to the wrong person, before it expires: every outstanding code of
/// the identity, and any live session one of its recovery codes opened.
#[utoipa::path(
    delete,
    path = "/admin/recovery/codes",
    operation_id = "revokeRecoveryCodes",
    tag = "identity",
    summary = "Revoke an Identity's Recovery Codes",
    description = "Revokes every outstanding recovery code of the identity at once (not in \
        Kratos) and ends the live sessions that its recovery codes opened, since a code handed \
        to the wrong person may have been used already. A revoked code is then refused exactly \
        as a used one. Other sessions stay. Logged as an audit event.",
    params(RevokeRecoveryCodesQuery),
    responses(
        (status = 204, description = "Revoked; also when there was nothing left to revoke."),
        (
            status = 400,
            description = "`identity_id` is missing or not a UUID.",
            body = ErrorGeneric,
        ),
        (status = 404, description = "No identity has `identity_id`.", body = ErrorGeneric),
        (status = 503, response = Unavailable),
    ),
)]
async fn revoke<S: Store>(
    service: web::Data<Service<S>>,
    req: HttpRequest,
    query: web::Query<RevokeRecoveryCodesQuery>,
) -> Result<HttpResponse, ApiError> {
    service
        .revoke_recovery_codes(query.identity_id.into(), &origin(&req))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The body is read only once the method is known to be enabled, so that a disabled method
/// answers 404 whatever the body (as Kratos does).
#[utoipa::path(
    post,
    path = "/admin/recovery/code",
    operation_id = "createRecoveryCodeForIdentity",
    tag = "identity",
    summary = "Create a Recovery Code",
    description = "A recovery code for the identity, and the link to the page where it is \
        entered. The code is shown here once: only its keyed hash is stored. A new code revokes \
        the identity's earlier unused admin codes. Unknown fields are ignored.",
    params(ReturnToQuery),
    request_body = CreateRecoveryCodeForIdentityBody,
    responses(
        (
            status = 201,
            description = "The code, its link and when both expire.",
            body = RecoveryCodeForIdentity,
        ),
        (
            status = 400,
            description = "The body is not a JSON object of this shape, `expires_in` is off \
                format, not positive or above the configured maximum, or `return_to` is not \
                allowed.",
            body = ErrorGeneric,
        ),
        (
            status = 404,
            description = "No identity has `identity_id`, or recovery is disabled (id \
                `self_service_flow_disabled`).",
            body = ErrorGeneric,
        ),
        (status = 503, response = Unavailable),
    ),
)]
async fn create<S: Store>(
    service: web::Data<Service<S>>,
    settings: web::Data<HttpSettings>,
    req: HttpRequest,
    query: web::Query<ReturnToQuery>,
    payload: web::Payload,
) -> actix_web::Result<HttpResponse> {
    if !service.recovery_enabled() {
        return Err(ApiError::from(CreateRecoveryCodeError::Disabled).into());
    }
    let JsonObject(body) = JsonObject::<CreateRecoveryCodeForIdentityBody>::from_request(
        &req,
        &mut payload.into_inner(),
    )
    .await?;
    let issued = service
        .create_recovery_code(RecoveryCodeRequest {
            identity_id: body.identity_id.into(),
            expires_in: body.expires_in,
            flow_type: body.flow_type.map_or(FlowType::Browser, FlowType::from),
            public_base_url: settings.public_base_url.clone(),
            origin: origin(&req),
            return_to: body.return_to.or(query.into_inner().return_to),
            mark_address_verified: body.mark_address_verified,
        })
        .await
        .map_err(ApiError::from)?;
    Ok(HttpResponse::Created()
        .insert_header(no_store())
        .json(RecoveryCodeForIdentity {
            expires_at: issued.expires_at.into(),
            recovery_code: issued.code.expose().to_owned(),
            recovery_link: issued.link.into(),
        }))
}
