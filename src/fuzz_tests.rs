//! Property tests over every parser the edge exposes (issue 6, hostile input): arbitrary
//! strings and arbitrary JSON must yield a value or a 4xx `ApiError`, never a panic.

use proptest::prelude::*;
use serde_json::{json, Value};

use crate::admin::{query, tenants};
use crate::model;
use crate::providers::{ashby, greenhouse};
use crate::{routes, secrets, targets};

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| json!(f)),
        ".{0,40}".prop_map(Value::String),
        // Strings shaped like the fields the parsers look at.
        prop_oneof![
            Just("https://app.greenhouse.io/x/1"),
            Just("a@b.c"),
            Just("COMPLETED"),
            Just("2026-11-01T10:00:00Z"),
            Just("https://v.example/r")
        ]
        .prop_map(|s| Value::String(s.into())),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        let keys = prop_oneof![
            Just("id".to_string()),
            Just("url".to_string()),
            Just("candidate".to_string()),
            Just("email".to_string()),
            Just("partner_test_id".to_string()),
            Just("assessment_type_id".to_string()),
            Just("application".to_string()),
            Just("ashby_id".to_string()),
            Just("status".to_string()),
            Just("result_url".to_string()),
            Just("metadata".to_string()),
            Just("webhook".to_string()),
            Just("errors".to_string()),
            "[a-z_]{1,12}",
        ];
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

/// The committed fixtures are the seed corpus: each case replaces or removes a few of a
/// fixture's fields.
const SEEDS: [&str; 6] = [
    include_str!("../fixtures/greenhouse/send_test.json"),
    include_str!("../fixtures/greenhouse/response_error.json"),
    include_str!("../fixtures/ashby/assessment.start.json"),
    include_str!("../fixtures/result.completed.json"),
    include_str!("../fixtures/packages.json"),
    include_str!("../fixtures/packages.kinds.json"),
];

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
    for r in [
        greenhouse::parse_send_test(v, false).map(|_| ()),
        greenhouse::parse_response_error(v).map(|_| ()),
        ashby::parse_start(v).map(|_| ()),
        ashby::parse_cancel(v).map(|_| ()),
        model::parse_result(v).map(|_| ()),
        tenants::parse_create(v, false).map(|_| ()),
        tenants::parse_patch(v, false).map(|_| ()),
    ] {
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
        seed in 0..SEEDS.len(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), prop::option::of(arb_json())), 1..4),
    ) {
        let mut v: Value = serde_json::from_str(SEEDS[seed]).unwrap();
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
        for r in [
            greenhouse::parse_send_test(&v, false).map(|_| ()),
            greenhouse::parse_send_test(&v, true).map(|_| ()),
            greenhouse::parse_response_error(&v).map(|_| ()),
            ashby::parse_start(&v).map(|_| ()),
            ashby::parse_cancel(&v).map(|_| ()),
            model::parse_result(&v).map(|_| ()),
            tenants::parse_create(&v, false).map(|_| ()),
            tenants::parse_patch(&v, false).map(|_| ()),
        ] {
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
        let _ = targets::check_greenhouse_callback(&s, false);
        let _ = greenhouse::profile_ids(&s);
        let q = query::pairs(Some(&s));
        if let Err(e) = query::limit(&q) { prop_assert_eq!(e.status, 422); }
        if let Err(e) = query::cursor(&q) { prop_assert_eq!(e.status, 422); }
        let segs = routes::segments(&s);
        for m in [routes::Method::Get, routes::Method::Post, routes::Method::Other] {
            if let Err(e) = routes::match_admin(m, &segs) { prop_assert!(is_client_error(&e)); }
            if let Err(e) = routes::match_edge(m, &segs) { prop_assert!(is_client_error(&e)); }
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
