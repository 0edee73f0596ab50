//! Who is asking: the client address of a request on the public listener.
//!
//! Behind a gateway every request comes from the gateway, so the client is named in
//! `X-Forwarded-For` or `Forwarded` (RFC 7239). Anyone can send those headers, so they are read
//! only when the TCP peer is a trusted proxy, and only as far as trusted proxies vouch for them:
//! hops are read right to left (each proxy appends the address it received from), trusted hops
//! are skipped, and the first untrusted address is the client. If every hop is trusted, the
//! leftmost is.
//!
//! `X-Forwarded-For` wins when both headers are present: nearly every gateway appends to it,
//! so a `Forwarded` header next to it may well come from the client. A hop that cannot be read
//! (garbage, `unknown`, an obfuscated name) ends the walk: the last address read is taken, which
//! is a trusted proxy. Its clients then share one bucket: limits get stricter, never spoofable.

use std::net::{IpAddr, SocketAddrV4};

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderMap};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpRequest, web};
use domain::client::ClientAddress;
use ipnet::IpNet;

/// The proxies whose forwarding headers are believed: networks, e.g. `10.0.0.0/8`.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    #[must_use]
    pub fn new(networks: Vec<IpNet>) -> Self {
        Self(networks)
    }

    fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.0.iter().any(|network| network.contains(&ip))
    }
}

/// The client of a request from `peer` with `headers`, as described in the module docs.
pub(crate) fn resolve(
    peer: IpAddr,
    headers: &HeaderMap,
    trusted: &TrustedProxies,
) -> ClientAddress {
    if !trusted.contains(peer) {
        return ClientAddress::new(peer);
    }
    let hops = if headers.contains_key(header::X_FORWARDED_FOR) {
        forwarded_for_hops(headers)
    } else {
        forwarded_hops(headers)
    };
    let mut client = peer;
    for hop in hops.iter().rev() {
        let Some(ip) = hop else { break };
        client = *ip;
        if !trusted.contains(*ip) {
            break;
        }
    }
    ClientAddress::new(client)
}

/// Every `X-Forwarded-For` line, joined in order, split into hops; `None` for unreadable ones.
fn forwarded_for_hops(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    let mut hops = Vec::new();
    for line in headers.get_all(header::X_FORWARDED_FOR) {
        let Ok(line) = line.to_str() else {
            hops.push(None);
            continue;
        };
        hops.extend(line.split(',').map(|hop| node(hop.trim())));
    }
    hops
}

/// Every `Forwarded` element, in order: the `for=` node of each; `None` where it is missing or
/// cannot be read.
fn forwarded_hops(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    let mut hops = Vec::new();
    for line in headers.get_all(header::FORWARDED) {
        let Ok(line) = line.to_str() else {
            hops.push(None);
            continue;
        };
        hops.extend(split_outside_quotes(line, ',').into_iter().map(|element| {
            split_outside_quotes(element, ';')
                .into_iter()
                .filter_map(|pair| pair.split_once('='))
                .find(|(name, _)| name.trim().eq_ignore_ascii_case("for"))
                .and_then(|(_, value)| node(unquote(value.trim())?))
        }));
    }
    hops
}

/// `text` split at every `separator` that is not inside a quoted string.
fn split_outside_quotes(text: &str, separator: char) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut start, mut quoted, mut escaped) = (0, false, false);
    for (i, c) in text.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            c if c == separator && !quoted => {
                parts.push(&text[start..i]);
                start = i + c.len_utf8();
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
}

/// A token, or a quoted string without its quotes (node values never need escapes).
fn unquote(value: &str) -> Option<&str> {
    match value.strip_prefix('"') {
        Some(rest) => rest.strip_suffix('"').filter(|inner| !inner.contains('"')),
        None => Some(value),
    }
}

/// An address as proxies write it: `192.0.2.7`, `192.0.2.7:4711`, `2001:db8::1`,
/// `[2001:db8::1]` or `[2001:db8::1]:4711`.
fn node(text: &str) -> Option<IpAddr> {
    if let Some(rest) = text.strip_prefix('[') {
        let (ip, port) = rest.split_once(']')?;
        let port_ok = port.is_empty()
            || port
                .strip_prefix(':')
                .is_some_and(|p| p.parse::<u16>().is_ok());
        return port_ok.then(|| ip.parse().ok()).flatten();
    }
    text.parse::<IpAddr>().ok().or_else(|| {
        text.parse::<SocketAddrV4>()
            .ok()
            .map(|a| IpAddr::V4(*a.ip()))
    })
}

/// Resolves the client address of each request and keeps it in the request's extensions.
pub(crate) async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let client = match req.peer_addr() {
        Some(peer) => {
            let trusted = req.app_data::<web::Data<TrustedProxies>>();
            let none = TrustedProxies::default();
            resolve(
                peer.ip(),
                req.headers(),
                trusted.map_or(&none, |data| data.get_ref()),
            )
        }
        None => unknown(),
    };
    req.extensions_mut().insert(client);
    next.call(req).await
}

/// Where a request without a peer address (not over TCP) is said to come from.
fn unknown() -> ClientAddress {
    ClientAddress::new(IpAddr::from([0, 0, 0, 0]))
}

/// The client address of `req`: resolved by [`middleware`], or else its TCP peer.
pub(crate) fn client_address(req: &HttpRequest) -> ClientAddress {
    req.extensions()
        .get::<ClientAddress>()
        .copied()
        .or_else(|| req.peer_addr().map(|peer| ClientAddress::new(peer.ip())))
        .unwrap_or_else(unknown)
}

#[cfg(test)]
mod tests {
    use actix_web::http::header::{HeaderName, HeaderValue};

    use super::*;

    fn trusted(networks: &[&str]) -> TrustedProxies {
        TrustedProxies::new(networks.iter().map(|n| n.parse().unwrap()).collect())
    }

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                HeaderName::from_static(name),
                HeaderValue::from_static(value),
            );
        }
        map
    }

    fn client(peer: &str, networks: &[&str], pairs: &[(&'static str, &'static str)]) -> String {
        resolve(peer.parse().unwrap(), &headers(pairs), &trusted(networks)).to_string()
    }

    const PROXY: &str = "10.0.0.5";
    const PROXIES: &[&str] = &["10.0.0.0/8"];

    #[test]
    fn headers_from_an_untrusted_peer_are_ignored() {
        let spoofed = [
            ("x-forwarded-for", "198.51.100.1"),
            ("forwarded", "for=198.51.100.1"),
        ];
        assert_eq!(client("203.0.113.9", &[], &spoofed), "203.0.113.9");
        assert_eq!(client("203.0.113.9", PROXIES, &spoofed), "203.0.113.9");
    }

    #[test]
    fn x_forwarded_for_is_read_right_to_left_skipping_trusted_hops() {
        let xff = |value| client(PROXY, PROXIES, &[("x-forwarded-for", value)]);
        assert_eq!(xff("198.51.100.1"), "198.51.100.1");
        // The client may write anything on the left; the first untrusted hop is the client.
        assert_eq!(xff("1.2.3.4, 198.51.100.1, 10.0.0.9"), "198.51.100.1");
        assert_eq!(xff(" 198.51.100.1 ,10.1.1.1 , 10.0.0.9"), "198.51.100.1");
        // Every hop trusted: the leftmost.
        assert_eq!(xff("10.0.0.1, 10.0.0.2"), "10.0.0.1");
        // Ports and brackets, as some proxies write them.
        assert_eq!(xff("198.51.100.1:4711"), "198.51.100.1");
        assert_eq!(xff("[2001:db8::1]:4711"), "2001:db8::1");
        assert_eq!(xff("2001:db8::1"), "2001:db8::1");
        assert_eq!(xff("::ffff:198.51.100.1"), "198.51.100.1");
    }

    #[test]
    fn several_x_forwarded_for_lines_are_one_list() {
        let pairs = [
            ("x-forwarded-for", "1.2.3.4, 198.51.100.1"),
            ("x-forwarded-for", "10.0.0.9"),
        ];
        assert_eq!(client(PROXY, PROXIES, &pairs), "198.51.100.1");
    }

    #[test]
    fn an_unreadable_hop_ends_the_walk_at_the_last_trusted_address() {
        let xff = |value| client(PROXY, PROXIES, &[("x-forwarded-for", value)]);
        assert_eq!(xff("198.51.100.1, garbage, 10.0.0.9"), "10.0.0.9");
        assert_eq!(xff("198.51.100.1, garbage"), PROXY);
        assert_eq!(xff(""), PROXY);
        assert_eq!(xff("unknown"), PROXY);
        assert_eq!(xff("198.51.100.1:99999"), PROXY);
        assert_eq!(xff("[2001:db8::1"), PROXY);
        assert_eq!(xff("[2001:db8::1]x"), PROXY);
        // Garbage further left does not matter once an untrusted hop is found.
        assert_eq!(xff("garbage, 198.51.100.1"), "198.51.100.1");
    }

    #[test]
    fn forwarded_is_read_with_quotes_brackets_and_ports() {
        let fwd = |value| client(PROXY, PROXIES, &[("forwarded", value)]);
        assert_eq!(fwd("for=198.51.100.1"), "198.51.100.1");
        assert_eq!(fwd("For=\"198.51.100.1:4711\""), "198.51.100.1");
        assert_eq!(fwd("for=\"[2001:db8:cafe::17]\""), "2001:db8:cafe::17");
        assert_eq!(
            fwd("for=\"[2001:db8:cafe::17]:4711\";proto=https;by=10.0.0.5"),
            "2001:db8:cafe::17"
        );
        assert_eq!(
            fwd("for=1.2.3.4, for=198.51.100.1;proto=https, for=10.0.0.9"),
            "198.51.100.1"
        );
        // A quoted value may hold the separators.
        assert_eq!(
            fwd("for=198.51.100.1;host=\"a,b;c\", for=10.0.0.9"),
            "198.51.100.1"
        );
    }

    #[test]
    fn unreadable_forwarded_elements_end_the_walk() {
        let fwd = |value| client(PROXY, PROXIES, &[("forwarded", value)]);
        assert_eq!(fwd("for=unknown"), PROXY);
        assert_eq!(fwd("for=_hidden, for=10.0.0.9"), "10.0.0.9");
        assert_eq!(fwd("for=198.51.100.1, proto=https"), PROXY);
        assert_eq!(fwd("for=\"198.51.100.1"), PROXY);
        assert_eq!(fwd(";;;,,,=\"\""), PROXY);
    }

    #[test]
    fn x_forwarded_for_wins_over_forwarded() {
        let pairs = [
            ("forwarded", "for=1.2.3.4"),
            ("x-forwarded-for", "198.51.100.1"),
        ];
        assert_eq!(client(PROXY, PROXIES, &pairs), "198.51.100.1");
    }

    #[test]
    fn a_trusted_peer_without_headers_is_the_client() {
        assert_eq!(client(PROXY, PROXIES, &[]), PROXY);
    }

    #[test]
    fn trusted_networks_match_ipv4_mapped_peers() {
        let pairs = [("x-forwarded-for", "198.51.100.1")];
        assert_eq!(client("::ffff:10.0.0.5", PROXIES, &pairs), "198.51.100.1");
    }
}
