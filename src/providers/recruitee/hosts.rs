//! Where report calls may go: Recruitee's Partners API hosts (docs.recruitee.com, "Partners
//! API"), checked against lookalikes, the apex, userinfo, ports and case.

use super::*;
use crate::targets::{AllowedHost, Refusal};
use crate::weburl::WebUrl;

/// The hosts of Recruitee's Partners API (docs.recruitee.com, "Partners API"): production
/// (`https://integrations.recruitee.com/api`, the default `RECRUITEE_API_BASE`) and the
/// release-candidate stack (`https://integrations.rc.recruitee.dev/api`). Report calls go only
/// to exactly these hosts, on the default https port (unless insecure targets are allowed:
/// local development and tests point `RECRUITEE_API_BASE` at a loopback fake).
pub(super) const API_HOSTS: &[AllowedHost] = &[
    AllowedHost::Exact("integrations.recruitee.com"),
    AllowedHost::Exact("integrations.rc.recruitee.dev"),
];

/// A report URL built from `RECRUITEE_API_BASE`: `https://` on exactly one of Recruitee's API
/// hosts (`SPEC.outbound_hosts`: not the apex, not a lookalike or a subdomain of them), on the
/// default port, without userinfo, query or fragment. When insecure targets are allowed (local
/// development and tests only), any target `targets::check_target` accepts.
pub(super) fn check_report_url(raw: &str, allow_insecure: bool) -> Result<WebUrl, Refusal> {
    let url = targets::check_outbound(raw, allow_insecure, SPEC.outbound_hosts)?;
    if !allow_insecure && (url.query().is_some() || raw.contains('#')) {
        return Err(
            "must be an https://integrations.recruitee.com or https://integrations.rc.recruitee.dev URL without a query"
                .into(),
        );
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::*;

    #[test]
    fn report_urls_stay_on_recruitee_api_hosts() {
        let rc = |u: &str| check_report_url(u, false);
        let path = "/api/p/vendorco/reports/5f0c2a4e-8d1b-4c7a-9e3f-2b6d8a1c4e90";
        for host in [
            "integrations.recruitee.com",
            "integrations.rc.recruitee.dev",
            "Integrations.Recruitee.COM",
            "integrations.recruitee.com:443",
        ] {
            assert!(rc(&format!("https://{host}{path}")).is_ok(), "{host}");
        }
        for host in [
            "recruitee.com",                           // the apex
            "rc.recruitee.dev",                        // the RC stack's apex
            "api.recruitee.com",                       // another Recruitee host
            "x.integrations.recruitee.com",            // a subdomain of an exact host
            "integrations.recruitee.com.evil.example", // lookalikes
            "evilintegrations.recruitee.com",
            "integrations-recruitee.com",
            "integrations.recruitee.dev",
            "integrations.recruitee.com.",
            "k@integrations.recruitee.com", // userinfo
            "integrations.recruitee.com:x@evil.example",
            "integrations.recruitee.com:8443", // ports
            "integrations.recruitee.com:80",
            "127.0.0.1:9",
        ] {
            let url = format!("https://{host}{path}");
            assert!(rc(&url).is_err(), "{url} should be refused");
        }
        for bad in [
            format!("http://integrations.recruitee.com{path}"),
            format!("https://integrations.recruitee.com/api?x={path}"),
            format!("https://integrations.recruitee.com/api#{path}"),
        ] {
            assert!(rc(&bad).is_err(), "{bad} should be refused");
        }
        assert!(rc("https://recruitee.com/api").unwrap_err().contains(
            "https://integrations.recruitee.com or https://integrations.rc.recruitee.dev"
        ));
        // The default base is allowed; local development and tests: loopback fakes.
        let default = SPEC
            .settings
            .iter()
            .find(|s| s.env == "RECRUITEE_API_BASE")
            .and_then(|s| s.default)
            .unwrap();
        assert!(rc(&format!("{default}/p/vendorco/reports/x")).is_ok());
        assert!(check_report_url("http://127.0.0.1:9/api/p/v/reports/x", true).is_ok());
    }

    #[test]
    fn a_base_off_recruitees_hosts_is_refused_before_anything_is_stored() {
        let a = record("code-90", OrderKind::Assessment);
        for base in [
            "https://recruitee.com/api",
            "https://integrations.recruitee.com.evil.example/api",
            "https://integrations.recruitee.com:8443/api",
            "https://integrations.recruitee.com/api?x=1",
        ] {
            let c = creds(&[
                ("RECRUITEE_API_BASE", base),
                ("RECRUITEE_PARTNER_CODENAME", "vendorco"),
                ("RECRUITEE_PARTNER_SECRET", "s3cret"),
            ]);
            let e = write_back(&WriteBack {
                assessment_id: "ats_ass_1",
                record: &a,
                order_key: None,
                result: &result(Status::Completed),
                update_ts: 1_793_527_200_000,
                credentials: &c,
                allow_insecure: false,
            })
            .unwrap_err();
            assert_eq!((e.status, e.code), (422, "invalid_configuration"), "{base}");
            assert!(e.message.contains("RECRUITEE_API_BASE"), "{}", e.message);
        }
    }
}
