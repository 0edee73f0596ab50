//! Prometheus metrics. Any layer records through the `metrics` facade; this module installs the
//! process's recorder, observes every request, and renders the text at
//! `GET /admin/metrics/prometheus`. Label values are bounded: listeners, route templates,
//! methods, statuses and reasons, never raw paths or ids.

use std::sync::OnceLock;
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::web;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::AdminAccess;

/// Latency buckets, in seconds: from a cached answer to a slow hash or a stalled database.
const SECONDS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// The recorder of this process, installed on first use; every listener renders from it.
pub fn handle() -> &'static PrometheusHandle {
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_seconds".to_owned()), &SECONDS)
            .unwrap_or_else(|_| PrometheusBuilder::new())
            .build_recorder();
        let handle = recorder.handle();
        // Only this function installs one, once.
        let _ = metrics::set_global_recorder(recorder);
        handle
    })
}

/// Counts each request and times it, by listener, route template, method and status.
pub(crate) async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody + 'static>, actix_web::Error> {
    let started = Instant::now();
    let listener = if req.app_data::<web::Data<AdminAccess>>().is_some() {
        "admin"
    } else {
        "public"
    };
    let route = req
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_owned());
    let method = method_label(req.method());
    let res = next.call(req).await?;
    let status = res.status().as_u16().to_string();
    metrics::counter!(
        "iam_http_requests_total",
        "listener" => listener, "route" => route.clone(), "method" => method, "status" => status
    )
    .increment(1);
    metrics::histogram!(
        "iam_http_request_duration_seconds",
        "listener" => listener, "route" => route, "method" => method
    )
    .record(started.elapsed().as_secs_f64());
    Ok(res)
}

/// The method, or `other` for any a client invents.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}
