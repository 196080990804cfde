//! The optional `Teamtailor-Signature` of a webhook (its partner docs, "Webhooks"): an
//! HMAC-SHA256 over the timestamp and the partner event id, within five minutes.

use super::*;

/// Why a `Teamtailor-Signature` header was refused (a 401 that says what was wrong with the
/// signature, see [`SignatureError::refusal`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureError {
    /// No `t=` or no `v1=`, or not numbers/hex.
    Malformed,
    /// `t` is more than [`SIGNATURE_TOLERANCE_SECS`] from now.
    Stale,
    /// No `v1` value matches.
    Mismatch,
}

impl SignatureError {
    /// A stable snake_case word for logs.
    pub fn as_str(self) -> &'static str {
        match self {
            SignatureError::Malformed => "signature_malformed",
            SignatureError::Stale => "signature_stale",
            SignatureError::Mismatch => "signature_mismatch",
        }
    }

    /// The 401 for a refused signature: about the signature, never the key (the provider key
    /// was not what failed). Its challenge is the edge's (`Bearer`).
    pub fn refusal(self) -> ApiError {
        let why = match self {
            SignatureError::Malformed => {
                "The Teamtailor-Signature header is malformed: expected `t=<unix seconds>,v1=<hex HMAC-SHA256>`."
            }
            SignatureError::Stale => {
                "The Teamtailor-Signature timestamp is more than 5 minutes away from the bridge's clock."
            }
            SignatureError::Mismatch => {
                "The Teamtailor-Signature does not match this partner event: check the webhook secret (TEAMTAILOR_WEBHOOK_SECRET)."
            }
        };
        let mut e = ApiError::new(401, code::UNAUTHORIZED, why);
        e.challenge = Some(SPEC.edge_auth.challenge());
        e
    }
}

/// Verify `Teamtailor-Signature: t=<unix>,v1=<hex>[,v0=…]`: `v1` = hex HMAC-SHA256 keyed with
/// the webhook secret over `"<t>.<partner-event.id>"` (it covers the event id, not the body;
/// Teamtailor's "Webhook signatures" doc). `now_secs` is the current unix time; `t` must be
/// within five minutes of it. Any `v1` matching (compared in constant time) is enough; other
/// schemes are ignored.
pub fn verify_signature(
    header: &str,
    event_id: &str,
    webhook_secret: &str,
    now_secs: i64,
) -> Result<(), SignatureError> {
    let mut t: Option<i64> = None;
    let mut v1: Vec<Vec<u8>> = Vec::new();
    for part in header.split(',').map(str::trim) {
        if let Some(ts) = part.strip_prefix("t=") {
            t = Some(ts.trim().parse().map_err(|_| SignatureError::Malformed)?);
        } else if let Some(hex) = part.strip_prefix("v1=") {
            v1.push(unhex(hex.trim()).ok_or(SignatureError::Malformed)?);
        }
    }
    let t = t.ok_or(SignatureError::Malformed)?;
    if v1.is_empty() {
        return Err(SignatureError::Malformed);
    }
    if now_secs.abs_diff(t) > SIGNATURE_TOLERANCE_SECS as u64 {
        return Err(SignatureError::Stale);
    }
    let mut mac = HmacSha256::new_from_slice(webhook_secret.as_bytes())
        .map_err(|_| SignatureError::Mismatch)?;
    mac.update(format!("{t}.{event_id}").as_bytes());
    let expected = mac.finalize().into_bytes();
    let matches = v1.iter().any(|sig| {
        sig.len() == expected.len() && subtle::ConstantTimeEq::ct_eq(&sig[..], &expected[..]).into()
    });
    matches.then_some(()).ok_or(SignatureError::Mismatch)
}

pub(super) fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) || s.len() > 128 {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::teamtailor::test_support::*;

    #[test]
    fn signatures_cover_the_event_id_within_five_minutes() {
        let ev = "f0e1d2c3-0000-4000-8000-000000000001";
        let v1 = sign(NOW, ev, HOOK_SECRET);
        let ok = format!("t={NOW},v1={v1}");
        assert_eq!(verify_signature(&ok, ev, HOOK_SECRET, NOW), Ok(()));
        assert_eq!(verify_signature(&ok, ev, HOOK_SECRET, NOW + 300), Ok(()));
        // The documented layout: line breaks after commas, an older scheme beside it.
        let spaced = format!("t={NOW},\n  v1={v1},\n  v0=00ff");
        assert_eq!(
            verify_signature(&spaced, ev, HOOK_SECRET, NOW - 299),
            Ok(())
        );
        assert_eq!(
            verify_signature(&ok, ev, HOOK_SECRET, NOW + 301),
            Err(SignatureError::Stale)
        );
        assert_eq!(
            verify_signature(&ok, "another-event", HOOK_SECRET, NOW),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify_signature(&ok, ev, "another-secret", NOW),
            Err(SignatureError::Mismatch)
        );
        let only_v0 = format!("t={NOW},v0={v1}");
        for bad in [only_v0.as_str(), "", "v1=00", "t=abc,v1=00", "t=1,v1=zz"] {
            assert_eq!(
                verify_signature(bad, ev, HOOK_SECRET, NOW),
                Err(SignatureError::Malformed),
                "{bad}"
            );
        }
    }

    #[test]
    fn the_webhook_checks_a_signature_when_one_is_sent() {
        let body = include_bytes!("../../../fixtures/teamtailor/webhook.json");
        let event_id = order_json()["partner-event"]["id"]
            .as_str()
            .unwrap()
            .to_string();
        let mut settings = crate::providers::Settings::default();
        settings
            .0
            .insert(WEBHOOK_SECRET.into(), "hook-secret".into());
        let now = unix_now_secs();
        let good = vec![(
            SIGNATURE_HEADER.to_string(),
            format!("t={now},v1={}", sign(now, &event_id, "hook-secret")),
        )];
        let order = parse_webhook(&edge_request(None, body, &good, &settings)).unwrap();
        assert_eq!(
            order.idempotency_key,
            "c4f8a2d6-1e3b-4a57-9c80-6d2e5f1a7b93"
        );
        let bad = vec![(
            SIGNATURE_HEADER.to_string(),
            format!("t={now},v1={}", sign(now, &event_id, "other")),
        )];
        let e = parse_webhook(&edge_request(None, body, &bad, &settings))
            .err()
            .unwrap();
        assert_eq!(e.status, 401);
        assert!(e.message.contains("Teamtailor-Signature"), "{}", e.message);
        assert!(!e.message.contains("API key"), "{}", e.message);
        assert_eq!(e.challenge, Some("Bearer realm=\"ats-bridge\""));
        for (header, word) in [
            ("t=1,v1=zz".to_string(), "malformed"),
            (
                format!(
                    "t={},v1={}",
                    now - 301,
                    sign(now - 301, &event_id, "hook-secret")
                ),
                "5 minutes",
            ),
            (
                format!("t={now},v1={}", sign(now, &event_id, "other")),
                "does not match",
            ),
        ] {
            let sig = vec![(SIGNATURE_HEADER.to_string(), header)];
            let e = parse_webhook(&edge_request(None, body, &sig, &settings))
                .err()
                .unwrap();
            assert_eq!((e.status, e.code), (401, "unauthorized"));
            assert!(e.message.contains(word), "{}", e.message);
        }
        // No signature: the provider key alone authenticates (signatures are optional).
        assert!(parse_webhook(&edge_request(None, body, &[], &settings)).is_ok());
        let e = parse_webhook(&edge_request(None, b"{nope", &[], &settings))
            .err()
            .unwrap();
        assert_eq!(e.status, 400);
    }
}
