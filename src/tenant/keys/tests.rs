//! Host unit tests of the parent module's rules.

use super::*;
use serde_json::json;

fn row(provider: &str, hash: &str, previous: Option<(&str, i64)>) -> KeyRow {
    KeyRow {
        provider: provider.into(),
        hash: hash.into(),
        created_at: 0,
        previous_hash: previous.map(|(h, _)| h.into()),
        previous_until: previous.map(|(_, u)| u),
    }
}

fn hashes(h: &[&str]) -> Vec<String> {
    h.iter().map(|s| s.to_string()).collect()
}

#[test]
fn the_current_key_opens_its_providers_edge_only() {
    let rows = [row("a", "ha", None), row("b", "hb", None)];
    assert!(accepts(&rows, "a", &hashes(&["ha"]), 0));
    assert!(
        !accepts(&rows, "a", &hashes(&["hb"]), 0),
        "another provider's key"
    );
    assert!(
        !accepts(&rows, "c", &hashes(&["ha"]), 0),
        "a provider without a key"
    );
    assert!(!accepts(&rows, "a", &[], 0), "nothing presented");
    assert!(!accepts(&[], "a", &hashes(&["ha"]), 0), "no keys at all");
    // Any of several presented candidates may match (e.g. Basic username or password).
    assert!(accepts(&rows, "a", &hashes(&["nope", "ha"]), 0));
}

#[test]
fn two_rotations_inside_a_grace_period_keep_every_replaced_key_until_its_own_end() {
    // Key k0 is live; a rotation at t=0 with a day of grace, another at t=10.
    let r0 = row("a", "k0", None);
    let (prev, until) = rotated_previous(Some(&r0), Some(86_400_000), 0);
    let r1 = KeyRow {
        hash: "k1".into(),
        previous_hash: prev,
        previous_until: until,
        ..r0.clone()
    };
    assert!(accepts(
        std::slice::from_ref(&r1),
        "a",
        &hashes(&["k0"]),
        10
    ));
    let (prev, until) = rotated_previous(Some(&r1), Some(86_400_010), 10);
    let r2 = KeyRow {
        hash: "k2".into(),
        previous_hash: prev,
        previous_until: until,
        ..r1.clone()
    };
    assert_eq!(r2.previous_until, Some(86_400_010));
    for k in ["k0", "k1", "k2"] {
        assert!(
            accepts(std::slice::from_ref(&r2), "a", &hashes(&[k]), 20),
            "{k}"
        );
    }
    // Each replaced key ends at its own time: k0 a day after the first rotation.
    assert!(!accepts(
        std::slice::from_ref(&r2),
        "a",
        &hashes(&["k0"]),
        86_400_005
    ));
    assert!(accepts(
        std::slice::from_ref(&r2),
        "a",
        &hashes(&["k1"]),
        86_400_005
    ));
    assert!(!accepts(
        std::slice::from_ref(&r2),
        "a",
        &hashes(&["k1"]),
        86_400_010
    ));
    // At most KEPT_PREVIOUS are kept, newest first.
    let mut r = r2;
    for (i, k) in ["k3", "k4"].into_iter().enumerate() {
        let t = 20 + i as i64;
        let (prev, until) = rotated_previous(Some(&r), Some(86_400_000 + t), t);
        r = KeyRow {
            hash: k.into(),
            previous_hash: prev,
            previous_until: until,
            ..r
        };
    }
    assert_eq!(previous_entries(&r).len(), KEPT_PREVIOUS);
    assert!(!accepts(
        std::slice::from_ref(&r),
        "a",
        &hashes(&["k0"]),
        30
    ));
    assert!(accepts(std::slice::from_ref(&r), "a", &hashes(&["k1"]), 30));
    // A rotation without grace ends every replaced key at once.
    assert_eq!(rotated_previous(Some(&r), None, 40), (None, None));
    // An expired entry is not carried on.
    let (prev, _) = rotated_previous(Some(&r), Some(200_000_000), 100_000_000);
    assert_eq!(prev.as_deref(), Some("k4:200000000"));
}

#[test]
fn a_replaced_key_works_only_inside_its_grace_period() {
    let rows = [row("a", "new", Some(("old", 1_000)))];
    assert!(accepts(&rows, "a", &hashes(&["old"]), 999));
    assert!(
        !accepts(&rows, "a", &hashes(&["old"]), 1_000),
        "ends at previous_until"
    );
    assert!(!accepts(&rows, "a", &hashes(&["old"]), 5_000));
    assert!(
        accepts(&rows, "a", &hashes(&["new"]), 5_000),
        "the new key keeps working"
    );
    // A previous hash without an end time never counts.
    let open = [KeyRow {
        previous_until: None,
        ..row("a", "new", Some(("old", 0)))
    }];
    assert!(!accepts(&open, "a", &hashes(&["old"]), 0));
}

#[test]
fn a_rotation_keeps_the_old_key_only_with_grace_and_an_old_key() {
    assert_eq!(grace_until(true, 60, 1_000), Some(61_000));
    assert_eq!(grace_until(true, 0, 1_000), None, "no grace: dead at once");
    assert_eq!(grace_until(false, 60, 1_000), None, "nothing replaced");
    assert_eq!(
        grace_until(true, MAX_GRACE_SECS, 0),
        Some(7 * 86_400 * 1000)
    );
}

#[test]
fn key_requests_name_a_registered_provider_and_a_bounded_grace() {
    let p = Provider::all().next().unwrap();
    let name = p.as_str();
    assert_eq!(
        parse_key_request(&json!({ "provider": name })).unwrap(),
        (p, 0)
    );
    assert_eq!(
        parse_key_request(&json!({ "provider": name, "previous_key_ttl_seconds": null })).unwrap(),
        (p, 0)
    );
    assert_eq!(
        parse_key_request(&json!({ "provider": name, "previous_key_ttl_seconds": 604800 }))
            .unwrap(),
        (p, 604_800)
    );
    for (body, field) in [
        (json!({}), "provider"),
        (json!({ "provider": 3 }), "provider"),
        (json!({ "provider": "no-such-ats" }), "provider"),
        (
            json!({ "provider": name, "previous_key_ttl_seconds": 604801 }),
            "previous_key_ttl_seconds",
        ),
        (
            json!({ "provider": name, "previous_key_ttl_seconds": -1 }),
            "previous_key_ttl_seconds",
        ),
        (
            json!({ "provider": name, "previous_key_ttl_seconds": 1.5 }),
            "previous_key_ttl_seconds",
        ),
        (
            json!({ "provider": name, "previous_key_ttl_seconds": "60" }),
            "previous_key_ttl_seconds",
        ),
    ] {
        let e = parse_key_request(&body).unwrap_err();
        assert_eq!(
            (e.status, e.code),
            (422, crate::error::code::INVALID_FIELD),
            "{body}"
        );
        assert!(e.message.contains(field), "{body}: {}", e.message);
    }
    // Every registered provider can be asked for.
    for p in Provider::all() {
        assert_eq!(
            parse_key_request(&json!({ "provider": p.as_str() }))
                .unwrap()
                .0,
            p
        );
    }
}
