//! The tenant's packages as an order or a config call sees them (README "What the ATSs call"): the
//! vendor's `packages_url` (asked with a signed POST, answers cached for 5 minutes), else the
//! stored list, else `static_package_id`, else none. The rules are plain functions
//! ([`stored_packages`], [`fresh`], [`question`], [`context_key`]) with host unit tests; the
//! object's methods ask, cache and answer.

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
const PACKAGES_TIMEOUT_MS: u64 = 10_000;
/// The vendor's `packages_url` answer is read in full up to this many bytes (README
/// "What the ATSs call": 256 KB); a longer answer is a 502 naming the cap.
pub const PACKAGES_READ_CAP: usize = 256 * 1024;

/// Cached `packages_url` answers: (url, provider, context as a query string) → (fetched at,
/// packages).
pub type PackageCache = HashMap<(String, Provider, String), (i64, Vec<Package>)>;

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

/// Whether a `packages_url` answer fetched at `fetched_at` may still be used at `now` (ms).
pub(super) fn fresh(fetched_at: i64, now: i64) -> bool {
    now - fetched_at < PACKAGES_TTL_MS
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
    /// `packages_url` (cached for 5 minutes; a failure is a 502, never silently replaced), else the
    /// stored list, else
    /// `static_package_id`, else none.
    pub(super) async fn packages(
        &self,
        cfg: &TenantConfig,
        provider: Provider,
        context: &PackageContext,
    ) -> ApiResult<Vec<Package>> {
        if let Some(p) = self.packages_at_hand(cfg, provider, context) {
            return Ok(p);
        }
        let url = cfg.packages_url.clone().unwrap_or_default();
        let t = now();
        let fetched = self.fetch_packages(cfg, &url, provider, context).await?;
        self.package_cache
            .borrow_mut()
            .insert((url, provider, context_key(context)), (t, fetched.clone()));
        Ok(fetched)
    }

    /// The packages if they are known without I/O: stored, static, or a fresh cached answer
    /// of `packages_url`. None: `packages_url` has to be asked.
    pub(super) fn packages_at_hand(
        &self,
        cfg: &TenantConfig,
        provider: Provider,
        context: &PackageContext,
    ) -> Option<Vec<Package>> {
        let Some(url) = &cfg.packages_url else {
            return stored_packages(cfg);
        };
        let cache = self.package_cache.borrow();
        let (at, p) = cache.get(&(url.clone(), provider, context_key(context)))?;
        fresh(*at, now()).then(|| p.clone())
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
            PACKAGES_TIMEOUT_MS,
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
        assert!(fresh(1_000, 1_000));
        assert!(fresh(1_000, 1_000 + 5 * 60 * 1000 - 1));
        assert!(!fresh(1_000, 1_000 + 5 * 60 * 1000));
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
