//! What the customer connect page (`/connect/…`, README "Connect links") tells a customer about
//! each ATS: the setup steps, the URLs to paste and the credentials the bridge needs back, and
//! how such a credential is checked with the ATS before it is stored.
//!
//! Sources: Greenhouse Assessment Partner API (the four partner URLs and the org API key sent as
//! Basic username); Ashby assessment partner API (partner base URL + partner-issued key; results
//! go back with the customer's Ashby API key, which needs the `candidatesWrite` permission, and
//! `POST /apiKey.info` answers `{"success":true}` for a valid key).

use serde_json::{json, Value};

use crate::admin::tenants::{credential_key, TenantSecrets};
use crate::model::Provider;
use crate::providers::Settings;

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

/// The setup guide for `provider` (its `Spec::setup`).
pub fn guide(provider: Provider) -> &'static SetupGuide {
    provider.spec().setup
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
/// a check (its `Spec::credential_check`; `settings` are the deployment's).
pub fn credential_check(
    provider: Provider,
    fields: &[(&'static str, String)],
    settings: &Settings,
) -> Option<CredentialCheck> {
    (provider.spec().credential_check)(fields, settings)
}

/// `Spec::credential_check` of an ATS whose connect page asks for nothing to check.
pub fn no_credential_check(_: &[(&'static str, String)], _: &Settings) -> Option<CredentialCheck> {
    None
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

/// Store the customer's credentials in the tenant's secrets, where the provider's credential
/// fields of the same name are kept (`Spec::credentials`, README "Admin API").
pub fn store(provider: Provider, fields: Vec<(&'static str, String)>, s: &mut TenantSecrets) {
    for (name, value) in fields {
        if provider
            .spec()
            .credentials
            .iter()
            .any(|f| f.name == name && f.secret)
        {
            s.credentials
                .insert(credential_key(provider, name), Some(value));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ashby() -> Provider {
        Provider::parse("ashby").unwrap()
    }

    #[test]
    fn every_provider_has_a_guide_with_urls_to_paste_unless_partner_level() {
        for p in Provider::all() {
            let g = guide(p);
            assert!(!g.steps.is_empty());
            // Partner-level ATSs already hold the vendor's URLs: the customer pastes only a key.
            assert!(
                !g.urls.is_empty() || p.spec().surface == crate::providers::Surface::PartnerLevel,
                "{}",
                g.display_name
            );
            assert!(
                g.fields.is_empty() == g.note.is_some(),
                "{}",
                g.display_name
            );
        }
    }

    #[test]
    fn ashby_key_check() {
        let settings = Settings(
            [(
                "ASHBY_API_BASE".to_string(),
                "https://api.ashbyhq.com/".to_string(),
            )]
            .into(),
        );
        let c = credential_check(ashby(), &[("api_key", "k1".into())], &settings).unwrap();
        assert_eq!(c.url, "https://api.ashbyhq.com/apiKey.info");
        assert_eq!(c.basic_user, "k1");
        assert_eq!(
            credential_check(Provider::parse("greenhouse").unwrap(), &[], &settings),
            None
        );
        assert!(check_outcome(ashby(), Some(200), r#"{"success":true,"results":{}}"#).is_ok());
        let e = check_outcome(
            ashby(),
            Some(200),
            r#"{"success":false,"errorInfo":{"code":"x","message":"Key revoked"}}"#,
        )
        .unwrap_err();
        assert!(e.contains("Key revoked"), "{e}");
        assert!(check_outcome(ashby(), Some(401), "")
            .unwrap_err()
            .contains("did not accept"));
        assert!(check_outcome(ashby(), None, "")
            .unwrap_err()
            .contains("could not be reached"));
        assert!(check_outcome(ashby(), Some(500), "").is_err());
    }

    #[test]
    fn stores_the_ashby_key() {
        let mut s = TenantSecrets::default();
        store(ashby(), vec![("api_key", "k".into())], &mut s);
        assert_eq!(
            s.credentials.get("ashby_api_key"),
            Some(&Some("k".to_string()))
        );
    }
}
