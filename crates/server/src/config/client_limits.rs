//! The public listener's client settings: the proxies trusted to name clients, and the rate
//! limit of each class of route.

use std::net::IpAddr;

use http_api::{Limit, RateLimitSettings};
use ipnet::IpNet;
use serde::Deserialize;

use super::{ConfigError, invalid};

const TRUSTED_PROXIES: &str = "serve.public.trusted_proxies";

/// `serve.public.rate_limits`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRateLimits {
    #[serde(default)]
    flow_creation: RawLimit,
    #[serde(default)]
    login: RawLimit,
    #[serde(default)]
    recovery: RawLimit,
    #[serde(default)]
    settings: RawLimit,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLimit {
    per_minute: Option<u32>,
    burst: Option<u32>,
}

/// Each class's limit, the default where nothing is configured. `per_minute: 0` turns a class
/// off; a burst must be at least 1.
pub(super) fn rate_limits(raw: RawRateLimits) -> Result<RateLimitSettings, ConfigError> {
    let defaults = RateLimitSettings::default();
    Ok(RateLimitSettings {
        flow_creation: limit(
            raw.flow_creation,
            defaults.flow_creation,
            "serve.public.rate_limits.flow_creation.per_minute",
            "serve.public.rate_limits.flow_creation.burst",
        )?,
        login: limit(
            raw.login,
            defaults.login,
            "serve.public.rate_limits.login.per_minute",
            "serve.public.rate_limits.login.burst",
        )?,
        recovery: limit(
            raw.recovery,
            defaults.recovery,
            "serve.public.rate_limits.recovery.per_minute",
            "serve.public.rate_limits.recovery.burst",
        )?,
        settings: limit(
            raw.settings,
            defaults.settings,
            "serve.public.rate_limits.settings.per_minute",
            "serve.public.rate_limits.settings.burst",
        )?,
    })
}

fn limit(
    raw: RawLimit,
    default: Option<Limit>,
    per_minute_key: &'static str,
    burst_key: &'static str,
) -> Result<Option<Limit>, ConfigError> {
    let per_minute = raw
        .per_minute
        .or(default.map(|limit| limit.per_minute.get()))
        .unwrap_or(0);
    let Some(per_minute) = std::num::NonZeroU32::new(per_minute) else {
        return Ok(None);
    };
    let burst = raw
        .burst
        .or(default.map(|limit| limit.burst.get()))
        .unwrap_or(per_minute.get());
    let burst = std::num::NonZeroU32::new(burst).ok_or_else(|| {
        invalid(
            burst_key,
            format!("must be at least 1 (to turn this limit off, set {per_minute_key} to 0)"),
        )
    })?;
    Ok(Some(Limit { per_minute, burst }))
}

/// Networks (`10.0.0.0/8`) or single addresses (`10.0.0.5`). A network that holds every address
/// is refused: anyone could then name any client.
pub(super) fn trusted_proxies(configured: Vec<String>) -> Result<Vec<IpNet>, ConfigError> {
    configured
        .iter()
        .map(|text| {
            let network = text
                .parse::<IpNet>()
                .or_else(|_| text.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| {
                    invalid(
                        TRUSTED_PROXIES,
                        format!(
                            "\"{text}\" is neither an address nor a network, e.g. 10.0.0.0/8 or \
                             10.0.0.5"
                        ),
                    )
                })?;
            if network.prefix_len() == 0 {
                return Err(invalid(
                    TRUSTED_PROXIES,
                    format!(
                        "\"{text}\" trusts every address, so any client could claim to be any \
                         other; list only the networks of your gateways"
                    ),
                ));
            }
            Ok(network.trunc())
        })
        .collect()
}
