//! Outbound target policy: which URLs the bridge may call (SPEC §2 `ALLOW_INSECURE_TARGETS`,
//! §6.1 Greenhouse callbacks). Checked when a URL is configured *and* again before a call,
//! so a forged order or a stale config can never point the bridge at an internal host.

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

/// A Greenhouse completion callback: `https://<host>.greenhouse.io/…` unless insecure targets
/// are allowed (then any target `check_target` accepts).
pub fn check_greenhouse_callback(raw: &str, allow_insecure: bool) -> Result<WebUrl, Refusal> {
    let url = check_target(raw, allow_insecure)?;
    if allow_insecure {
        return Ok(url);
    }
    let ok = matches!(url.host(), Some(Host::Domain(d)) if {
        let d = d.to_ascii_lowercase();
        d == "greenhouse.io" || d.ends_with(".greenhouse.io")
    });
    if ok && url.port().is_none() {
        Ok(url)
    } else {
        Err("must be an https://*.greenhouse.io URL".into())
    }
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
    fn greenhouse_callbacks() {
        let ok = "https://app.greenhouse.io/integrations/testing_partners/take_home_tests/1";
        assert!(check_greenhouse_callback(ok, false).is_ok());
        assert!(check_greenhouse_callback("https://app4.greenhouse.io/x", false).is_ok());
        assert!(check_greenhouse_callback("https://greenhouse.io.evil.com/x", false).is_err());
        assert!(check_greenhouse_callback("https://evilgreenhouse.io/x", false).is_err());
        assert!(check_greenhouse_callback("http://app.greenhouse.io/x", false).is_err());
        assert!(check_greenhouse_callback("https://app.greenhouse.io:8443/x", false).is_err());
        assert!(check_greenhouse_callback("http://127.0.0.1:1/x", true).is_ok());
    }
}
