//! How a presented credential becomes the tenant and key hashes the tenant object checks
//! (`providers::edge_credentials`, `providers::link_credentials`; docs/architecture.md "The URL
//! map"), on test-only specs of both surfaces.

use serde_json::Value;

use super::*;
use crate::routes::Method;

fn no_settings() -> &'static Settings {
    static S: std::sync::OnceLock<Settings> = std::sync::OnceLock::new();
    S.get_or_init(Settings::default)
}

fn bearer_keys(inbound: &Inbound) -> Vec<String> {
    crate::secrets::bearer(inbound.authorization)
        .map(|t| vec![t.to_string()])
        .unwrap_or_default()
}

fn no_write_back(_: &WriteBack) -> ApiResult<Vec<OutboundCall>> {
    Ok(vec![])
}

fn no_authorization(_: &CredentialSource) -> Option<String> {
    None
}

fn nothing(_: &EdgeRequest) -> ApiResult<Value> {
    Ok(Value::Null)
}

static NO_SETUP: super::setup::SetupGuide = super::setup::SetupGuide {
    display_name: "Partner Example",
    steps: &[],
    urls: &[],
    key_label: "key",
    fields: &[],
    note: None,
};

/// A partner-level provider that is not registered: the shape the next ATSs take.
static PARTNER: Spec = Spec {
    name: "partnerexample",
    title: "Partner Example",
    key_prefix: "px_",
    surface: Surface::PartnerLevel,
    operations: &[Operation {
        segment: "activation",
        method: Method::Get,
        handler: Handler::Activation {
            render: nothing,
            public: false,
        },
    }],
    error_shape: crate::error::ErrorShape::ErrorList,
    edge_auth: crate::error::EdgeAuth::Bearer,
    extract_keys: bearer_keys,
    forward_headers: &[],
    credentials: &[],
    settings: &[],
    authorization: no_authorization,
    authorization_header: "authorization",
    outbound_hosts: &[],
    call_headers: &[],
    call_answer: crate::delivery::attempt::answer_by_status,
    write_back: no_write_back,
    after_order: None,
    idempotency: Idempotency::KeyFreedWhenFinal,
    facts: Facts {
        result_fields: &[],
        limits: &[],
        status_mapping: &[],
        score: ScoreShape::Number,
        attachments: 0,
        final_result_changeable: true,
        metadata_levels: 0,
    },
    fixtures: &[],
    setup: &NO_SETUP,
    credential_check: super::setup::no_credential_check,
    read_api: None,
};

fn inbound<'a>(
    authorization: Option<&'a str>,
    header: &'a dyn Fn(&str) -> Option<String>,
) -> Inbound<'a> {
    Inbound {
        authorization,
        header,
        settings: no_settings(),
    }
}

#[test]
fn partner_level_keys_name_their_tenant() {
    let p = Provider::of(&PARTNER);
    let none = |_: &str| None;
    let key = p.new_key("acme");
    assert!(key.starts_with("px_acme."));
    let auth = format!("Bearer {key}");
    let (tenant, hashes) = edge_credentials(p, None, &inbound(Some(&auth), &none)).unwrap();
    assert_eq!(tenant, "acme");
    assert_eq!(hashes, vec![crate::secrets::hash_key(&key)]);
    assert_eq!(
        p.base_url("https://b.example", "acme"),
        "https://b.example/p/partnerexample"
    );

    // A key edited to name another tenant still goes there with ITS hash, which that tenant's
    // object does not hold: the object, not the key's text, decides.
    let forged = key.replacen("px_acme.", "px_other.", 1);
    let auth = format!("Bearer {forged}");
    let (tenant, hashes) = edge_credentials(p, None, &inbound(Some(&auth), &none)).unwrap();
    assert_eq!(tenant, "other");
    assert_eq!(hashes, vec![crate::secrets::hash_key(&forged)]);
    assert_ne!(hashes[0], crate::secrets::hash_key(&key));

    // Nothing usable: no header, another provider's prefix, a key without a tenant, a
    // malformed tenant, an over-long key, a path tenant on a partner-level route.
    let long = format!("Bearer px_{}.{}", "a".repeat(63), "A".repeat(120));
    for bad in [
        None,
        Some("Bearer".to_string()),
        Some(format!("Bearer {}", key.replacen("px_", "gx_", 1))),
        Some(format!(
            "Bearer {}",
            crate::secrets::new_provider_key("px_")
        )),
        Some(format!("Bearer px_ACME.{}", "A".repeat(43))),
        Some(long),
        Some(format!("Basic {key}")),
    ] {
        assert_eq!(
            edge_credentials(p, None, &inbound(bad.as_deref(), &none)),
            None,
            "{bad:?}"
        );
    }
    let auth = format!("Bearer {key}");
    assert_eq!(
        edge_credentials(p, Some("acme"), &inbound(Some(&auth), &none)),
        None
    );
}

/// A provider can read the key from anywhere in the request (its `extract_keys`); only
/// candidates naming the chosen tenant are forwarded.
#[test]
fn partner_level_candidates_are_filtered_to_one_tenant() {
    fn header_keys(inbound: &Inbound) -> Vec<String> {
        (inbound.header)("x-keys")
            .map(|h| h.split(',').map(str::to_string).collect())
            .unwrap_or_default()
    }
    static HEADER: Spec = Spec {
        extract_keys: header_keys,
        ..PARTNER_FIELDS
    };
    let p = Provider::of(&HEADER);
    let (a1, a2, b) = (p.new_key("acme"), p.new_key("acme"), p.new_key("beta"));
    let list = format!("junk,{a1},{b},{a2}");
    let header = move |n: &str| (n == "x-keys").then(|| list.clone());
    let (tenant, hashes) = edge_credentials(p, None, &inbound(None, &header)).unwrap();
    assert_eq!(tenant, "acme");
    assert_eq!(
        hashes,
        vec![crate::secrets::hash_key(&a1), crate::secrets::hash_key(&a2)]
    );
}

/// `PARTNER` as a value for struct-update syntax.
const PARTNER_FIELDS: Spec = Spec {
    name: "partnerheader",
    title: "Partner Header",
    key_prefix: "ph_",
    surface: Surface::PartnerLevel,
    operations: &[],
    error_shape: crate::error::ErrorShape::ErrorList,
    edge_auth: crate::error::EdgeAuth::Bearer,
    extract_keys: bearer_keys,
    forward_headers: &[],
    credentials: &[],
    settings: &[],
    authorization: no_authorization,
    authorization_header: "authorization",
    outbound_hosts: &[],
    call_headers: &[],
    call_answer: crate::delivery::attempt::answer_by_status,
    write_back: no_write_back,
    after_order: None,
    idempotency: Idempotency::KeyFreedWhenFinal,
    facts: Facts {
        result_fields: &[],
        limits: &[],
        status_mapping: &[],
        score: ScoreShape::Number,
        attachments: 0,
        final_result_changeable: true,
        metadata_levels: 0,
    },
    fixtures: &[],
    setup: &NO_SETUP,
    credential_check: super::setup::no_credential_check,
    read_api: None,
};

#[test]
fn tenant_scoped_keys_come_with_the_path_tenant() {
    for p in Provider::all().filter(|p| p.spec().surface == Surface::TenantScoped) {
        let none = |_: &str| None;
        let key = p.new_key("acme");
        let basic = |user: &str, pass: &str| {
            use base64::Engine;
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"))
            )
        };
        let auth = basic(&key, "");
        let (tenant, hashes) =
            edge_credentials(p, Some("acme"), &inbound(Some(&auth), &none)).unwrap();
        assert_eq!(tenant, "acme");
        assert_eq!(hashes, vec![crate::secrets::hash_key(&key)]);
        // The key in the password field works too; junk in the username is dropped.
        let auth = basic("junk", &key);
        let (_, hashes) = edge_credentials(p, Some("acme"), &inbound(Some(&auth), &none)).unwrap();
        assert_eq!(hashes, vec![crate::secrets::hash_key(&key)]);
        // The key names no tenant; the route must.
        assert_eq!(p.key_tenant(&key), None);
        assert_eq!(
            edge_credentials(p, None, &inbound(Some(&basic(&key, "")), &none)),
            None
        );
        let too_long = format!("{key}{}", "A".repeat(200));
        assert_eq!(
            edge_credentials(
                p,
                Some("acme"),
                &inbound(Some(&basic(&too_long, "")), &none)
            ),
            None
        );
        assert_eq!(
            edge_credentials(p, Some("acme"), &inbound(Some(&basic("xx_abc", "")), &none)),
            None
        );
    }
}

#[test]
fn cancel_link_tokens_name_their_tenant_and_travel_hashed() {
    let token = super::new_cancel_link_token("acme-co");
    assert!(token.starts_with("cl_acme-co."));
    let (tenant, hashes) = super::link_credentials(Some(&format!("token={token}"))).unwrap();
    assert_eq!(tenant, "acme-co");
    assert_eq!(hashes, vec![crate::secrets::hash_key(&token)]);
    assert_ne!(super::new_cancel_link_token("acme-co"), token, "random");
    for bad in [
        None,
        Some(""),
        Some("token="),
        Some("token=cl_acme-co.short"),
        Some("token=rc_acme-co.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
        Some("token=cl_ACME.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
        Some("other=cl_acme.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
    ] {
        assert_eq!(super::link_credentials(bad), None, "{bad:?}");
    }
    // Two tokens (even the right one twice) are not a link the bridge minted.
    for bad in [
        format!("token={token}&token={token}"),
        format!("token=cl_acme-co.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA&token={token}"),
    ] {
        let bad = Some(bad.as_str());
        assert_eq!(super::link_credentials(bad), None, "{bad:?}");
    }
    // No provider's key prefix may collide with the cancel-link prefix.
    for spec in REGISTRY {
        assert!(
            !super::CANCEL_LINK_PREFIX.starts_with(spec.key_prefix),
            "{}",
            spec.name
        );
    }
}
