//! Outbound target policy: which URLs the bridge may call (README "Configuration",
//! `ALLOW_INSECURE_TARGETS`). Checked when a URL is configured *and* again before a call,
//! so a forged order or a stale config can never point the bridge at an internal host. Each
//! provider declares the hosts its ATS's own URLs must be on (`Spec::outbound_hosts`, checked
//! with [`check_outbound`]).

use crate::weburl::{Host, WebUrl};
use std::net::{Ipv4Addr, Ipv6Addr};

/// Why a target was refused; rendered into a 422 message naming the field.
pub type Refusal = String;

/// A URL the bridge may `fetch`: `https` to a public host, or anything `http(s)` when
/// insecure targets are allowed (local development and tests only).
pub fn check_target(raw: &str, allow_insecure: bool) -> Result<WebUrl, Refusal> {
    if raw.len() > 2048 {
        return Err("must be at most 2048 characters".into());
    }
    let url = WebUrl::parse(raw).ok_or_else(|| "must be an absolute URL".to_string())?;
    match url.scheme() {
        "https" => {}
        "http" if allow_insecure => {}
        "http" => return Err("must use https".into()),
        // The refusal says what this deployment takes (README "Configuration",
        // `ALLOW_INSECURE_TARGETS`).
        _ if allow_insecure => return Err("must be an http or https URL".into()),
        _ => return Err("must be an https URL".into()),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not embed credentials".into());
    }
    let host = url.host().ok_or_else(|| "must have a host".to_string())?;
    if !allow_insecure {
        match host {
            Host::Domain(d) => {
                let d = d.trim_end_matches('.').to_ascii_lowercase();
                if d == "localhost"
                    || d.ends_with(".localhost")
                    || d.ends_with(".local")
                    || d.ends_with(".internal")
                    || !d.contains('.')
                {
                    return Err("must point to a public host".into());
                }
            }
            Host::Ipv4(ip) => {
                if !is_public_v4(ip) {
                    return Err(
                        "must not point to a private, loopback or link-local address".into(),
                    );
                }
            }
            Host::Ipv6(ip) => {
                if !is_public_v6(ip) {
                    return Err(
                        "must not point to a private, loopback or link-local address".into(),
                    );
                }
            }
        }
    }
    Ok(url)
}

/// A host the bridge may call for one ATS (when insecure targets are off).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AllowedHost {
    /// Exactly this host name (for ATSs with fixed API hosts).
    Exact(&'static str),
    /// Any subdomain of this domain, at any depth — never the domain itself (the apex) and
    /// never a name that merely ends with the same letters (`evilats.example` for `ats.example`).
    SubdomainOf(&'static str),
}

/// Does `host` (a domain name as URL parsing leaves it: lower-case, punycode) match one of
/// `rules`? A trailing dot is not stripped: `app.ats.example.` is refused, not guessed at.
pub fn host_allowed(host: &str, rules: &[AllowedHost]) -> bool {
    let host = host.to_ascii_lowercase();
    rules.iter().any(|rule| match rule {
        AllowedHost::Exact(h) => host == *h,
        AllowedHost::SubdomainOf(d) => host
            .strip_suffix(d)
            .and_then(|rest| rest.strip_suffix('.'))
            .is_some_and(|label| !label.is_empty() && !label.ends_with('.')),
    })
}

/// A URL on one ATS's own hosts: `check_target`, then (unless insecure targets are allowed,
/// when any target `check_target` accepts will do) a domain host matching `rules`, on the
/// default https port, with no query or fragment smuggled in. `what` completes the refusal:
/// "must be an https://<what> URL".
pub fn check_allowed_host(
    raw: &str,
    allow_insecure: bool,
    rules: &[AllowedHost],
    what: &str,
) -> Result<WebUrl, Refusal> {
    let url = check_target(raw, allow_insecure)?;
    if allow_insecure {
        return Ok(url);
    }
    let ok = matches!(url.host(), Some(Host::Domain(d)) if host_allowed(d, rules));
    if ok && url.port().is_none() {
        Ok(url)
    } else {
        Err(format!("must be an https://{what} URL"))
    }
}

/// A URL of an ATS whose own URLs must be on `hosts` (a provider's `Spec::outbound_hosts`):
/// [`check_allowed_host`] with the refusal naming the hosts (`<subdomain>.ats.example`), or
/// just [`check_target`] when `hosts` is empty (any public host).
pub fn check_outbound(
    raw: &str,
    allow_insecure: bool,
    hosts: &[AllowedHost],
) -> Result<WebUrl, Refusal> {
    if hosts.is_empty() {
        return check_target(raw, allow_insecure);
    }
    let what: Vec<String> = hosts
        .iter()
        .map(|h| match h {
            AllowedHost::Exact(h) => h.to_string(),
            AllowedHost::SubdomainOf(d) => format!("<subdomain>.{d}"),
        })
        .collect();
    check_allowed_host(raw, allow_insecure, hosts, &what.join(" or https://"))
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let o = ip.octets();
    !(ip.is_private()
        || ip.is_loopback()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_documentation()
        || ip.is_multicast()
        || o[0] == 0
        || (o[0] == 100 && (o[1] & 0xc0) == 64) // 100.64/10 carrier-grade NAT
        || (o[0] == 192 && o[1] == 0 && o[2] == 0) // 192.0.0/24 IETF
        || (o[0] == 198 && (o[1] & 0xfe) == 18) // 198.18/15 benchmarking
        || o[0] >= 240)
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_public_v4(v4);
    }
    let s = ip.segments();
    !(ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || (s[0] & 0xfe00) == 0xfc00 // unique local fc00::/7
        || (s[0] & 0xffc0) == 0xfe80 // link-local fe80::/10
        || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
        || (s[0] == 0 && s[1] == 0 && s[2] == 0 && s[3] == 0 && s[4] == 0 && s[5] == 0))
    // v4-compatible
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secure_policy() {
        assert!(check_target("https://hooks.vendor.example/x", false).is_ok());
        for bad in [
            "http://hooks.vendor.example/x",
            "ftp://x.example/",
            "https://localhost/x",
            "https://api.localhost/x",
            "https://127.0.0.1/x",
            "https://10.1.2.3/",
            "https://172.16.0.1/",
            "https://192.168.1.1/",
            "https://169.254.169.254/latest/meta-data",
            "https://100.64.0.1/",
            "https://0.0.0.0/",
            "https://[::1]/",
            "https://[fe80::1]/",
            "https://[fd00::1]/",
            "https://[::ffff:127.0.0.1]/",
            "https://user:pw@hooks.vendor.example/",
            "https://intranet/",
            "not a url",
            "/relative",
        ] {
            assert!(check_target(bad, false).is_err(), "{bad} should be refused");
        }
        assert!(check_target("https://8.8.8.8/", false).is_ok());
        assert!(check_target("https://[2606:4700::1111]/", false).is_ok());
    }

    #[test]
    fn hosts_are_judged_after_url_parsing() {
        // Alternative IPv4 forms, percent-encoding and IDNA mapping all reach the policy as
        // the host the request would actually go to.
        for bad in [
            "https://0x7f.1/",
            "https://2130706433/",
            "https://0177.0.0.1/",
            "https://%6c%6fcalhost/",
            "https://\u{ff4c}\u{ff4f}\u{ff43}\u{ff41}\u{ff4c}\u{ff48}\u{ff4f}\u{ff53}\u{ff54}/",
            "https://\u{ff11}\u{ff12}\u{ff17}\u{ff0e}\u{ff10}\u{ff0e}\u{ff10}\u{ff0e}\u{ff11}/",
            "https://[::ffff:7f00:1]/",
            "https://LOCALHOST./",
        ] {
            assert!(check_target(bad, false).is_err(), "{bad} should be refused");
        }
        assert_eq!(
            check_target("https://B\u{fc}cher.example/a b?q=\u{e4}", false)
                .unwrap()
                .to_string(),
            "https://xn--bcher-kva.example/a%20b?q=%C3%A4"
        );
    }

    #[test]
    fn insecure_policy_allows_loopback_http() {
        assert!(check_target("http://127.0.0.1:9999/hook", true).is_ok());
        assert!(check_target("ftp://127.0.0.1/", true).is_err());
    }

    #[test]
    fn a_refused_scheme_is_told_what_this_deployment_takes() {
        for raw in [
            "ftp://hooks.vendor.example/x",
            "ws://127.0.0.1/",
            "file:///etc/passwd",
        ] {
            assert_eq!(
                check_target(raw, true).unwrap_err(),
                "must be an http or https URL",
                "{raw}"
            );
            assert_eq!(
                check_target(raw, false).unwrap_err(),
                "must be an https URL",
                "{raw}"
            );
        }
        assert_eq!(
            check_target("http://hooks.vendor.example/x", false).unwrap_err(),
            "must use https"
        );
    }

    #[test]
    fn host_allowlists_refuse_lookalikes_apex_userinfo_ports_and_odd_forms() {
        const HOSTS: &[AllowedHost] = &[AllowedHost::SubdomainOf("ats.example")];
        let check = |u: &str| check_outbound(u, false, HOSTS);
        // Accepted: subdomains at any depth, whatever the case, with the default port spelled.
        for ok in [
            "https://app.ats.example/x",
            "https://app4.ats.example/x",
            "https://APP.Ats.EXAMPLE/x",
            "https://app.ats.example:443/x",
            "https://a.b.ats.example/x",
        ] {
            assert!(check(ok).is_ok(), "{ok} should be accepted");
        }
        for bad in [
            "https://ats.example/x",                 // apex
            "https://ATS.EXAMPLE/x",                 // apex, any case
            "https://ats.example.evil.com/x",        // lookalike suffix
            "https://app.ats.example.evil.com/x",    // lookalike suffix
            "https://evilats.example/x",             // same letters, other domain
            "https://app-ats.example/x",             // same letters, other domain
            "https://app.ats.example.:443/x",        // trailing dot
            "https://user@app.ats.example/x",        // userinfo
            "https://app.ats.example:pw@evil.com/x", // userinfo hiding the real host
            "https://evil.com\\@app.ats.example/x",  // backslash: the host is evil.com
            "https://evil.com#@app.ats.example/x",   // fragment: the host is evil.com
            "https://app.ats.example:8443/x",        // port
            "https://app.ats.example%2eevil.com/x",  // percent-encoded dot
            "https://app.\u{0430}ts.example/x",      // Cyrillic a (punycode host)
            "http://app.ats.example/x",              // not https
            "https://.ats.example/x",                // empty label
        ] {
            assert!(check(bad).is_err(), "{bad} should be refused");
        }
        assert!(check("https://ats.example/x")
            .unwrap_err()
            .contains("https://<subdomain>.ats.example"));
        // Insecure targets (local development and tests): loopback fakes pass.
        assert!(check("http://127.0.0.1:9/x").is_err());
        assert!(check_outbound("http://127.0.0.1:9/x", true, HOSTS).is_ok());
        // No hosts declared: any public target.
        assert!(check_outbound("https://hooks.vendor.example/x", false, &[]).is_ok());
        assert!(check_outbound("https://127.0.0.1/x", false, &[]).is_err());
        // Several declared hosts: the refusal names each.
        let two = [
            AllowedHost::SubdomainOf("a.example"),
            AllowedHost::Exact("api.b.example"),
        ];
        assert!(check_outbound("https://api.b.example/x", false, &two).is_ok());
        let why = check_outbound("https://x.b.example/x", false, &two).unwrap_err();
        assert!(
            why.contains("<subdomain>.a.example") && why.contains("api.b.example"),
            "{why}"
        );

        // The rule itself, on bare host names.
        let rules = [AllowedHost::Exact("api.ats.example")];
        assert!(host_allowed("api.ats.example", &rules));
        assert!(host_allowed("API.ATS.EXAMPLE", &rules));
        assert!(!host_allowed("x.api.ats.example", &rules));
        assert!(!host_allowed("api.ats.example.evil.com", &rules));
        assert!(!host_allowed("ats.example", &rules));
    }

    #[test]
    fn ssrf_policy_is_not_fooled_by_case_ports_or_userinfo() {
        for bad in [
            "https://LOCALHOST/x",
            "https://localhost:443/x",
            "https://foo.LOCAL/x",
            "https://metadata.google.internal/x",
            "https://127.0.0.1:8443/x",
            "https://[::ffff:10.0.0.1]/x",
            "https://evil.example@127.0.0.1/x",
            "https://127.0.0.1#@hooks.vendor.example/x",
            "https://0/x",
        ] {
            assert!(check_target(bad, false).is_err(), "{bad} should be refused");
        }
        // A public host may use any port; the fragment is not the host.
        assert!(check_target("https://hooks.vendor.example:8443/x", false).is_ok());
        assert!(check_target("https://hooks.vendor.example/x#@127.0.0.1", false).is_ok());
    }
}
