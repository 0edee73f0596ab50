//! `GET /health/alive` and `GET /health/ready` answers.

use serde::Serialize;
use utoipa::ToSchema;

/// `healthStatus`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = healthStatus)]
pub(crate) struct HealthStatus {
    pub(crate) status: Ok,
}

#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[schema(as = healthStatusOk)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Ok {
    Ok,
}

impl HealthStatus {
    pub(crate) const OK: Self = Self { status: Ok::Ok };
}
