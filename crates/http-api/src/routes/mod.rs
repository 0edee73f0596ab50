pub(crate) mod audit_events;
pub(crate) mod health;
pub(crate) mod identities;
pub(crate) mod metrics;
pub(crate) mod paging;
pub(crate) mod recovery_codes;
pub(crate) mod schemas;
pub(crate) mod self_service;
pub(crate) mod sessions;

use actix_web::HttpRequest;

use crate::ApiError;

/// Every path no route matches.
pub(crate) async fn not_found(req: HttpRequest) -> Result<actix_web::HttpResponse, ApiError> {
    Err(
        ApiError::not_found("The requested resource could not be found").with_reason(format!(
            "No route matches {} {}.",
            req.method(),
            req.path()
        )),
    )
}

/// The alias under `/iam` of Kratos's admin path `path` (`/admin/...`): every such route is
/// served at both.
pub(crate) fn iam_alias(path: &str) -> Option<String> {
    path.strip_prefix("/admin/")
        .map(|rest| format!("/iam/{rest}"))
}

/// Kratos's admin path `path` and its `/iam` alias.
pub(crate) fn with_iam_alias(path: &str) -> Vec<String> {
    std::iter::once(path.to_owned())
        .chain(iam_alias(path))
        .collect()
}

/// The URL a request reached, as seen from outside through `base_url` (which may carry a path
/// prefix added by a gateway).
pub(crate) fn external_url(base_url: &url::Url, req: &HttpRequest) -> String {
    format!("{}{}", base_url.as_str().trim_end_matches('/'), req.uri())
}
