//! What the customer connect page shows and checks for Ashby (README "Connect links"): the
//! setup guide and the API-key check against Ashby's `apiKey.info`.

use super::*;

/// What the connect page tells a customer (README "Connect links"); the results key is
/// checked with `POST /apiKey.info` before it is stored.
pub(crate) const SETUP: SetupGuide = SetupGuide {
    display_name: "Ashby",
    steps: &[
        "Sign in to Ashby as an admin and open Admin → Integrations, then this vendor's assessment integration.",
        "Paste the base URL and the API key below. Ashby calls the base URL with the key on every assessment.",
        "Create an Ashby API key for results (Admin → API Keys) with the Candidates write permission and paste it below, so scores and statuses reach Ashby.",
    ],
    urls: &[SetupUrl { label: "Base URL", suffix: "" }],
    key_label: "API key",
    fields: &[ConnectField {
        name: "api_key",
        label: "Ashby API key (Candidates write)",
        help: "Checked with Ashby before it is stored; never shown again.",
    }],
    note: None,
};

/// The connect page's check of a results key: `POST {ASHBY_API_BASE}/apiKey.info` with the
/// key as Basic username answers `{"success":true}` for a valid key.
pub(super) fn credential_check(
    fields: &[(&'static str, String)],
    settings: &Settings,
) -> Option<CredentialCheck> {
    let key = fields.iter().find(|(n, _)| *n == "api_key")?;
    let base = settings.get("ASHBY_API_BASE").unwrap_or_default();
    Some(CredentialCheck {
        url: format!("{}/apiKey.info", base.trim_end_matches('/')),
        basic_user: key.1.clone(),
        body: json!({}),
        accept: key_accepted,
    })
}

/// Whether Ashby accepted the key: Ashby answers many errors with HTTP 200 and
/// `"success": false` (`errorInfo.message`, or the older `errors[]`); 401/403 mean a missing,
/// wrong or under-privileged key. Err is a sentence for the customer.
pub(super) fn key_accepted(status: Option<u16>, body: &str) -> Result<(), String> {
    let v: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    match status {
        Some(200) if v["success"] == json!(true) => Ok(()),
        Some(401 | 403) => Err("Ashby did not accept this API key.".into()),
        Some(200) => Err(format!(
            "Ashby did not accept this API key: {}",
            v["errorInfo"]["message"]
                .as_str()
                .or(v["errors"][0].as_str())
                .unwrap_or("no reason given")
        )),
        Some(s) => Err(format!("Ashby answered HTTP {s}; try again in a minute.")),
        None => Err("Ashby could not be reached; try again in a minute.".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connect_page_key_check() {
        let settings = Settings(
            [(
                "ASHBY_API_BASE".to_string(),
                "https://api.ashbyhq.com/".to_string(),
            )]
            .into(),
        );
        let c = credential_check(&[("api_key", "k1".into())], &settings).unwrap();
        assert_eq!(c.url, "https://api.ashbyhq.com/apiKey.info");
        assert_eq!(c.basic_user, "k1");
        assert!(credential_check(&[], &settings).is_none());
        let accept = c.accept;
        assert!(accept(Some(200), r#"{"success":true,"results":{}}"#).is_ok());
        let e = accept(
            Some(200),
            r#"{"success":false,"errorInfo":{"code":"x","message":"Key revoked"}}"#,
        )
        .unwrap_err();
        assert!(e.contains("Key revoked"), "{e}");
        assert!(
            accept(Some(200), r#"{"success":false,"errors":["old form"]}"#)
                .unwrap_err()
                .contains("old form")
        );
        assert!(accept(Some(401), "")
            .unwrap_err()
            .contains("did not accept"));
        assert!(accept(None, "")
            .unwrap_err()
            .contains("could not be reached"));
        assert!(accept(Some(500), "").is_err());
    }
}
