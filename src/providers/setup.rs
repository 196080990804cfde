//! What the customer connect page (`/connect/…`, README "Connect links") tells a customer about
//! each ATS: the setup steps, the URLs to paste and the credentials the bridge needs back, and
//! how such a credential is checked with the ATS before it is stored.
//!
//! Sources: Greenhouse Assessment Partner API (the four partner URLs and the org API key sent as
//! Basic username); Ashby assessment partner API (partner base URL + partner-issued key; results
//! go back with the customer's Ashby API key, which needs the `candidatesWrite` permission, and
//! `POST /apiKey.info` answers `{"success":true}` for a valid key).

use serde_json::{Map, Value};

use crate::admin::tenants::{credential_change, credential_key, Change, TenantSecrets};
use crate::error::{ApiError, ApiResult};
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
    /// The JSON field name the page posts (`POST /connect/{tenant}/{token}/complete`): one of
    /// the provider's secret `credentials`, or `<credential>.<part>` for a part of an
    /// object-valued one (`harvest.client_id`).
    pub name: &'static str,
    pub label: &'static str,
    pub help: &'static str,
    /// Shown masked (a password field).
    pub secret: bool,
    /// May be left empty (the page can be completed without it).
    pub optional: bool,
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

/// An outbound request that checks a credential with the ATS: `POST {url}` with
/// `Authorization: {authorization}` and a body of `content_type`, and what the ATS's answer
/// means.
#[derive(Debug, Clone)]
pub struct CredentialCheck {
    pub url: String,
    pub authorization: String,
    pub content_type: &'static str,
    pub body: String,
    /// The answer's status (None: no answer) and body → accepted, or a sentence for the
    /// customer saying why not (each ATS reads its own answers).
    pub accept: fn(Option<u16>, &str) -> Result<(), String>,
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

/// The page's fields as the provider's credentials: plain fields as they are, the parts of an
/// object-valued credential (`harvest.client_id`, …) joined into its stored JSON and checked
/// like `PATCH /v1/tenants/{t}` checks it (422 naming the missing part).
pub fn assemble(
    provider: Provider,
    fields: Vec<(&'static str, String)>,
) -> ApiResult<Vec<(&'static str, String)>> {
    let mut out = Vec::new();
    let mut objects: Vec<(&'static str, Map<String, Value>)> = Vec::new();
    for (name, value) in fields {
        match name.split_once('.') {
            None => out.push((name, value)),
            Some((cred, part)) => {
                let Some(f) = provider.spec().credentials.iter().find(|f| f.name == cred) else {
                    continue;
                };
                match objects.iter_mut().find(|(n, _)| *n == f.name) {
                    Some((_, m)) => {
                        m.insert(part.into(), Value::String(value));
                    }
                    None => objects.push((f.name, Map::from_iter([(part.into(), value.into())]))),
                }
            }
        }
    }
    for (name, m) in objects {
        let f = provider
            .spec()
            .credentials
            .iter()
            .find(|f| f.name == name)
            .ok_or_else(ApiError::internal)?;
        let path = format!("{}.{}", provider.as_str(), f.name);
        if let Change::Set(v) = credential_change(f, Some(&Value::Object(m)), &path)? {
            out.push((f.name, v));
        }
    }
    Ok(out)
}

/// Store the customer's credentials in the tenant's secrets, where the provider's credential
/// fields of the same name are kept (`Spec::credentials`, docs/contract.md "Admin API").
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
            // A page that needs nothing it cannot do without says so in a note.
            assert!(
                g.fields.iter().all(|f| f.optional) == g.note.is_some(),
                "{}",
                g.display_name
            );
            // What the page asks for is one of the provider's secret credential fields (or a
            // part of one), so `store` keeps it where `PATCH /v1/tenants/{t}` would.
            for f in g.fields {
                let (cred, part) = match f.name.split_once('.') {
                    Some((c, part)) => (c, Some(part)),
                    None => (f.name, None),
                };
                assert!(
                    p.spec().credentials.iter().any(|c| c.name == cred
                        && c.secret
                        && part.is_none() == c.parts.is_empty()
                        && part.is_none_or(|part| c.parts.iter().any(|x| x.name == part))),
                    "{}: {}",
                    g.display_name,
                    f.name
                );
            }
        }
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
