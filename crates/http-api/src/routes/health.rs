//! `GET /health/alive` (the process answers) and `GET /health/ready` (so does the database).

use actix_web::{HttpResponse, guard, web};
use application::Service;
use application::ports::Store;

use crate::ApiError;
use crate::wire::health::HealthStatus;

pub(crate) fn configure<S: Store>(cfg: &mut web::ServiceConfig) {
    // HEAD too: load balancers probe with it.
    let get_or_head = || web::route().guard(guard::Any(guard::Get()).or(guard::Head()));
    cfg.service(web::resource("/health/alive").route(get_or_head().to(alive)))
        .service(web::resource("/health/ready").route(get_or_head().to(ready::<S>)));
}

async fn alive() -> HttpResponse {
    HttpResponse::Ok().json(HealthStatus::OK)
}

async fn ready<S: Store>(service: web::Data<Service<S>>) -> Result<HttpResponse, ApiError> {
    service.store().check_ready().await?;
    Ok(HttpResponse::Ok().json(HealthStatus::OK))
}
