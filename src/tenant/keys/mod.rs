//! Provider keys (README "Authentication"): the `keys` rows, edge authentication against
//! them, and issuing, rotating and revoking keys. The rules are plain functions
//! ([`accepts`], [`grace_until`], [`parse_key_request`]) with host unit tests; the object's
//! methods load the rows, call them and store the outcome.

use std::rc::Rc;

use serde::Deserialize;
use serde_json::{json, Value};
use worker::{Response, SqlStorageValue};

use super::{now, Tenant, TenantRequest};
use crate::admin::tenants::KeyInfo;
use crate::error::{ApiError, ApiResult, Context};
use crate::http;
use crate::model::Provider;
use crate::secrets;

/// A row of `keys`: a provider's current key hash and, during a rotation grace period, the
/// previous one (`previous_until`: ms since the epoch).
#[derive(Debug, Clone, Deserialize)]
pub(super) struct KeyRow {
    pub provider: String,
    pub hash: String,
    pub created_at: i64,
    pub previous_hash: Option<String>,
    pub previous_until: Option<i64>,
}

/// Whether one of the `presented` key hashes opens `provider`'s edge at `now` (ms): its
/// current key, or a key it replaced while that key's rotation grace period runs
/// (`previous_entries`). Every stored hash is compared with every presented one in
/// constant time, so the answer's timing does not say which matched.
pub(super) fn accepts(rows: &[KeyRow], provider: &str, presented: &[String], now: i64) -> bool {
    let stored = rows
        .iter()
        .filter(|r| r.provider == provider)
        .flat_map(|r| {
            let previous = previous_entries(r)
                .into_iter()
                .filter(|(_, until)| *until > now)
                .map(|(h, _)| h);
            std::iter::once(r.hash.clone()).chain(previous)
        });
    let mut ok = false;
    for s in stored {
        for h in presented {
            ok |= secrets::ct_eq(h, &s);
        }
    }
    ok
}

/// The replaced keys of a row, each with the end of its grace period (ms): `previous_hash`
/// holds `hash:until` entries separated by commas; a bare `hash` (rows written before several
/// replaced keys were kept) ends at the row's `previous_until`. An entry without an end never
/// counts.
pub(super) fn previous_entries(r: &KeyRow) -> Vec<(String, i64)> {
    let Some(list) = r.previous_hash.as_deref() else {
        return Vec::new();
    };
    list.split(',')
        .filter(|e| !e.is_empty())
        .filter_map(|e| match e.split_once(':') {
            Some((h, until)) => until.parse().ok().map(|u| (h.to_string(), u)),
            None => r.previous_until.map(|u| (e.to_string(), u)),
        })
        .collect()
}

/// How many replaced keys a provider keeps in their grace periods at once.
pub(super) const KEPT_PREVIOUS: usize = 3;

/// What a rotation at `now` stores as the replaced keys (`previous_hash`, `previous_until`):
/// the key being replaced until `grace_until`, plus the keys replaced earlier whose grace
/// has not ended (each keeps its own end), newest first, at most `KEPT_PREVIOUS`. Two
/// rotations in a day (e.g. two connect links opened) so never cut off a live key early.
/// Without a grace period (`None`) every replaced key dies at once.
pub(super) fn rotated_previous(
    old: Option<&KeyRow>,
    grace_until: Option<i64>,
    now: i64,
) -> (Option<String>, Option<i64>) {
    let (Some(old), Some(until)) = (old, grace_until) else {
        return (None, None);
    };
    let mut kept = vec![(old.hash.clone(), until)];
    kept.extend(
        previous_entries(old)
            .into_iter()
            .filter(|(h, u)| *u > now && *h != old.hash),
    );
    kept.truncate(KEPT_PREVIOUS);
    let last = kept.iter().map(|(_, u)| *u).max();
    let list = kept
        .iter()
        .map(|(h, u)| format!("{h}:{u}"))
        .collect::<Vec<_>>()
        .join(",");
    (Some(list), last)
}

/// Until when (ms) a replaced key keeps working after a rotation at `now` with `grace_secs` of
/// overlap: None, dead on the very next request, without a grace period or without a key to
/// replace.
pub(super) fn grace_until(replaces_a_key: bool, grace_secs: i64, now: i64) -> Option<i64> {
    (grace_secs > 0 && replaces_a_key).then_some(now + grace_secs * 1000)
}

/// The longest rotation grace period a key request may ask for: 7 days, in seconds.
pub(super) const MAX_GRACE_SECS: i64 = 7 * 86_400;

/// `POST /v1/tenants/{t}/secrets` (README "Authentication"): `{"provider",
/// "previous_key_ttl_seconds"?}` → the provider and the grace period in seconds (0 when absent or
/// null; at most [`MAX_GRACE_SECS`]). Errors: 422 `invalid_field` naming the field.
pub(super) fn parse_key_request(v: &Value) -> ApiResult<(Provider, i64)> {
    let provider = match v.get("provider") {
        Some(Value::String(p)) => Provider::parse(p).ok_or_else(|| {
            ApiError::invalid_field(
                "provider",
                &format!("must be {}", crate::providers::names_or(true)),
            )
        })?,
        _ => {
            return Err(ApiError::invalid_field(
                "provider",
                &format!("is required ({})", crate::providers::names_or(true)),
            ))
        }
    };
    // Optional overlap for rotations without downtime: the old key keeps working this long
    // (default 0: dead on the very next request).
    let grace_secs = match v.get("previous_key_ttl_seconds") {
        None | Some(Value::Null) => 0,
        Some(Value::Number(n)) => n
            .as_i64()
            .filter(|s| (0..=MAX_GRACE_SECS).contains(s))
            .ok_or_else(|| {
                ApiError::invalid_field(
                    "previous_key_ttl_seconds",
                    "must be a whole number of seconds from 0 to 604800 (7 days)",
                )
            })?,
        Some(_) => {
            return Err(ApiError::invalid_field(
                "previous_key_ttl_seconds",
                "must be a number",
            ))
        }
    };
    Ok((provider, grace_secs))
}

impl Tenant {
    pub(super) fn key_rows(&self) -> ApiResult<Rc<Vec<KeyRow>>> {
        if let Some(rows) = self.key_cache.borrow().as_ref() {
            return Ok(rows.clone());
        }
        let rows: Rc<Vec<KeyRow>> = Rc::new(
            self.sql()
                .exec(
                    "SELECT provider, hash, created_at, previous_hash, previous_until FROM keys ORDER BY provider",
                    None,
                )
                .and_then(|c| c.to_array())
                .context("read keys")?,
        );
        *self.key_cache.borrow_mut() = Some(rows.clone());
        Ok(rows)
    }

    pub(super) fn keys(&self) -> ApiResult<Vec<KeyInfo>> {
        Ok(self
            .key_rows()?
            .iter()
            .map(|r| KeyInfo {
                provider: r.provider.clone(),
                created_at: r.created_at,
            })
            .collect())
    }

    pub(super) fn key_hash(&self, p: Provider) -> ApiResult<Option<String>> {
        Ok(self
            .key_rows()?
            .iter()
            .find(|r| r.provider == p.as_str())
            .map(|r| r.hash.clone()))
    }

    /// Edge authentication against the authoritative key hashes (docs/contract.md "Keys"). Unknown
    /// tenant, wrong provider, revoked or rotated key: the same 401.
    pub(super) fn authenticate(&self, provider: Provider, call: &TenantRequest) -> ApiResult<()> {
        if self.exists()
            && accepts(
                &self.key_rows()?,
                provider.as_str(),
                &call.key_hashes,
                now(),
            )
        {
            Ok(())
        } else {
            Err(ApiError::unauthorized_edge(provider.spec().edge_auth))
        }
    }

    pub(super) async fn create_key(&self, t: &str, call: &TenantRequest) -> ApiResult<Response> {
        self.load_config()?;
        let (provider, grace_secs) = parse_key_request(&call.json()?)?;
        Ok(http::json(
            201,
            &self
                .issue_key(t, provider, grace_secs, &call.origin)
                .await?,
        ))
    }

    /// Issue (or rotate) `provider`'s key: the replaced key keeps working for `grace_secs`
    /// (0: dead on the very next request). Answers `{provider, secretKey, baseUrl, createdAt,
    /// previousKeyValidUntil}`; the key appears nowhere else, ever.
    pub(super) async fn issue_key(
        &self,
        t: &str,
        provider: Provider,
        grace_secs: i64,
        origin: &str,
    ) -> ApiResult<Value> {
        let key = provider.new_key(t);
        let hash = secrets::hash_key(&key);
        let n = now();
        let old_row = self
            .key_rows()?
            .iter()
            .find(|r| r.provider == provider.as_str())
            .cloned();
        let old = old_row.as_ref().map(|r| r.hash.clone());
        let previous_until = grace_until(old.is_some(), grace_secs, n);
        let (previous_hashes, previous_end) = rotated_previous(old_row.as_ref(), previous_until, n);
        // Replacing the row is the rotation: without a grace period the old key fails on the
        // very next request.
        self.sql()
            .exec(
                "INSERT INTO keys (provider, hash, created_at, previous_hash, previous_until) VALUES (?, ?, ?, ?, ?) ON CONFLICT(provider) DO UPDATE SET hash = excluded.hash, created_at = excluded.created_at, previous_hash = excluded.previous_hash, previous_until = excluded.previous_until",
                vec![
                    provider.as_str().into(),
                    hash.clone().into(),
                    SqlStorageValue::Integer(n),
                    previous_hashes.into(),
                    previous_end.map(SqlStorageValue::Integer).unwrap_or(SqlStorageValue::Null),
                ],
            )
            .context("store key")?;
        self.key_cache.replace(None);
        let kv = self.kv()?;
        if let (Some(old), None) = (&old, previous_until) {
            let _ = kv.delete(&format!("key:{old}")).await;
        }
        if let Ok(put) = kv.put(
            &format!("key:{hash}"),
            json!({"tenant": t, "provider": provider.as_str()}).to_string(),
        ) {
            let _ = put.execute().await;
        }
        Ok(json!({
            "provider": provider.as_str(),
            "secretKey": key,
            "baseUrl": provider.base_url(origin, t),
            "createdAt": crate::model::rfc3339(n),
            "previousKeyValidUntil": previous_until.map(crate::model::rfc3339),
        }))
    }

    /// Revoke `provider`'s key (and any previous one in its grace period) at once.
    pub(super) async fn delete_key(&self, p: Provider) -> ApiResult<Response> {
        self.load_config()?;
        let old = self.key_hash(p)?;
        self.sql()
            .exec(
                "DELETE FROM keys WHERE provider = ?",
                vec![p.as_str().into()],
            )
            .context("delete key")?;
        self.key_cache.replace(None);
        if let Some(old) = old {
            // The index entry is only a cache; the row above is what edge auth reads.
            let _ = self.kv()?.delete(&format!("key:{old}")).await;
        }
        Ok(http::empty(204))
    }
}

#[cfg(test)]
mod tests;
