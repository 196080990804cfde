//! The tenant's packages as an order or a config call sees them (README "What the ATSs call"): the
//! vendor's `packages_url` (asked with a signed POST, answers cached for 5 minutes and failures
//! for 30 seconds), else the stored list, else `static_package_id`, else none. The rules are
//! plain functions ([`stored_packages`], [`fresh`], [`timeout_ms`], [`question`],
//! [`context_key`]) with host unit tests; the object's methods ask, cache and answer.

use std::collections::HashMap;

use serde_json::{json, Value};
use worker::Method;

use super::{now, Tenant};
use crate::admin::tenants::TenantConfig;
use crate::delivery::attempt;
use crate::error::{ApiError, ApiResult};
use crate::model::{parse_packages, Package, Provider};
use crate::{secrets, targets};

/// The vendor's `packages_url` answer may be reused for this long (README "What the ATSs call").
const PACKAGES_TTL_MS: i64 = 5 * 60 * 1000;
/// A failed `packages_url` question (no answer in time, an error status, an answer that is not
/// a package list) is remembered for this long, counted from when it failed: list calls answer
/// its 502 and orders go on without the package's name at once, instead of each waiting for a
/// vendor that is down (README "What the ATSs call").
const PACKAGES_FAILURE_TTL_MS: i64 = 30 * 1000;
/// How long a `packages_url` question may take (README "What the ATSs call").
const PACKAGES_TIMEOUT_MS: u64 = 10_000;
/// The vendor's `packages_url` answer is read in full up to this many bytes (README
/// "What the ATSs call": 256 KB); a longer answer is a 502 naming the cap.
pub const PACKAGES_READ_CAP: usize = 256 * 1024;

/// Cached `packages_url` outcomes: (url, provider, context as a query string) → (when the
/// question ended, ms; the packages, or the 502 it came to).
pub type PackageCache = HashMap<(String, Provider, String), (i64, ApiResult<Vec<Package>>)>;

/// Turns at asking `packages_url`, by the same key as [`PackageCache`]: one question out per
/// key, the requests behind it take its outcome from the cache.
pub type PackageTurns = HashMap<(String, Provider, String), super::serial::Serial>;

/// What a `packages_url` question says besides tenant and provider (`Handler::Config`'s
/// context), e.g. `[("job_id", "5521")]`.
pub type PackageContext = [(&'static str, String)];

/// The packages a tenant without `packages_url` has: its stored list, else its
/// `static_package_id` as one package (named by its id, of the tenant's default kind), else
/// none. None when `packages_url` is set: the vendor has to be asked.
pub(super) fn stored_packages(cfg: &TenantConfig) -> Option<Vec<Package>> {
    if cfg.packages_url.is_some() {
        return None;
    }
    if !cfg.packages.is_empty() {
        return Some(cfg.packages.clone());
    }
    Some(
        cfg.static_package_id
            .iter()
            .map(|id| Package {
                id: id.clone(),
                name: id.clone(),
                description: None,
                package_type: None,
                kind: Some(cfg.default_kind),
                criteria: vec![],
            })
            .collect(),
    )
}

/// Whether a `packages_url` outcome from `fetched_at` may still be used at `now` (ms): an
/// answer for 5 minutes, a failure (`failed`) for 30 seconds.
pub(super) fn fresh(fetched_at: i64, failed: bool, now: i64) -> bool {
    let ttl = if failed {
        PACKAGES_FAILURE_TTL_MS
    } else {
        PACKAGES_TTL_MS
    };
    now - fetched_at < ttl
}

/// How long a `packages_url` question may take (ms): 10 seconds, unless the test-only
/// `TEST_ONLY_PACKAGES_TIMEOUT_MS` is set **and** insecure targets are allowed (which a
/// production deployment never does).
pub(super) fn timeout_ms(test_only: Option<u64>, allow_insecure: bool) -> u64 {
    match test_only {
        Some(ms) if allow_insecure && ms > 0 => ms,
        _ => PACKAGES_TIMEOUT_MS,
    }
}

/// The body POSTed to `packages_url`: `{"tenant_id", "provider", …context}`.
pub(super) fn question(tenant: &str, provider: Provider, context: &PackageContext) -> String {
    let mut body = json!({ "tenant_id": tenant, "provider": provider.as_str() });
    for (k, v) in context {
        body[*k] = json!(v);
    }
    body.to_string()
}

impl Tenant {
    /// The tenant's packages, in the order of docs/contract.md "Admin API": the vendor's
    /// `packages_url` (answers cached for 5 minutes, failures for 30 seconds; a failure is a
    /// 502, never silently replaced), else the stored list, else `static_package_id`, else
    /// none.
    pub(super) async fn packages(
        &self,
        cfg: &TenantConfig,
        provider: Provider,
        context: &PackageContext,
    ) -> ApiResult<Vec<Package>> {
        if let Some(known) = self.packages_at_hand(cfg, provider, context) {
            return known;
        }
        let url = cfg.packages_url.clone().unwrap_or_default();
        // One question per (url, provider, context) at a time: requests that arrive while one
        // is out wait for its outcome instead of each asking (and each waiting out a vendor
        // that is down).
        let turns = self
            .package_turns
            .borrow_mut()
            .entry((url.clone(), provider, context_key(context)))
            .or_default()
            .clone();
        let _turn = turns.turn().await;
        if let Some(known) = self.packages_at_hand(cfg, provider, context) {
            return known;
        }
        let fetched = self.fetch_packages(cfg, &url, provider, context).await;
        // Answers and the vendor's failures (502) are remembered; a fault of the bridge's own
        // is not.
        if fetched.as_ref().map_or_else(|e| e.status == 502, |_| true) {
            self.package_cache.borrow_mut().insert(
                (url, provider, context_key(context)),
                (now(), fetched.clone()),
            );
        }
        fetched
    }

    /// The packages if they are known without I/O: stored, static, or a fresh cached outcome
    /// of `packages_url` (a remembered failure is its 502). None: `packages_url` has to be
    /// asked.
    pub(super) fn packages_at_hand(
        &self,
        cfg: &TenantConfig,
        provider: Provider,
        context: &PackageContext,
    ) -> Option<ApiResult<Vec<Package>>> {
        let Some(url) = &cfg.packages_url else {
            return stored_packages(cfg).map(Ok);
        };
        let cache = self.package_cache.borrow();
        let (at, outcome) = cache.get(&(url.clone(), provider, context_key(context)))?;
        fresh(*at, outcome.is_err(), now()).then(|| outcome.clone())
    }

    async fn fetch_packages(
        &self,
        cfg: &TenantConfig,
        url: &str,
        provider: Provider,
        context: &PackageContext,
    ) -> ApiResult<Vec<Package>> {
        let upstream = |why: String| {
            worker::console_warn!(
                "{}",
                json!({"msg": "packages_url failed", "tenant": cfg.id, "why": why})
            );
            ApiError::upstream(format!("The vendor's packages_url failed: {why}."))
        };
        targets::check_target(url, self.config().allow_insecure)
            .map_err(|why| upstream(format!("the URL {why}")))?;
        let secrets = self.load_secrets(&cfg.id).await?;
        let body = question(&cfg.id, provider, context);
        let headers = attempt::signed_headers(
            &secrets.signing_secrets(now()),
            &secrets::new_id("msg_"),
            &body,
            now(),
        );
        let r = attempt::send_with_timeout(
            Method::Post,
            url,
            headers,
            Some(body),
            timeout_ms(
                self.config().test_only_packages_timeout_ms,
                self.config().allow_insecure,
            ),
            PACKAGES_READ_CAP,
        )
        .await;
        match r.status {
            Some(s) if (200..300).contains(&s) => {}
            Some(s) => return Err(upstream(format!("HTTP {s}"))),
            None => return Err(upstream(r.error().unwrap_or_else(|| "no answer".into()))),
        }
        if r.body_over_cap {
            return Err(upstream(format!(
                "the answer exceeds the {} KB cap on packages_url answers",
                PACKAGES_READ_CAP / 1024
            )));
        }
        let v: Value = serde_json::from_str(&r.body)
            .map_err(|_| upstream("the answer is not a JSON array of packages".into()))?;
        parse_packages(&v).map_err(upstream)
    }
}

/// The cache-key form of a package context: `job_id=5521&stage_id=88` ("" when empty).
fn context_key(context: &PackageContext) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(context.iter().map(|(k, v)| (*k, v.as_str())))
        .finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::OrderKind;

    fn cfg() -> TenantConfig {
        serde_json::from_value(json!({
            "id": "acme", "name": null, "webhook_url": "https://h.example/x",
            "created_at": 0, "updated_at": 0
        }))
        .unwrap()
    }

    fn package(id: &str) -> Package {
        Package {
            id: id.into(),
            name: format!("Name of {id}"),
            description: None,
            package_type: None,
            kind: None,
            criteria: vec![],
        }
    }

    #[test]
    fn the_stored_list_comes_before_the_static_package_and_packages_url_before_both() {
        let mut c = cfg();
        assert_eq!(
            stored_packages(&c),
            Some(vec![]),
            "nothing configured: none"
        );
        c.static_package_id = Some("static".into());
        c.default_kind = OrderKind::BackgroundCheck;
        let only = stored_packages(&c).unwrap();
        assert_eq!(only.len(), 1);
        assert_eq!(
            (only[0].id.as_str(), only[0].name.as_str()),
            ("static", "static")
        );
        assert_eq!(only[0].kind, Some(OrderKind::BackgroundCheck));
        c.packages = vec![package("a"), package("b")];
        assert_eq!(stored_packages(&c), Some(vec![package("a"), package("b")]));
        c.packages_url = Some("https://vendor.example/packages".into());
        assert_eq!(stored_packages(&c), None, "the vendor is asked");
    }

    #[test]
    fn a_packages_url_answer_is_reused_for_five_minutes() {
        assert!(fresh(1_000, false, 1_000));
        assert!(fresh(1_000, false, 1_000 + 5 * 60 * 1000 - 1));
        assert!(!fresh(1_000, false, 1_000 + 5 * 60 * 1000));
    }

    #[test]
    fn a_packages_url_failure_is_remembered_for_thirty_seconds() {
        assert!(fresh(1_000, true, 1_000));
        assert!(fresh(1_000, true, 1_000 + 30_000 - 1));
        assert!(!fresh(1_000, true, 1_000 + 30_000));
    }

    #[test]
    fn the_question_times_out_after_ten_seconds_unless_a_test_deployment_says_otherwise() {
        assert_eq!(timeout_ms(None, false), 10_000);
        assert_eq!(timeout_ms(None, true), 10_000);
        assert_eq!(
            timeout_ms(Some(300), false),
            10_000,
            "production ignores it"
        );
        assert_eq!(timeout_ms(Some(0), true), 10_000);
        assert_eq!(timeout_ms(Some(300), true), 300);
    }

    #[test]
    fn the_question_names_tenant_provider_and_context() {
        let p = Provider::all().next().unwrap();
        let q: Value = serde_json::from_str(&question("acme", p, &[])).unwrap();
        assert_eq!(q, json!({"tenant_id": "acme", "provider": p.as_str()}));
        let context = [
            ("job_id", "5521".to_string()),
            ("stage_id", "8 8".to_string()),
        ];
        let q: Value = serde_json::from_str(&question("acme", p, &context)).unwrap();
        assert_eq!(
            q,
            json!({"tenant_id": "acme", "provider": p.as_str(), "job_id": "5521", "stage_id": "8 8"})
        );
        // The cache tells contexts apart, and the empty context from every other.
        assert_eq!(context_key(&context), "job_id=5521&stage_id=8+8");
        assert_eq!(context_key(&[]), "");
        assert_ne!(context_key(&context[..1]), context_key(&context));
    }
}
