//! What the customer connect page (`/connect/…`, README "Connect links") tells a customer about
//! each ATS: the setup steps, the URLs to paste and the credentials the bridge needs back, and
//! how such a credential is checked with the ATS before it is stored.
//!
//! Sources: Greenhouse Assessment Partner API (the four partner URLs and the org API key sent as
//! Basic username); Ashby assessment partner API (partner base URL + partner-issued key; results
//! go back with the customer's Ashby API key, which needs the `candidatesWrite` permission, and
//! `POST /apiKey.info` answers `{"success":true}` for a valid key).

use serde_json::{json, Value};

use crate::admin::tenants::TenantSecrets;
use crate::model::Provider;

/// A URL the customer pastes into its ATS: a label and the path appended to the tenant's
/// `baseUrl` (empty: the base URL itself).
pub struct SetupUrl {
    pub label: &'static str,
    pub suffix: &'static str,
}

/// A credential the customer gives the bridge on the connect page.
pub struct CredentialField {
    /// The JSON field name the page posts (`POST /connect/{tenant}/{token}/complete`).
    pub name: &'static str,
    pub label: &'static str,
    pub help: &'static str,
}

/// The connect page's content for one ATS.
pub struct SetupGuide {
    pub display_name: &'static str,
    /// Steps in the ATS, in order; the URLs and the key are shown after the first step.
    pub steps: &'static [&'static str],
    pub urls: &'static [SetupUrl],
    /// Label of the issued key in the ATS's own settings.
    pub key_label: &'static str,
    pub fields: &'static [CredentialField],
    /// Said when the ATS needs nothing more from the customer yet.
    pub note: Option<&'static str>,
}

const GREENHOUSE: SetupGuide = SetupGuide {
    display_name: "Greenhouse",
    steps: &[
        "Sign in to Greenhouse Recruiting as a Site Admin and open the assessment integration for this vendor (Configure → Integrations).",
        "Paste each URL below into the field of the same name, and the API key into the API key field. Greenhouse sends the key with every call; keep it secret.",
        "Save. Greenhouse calls List tests at once: the tests you can send appear in the interview plan's test picker.",
    ],
    urls: &[
        SetupUrl { label: "List tests URL", suffix: "/list_tests" },
        SetupUrl { label: "Send test URL", suffix: "/send_test" },
        SetupUrl { label: "Test status URL", suffix: "/test_status" },
        SetupUrl { label: "Response error URL", suffix: "/response_error" },
    ],
    key_label: "API key",
    fields: &[],
    note: Some("Nothing else is needed from you: results reach Greenhouse with the vendor's partner credentials."),
};

const ASHBY: SetupGuide = SetupGuide {
    display_name: "Ashby",
    steps: &[
        "Sign in to Ashby as an admin and open Admin → Integrations, then this vendor's assessment integration.",
        "Paste the base URL and the API key below. Ashby calls the base URL with the key on every assessment.",
        "Create an Ashby API key for results (Admin → API Keys) with the Candidates write permission and paste it below, so scores and statuses reach Ashby.",
    ],
    urls: &[SetupUrl { label: "Base URL", suffix: "" }],
    key_label: "API key",
    fields: &[CredentialField {
        name: "api_key",
        label: "Ashby API key (Candidates write)",
        help: "Checked with Ashby before it is stored; never shown again.",
    }],
    note: None,
};

/// The setup guide for `provider`.
pub fn guide(provider: Provider) -> &'static SetupGuide {
    match provider {
        Provider::Greenhouse => &GREENHOUSE,
        Provider::Ashby => &ASHBY,
    }
}

/// An outbound request that checks a credential with the ATS: `POST {url}` with Basic auth
/// `base64("{basic_user}:")` and a JSON body.
#[derive(Debug, Clone, PartialEq)]
pub struct CredentialCheck {
    pub url: String,
    pub basic_user: String,
    pub body: Value,
}

/// How to check the credentials in `fields` (already validated as present), if the ATS allows
/// a check. `ashby_api_base` is the `ASHBY_API_BASE` variable.
pub fn credential_check(
    provider: Provider,
    fields: &[(&'static str, String)],
    ashby_api_base: &str,
) -> Option<CredentialCheck> {
    match provider {
        Provider::Greenhouse => None,
        Provider::Ashby => {
            let key = fields.iter().find(|(n, _)| *n == "api_key")?;
            Some(CredentialCheck {
                url: format!("{}/apiKey.info", ashby_api_base.trim_end_matches('/')),
                basic_user: key.1.clone(),
                body: json!({}),
            })
        }
    }
}

/// Whether the ATS accepted the credential, from its answer (`status` None: no answer).
/// Err is a sentence for the customer.
pub fn check_outcome(provider: Provider, status: Option<u16>, body: &str) -> Result<(), String> {
    let name = guide(provider).display_name;
    let v: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    match status {
        // Ashby answers many errors with HTTP 200 and `"success": false`.
        Some(200) if v["success"] == json!(true) => Ok(()),
        Some(401 | 403) => Err(format!("{name} did not accept this API key.")),
        Some(200) => Err(format!(
            "{name} did not accept this API key: {}",
            v["errorInfo"]["message"]
                .as_str()
                .or(v["errors"][0].as_str())
                .unwrap_or("no reason given")
        )),
        Some(s) => Err(format!("{name} answered HTTP {s}; try again in a minute.")),
        None => Err(format!(
            "{name} could not be reached; try again in a minute."
        )),
    }
}

/// Store the customer's credentials in the tenant's secrets.
pub fn store(provider: Provider, fields: Vec<(&'static str, String)>, s: &mut TenantSecrets) {
    for (name, value) in fields {
        if let (Provider::Ashby, "api_key") = (provider, name) {
            s.ashby_api_key = Some(value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_provider_has_a_guide_with_urls() {
        for p in Provider::ALL {
            let g = guide(p);
            assert!(!g.steps.is_empty());
            assert!(!g.urls.is_empty());
            assert!(
                g.fields.is_empty() == g.note.is_some(),
                "{}",
                g.display_name
            );
        }
    }

    #[test]
    fn ashby_key_check() {
        let c = credential_check(
            Provider::Ashby,
            &[("api_key", "k1".into())],
            "https://api.ashbyhq.com/",
        )
        .unwrap();
        assert_eq!(c.url, "https://api.ashbyhq.com/apiKey.info");
        assert_eq!(c.basic_user, "k1");
        assert_eq!(credential_check(Provider::Greenhouse, &[], "x"), None);
        assert!(check_outcome(
            Provider::Ashby,
            Some(200),
            r#"{"success":true,"results":{}}"#
        )
        .is_ok());
        let e = check_outcome(
            Provider::Ashby,
            Some(200),
            r#"{"success":false,"errorInfo":{"code":"x","message":"Key revoked"}}"#,
        )
        .unwrap_err();
        assert!(e.contains("Key revoked"), "{e}");
        assert!(check_outcome(Provider::Ashby, Some(401), "")
            .unwrap_err()
            .contains("did not accept"));
        assert!(check_outcome(Provider::Ashby, None, "")
            .unwrap_err()
            .contains("could not be reached"));
        assert!(check_outcome(Provider::Ashby, Some(500), "").is_err());
    }

    #[test]
    fn stores_the_ashby_key() {
        let mut s = TenantSecrets::default();
        store(Provider::Ashby, vec![("api_key", "k".into())], &mut s);
        assert_eq!(s.ashby_api_key.as_deref(), Some("k"));
    }
}
