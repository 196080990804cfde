//! Parsed absolute URLs (WHATWG URL Standard), for the outbound target policy, `result_url`
//! validation, ATS profile links and the request URLs the worker routes on.
//!
//! In the worker (wasm32) the runtime's own `URL` class parses: the same parser its `fetch`
//! uses, so a target is checked exactly as it will be called, and the `url` crate (with its
//! IDNA code and Unicode tables, ~75 kB of the gzipped wasm) is never linked. Host builds (unit
//! tests) parse with the `url` crate, which implements the same standard. Both fill the same
//! fields; everything above them (host classification, path segments, query pairs) is shared.
//! Where the two differ it is IDNA strictness: the runtime's parser accepts some
//! internationalized domain names the `url` crate refuses (e.g. labels breaking the Bidi rule);
//! such a host is always a domain, never an IP address, so the target policy treats it the same.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

/// A parsed URL: its serialization and the components the bridge reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebUrl {
    href: String,
    scheme: String,
    username: String,
    password: String,
    /// Serialized host: ASCII domain, dotted IPv4, `[IPv6]`, or empty when there is none.
    host: String,
    /// `None` when absent or the scheme's default (dropped by the parser).
    port: Option<u16>,
    path: String,
    query: Option<String>,
    origin: String,
}

/// The host of a URL, as the URL Standard's host parser classified it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Host<'a> {
    Domain(&'a str),
    Ipv4(Ipv4Addr),
    Ipv6(Ipv6Addr),
}

impl WebUrl {
    /// Parse an absolute URL; `None` where the URL Standard reports failure.
    pub fn parse(raw: &str) -> Option<WebUrl> {
        backend::parse(raw)
    }

    /// The serialization (`href`).
    pub fn as_str(&self) -> &str {
        &self.href
    }

    /// The scheme, lower case, without the `:`.
    pub fn scheme(&self) -> &str {
        &self.scheme
    }

    /// The percent-encoded username, empty when there is none.
    pub fn username(&self) -> &str {
        &self.username
    }

    /// The percent-encoded password; an empty one is not kept by the parser.
    pub fn password(&self) -> Option<&str> {
        (!self.password.is_empty()).then_some(self.password.as_str())
    }

    /// The host: a serialized IPv6 address is bracketed and a serialized IPv4 address is dotted
    /// decimal (the parser never lets a domain end in a number), anything else is a domain.
    pub fn host(&self) -> Option<Host<'_>> {
        let h = self.host.as_str();
        if h.is_empty() {
            None
        } else if let Some(v6) = h.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
            v6.parse().ok().map(Host::Ipv6)
        } else if let Ok(v4) = h.parse() {
            Some(Host::Ipv4(v4))
        } else {
            Some(Host::Domain(h))
        }
    }

    /// The port, `None` when absent or the scheme's default.
    pub fn port(&self) -> Option<u16> {
        self.port
    }

    /// The percent-encoded path.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// `/`-separated path segments; `None` for an opaque path (`mailto:…`).
    pub fn path_segments(&self) -> Option<std::str::Split<'_, char>> {
        self.path.strip_prefix('/').map(|p| p.split('/'))
    }

    /// The percent-encoded query without its `?`; `Some("")` for a bare `?`.
    pub fn query(&self) -> Option<&str> {
        self.query.as_deref()
    }

    /// Decoded `application/x-www-form-urlencoded` pairs of the query.
    pub fn query_pairs(&self) -> form_urlencoded::Parse<'_> {
        form_urlencoded::parse(self.query().unwrap_or("").as_bytes())
    }

    /// The ASCII serialization of the origin (`scheme://host[:port]`, or `null`).
    pub fn origin(&self) -> &str {
        &self.origin
    }
}

impl fmt::Display for WebUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.href)
    }
}

#[cfg(target_arch = "wasm32")]
mod backend {
    use super::WebUrl;

    pub fn parse(raw: &str) -> Option<WebUrl> {
        let u = web_sys::Url::new(raw).ok()?;
        let href = u.href();
        // `search` is "" for both no query and an empty one; the serialization tells them
        // apart: `#` and `?` appear percent-encoded everywhere before the query, so the first
        // `#` starts the fragment and the first `?` before it starts the query.
        let before_fragment = href.split('#').next().unwrap_or_default();
        let query = before_fragment.split_once('?').map(|(_, q)| q.to_string());
        let protocol = u.protocol();
        Some(WebUrl {
            scheme: protocol.strip_suffix(':').unwrap_or(&protocol).to_string(),
            username: u.username(),
            password: u.password(),
            host: u.hostname(),
            port: u.port().parse().ok(),
            path: u.pathname(),
            query,
            origin: u.origin(),
            href,
        })
    }
}

#[cfg(not(target_arch = "wasm32"))]
mod backend {
    use super::WebUrl;

    pub fn parse(raw: &str) -> Option<WebUrl> {
        let u = url::Url::parse(raw).ok()?;
        Some(WebUrl {
            href: u.as_str().to_string(),
            scheme: u.scheme().to_string(),
            username: u.username().to_string(),
            password: u.password().unwrap_or_default().to_string(),
            host: u.host_str().unwrap_or_default().to_string(),
            port: u.port(),
            path: u.path().to_string(),
            query: u.query().map(str::to_string),
            origin: u.origin().ascii_serialization(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> WebUrl {
        WebUrl::parse(s).unwrap_or_else(|| panic!("{s} should parse"))
    }

    #[test]
    fn components() {
        let u = p("HTTPS://User:Pw@Hooks.Example:8443/a/b%2F?x=1&y=%20#frag?");
        assert_eq!(
            u.as_str(),
            "https://User:Pw@hooks.example:8443/a/b%2F?x=1&y=%20#frag?"
        );
        assert_eq!(u.to_string(), u.as_str());
        assert_eq!(u.scheme(), "https");
        assert_eq!(u.username(), "User");
        assert_eq!(u.password(), Some("Pw"));
        assert_eq!(u.host(), Some(Host::Domain("hooks.example")));
        assert_eq!(u.port(), Some(8443));
        assert_eq!(u.path(), "/a/b%2F");
        assert_eq!(u.query(), Some("x=1&y=%20"));
        let pairs: Vec<_> = u.query_pairs().collect();
        assert_eq!(pairs.len(), 2);
        assert_eq!(pairs[1].1, " ");
        assert_eq!(u.origin(), "https://hooks.example:8443");
        assert_eq!(
            u.path_segments().map(|s| s.collect::<Vec<_>>()),
            Some(vec!["a", "b%2F"])
        );
    }

    #[test]
    fn defaults_and_empties() {
        let u = p("https://h.example:443");
        assert_eq!(u.as_str(), "https://h.example/");
        assert_eq!((u.port(), u.path(), u.query()), (None, "/", None));
        assert_eq!(u.origin(), "https://h.example");
        assert_eq!(p("https://h.example/?").query(), Some(""));
        assert_eq!(p("https://h.example/#?x").query(), None);
        assert_eq!(p("https://h.example/?a#b?c").query(), Some("a"));
        let u = p("https://:@h.example/");
        assert_eq!((u.username(), u.password()), ("", None));
        assert_eq!(p("https://u:@h.example/").password(), None);
        let m = p("mailto:someone@x.example?subject=hi");
        assert_eq!((m.host(), m.path_segments().is_none()), (None, true));
        assert_eq!(m.query(), Some("subject=hi"));
        assert_eq!(m.origin(), "null");
        assert!(WebUrl::parse("/relative").is_none());
        assert!(WebUrl::parse("not a url").is_none());
        assert!(WebUrl::parse("https://").is_none());
    }

    #[test]
    fn hosts() {
        let host = |s: &str| p(s).host().map(|h| format!("{h:?}"));
        assert_eq!(host("https://127.0.0.1/").unwrap(), "Ipv4(127.0.0.1)");
        // The URL Standard's IPv4 forms: hex, octal, fewer parts, one number.
        for s in [
            "https://0x7f.1/",
            "https://0177.0.0.1/",
            "https://2130706433/",
            "https://127.1/",
        ] {
            assert_eq!(host(s).unwrap(), "Ipv4(127.0.0.1)", "{s}");
        }
        assert_eq!(host("https://[::1]/").unwrap(), "Ipv6(::1)");
        assert_eq!(
            host("https://[::ffff:127.0.0.1]/").unwrap(),
            "Ipv6(::ffff:127.0.0.1)"
        );
        assert_eq!(
            host("https://1.2.3.4.example/").unwrap(),
            "Domain(\"1.2.3.4.example\")"
        );
        // Percent-decoded and IDNA-mapped (full-width letters and dots) before classification.
        assert_eq!(
            host("https://%6c%6fcalhost/").unwrap(),
            "Domain(\"localhost\")"
        );
        assert_eq!(
            host(
                "https://\u{ff4c}\u{ff4f}\u{ff43}\u{ff41}\u{ff4c}\u{ff48}\u{ff4f}\u{ff53}\u{ff54}/"
            )
            .unwrap(),
            "Domain(\"localhost\")"
        );
        assert_eq!(
            host(
                "https://\u{ff11}\u{ff12}\u{ff17}\u{ff0e}\u{ff10}\u{ff0e}\u{ff10}\u{ff0e}\u{ff11}/"
            )
            .unwrap(),
            "Ipv4(127.0.0.1)"
        );
        assert_eq!(
            host("https://b\u{fc}cher.example/").unwrap(),
            "Domain(\"xn--bcher-kva.example\")"
        );
        assert!(WebUrl::parse("https://1.2.3.256/").is_none());
        assert!(WebUrl::parse("https://a b.example/").is_none());
        assert!(WebUrl::parse("https://xn--a.example/").is_none());
    }
}
