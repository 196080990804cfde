//! What every registered provider must have (docs/adding-an-ats.md): a well-formed spec,
//! fixtures that parse for every operation that reads a request, OpenAPI paths for every
//! operation, and an integration test file; and how a presented credential becomes the
//! tenant and key hashes the tenant object checks.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value;

use super::*;
use crate::routes::{EdgeRoute, Method};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn registry_is_well_formed() {
    let mut names = BTreeSet::new();
    let mut prefixes: BTreeSet<&'static str> = BTreeSet::new();
    assert!(!REGISTRY.is_empty());
    for spec in REGISTRY {
        assert!(crate::model::is_valid_slug(spec.name), "{}", spec.name);
        assert!(names.insert(spec.name), "{} registered twice", spec.name);
        assert!(
            spec.key_prefix.ends_with('_')
                && spec.key_prefix[..spec.key_prefix.len() - 1]
                    .bytes()
                    .all(|b| b.is_ascii_lowercase()),
            "{}: key prefix `{}`",
            spec.name,
            spec.key_prefix
        );
        // No prefix may be a prefix of another: a key identifies its provider.
        for other in &prefixes {
            assert!(
                !other.starts_with(spec.key_prefix) && !spec.key_prefix.starts_with(other),
                "{}: prefix clashes with {other}",
                spec.name
            );
        }
        prefixes.insert(spec.key_prefix);
        assert!(!spec.operations.is_empty(), "{}", spec.name);
        let mut segments = BTreeSet::new();
        let mut orders = 0;
        for op in spec.operations {
            // A segment may serve several methods, each once.
            assert!(
                segments.insert((op.segment, op.method.as_str())),
                "{}/{}",
                spec.name,
                op.segment
            );
            assert!(op.method != Method::Other);
            let kind = op.handler.kind();
            assert!(
                [
                    "list_packages",
                    "order",
                    "status",
                    "cancel",
                    "report_error",
                    "config",
                    "activation"
                ]
                .contains(&kind.as_str()),
                "{}/{}",
                spec.name,
                op.segment
            );
            orders += usize::from(kind == OperationKind::Order);
        }
        assert!(orders <= 1, "{}: one order operation at most", spec.name);
        let mut fields = BTreeSet::new();
        for f in spec.credentials {
            assert!(fields.insert(f.name), "{}.{}", spec.name, f.name);
            assert!(f.max_len > 0);
        }
        let key = Provider::of(spec).new_key("acme");
        assert!(key.starts_with(spec.key_prefix));
        assert!(key.len() < crate::secrets::MAX_KEY_LEN);
        let statuses: BTreeSet<&str> = spec
            .facts
            .status_mapping
            .iter()
            .map(|(s, _)| s.as_str())
            .collect();
        assert_eq!(
            statuses.len(),
            crate::model::Status::ALL.len(),
            "{}: status mapping must cover every status",
            spec.name
        );
        assert!(!spec.facts.result_fields.is_empty(), "{}", spec.name);
        // Every field named is a field of the result body, once.
        let mut shown = BTreeSet::new();
        for (field, _) in spec.facts.result_fields {
            assert!(
                super::preflight::RESULT_FIELDS.contains(field),
                "{}: `{field}` is not a result field",
                spec.name
            );
            assert!(shown.insert(*field), "{}: `{field}` twice", spec.name);
        }
        assert!(shown.contains("status"), "{}", spec.name);
    }
}

#[test]
fn every_provider_has_fixtures_that_parse() {
    let settings = Settings::default();
    for spec in REGISTRY {
        let dir = root().join("fixtures").join(spec.name);
        assert!(dir.is_dir(), "{}: no fixtures/{}/", spec.name, spec.name);
        for f in spec.fixtures {
            let op = Provider::of(spec)
                .operation(f.operation)
                .unwrap_or_else(|| panic!("{}: fixture for unknown {}", spec.name, f.operation));
            if !f.body.is_empty() {
                serde_json::from_str::<Value>(f.body)
                    .unwrap_or_else(|e| panic!("{}/{}: {e}", spec.name, f.operation));
            }
            let req = EdgeRequest {
                tenant: "acme",
                body: f.body.as_bytes(),
                query: (!f.query.is_empty()).then_some(f.query),
                headers: &[],
                allow_insecure: false,
                settings: &settings,
            };
            if let Some(r) = op.handler.parse_only(&req) {
                r.unwrap_or_else(|e| panic!("{}/{}: fixture refused: {e}", spec.name, f.operation));
            }
        }
        for op in spec.operations {
            let has = spec.fixtures.iter().any(|f| f.operation == op.segment);
            assert!(
                has || (!op.takes_body() && op.handler.parse_only_reads_nothing()),
                "{}/{}: no fixture (a recorded request is the seed of its tests and fuzzing)",
                spec.name,
                op.segment
            );
        }
        let test_file = root().join("tests").join(format!("{}.test.mjs", spec.name));
        assert!(
            test_file.is_file(),
            "{}: no integration test tests/{}.test.mjs",
            spec.name,
            spec.name
        );
    }
}

#[test]
fn every_operation_is_documented_in_openapi() {
    let doc: Value = serde_json::from_str(include_str!("../../openapi/openapi.json")).unwrap();
    for call in EdgeRoute::all() {
        let path = call.provider.template(call.op);
        let method = call.op.method.as_str().to_ascii_lowercase();
        assert!(
            doc["paths"][&path][&method].is_object(),
            "openapi/openapi.json lacks {} {path}",
            call.op.method.as_str()
        );
    }
}

// --- credential → tenant resolution -------------------------------------------------------

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
fn names_for_messages() {
    let names: Vec<&str> = Provider::all().map(|p| p.as_str()).collect();
    let plain = names_or(false);
    let quoted = names_or(true);
    for n in &names {
        assert!(plain.contains(n));
        assert!(quoted.contains(&format!("\"{n}\"")));
    }
    if names.len() >= 2 {
        assert!(plain.ends_with(&format!(" or {}", names[names.len() - 1])));
    }
}

#[test]
fn provider_values_round_trip_through_json() {
    for p in Provider::all() {
        let v = serde_json::to_value(p).unwrap();
        assert_eq!(v, Value::String(p.as_str().into()));
        assert_eq!(serde_json::from_value::<Provider>(v).unwrap(), p);
    }
    assert!(serde_json::from_value::<Provider>(Value::String("no-such-ats".into())).is_err());
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
    // No provider's key prefix may collide with the cancel-link prefix.
    for spec in REGISTRY {
        assert!(
            !super::CANCEL_LINK_PREFIX.starts_with(spec.key_prefix),
            "{}",
            spec.name
        );
    }
}

/// No source file outside `src/providers/` names a registered ATS (docs/adding-an-ats.md: a
/// provider is one place). Tests elsewhere reach providers through the registry.
#[test]
fn no_ats_is_named_outside_the_providers() {
    // Owned by the delivery-engine work this session; their comments still name ATSs.
    const PENDING: &[&str] = &["tenant/calls.rs", "delivery/attempt.rs"];
    fn sources(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                sources(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    let src = root().join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let mut named = Vec::new();
    for path in &files {
        let rel = path
            .strip_prefix(&src)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        if rel.starts_with("providers/") || PENDING.contains(&rel.as_str()) {
            continue;
        }
        let text = std::fs::read_to_string(path).unwrap().to_lowercase();
        for p in Provider::all() {
            if text.contains(p.as_str()) {
                named.push(format!("{rel} names {}", p.as_str()));
            }
        }
    }
    assert!(files.len() > 20, "{files:?}");
    assert!(named.is_empty(), "{named:#?}");
}
