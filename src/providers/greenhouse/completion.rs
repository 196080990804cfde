//! The completion `PATCH` back to Greenhouse: partner credentials, the callback URL's hosts
//! and what Greenhouse's answer means (README "Results back to the ATS"; Greenhouse
//! Assessment Partner API docs, "Completion").

use super::*;

/// Partner credentials for the completion PATCH: the tenant's pair, else the deployment's
/// (`GREENHOUSE_PARTNER_USERNAME`/`_PASSWORD`), as HTTP Basic.
pub(super) fn authorization(c: &CredentialSource) -> Option<String> {
    let (user, password) = match (c.tenant("partner_username"), c.tenant("partner_password")) {
        (Some(u), Some(p)) => (u, p),
        _ => (
            c.setting("GREENHOUSE_PARTNER_USERNAME")?,
            c.setting("GREENHOUSE_PARTNER_PASSWORD")?,
        ),
    };
    Some(basic_authorization(user, password))
}

/// Only a COMPLETED result goes back: `PATCH {callback url}` with no body (README "Results back to
/// the ATS").
pub(super) fn write_back(w: &WriteBack) -> ApiResult<Vec<OutboundCall>> {
    if w.result.status != Status::Completed {
        return Ok(vec![]);
    }
    if authorization(w.credentials).is_none() {
        return Err(ApiError::new(
            422,
            "greenhouse_credentials_missing",
            "Greenhouse partner credentials are not configured: set greenhouse.partner_username and greenhouse.partner_password on the tenant, or GREENHOUSE_PARTNER_USERNAME/GREENHOUSE_PARTNER_PASSWORD on the deployment.",
        ));
    }
    let callback = w.record.callback_url.clone().unwrap_or_default();
    let url = check_callback(&callback, w.allow_insecure)
        .map_err(|why| ApiError::invalid_field("callbackUrl", &why))?;
    Ok(vec![OutboundCall {
        label: "Greenhouse completion PATCH",
        method: worker::Method::Patch,
        url: url.to_string(),
        body: None,
    }])
}

/// What Greenhouse's answer to the completion `PATCH` means. Its answer is only a status code
/// (Greenhouse Assessment Partner API docs, "Completion"): 2xx accepted, 429/5xx
/// retried, anything else (redirects included) final, with the answer's first 2 KB as the
/// message.
pub fn completion_answer(status: u16, body: &str, _complete: bool) -> ProviderAnswer {
    answer_from_status(status, body)
}

/// A completion callback: on Greenhouse's app hosts (`https://<subdomain>.greenhouse.io/…`,
/// `SPEC.outbound_hosts`; Greenhouse Assessment Partner API: the callback is on the
/// customer's Greenhouse subdomain), or any target when insecure targets are allowed.
pub(super) fn check_callback(
    raw: &str,
    allow_insecure: bool,
) -> Result<crate::weburl::WebUrl, Refusal> {
    targets::check_outbound(raw, allow_insecure, SPEC.outbound_hosts)
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::*;
    use crate::admin::tenants::{self, Change, Credentials};
    use crate::providers::Settings;

    #[test]
    fn completion_answers_are_status_codes() {
        assert_eq!(
            completion_answer(204, "", true),
            ProviderAnswer::Accepted { warnings: vec![] }
        );
        // Greenhouse's body means nothing on success, whatever it holds.
        assert_eq!(
            completion_answer(200, r#"{"success":false}"#, true),
            ProviderAnswer::Accepted { warnings: vec![] }
        );
        assert!(matches!(
            completion_answer(500, "", true),
            ProviderAnswer::Transient(_)
        ));
        assert!(matches!(
            completion_answer(429, "", true),
            ProviderAnswer::Transient(_)
        ));
        match completion_answer(403, "nope", true) {
            ProviderAnswer::Refused(f) => assert_eq!(f.message, "HTTP 403: nope"),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            completion_answer(302, "", true),
            ProviderAnswer::Refused(_)
        ));
    }

    #[test]
    fn partner_credentials_tenant_first_then_deployment() {
        let p = tenants::parse_patch(
            &json!({"greenhouse":{"partner_username":"u","partner_password":"p"}}),
            false,
        )
        .unwrap();
        assert!(p.touches_secrets());
        let (mut cfg, mut s) = tenant();
        tenants::apply_patch(&mut cfg, &mut s, p, 1);
        let v = tenants::view(&cfg, Some(&s), &[], "https://b.example", 0);
        assert_eq!(v["greenhouse"]["partner_username"], "u");
        assert_eq!(v["greenhouse"]["partner_password_set"], true);
        assert!(!v.to_string().contains("\"p\""));
        // Stored under the keys tenants created before the registry used.
        assert_eq!(
            serde_json::to_value(&cfg).unwrap()["greenhouse_partner_username"],
            "u"
        );
        assert_eq!(
            serde_json::to_value(&s).unwrap()["greenhouse_partner_password"],
            "p"
        );
        let deployment = Settings(
            [
                ("GREENHOUSE_PARTNER_USERNAME".to_string(), "du".to_string()),
                ("GREENHOUSE_PARTNER_PASSWORD".to_string(), "dp".to_string()),
            ]
            .into(),
        );
        let creds = Credentials::resolve(&cfg, &s, &deployment);
        assert_eq!(
            creds.authorization(gh()),
            Some(basic_authorization("u", "p"))
        );
        assert_eq!(basic_authorization("u", "p"), "Basic dTpw");

        let clear =
            tenants::parse_patch(&json!({"greenhouse":{"partner_password":null}}), false).unwrap();
        assert_eq!(
            clear.credential("greenhouse", "partner_password"),
            &Change::Clear
        );
        tenants::apply_patch(&mut cfg, &mut s, clear, 2);
        let creds = Credentials::resolve(&cfg, &s, &deployment);
        assert_eq!(
            creds.authorization(gh()),
            Some(basic_authorization("du", "dp"))
        );
        let creds = Credentials::resolve(&cfg, &s, &Settings::default());
        assert_eq!(creds.authorization(gh()), None);
    }

    #[test]
    fn only_completed_results_patch_the_callback() {
        let v = order_json();
        let a = normalize(
            &parse_send_test(&v, false).unwrap(),
            "ats_ass_1",
            "acme",
            Catalogue::default(),
            v,
        );
        let mut creds = crate::providers::CredentialSource::default();
        let wb = |r: &ResultUpdate, c: &crate::providers::CredentialSource| {
            write_back(&WriteBack {
                assessment_id: "ats_ass_1",
                record: &a,
                order_key: None,
                result: r,
                update_ts: 5,
                credentials: c,
                allow_insecure: false,
            })
        };
        assert_eq!(wb(&result(Status::InProgress), &creds), Ok(vec![]));
        let e = wb(&result(Status::Completed), &creds).unwrap_err();
        assert_eq!((e.status, e.code), (422, "greenhouse_credentials_missing"));
        creds.values.insert("partner_username", "u".into());
        creds.values.insert("partner_password", "p".into());
        let calls = wb(&result(Status::Completed), &creds).unwrap();
        assert_eq!(
            calls,
            vec![OutboundCall {
                label: "Greenhouse completion PATCH",
                method: worker::Method::Patch,
                url:
                    "https://app.greenhouse.io/integrations/testing_partners/take_home_tests/12345"
                        .into(),
                body: None,
            }]
        );
    }

    proptest::proptest! {
        #[test]
        fn url_parsers_never_panic(s in ".{0,200}") {
            let _ = check_callback(&s, false);
            let _ = profile_ids(&s);
        }
    }

    #[test]
    fn callback_hosts_refuse_lookalikes_apex_userinfo_ports_and_odd_forms() {
        let gh = |u: &str| check_callback(u, false);
        // Accepted: Greenhouse's app hosts, whatever the case, with the default port spelled.
        for ok in [
            "https://app.greenhouse.io/x",
            "https://app4.greenhouse.io/x",
            "https://APP.GreenHouse.IO/x",
            "https://app.greenhouse.io:443/x",
            "https://a.b.greenhouse.io/x",
        ] {
            assert!(gh(ok).is_ok(), "{ok} should be accepted");
        }
        for bad in [
            "https://greenhouse.io/x",                 // apex
            "https://GREENHOUSE.IO/x",                 // apex, any case
            "https://greenhouse.io.evil.com/x",        // lookalike suffix
            "https://app.greenhouse.io.evil.com/x",    // lookalike suffix
            "https://evilgreenhouse.io/x",             // same letters, other domain
            "https://app-greenhouse.io/x",             // same letters, other domain
            "https://app.greenhouse.io.:443/x",        // trailing dot
            "https://user@app.greenhouse.io/x",        // userinfo
            "https://app.greenhouse.io:pw@evil.com/x", // userinfo hiding the real host
            "https://evil.com\\@app.greenhouse.io/x",  // backslash: the host is evil.com
            "https://evil.com#@app.greenhouse.io/x",   // fragment: the host is evil.com
            "https://app.greenhouse.io:8443/x",        // port
            "https://app.greenhouse.io%2eevil.com/x",  // percent-encoded dot
            "https://app.greenh\u{043e}use.io/x",      // Cyrillic o (punycode host)
            "http://app.greenhouse.io/x",              // not https
            "https://.greenhouse.io/x",                // empty label
        ] {
            assert!(gh(bad).is_err(), "{bad} should be refused");
        }
        assert!(gh("https://greenhouse.io/x")
            .unwrap_err()
            .contains("<subdomain>.greenhouse.io"));
    }

    #[test]
    fn greenhouse_callbacks() {
        let ok = "https://app.greenhouse.io/integrations/testing_partners/take_home_tests/1";
        assert!(check_callback(ok, false).is_ok());
        assert!(check_callback("https://app4.greenhouse.io/x", false).is_ok());
        assert!(check_callback("https://greenhouse.io.evil.com/x", false).is_err());
        assert!(check_callback("https://evilgreenhouse.io/x", false).is_err());
        assert!(check_callback("http://app.greenhouse.io/x", false).is_err());
        assert!(check_callback("https://app.greenhouse.io:8443/x", false).is_err());
        assert!(check_callback("http://127.0.0.1:1/x", true).is_ok());
    }
}
