//! What every registered provider must have (docs/adding-an-ats.md): a well-formed spec,
//! fixtures that parse for every operation that reads a request, OpenAPI paths for every
//! operation, and an integration test file; and that no other file names an ATS. How a
//! presented credential becomes a tenant is in `credential_tests.rs`.

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

/// No source file outside `src/providers/` names a registered ATS (docs/adding-an-ats.md: a
/// provider is one place). Tests elsewhere reach providers through the registry.
#[test]
fn no_ats_is_named_outside_the_providers() {
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
        if rel.starts_with("providers/") {
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
