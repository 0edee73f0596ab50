//! Who is asking: the network address of a client, as far as the service can tell.
//!
//! Limits apply per [`AddressGroup`], not per address: an IPv6 client usually holds a whole
//! /64 and could otherwise take a fresh address for every request.

use std::fmt;
use std::net::{IpAddr, Ipv6Addr};

/// The address a request came from (the peer, or the client named by a trusted proxy).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientAddress(IpAddr);

impl ClientAddress {
    /// An IPv4 address mapped into IPv6 (`::ffff:a.b.c.d`) is taken as the IPv4 address it is.
    #[must_use]
    pub fn new(ip: IpAddr) -> Self {
        Self(ip.to_canonical())
    }

    #[must_use]
    pub fn ip(self) -> IpAddr {
        self.0
    }

    /// The group this address is rate-limited with: an IPv4 address alone, an IPv6 address's
    /// /64 (what one subscriber line holds).
    #[must_use]
    pub fn group(self) -> AddressGroup {
        self.within(64)
    }

    /// The group failed sign-ins are counted by: an IPv4 address alone, an IPv6 address's /48.
    /// Wider than [`ClientAddress::group`], because a home line often holds a /56 and a site a
    /// /48: every /64 of them must not count as another attacker.
    #[must_use]
    pub fn site(self) -> AddressGroup {
        self.within(48)
    }

    fn within(self, prefix: u8) -> AddressGroup {
        match self.0 {
            IpAddr::V4(_) => AddressGroup(self.0, 32),
            IpAddr::V6(v6) => {
                let mask = !((1u128 << (128 - u32::from(prefix))) - 1);
                AddressGroup(IpAddr::V6(Ipv6Addr::from(u128::from(v6) & mask)), prefix)
            }
        }
    }
}

impl fmt::Display for ClientAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// An IPv4 address, or an IPv6 network (its first address and prefix length): the unit of
/// per-client limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AddressGroup(IpAddr, u8);

impl AddressGroup {
    #[must_use]
    pub fn ip(self) -> IpAddr {
        self.0
    }

    /// Reads back what [`fmt::Display`] wrote.
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        match text.split_once('/') {
            None => {
                let ip: IpAddr = text.parse().ok()?;
                ip.is_ipv4().then_some(Self(ip, 32))
            }
            Some((ip, prefix)) => {
                let ip: Ipv6Addr = ip.parse().ok()?;
                let prefix: u8 = prefix.parse().ok().filter(|p| (1..=128).contains(p))?;
                Some(ClientAddress::new(IpAddr::V6(ip)).within(prefix))
            }
        }
    }
}

impl fmt::Display for AddressGroup {
    /// `192.0.2.7`, or `2001:db8:1:2::/64`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            IpAddr::V4(v4) => v4.fmt(f),
            IpAddr::V6(v6) => write!(f, "{v6}/{}", self.1),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group(ip: &str) -> String {
        ClientAddress::new(ip.parse().unwrap()).group().to_string()
    }

    #[test]
    fn ipv4_is_its_own_group_and_ipv6_is_grouped_by_64() {
        assert_eq!(group("192.0.2.7"), "192.0.2.7");
        assert_eq!(group("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
        assert_eq!(
            group("2001:db8:1:2:ffff:ffff:ffff:ffff"),
            "2001:db8:1:2::/64"
        );
        assert_ne!(group("2001:db8:1:3::1"), group("2001:db8:1:2::1"));
        for text in ["192.0.2.7", "2001:db8:1:2::/64", "2001:db8:1::/48"] {
            assert_eq!(AddressGroup::parse(text).unwrap().to_string(), text);
        }
        assert_eq!(AddressGroup::parse("nonsense"), None);
        assert_eq!(AddressGroup::parse("2001:db8::1"), None);
    }

    #[test]
    fn sign_ins_are_counted_by_ipv6_48() {
        let site = |ip: &str| ClientAddress::new(ip.parse().unwrap()).site().to_string();
        assert_eq!(site("192.0.2.7"), "192.0.2.7");
        assert_eq!(site("2001:db8:1:2:aaaa::1"), "2001:db8:1::/48");
        assert_eq!(site("2001:db8:1:ff00::1"), site("2001:db8:1:2::1"));
        assert_ne!(site("2001:db8:2::1"), site("2001:db8:1::1"));
    }

    #[test]
    fn ipv4_mapped_ipv6_is_the_ipv4_address() {
        assert_eq!(group("::ffff:192.0.2.7"), "192.0.2.7");
        assert_eq!(
            ClientAddress::new("::ffff:192.0.2.7".parse().unwrap()).to_string(),
            "192.0.2.7"
        );
    }
}
