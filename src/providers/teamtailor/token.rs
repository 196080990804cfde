//! The bearer token Teamtailor sends (its partner docs, "Authentication"): a JWS signed with
//! the partner API key (HS256) or a JWE (`dir`, `A256GCM`) keyed from the webhook secret,
//! carrying the customer's `tt_…` key.

use super::*;

/// Longest bearer token looked at; Teamtailor's tokens carry one short form value.
pub(super) const MAX_TOKEN_LEN: usize = 8 * 1024;

/// Base64url as JOSE uses it (RFC 7515 §2), tolerating padding some encoders add.
pub(super) const B64URL: GeneralPurpose = GeneralPurpose::new(
    &URL_SAFE,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// The deployment secrets that open provider-key tokens (README "Configuration"):
/// `TEAMTAILOR_PARTNER_API_KEY` verifies JWS, `TEAMTAILOR_WEBHOOK_SECRET` decrypts JWE.
#[derive(Debug, Clone, Copy, Default)]
pub struct TokenSecrets<'a> {
    pub partner_api_key: Option<&'a str>,
    pub webhook_secret: Option<&'a str>,
}

/// Why a bearer token was refused. Every variant answers the same 401 to the caller; the
/// variant is only for logs (it never contains the token or its content).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenError {
    /// Not a compact JWS (3 parts) or JWE (5 parts), bad base64/JSON, or a header this
    /// bridge does not accept (`alg` other than `HS256`/`dir`, `enc` other than `A256GCM`,
    /// `zip`, `crit`).
    Malformed,
    /// The secret that would verify this form is not configured on the deployment.
    NotConfigured,
    /// The JWS signature does not match the partner API key.
    BadSignature,
    /// The JWE does not decrypt with the key derived from the webhook secret.
    CannotDecrypt,
    /// `exp` is past or `nbf` is in the future.
    Expired,
    /// The claims carry no `key` that looks like a Teamtailor key of this bridge.
    NoKey,
}

impl TokenError {
    /// A stable snake_case word for logs.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenError::Malformed => "malformed",
            TokenError::NotConfigured => "not_configured",
            TokenError::BadSignature => "bad_signature",
            TokenError::CannotDecrypt => "cannot_decrypt",
            TokenError::Expired => "expired",
            TokenError::NoKey => "no_key",
        }
    }
}

/// The customer's `tt_…` key from a provider-key token (the bearer token Teamtailor sends).
///
/// Accepts a compact JWS with `alg: HS256` verified with `TEAMTAILOR_PARTNER_API_KEY`, or a
/// compact JWE with `alg: dir`, `enc: A256GCM` decrypted with [`jwe_key`] of
/// `TEAMTAILOR_WEBHOOK_SECRET` (its plaintext a JSON claims object, or a JWS as above).
/// `now_secs` (unix seconds) judges `exp`/`nbf` when the claims carry them. The key returned
/// has the `tt_` prefix and fewer than 171 characters; whether it is a live key of a tenant
/// is for the tenant object to say.
pub fn provider_key(
    token: &str,
    secrets: TokenSecrets<'_>,
    now_secs: i64,
) -> Result<String, TokenError> {
    let claims = open_token(token.trim(), secrets, 0)?;
    check_times(&claims, now_secs)?;
    match claims.get(KEY_FIELD) {
        Some(Value::String(k)) => {
            let k = k.trim();
            (k.starts_with(SPEC.key_prefix) && k.len() < crate::secrets::MAX_KEY_LEN)
                .then(|| k.to_string())
                .ok_or(TokenError::NoKey)
        }
        _ => Err(TokenError::NoKey),
    }
}

pub(super) fn open_token(
    token: &str,
    secrets: TokenSecrets<'_>,
    depth: u8,
) -> Result<Map<String, Value>, TokenError> {
    if token.is_empty() || token.len() > MAX_TOKEN_LEN {
        return Err(TokenError::Malformed);
    }
    let parts: Vec<&str> = token.split('.').collect();
    match parts.as_slice() {
        [h, p, s] => {
            let key = secrets.partner_api_key.ok_or(TokenError::NotConfigured)?;
            verify_jws(h, p, s, key.as_bytes())
        }
        [h, k, iv, ct, tag] if depth == 0 => {
            let secret = secrets.webhook_secret.ok_or(TokenError::NotConfigured)?;
            let plain = decrypt_jwe(h, k, iv, ct, tag, &jwe_key(secret))?;
            match serde_json::from_slice::<Value>(&plain) {
                Ok(Value::Object(m)) => Ok(m),
                // A nested JWT (`cty: JWT`): the inner token must verify on its own.
                _ => {
                    let inner = std::str::from_utf8(&plain).map_err(|_| TokenError::Malformed)?;
                    open_token(inner.trim(), secrets, depth + 1)
                }
            }
        }
        _ => Err(TokenError::Malformed),
    }
}

pub(super) fn b64_json_object(segment: &str) -> Result<Map<String, Value>, TokenError> {
    let bytes = B64URL.decode(segment).map_err(|_| TokenError::Malformed)?;
    match serde_json::from_slice(&bytes) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(TokenError::Malformed),
    }
}

/// A protected header this bridge understands: the given `alg` (and `enc`), no `crit`
/// extensions it would have to honour, no compression.
pub(super) fn check_header(
    h: &Map<String, Value>,
    alg: &str,
    enc: Option<&str>,
) -> Result<(), TokenError> {
    let ok = h.get("alg").and_then(Value::as_str) == Some(alg)
        && enc.is_none_or(|e| h.get("enc").and_then(Value::as_str) == Some(e))
        && !h.contains_key("crit")
        && !h.contains_key("zip");
    ok.then_some(()).ok_or(TokenError::Malformed)
}

/// Verify a compact JWS (RFC 7515 §7.1) signed with HMAC-SHA256 (RFC 7518 §3.2); the MAC is
/// compared in constant time over the segments exactly as received.
pub(super) fn verify_jws(
    header: &str,
    payload: &str,
    signature: &str,
    key: &[u8],
) -> Result<Map<String, Value>, TokenError> {
    check_header(&b64_json_object(header)?, "HS256", None)?;
    let sig = B64URL
        .decode(signature)
        .map_err(|_| TokenError::Malformed)?;
    let mut mac = HmacSha256::new_from_slice(key).map_err(|_| TokenError::NotConfigured)?;
    mac.update(header.as_bytes());
    mac.update(b".");
    mac.update(payload.as_bytes());
    mac.verify_slice(&sig)
        .map_err(|_| TokenError::BadSignature)?;
    b64_json_object(payload)
}

/// The 32-byte A256GCM key for Teamtailor's JWE provider keys: the ASCII text of the first 32
/// characters of the lower-case hex SHA-256 of the webhook secret (README "Teamtailor").
pub fn jwe_key(webhook_secret: &str) -> [u8; 32] {
    let hex = crate::secrets::hex(&Sha256::digest(webhook_secret.as_bytes()));
    let mut key = [0u8; 32];
    key.copy_from_slice(&hex.as_bytes()[..32]);
    key
}

/// Decrypt a compact JWE (RFC 7516 §7.1) with direct key agreement and AES-256-GCM
/// (RFC 7518 §4.5, §5.3): empty encrypted key, 96-bit IV, 128-bit tag, and the protected
/// header's base64url text as additional authenticated data.
pub(super) fn decrypt_jwe(
    header: &str,
    encrypted_key: &str,
    iv: &str,
    ciphertext: &str,
    tag: &str,
    key: &[u8; 32],
) -> Result<Vec<u8>, TokenError> {
    check_header(&b64_json_object(header)?, "dir", Some("A256GCM"))?;
    if !encrypted_key.is_empty() {
        return Err(TokenError::Malformed);
    }
    let iv = B64URL.decode(iv).map_err(|_| TokenError::Malformed)?;
    let tag = B64URL.decode(tag).map_err(|_| TokenError::Malformed)?;
    if iv.len() != 12 || tag.len() != 16 {
        return Err(TokenError::Malformed);
    }
    let mut buf = B64URL
        .decode(ciphertext)
        .map_err(|_| TokenError::Malformed)?;
    <Aes256Gcm as aes_gcm::KeyInit>::new(key.into())
        .decrypt_in_place_detached(
            Nonce::from_slice(&iv),
            header.as_bytes(),
            &mut buf,
            Tag::from_slice(&tag),
        )
        .map_err(|_| TokenError::CannotDecrypt)?;
    Ok(buf)
}

/// `exp` (must be later than now) and `nbf` (not later than now plus a minute of clock skew),
/// when present, as NumericDate seconds (RFC 7519 §4.1.4–5).
pub(super) fn check_times(claims: &Map<String, Value>, now_secs: i64) -> Result<(), TokenError> {
    let time = |k: &str| -> Result<Option<f64>, TokenError> {
        match claims.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => Ok(n.as_f64()),
            Some(_) => Err(TokenError::Malformed),
        }
    };
    let now = now_secs as f64;
    if time("exp")?.is_some_and(|exp| exp <= now)
        || time("nbf")?.is_some_and(|nbf| nbf > now + 60.0)
    {
        return Err(TokenError::Expired);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::teamtailor::test_support::*;

    #[test]
    fn jws_tokens_give_the_key() {
        let t = jws(&json!({"key": KEY, "iat": NOW - 10}), PARTNER_KEY);
        assert_eq!(provider_key(&t, SECRETS, NOW).as_deref(), Ok(KEY));
        // Padding some encoders add, and surrounding space, are tolerated.
        assert_eq!(
            provider_key(&format!(" {t} "), SECRETS, NOW).as_deref(),
            Ok(KEY)
        );
    }

    #[test]
    fn jwe_tokens_give_the_key() {
        let t = jwe(json!({"key": KEY}).to_string().as_bytes(), HOOK_SECRET);
        assert_eq!(t.split('.').count(), 5);
        assert_eq!(provider_key(&t, SECRETS, NOW).as_deref(), Ok(KEY));
        // A nested JWT inside the JWE must verify with the partner key.
        let nested = jwe(
            jws(&json!({"key": KEY}), PARTNER_KEY).as_bytes(),
            HOOK_SECRET,
        );
        assert_eq!(provider_key(&nested, SECRETS, NOW).as_deref(), Ok(KEY));
        let forged = jwe(jws(&json!({"key": KEY}), "other").as_bytes(), HOOK_SECRET);
        assert_eq!(
            provider_key(&forged, SECRETS, NOW),
            Err(TokenError::BadSignature)
        );
    }

    #[test]
    fn the_jwe_key_is_the_ascii_of_half_the_hex_digest() {
        // sha256("abc") = ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad
        assert_eq!(&jwe_key("abc"), b"ba7816bf8f01cfea414140de5dae2223");
    }

    #[test]
    fn anything_else_is_refused() {
        let good = jws(&json!({"key": KEY}), PARTNER_KEY);
        let (h, rest) = good.split_once('.').unwrap();
        let none_alg = format!("{}.{}", b64(br#"{"alg":"none"}"#), rest);
        let hs512 = format!("{}.{}", b64(br#"{"alg":"HS512"}"#), rest);
        let crit = format!("{}.{}", b64(br#"{"alg":"HS256","crit":["x"]}"#), rest);
        let tampered = good.replace(h, &b64(br#"{"alg":"HS256" }"#));
        let cases: Vec<(String, TokenError)> = vec![
            ("".into(), TokenError::Malformed),
            ("tt_plain_key".into(), TokenError::Malformed),
            ("a.b".into(), TokenError::Malformed),
            ("a.b.c.d".into(), TokenError::Malformed),
            ("!!.??.**".into(), TokenError::Malformed),
            (none_alg, TokenError::Malformed),
            (hs512, TokenError::Malformed),
            (crit, TokenError::Malformed),
            (tampered, TokenError::BadSignature),
            (
                jws(&json!({"key": KEY}), "wrong-key"),
                TokenError::BadSignature,
            ),
            (
                jws(&json!({"key": KEY, "exp": NOW - 1}), PARTNER_KEY),
                TokenError::Expired,
            ),
            (
                jws(&json!({"key": KEY, "nbf": NOW + 3600}), PARTNER_KEY),
                TokenError::Expired,
            ),
            (
                jws(&json!({"key": KEY, "exp": "tomorrow"}), PARTNER_KEY),
                TokenError::Malformed,
            ),
            (jws(&json!({"token": KEY}), PARTNER_KEY), TokenError::NoKey),
            (jws(&json!({"key": 5}), PARTNER_KEY), TokenError::NoKey),
            (
                jws(&json!({"key": "gh_someone_elses"}), PARTNER_KEY),
                TokenError::NoKey,
            ),
            (
                jws(
                    &json!({"key": format!("tt_{}", "a".repeat(200))}),
                    PARTNER_KEY,
                ),
                TokenError::NoKey,
            ),
            (jws(&json!([KEY]), PARTNER_KEY), TokenError::Malformed),
            (
                jwe(json!({"key": KEY}).to_string().as_bytes(), "wrong-secret"),
                TokenError::CannotDecrypt,
            ),
            ("x".repeat(MAX_TOKEN_LEN + 1), TokenError::Malformed),
        ];
        for (token, why) in cases {
            assert_eq!(provider_key(&token, SECRETS, NOW), Err(why), "{token}");
        }
        // A JWE whose header asks for something else, or carries an encrypted key.
        let t = jwe(json!({"key": KEY}).to_string().as_bytes(), HOOK_SECRET);
        let p: Vec<&str> = t.split('.').collect();
        let gcm128 = format!(
            "{}..{}.{}.{}",
            b64(br#"{"alg":"dir","enc":"A128GCM"}"#),
            p[2],
            p[3],
            p[4]
        );
        let with_key = format!("{}.AAAA.{}.{}.{}", p[0], p[2], p[3], p[4]);
        let short_tag = format!("{}..{}.{}.AAAA", p[0], p[2], p[3]);
        let flipped = format!("{}..{}.{}.{}", p[0], p[2], p[3].replace('A', "B"), p[4]);
        for bad in [gcm128, with_key, short_tag] {
            assert_eq!(
                provider_key(&bad, SECRETS, NOW),
                Err(TokenError::Malformed),
                "{bad}"
            );
        }
        if flipped != t {
            assert_eq!(
                provider_key(&flipped, SECRETS, NOW),
                Err(TokenError::CannotDecrypt)
            );
        }
        // A secret that is not configured opens nothing.
        let none = TokenSecrets::default();
        assert_eq!(
            provider_key(&good, none, NOW),
            Err(TokenError::NotConfigured)
        );
        assert_eq!(provider_key(&t, none, NOW), Err(TokenError::NotConfigured));
    }
}
