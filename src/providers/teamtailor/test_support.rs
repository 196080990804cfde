//! Test helpers shared by the Teamtailor modules' unit tests: tokens, signatures, fixtures.

use super::*;
pub use crate::providers::test_support::result;
use aes_gcm::aead::Aead;

pub const PARTNER_KEY: &str = "tt-partner-api-key-for-tests";

pub const HOOK_SECRET: &str = "tt-webhook-secret-for-tests";

pub fn b64(b: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

/// A compact HS256 JWS over `claims`.
pub fn jws(claims: &Value, key: &str) -> String {
    let h = b64(br#"{"alg":"HS256","typ":"JWT"}"#);
    let p = b64(claims.to_string().as_bytes());
    let mut mac = HmacSha256::new_from_slice(key.as_bytes()).unwrap();
    mac.update(format!("{h}.{p}").as_bytes());
    format!("{h}.{p}.{}", b64(&mac.finalize().into_bytes()))
}

/// A compact `dir`/`A256GCM` JWE of `plaintext`.
pub fn jwe(plaintext: &[u8], secret: &str) -> String {
    let h = b64(br#"{"alg":"dir","enc":"A256GCM"}"#);
    let iv = [7u8; 12];
    let cipher = <Aes256Gcm as aes_gcm::KeyInit>::new((&jwe_key(secret)).into());
    let sealed = cipher
        .encrypt(
            Nonce::from_slice(&iv),
            aes_gcm::aead::Payload {
                msg: plaintext,
                aad: h.as_bytes(),
            },
        )
        .unwrap();
    let (ct, tag) = sealed.split_at(sealed.len() - 16);
    format!("{h}..{}.{}.{}", b64(&iv), b64(ct), b64(tag))
}

pub const NO_CATALOGUE: Catalogue<'static> = Catalogue {
    packages: None,
    default_kind: crate::model::OrderKind::Assessment,
};

pub const SECRETS: TokenSecrets<'static> = TokenSecrets {
    partner_api_key: Some(PARTNER_KEY),
    webhook_secret: Some(HOOK_SECRET),
};

pub const KEY: &str = "tt_acme_0123456789abcdefghijklmnopqrstuvwxyzABCDEF";

pub const NOW: i64 = 1_793_527_200;

pub fn sign(t: i64, event_id: &str, secret: &str) -> String {
    let mut mac = HmacSha256::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{t}.{event_id}").as_bytes());
    crate::secrets::hex(&mac.finalize().into_bytes())
}

pub fn order_json() -> Value {
    serde_json::from_str(include_str!("../../../fixtures/teamtailor/webhook.json")).unwrap()
}

pub fn edge_request<'a>(
    query: Option<&'a str>,
    body: &'a [u8],
    headers: &'a [(String, String)],
    settings: &'a super::super::Settings,
) -> EdgeRequest<'a> {
    EdgeRequest {
        tenant: "acme",
        body,
        query,
        headers,
        allow_insecure: false,
        settings,
    }
}
