//! Key material: generation, hashing and constant-time comparison. Pure functions over
//! bytes so they run in host tests; randomness comes from `getrandom` (Web Crypto on wasm).

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Bytes of entropy in an inbound provider key (docs/contract.md "Keys": 32).
const KEY_BYTES: usize = 32;
/// Bytes of entropy in a webhook signing secret (issue: at least 24).
const WEBHOOK_SECRET_BYTES: usize = 32;

pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    // Web Crypto / OS randomness failing is not recoverable; there is no safe fallback.
    getrandom::fill(&mut buf).expect("system randomness unavailable");
    buf
}

/// Keys are refused at or above this length (an ATS limit, README "Authentication").
pub const MAX_KEY_LEN: usize = 171;

/// A fresh inbound key: provider prefix + 43 url-safe base64 chars (256 bits). 46 chars with
/// a 3-character prefix, far under [`MAX_KEY_LEN`], and safe inside a Basic username.
pub fn new_provider_key(prefix: &str) -> String {
    format!(
        "{prefix}{}",
        URL_SAFE_NO_PAD.encode(random_bytes::<KEY_BYTES>())
    )
}

/// A fresh key for a partner-level provider (docs/contract.md "Keys"): `{prefix}{tenant}.{43
/// url-safe base64 chars}`. The tenant id is readable so the front door can route the request to
/// the tenant's
/// object without a lookup; the object stays the authority (it compares the key's hash).
/// At most 3 + 63 + 1 + 43 = 110 characters.
pub fn new_partner_key(prefix: &str, tenant: &str) -> String {
    format!(
        "{prefix}{tenant}.{}",
        URL_SAFE_NO_PAD.encode(random_bytes::<KEY_BYTES>())
    )
}

/// The tenant a partner-level key names, if it has the shape [`new_partner_key`] gives:
/// prefix, a valid tenant slug, `.`, 43 url-safe base64 characters. Says nothing about
/// whether the key is valid.
pub fn partner_key_tenant<'k>(prefix: &str, key: &'k str) -> Option<&'k str> {
    let rest = key.strip_prefix(prefix)?;
    let (tenant, random) = rest.split_once('.')?;
    let random_ok = random.len() == 43
        && random
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    (random_ok && crate::model::is_valid_slug(tenant) && key.len() < MAX_KEY_LEN).then_some(tenant)
}

/// A fresh Standard Webhooks secret: `whsec_` + base64 of the raw key bytes.
pub fn new_webhook_secret() -> String {
    format!(
        "whsec_{}",
        STANDARD.encode(random_bytes::<WEBHOOK_SECRET_BYTES>())
    )
}

/// The stored form of an inbound key. Keys are 256-bit random strings, so a plain SHA-256
/// is enough (no password-stretching needed) and keeps the edge path fast.
pub fn hash_key(key: &str) -> String {
    hex(&Sha256::digest(key.as_bytes()))
}

/// Constant-time equality for secrets of any length (length itself is not secret here:
/// hashes and tokens have public lengths).
pub fn ct_eq(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

/// Constant-time check of a presented admin token against the configured one. Both sides
/// are hashed first so the comparison does not leak the token's length either.
pub fn admin_token_matches(presented: &str, configured: &str) -> bool {
    let a = Sha256::digest(presented.as_bytes());
    let b = Sha256::digest(configured.as_bytes());
    a.ct_eq(&b).into()
}

/// Random identifier with a prefix: `ats_ass_…`, `evt_…`. 128 bits, base62-ish alphabet
/// (url-safe base64 without `-`/`_` would bias; hex-free base62 keeps ids copy-paste safe).
pub fn new_id(prefix: &str) -> String {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let bytes = random_bytes::<22>();
    let mut s = String::with_capacity(prefix.len() + 22);
    s.push_str(prefix);
    for b in bytes {
        // 256 % 62 bias is negligible for identifiers (not secrets).
        s.push(ALPHABET[(b as usize) % 62] as char);
    }
    s
}

pub fn hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(HEX[(b >> 4) as usize] as char);
        s.push(HEX[(b & 15) as usize] as char);
    }
    s
}

/// Parse an HTTP Basic `Authorization` header into the presented key. ATSs using Basic send
/// the key as username with an empty password; we also accept it in the password field,
/// and a non-empty password next to a username key (docs/contract.md "Keys"). Parsed by hand
/// because some Basic middleware rejects empty passwords.
pub fn basic_key(header: Option<&str>) -> Option<String> {
    let header = header?.trim();
    let (scheme, rest) = header.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = STANDARD.decode(rest.trim()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, pass) = match text.split_once(':') {
        Some((u, p)) => (u, p),
        None => (text.as_str(), ""),
    };
    let key = if !user.is_empty() { user } else { pass };
    if key.is_empty() || key.len() > 512 {
        return None;
    }
    Some(key.to_string())
}

/// Candidate keys from a Basic header: the username, and the password when it differs.
/// The caller tries each so a key in either field works.
pub fn basic_candidates(header: Option<&str>) -> Vec<String> {
    let Some(first) = basic_key(header) else {
        return Vec::new();
    };
    let mut out = vec![first];
    if let Some(h) = header {
        if let Some((_, rest)) = h.trim().split_once(' ') {
            if let Ok(text) = STANDARD
                .decode(rest.trim())
                .map_err(|_| ())
                .and_then(|d| String::from_utf8(d).map_err(|_| ()))
            {
                if let Some((_, pass)) = text.split_once(':') {
                    if !pass.is_empty() && pass.len() <= 512 && pass != out[0] {
                        out.push(pass.to_string());
                    }
                }
            }
        }
    }
    out
}

/// Bearer token from an `Authorization` header.
pub fn bearer(header: Option<&str>) -> Option<&str> {
    let h = header?.trim();
    let (scheme, rest) = h.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| rest.trim())
        .filter(|t| !t.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn basic(user: &str, pass: &str) -> String {
        format!("Basic {}", STANDARD.encode(format!("{user}:{pass}")))
    }

    #[test]
    fn key_shape() {
        let k = new_provider_key("gh_");
        assert!(k.starts_with("gh_"));
        assert!(k.len() < 171);
        assert_eq!(k.len(), 3 + 43);
        let k2 = new_provider_key("gh_");
        assert_ne!(k, k2);
        assert!(new_provider_key("ab_").starts_with("ab_"));
    }

    #[test]
    fn partner_keys_embed_the_tenant() {
        let k = new_partner_key("tt_", "acme-co");
        assert!(k.starts_with("tt_acme-co."));
        assert_eq!(k.len(), 3 + 7 + 1 + 43);
        assert_eq!(partner_key_tenant("tt_", &k), Some("acme-co"));
        assert_ne!(k, new_partner_key("tt_", "acme-co"));
        // The longest tenant id still gives a key under the limit.
        let long = "a".repeat(63);
        let k = new_partner_key("tt_", &long);
        assert!(k.len() < MAX_KEY_LEN);
        assert_eq!(partner_key_tenant("tt_", &k), Some(long.as_str()));
        // Other prefixes, tenant-scoped keys, bad slugs and bad random parts name no tenant.
        assert_eq!(
            partner_key_tenant("rc_", &new_partner_key("tt_", "acme")),
            None
        );
        assert_eq!(partner_key_tenant("tt_", &new_provider_key("tt_")), None);
        let random = "A".repeat(43);
        assert_eq!(
            partner_key_tenant("tt_", &format!("tt_Acme.{random}")),
            None
        );
        assert_eq!(partner_key_tenant("tt_", &format!("tt_.{random}")), None);
        assert_eq!(
            partner_key_tenant("tt_", &format!("tt_acme.{random}=")),
            None
        );
        assert_eq!(
            partner_key_tenant("tt_", &format!("tt_acme.{}", "A".repeat(42))),
            None
        );
        assert_eq!(
            partner_key_tenant("tt_", &format!("tt_acme.x.{random}")),
            None
        );
        assert_eq!(
            partner_key_tenant("tt_", &format!("tt_acme.{random}")),
            Some("acme")
        );
    }

    #[test]
    fn webhook_secret_decodes_to_32_bytes() {
        let s = new_webhook_secret();
        let raw = STANDARD.decode(s.strip_prefix("whsec_").unwrap()).unwrap();
        assert_eq!(raw.len(), 32);
    }

    #[test]
    fn basic_parsing() {
        assert_eq!(basic_key(Some(&basic("gh_abc", ""))), Some("gh_abc".into()));
        assert_eq!(basic_key(Some(&basic("", "gh_abc"))), Some("gh_abc".into()));
        assert_eq!(
            basic_key(Some(&basic("gh_abc", "whatever"))),
            Some("gh_abc".into())
        );
        // No colon at all: the whole thing is the username.
        let raw = format!("Basic {}", STANDARD.encode("gh_abc"));
        assert_eq!(basic_key(Some(&raw)), Some("gh_abc".into()));
        assert_eq!(basic_key(Some("basic   ")), None);
        assert_eq!(basic_key(Some("Bearer x")), None);
        assert_eq!(basic_key(Some("Basic !!!")), None);
        assert_eq!(basic_key(Some(&basic("", ""))), None);
        assert_eq!(basic_key(None), None);
        assert_eq!(
            basic_candidates(Some(&basic("junk", "gh_abc"))),
            vec!["junk".to_string(), "gh_abc".to_string()]
        );
    }

    #[test]
    fn bearer_parsing() {
        assert_eq!(bearer(Some("Bearer tok")), Some("tok"));
        assert_eq!(bearer(Some("bearer  tok ")), Some("tok"));
        assert_eq!(bearer(Some("Bearer ")), None);
        assert_eq!(bearer(Some("Basic tok")), None);
    }

    #[test]
    fn comparisons() {
        assert!(ct_eq("abc", "abc"));
        assert!(!ct_eq("abc", "abd"));
        assert!(!ct_eq("abc", "abcd"));
        assert!(admin_token_matches("t", "t"));
        assert!(!admin_token_matches("t", "u"));
        assert_eq!(hash_key("a").len(), 64);
    }

    #[test]
    fn ids() {
        let id = new_id("ats_ass_");
        assert!(id.starts_with("ats_ass_"));
        assert_eq!(id.len(), 8 + 22);
        assert!(id[8..].chars().all(|c| c.is_ascii_alphanumeric()));
    }
}
