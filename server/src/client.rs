//! Who is asking, as far as the network tells.

use http::HeaderMap;
use std::net::{IpAddr, SocketAddr};

/// The visitor's address: the TCP peer, or behind a trusted proxy the last `X-Forwarded-For` hop.
pub fn client_ip(headers: &HeaderMap, peer: SocketAddr, behind_proxy: bool) -> IpAddr {
    if behind_proxy {
        let forwarded = headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .and_then(|ip| ip.trim().parse().ok());
        if let Some(ip) = forwarded {
            return ip;
        }
    }
    peer.ip()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_forwarded_address_is_trusted_only_behind_a_proxy() {
        let peer: SocketAddr = "10.0.0.2:5000".parse().expect("addr");
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-forwarded-for",
            "203.0.113.9, 198.51.100.7".parse().expect("header"),
        );
        assert_eq!(client_ip(&headers, peer, false), peer.ip());
        assert_eq!(
            client_ip(&headers, peer, true),
            "198.51.100.7".parse::<IpAddr>().expect("ip")
        );
    }
}
