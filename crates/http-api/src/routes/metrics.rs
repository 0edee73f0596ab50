//! `GET /admin/metrics/prometheus` (Kratos's path): the process's metrics in Prometheus's text
//! format, behind the admin keys like every admin route.

use actix_web::{HttpResponse, web};

use crate::envelope::no_store;
use crate::metrics;

pub(crate) fn configure(cfg: &mut web::ServiceConfig) {
    for path in super::with_iam_alias("/admin/metrics/prometheus") {
        cfg.service(web::resource(path).route(web::get().to(prometheus)));
    }
}

#[utoipa::path(
    get,
    path = "/admin/metrics/prometheus",
    operation_id = "prometheus",
    tag = "metadata",
    summary = "Metrics for Prometheus",
    description = "Requests by route template and status with their latency, recovery codes \
        issued, redeemed, refused (by reason) and revoked, sign-ins by outcome, rate-limit \
        rejections, the store's connections and their wait, and the password-hash queue. \
        Prometheus's text format.",
    responses((
        status = 200,
        description = "The metrics, in Prometheus's text exposition format 0.0.4.",
        content_type = "text/plain",
        body = String,
    )),
)]
async fn prometheus() -> HttpResponse {
    let handle = metrics::handle();
    handle.run_upkeep();
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .insert_header(no_store())
        .body(handle.render())
}
