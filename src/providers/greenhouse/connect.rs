//! What the connect page shows a Greenhouse customer and how it checks Harvest v3
//! credentials (README "Connect links", "Order enrichment").

use super::*;

/// What the connect page tells a customer (README "Connect links").
pub(crate) const SETUP: SetupGuide = SetupGuide {
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
    fields: &[
        ConnectField {
            name: "harvest.client_id",
            label: "Harvest v3 client ID (optional)",
            help: "Configure → Dev Center → API Credentials → Create new API credentials → Harvest V3 (OAuth). Grant the read scopes harvest:applications:list, harvest:jobs:list and harvest:users:list.",
            secret: false,
            optional: true,
        },
        ConnectField {
            name: "harvest.client_secret",
            label: "Harvest v3 client secret (optional)",
            help: "Shown by Greenhouse once, when the credentials are created. Checked with Greenhouse before it is stored; never shown again.",
            secret: true,
            optional: true,
        },
        ConnectField {
            name: "harvest.user_id",
            label: "Greenhouse user ID to act as (optional)",
            help: "The number at the end of the user's page address in Greenhouse (…/account/users/12345). Leave empty to use the credentials' own service user.",
            secret: false,
            optional: true,
        },
    ],
    note: Some("Results reach Greenhouse with the vendor's partner credentials. The Harvest v3 credentials are optional: with them, each order also carries its job, hiring team and requester."),
};

/// The connect page's check of Harvest v3 credentials: a client-credentials token request to
/// `HARVEST_TOKEN_URL` must answer an access token (README "Order enrichment").
pub(super) fn credential_check(
    fields: &[(&'static str, String)],
    settings: &Settings,
) -> Option<CredentialCheck> {
    let (_, json) = fields.iter().find(|(n, _)| *n == harvest::CREDENTIAL)?;
    let mut c = CredentialSource {
        settings: settings.clone(),
        ..Default::default()
    };
    c.values.insert(harvest::CREDENTIAL, json.clone());
    let h = HarvestCredentials::of(&c)?;
    // The page's own URL check (`targets::check_target`) applies; the host rule is the
    // enrichment's, checked again on every use.
    let t = harvest::token_check_request(&h, &c);
    Some(CredentialCheck {
        url: t.url,
        authorization: t.authorization,
        content_type: "application/x-www-form-urlencoded",
        body: t.form,
        accept: harvest::token_accepted,
    })
}
