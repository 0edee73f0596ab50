//! `POST /iam/recovery/code`, also at Kratos's `POST /admin/recovery/code`.

use actix_web::{FromRequest, HttpRequest, HttpResponse, web};
use application::Service;
use application::ports::Store;
use application::recovery_codes::{CreateRecoveryCodeError, RecoveryCodeRequest};
use domain::recovery::FlowType;
use domain::time::format_rfc3339_millis;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::envelope::{no_store, request_id_of};
use crate::json::JsonObject;
use crate::{ApiError, HttpSettings};

pub(crate) fn configure<S: Store>(cfg: &mut web::ServiceConfig) {
    for path in ["/iam/recovery/code", "/admin/recovery/code"] {
        cfg.service(web::resource(path).route(web::post().to(create::<S>)));
    }
}

/// The seed's request body, plus Kratos's optional `flow_type`. Unknown fields are ignored.
#[derive(Deserialize)]
struct CreateRecoveryCodeBody {
    identity_id: Uuid,
    #[serde(default)]
    expires_in: Option<String>,
    #[serde(default)]
    flow_type: Option<FlowTypeBody>,
    /// Where the browser goes once the new password is set (also accepted as a query
    /// parameter, as Kratos does).
    #[serde(default)]
    return_to: Option<String>,
}

#[derive(Deserialize)]
struct CreateRecoveryCodeQuery {
    return_to: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
enum FlowTypeBody {
    Browser,
    Api,
}

/// `recoveryCodeForIdentity`.
#[derive(Serialize)]
struct RecoveryCodeForIdentity {
    expires_at: String,
    recovery_code: String,
    recovery_link: String,
}

/// The body is read only once the method is known to be enabled, so that a disabled method
/// answers 404 whatever the body (as Kratos does).
async fn create<S: Store>(
    service: web::Data<Service<S>>,
    settings: web::Data<HttpSettings>,
    req: HttpRequest,
    query: web::Query<CreateRecoveryCodeQuery>,
    payload: web::Payload,
) -> actix_web::Result<HttpResponse> {
    if !service.recovery_enabled() {
        return Err(ApiError::from(CreateRecoveryCodeError::Disabled).into());
    }
    let JsonObject(body) =
        JsonObject::<CreateRecoveryCodeBody>::from_request(&req, &mut payload.into_inner()).await?;
    let issued = service
        .create_recovery_code(RecoveryCodeRequest {
            identity_id: body.identity_id.into(),
            expires_in: body.expires_in,
            flow_type: match body.flow_type {
                None | Some(FlowTypeBody::Browser) => FlowType::Browser,
                Some(FlowTypeBody::Api) => FlowType::Api,
            },
            public_base_url: settings.public_base_url.clone(),
            request_id: request_id_of(&req),
            return_to: body.return_to.or(query.into_inner().return_to),
        })
        .await
        .map_err(ApiError::from)?;
    Ok(HttpResponse::Created()
        .insert_header(no_store())
        .json(RecoveryCodeForIdentity {
            expires_at: format_rfc3339_millis(issued.expires_at),
            recovery_code: issued.code.expose().to_owned(),
            recovery_link: issued.link.into(),
        }))
}
