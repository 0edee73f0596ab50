//! `GET /health/alive` (the process answers) and `GET /health/ready` (so does the database).

use actix_web::{HttpResponse, guard, web};
use application::Service;
use application::ports::Store;

use crate::ApiError;
use crate::wire::error::ErrorGeneric;
use crate::wire::health::HealthStatus;

pub(crate) fn configure<S: Store>(cfg: &mut web::ServiceConfig) {
    // HEAD too: load balancers probe with it.
    let get_or_head = || web::route().guard(guard::Any(guard::Get()).or(guard::Head()));
    cfg.service(web::resource("/health/alive").route(get_or_head().to(alive)))
        .service(web::resource("/health/ready").route(get_or_head().to(ready::<S>)));
}

#[utoipa::path(
    get,
    path = "/health/alive",
    operation_id = "isAlive",
    tag = "metadata",
    summary = "Check HTTP Server Status",
    description = "200 while the process answers, whatever the database. Open to every \
        caller; HEAD is answered too.",
    responses((status = 200, description = "The process answers.", body = HealthStatus)),
)]
async fn alive() -> HttpResponse {
    HttpResponse::Ok().json(HealthStatus::OK)
}

#[utoipa::path(
    get,
    path = "/health/ready",
    operation_id = "isReady",
    tag = "metadata",
    summary = "Check HTTP Server and Database Status",
    description = "200 when the database answers too. Open to every caller; HEAD is answered \
        too.",
    responses(
        (status = 200, description = "The process and its database answer.", body = HealthStatus),
        (
            status = 503,
            description = "The database does not answer. The body is the errorGeneric \
                envelope, where Kratos answers `{\"errors\": {...}}`.",
            body = ErrorGeneric,
        ),
    ),
)]
async fn ready<S: Store>(service: web::Data<Service<S>>) -> Result<HttpResponse, ApiError> {
    service.store().check_ready().await?;
    Ok(HttpResponse::Ok().json(HealthStatus::OK))
}
