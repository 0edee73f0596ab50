//! `GET /health/alive` (the process answers) and `GET /health/ready` (so does the database).

use actix_web::{HttpResponse, web};
use application::Service;
use application::ports::Store;
use serde_json::json;

use crate::ApiError;

pub(crate) fn configure<S: Store>(cfg: &mut web::ServiceConfig) {
    cfg.route("/health/alive", web::get().to(alive))
        .route("/health/ready", web::get().to(ready::<S>));
}

async fn alive() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

async fn ready<S: Store>(service: web::Data<Service<S>>) -> Result<HttpResponse, ApiError> {
    service.store().check_ready().await?;
    Ok(HttpResponse::Ok().json(json!({ "status": "ok" })))
}
