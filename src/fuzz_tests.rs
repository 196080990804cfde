//! Property tests over every parser the edge exposes (issue 6, hostile input): arbitrary
//! strings and arbitrary JSON must yield a value or a 4xx `ApiError`, never a panic.

use std::sync::OnceLock;

use proptest::prelude::*;
use serde_json::{json, Value};

use crate::admin::{query, tenants};
use crate::model;
use crate::providers::{EdgeRequest, Settings, REGISTRY};
use crate::{routes, secrets, targets};

/// The seed corpus: every registered provider's fixtures (`Spec::fixtures`) and the admin
/// API's. Each fuzz case replaces or removes a few of a seed's fields.
fn seeds() -> &'static [&'static str] {
    static SEEDS: OnceLock<Vec<&'static str>> = OnceLock::new();
    SEEDS.get_or_init(|| {
        let mut v: Vec<&'static str> = REGISTRY
            .iter()
            .flat_map(|p| p.fixtures)
            .filter(|f| !f.body.is_empty())
            .map(|f| f.body)
            .collect();
        v.push(include_str!("../fixtures/result.completed.json"));
        v.push(include_str!("../fixtures/packages.json"));
        v.push(include_str!("../fixtures/packages.kinds.json"));
        v
    })
}

/// Every object key and string leaf of the seeds: the field names and value shapes the
/// parsers look at.
fn seed_words() -> &'static (Vec<String>, Vec<String>) {
    static WORDS: OnceLock<(Vec<String>, Vec<String>)> = OnceLock::new();
    WORDS.get_or_init(|| {
        fn walk(v: &Value, keys: &mut Vec<String>, strings: &mut Vec<String>) {
            match v {
                Value::Object(m) => {
                    for (k, child) in m {
                        keys.push(k.clone());
                        walk(child, keys, strings);
                    }
                }
                Value::Array(a) => a.iter().for_each(|c| walk(c, keys, strings)),
                Value::String(s) => strings.push(s.clone()),
                _ => {}
            }
        }
        let (mut keys, mut strings) = (Vec::new(), Vec::new());
        for s in seeds() {
            walk(&serde_json::from_str(s).unwrap(), &mut keys, &mut strings);
        }
        for extra in [
            "a@b.c",
            "COMPLETED",
            "2026-11-01T10:00:00Z",
            "https://v.example/r",
        ] {
            strings.push(extra.to_string());
        }
        keys.sort();
        keys.dedup();
        strings.sort();
        strings.dedup();
        (keys, strings)
    })
}

fn arb_json() -> impl Strategy<Value = Value> {
    let (keys, strings) = seed_words();
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| json!(f)),
        ".{0,40}".prop_map(Value::String),
        // Strings shaped like the fields the parsers look at.
        prop::sample::select(strings.clone()).prop_map(Value::String),
    ];
    let keys = keys.clone();
    leaf.prop_recursive(4, 64, 8, move |inner| {
        let keys = prop_oneof![prop::sample::select(keys.clone()), "[a-z_]{1,12}",];
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(keys, inner, 0..8)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn is_client_error(e: &crate::error::ApiError) -> bool {
    (400..500).contains(&e.status)
}

/// Run every registered operation's parser that reads a body or a query on `body` / `query`,
/// with and without `ALLOW_INSECURE_TARGETS`.
fn provider_parses(body: &[u8], query: Option<&str>) -> Vec<crate::error::ApiResult<()>> {
    let settings = Settings::default();
    let mut out = Vec::new();
    for spec in REGISTRY {
        for op in spec.operations {
            for allow_insecure in [false, true] {
                let req = EdgeRequest {
                    tenant: "acme",
                    body,
                    query,
                    headers: &[],
                    allow_insecure,
                    settings: &settings,
                };
                out.extend(op.handler.parse_only(&req));
            }
        }
    }
    out
}

fn paths(v: &Value, prefix: Vec<String>, out: &mut Vec<Vec<String>>) {
    let children: Vec<(String, &Value)> = match v {
        Value::Object(m) => m.iter().map(|(k, v)| (k.clone(), v)).collect(),
        Value::Array(a) => a
            .iter()
            .enumerate()
            .map(|(i, v)| (i.to_string(), v))
            .collect(),
        _ => return,
    };
    for (k, child) in children {
        let mut p = prefix.clone();
        p.push(k);
        out.push(p.clone());
        paths(child, p, out);
    }
}

fn set(v: &mut Value, path: &[String], new: Option<Value>) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut cur = v;
    for p in parents {
        cur = match cur {
            Value::Object(m) => match m.get_mut(p) {
                Some(c) => c,
                None => return,
            },
            Value::Array(a) => match p.parse::<usize>().ok().and_then(|i| a.get_mut(i)) {
                Some(c) => c,
                None => return,
            },
            _ => return,
        };
    }
    match (cur, new) {
        (Value::Object(m), Some(n)) => {
            m.insert(last.clone(), n);
        }
        (Value::Object(m), None) => {
            m.remove(last);
        }
        (Value::Array(a), Some(n)) => {
            if let Some(slot) = last.parse::<usize>().ok().and_then(|i| a.get_mut(i)) {
                *slot = n;
            }
        }
        _ => {}
    }
}

fn check_all(v: &Value) -> Result<(), TestCaseError> {
    let body = v.to_string();
    for r in provider_parses(body.as_bytes(), None).into_iter().chain([
        model::parse_result(v).map(|_| ()),
        tenants::parse_create(v, false).map(|_| ()),
        tenants::parse_patch(v, false).map(|_| ()),
    ]) {
        if let Err(e) = r {
            prop_assert!(is_client_error(&e), "{e}");
        }
    }
    let _ = model::parse_packages(v);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn fixture_mutations_never_panic(
        seed in 0..seeds().len(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), prop::option::of(arb_json())), 1..4),
    ) {
        let mut v: Value = serde_json::from_str(seeds()[seed]).unwrap();
        for (idx, new) in edits {
            let mut all = Vec::new();
            paths(&v, vec![], &mut all);
            if all.is_empty() { break; }
            let p = all[idx.index(all.len())].clone();
            set(&mut v, &p, new);
        }
        check_all(&v)?;
    }

    #[test]
    fn json_parsers_never_panic(v in arb_json()) {
        let body = v.to_string();
        for r in provider_parses(body.as_bytes(), None).into_iter().chain([
            model::parse_result(&v).map(|_| ()),
            tenants::parse_create(&v, false).map(|_| ()),
            tenants::parse_patch(&v, false).map(|_| ()),
        ]) {
            if let Err(e) = r {
                prop_assert!(is_client_error(&e), "{e}");
                prop_assert!(serde_json::from_str::<Value>(&e.body()).is_ok());
            }
        }
        let _ = model::parse_packages(&v);
    }

    #[test]
    fn string_parsers_never_panic(s in ".{0,200}") {
        let _ = secrets::basic_key(Some(&s));
        let _ = secrets::basic_candidates(Some(&s));
        let _ = secrets::bearer(Some(&s));
        let _ = model::parse_rfc3339(&s);
        let _ = targets::check_target(&s, false);
        // Every operation's parser on an arbitrary body and an arbitrary query string.
        for r in provider_parses(s.as_bytes(), Some(&s)) {
            if let Err(e) = r { prop_assert!(is_client_error(&e), "{e}"); }
        }
        let q = query::pairs(Some(&s));
        if let Err(e) = query::limit(&q) { prop_assert_eq!(e.status, 422); }
        if let Err(e) = query::cursor(&q) { prop_assert_eq!(e.status, 422); }
        let segs = routes::segments(&s);
        for m in [routes::Method::Get, routes::Method::Post, routes::Method::Other] {
            if let Err(e) = routes::match_admin(m, &segs) { prop_assert!(is_client_error(&e)); }
            if let Err(e) = routes::match_edge(m, &segs) { prop_assert!(is_client_error(&e)); }
            if let Err(e) = routes::match_partner(m, &segs) { prop_assert!(is_client_error(&e)); }
        }
    }

    #[test]
    fn basic_round_trip(user in "[ -~]{0,60}", pass in "[ -~]{0,60}") {
        use base64::Engine;
        let h = format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}")));
        let got = secrets::basic_key(Some(&h));
        // The key is the username when there is one, else the password.
        let expected = if !user.is_empty() && !user.contains(':') { Some(user.clone()) }
            else if user.is_empty() && !pass.is_empty() { Some(pass.clone()) } else { got.clone() };
        prop_assert_eq!(got, expected);
    }
}
