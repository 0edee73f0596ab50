//! Instants on the wire: RFC 3339 in UTC with milliseconds, as Kratos writes them.

use domain::time::{Timestamp, format_rfc3339_millis};
use serde::{Serialize, Serializer};
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, ToSchema)]
#[schema(as = timestamp, value_type = String, format = DateTime)]
pub(crate) struct Time(pub(crate) Timestamp);

impl Serialize for Time {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&format_rfc3339_millis(self.0))
    }
}

impl From<Timestamp> for Time {
    fn from(at: Timestamp) -> Self {
        Self(at)
    }
}
