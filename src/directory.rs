//! `GET /v1/tenants`: the tenant directory, read from the `SECRETS` KV namespace, where every
//! tenant has exactly one `tenant:{id}` entry (its secrets, written when it is created).
//!
//! The directory is for finding tenants (the console's search), not an authority: Workers KV
//! lists are eventually consistent, so a tenant created a moment ago may take up to a minute to
//! appear on a deployed worker (`GET /v1/tenants/{id}` answers at once). See docs/contract.md
//! "Admin API".

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Value};
use worker::Env;

use crate::admin::query;
use crate::error::{ApiError, ApiResult, Context};
use crate::model::is_valid_slug;

/// The KV key prefix under which each tenant's secrets live (one entry per tenant).
pub const TENANT_PREFIX: &str = "tenant:";

/// A validated directory query: `prefix` (tenant id prefix, may be empty), `limit` (1–100,
/// default 50) and the opaque `cursor` of a previous page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryQuery {
    pub prefix: String,
    pub limit: i64,
    pub cursor: Option<String>,
}

/// Parse `?prefix=&limit=&cursor=`. A prefix that no tenant id could start with is a 422.
pub fn parse_query(query_string: Option<&str>) -> ApiResult<DirectoryQuery> {
    let q = query::pairs(query_string);
    let prefix = query::get(&q, "prefix").unwrap_or("").trim().to_string();
    if !prefix.is_empty() && !is_valid_slug(&prefix) {
        return Err(ApiError::invalid_field(
            "prefix",
            "must be the start of a tenant id: lowercase letters, digits and '-'",
        ));
    }
    let cursor = query::get(&q, "cursor")
        .filter(|c| !c.is_empty())
        .map(|c| {
            open_cursor(c).ok_or_else(|| {
                ApiError::invalid_field(
                    "cursor",
                    "is not a cursor this API returned (pass an earlier page's next_cursor)",
                )
            })
        })
        .transpose()?;
    Ok(DirectoryQuery {
        prefix,
        limit: query::limit(&q)?,
        cursor,
    })
}

/// Marks the directory's own cursors: `t1.` + the KV list cursor, base64url.
const CURSOR_TAG: &str = "t1.";

/// The `next_cursor` the API hands out for a KV list cursor. Wrapped so that a cursor the API
/// never returned is recognised and refused (a KV list with a made-up cursor answers an empty
/// page, which would read as "no more tenants").
pub fn seal_cursor(kv_cursor: &str) -> String {
    format!("{CURSOR_TAG}{}", URL_SAFE_NO_PAD.encode(kv_cursor))
}

/// The KV list cursor inside a cursor [`seal_cursor`] made; None for anything else.
pub fn open_cursor(cursor: &str) -> Option<String> {
    let raw = URL_SAFE_NO_PAD
        .decode(cursor.strip_prefix(CURSOR_TAG)?)
        .ok()?;
    let kv = String::from_utf8(raw).ok()?;
    (!kv.is_empty() && kv.len() <= 1024 && kv.bytes().all(|b| b.is_ascii_graphic())).then_some(kv)
}

/// The answer: `{"data":[{"id"}],"next_cursor"}` in id order, from KV key names.
pub fn page(names: &[String], next_cursor: Option<String>) -> Value {
    let data: Vec<Value> = names
        .iter()
        .filter_map(|n| n.strip_prefix(TENANT_PREFIX))
        .filter(|id| is_valid_slug(id))
        .map(|id| json!({ "id": id }))
        .collect();
    json!({ "data": data, "next_cursor": next_cursor.as_deref().map(seal_cursor) })
}

/// List tenants (`GET /v1/tenants`).
pub async fn list(env: &Env, query_string: Option<&str>) -> ApiResult<Value> {
    let q = parse_query(query_string)?;
    let kv = env.kv("SECRETS").context("SECRETS binding")?;
    let mut req = kv
        .list()
        .prefix(format!("{TENANT_PREFIX}{}", q.prefix))
        .limit(q.limit as u64);
    if let Some(c) = q.cursor {
        req = req.cursor(c);
    }
    let resp = req.execute().await.map_err(|e| {
        // An unknown or stale cursor is the caller's input, not our failure.
        worker::console_log!("kv list failed: {e}");
        ApiError::invalid_field("cursor", "is not a cursor this API returned")
    })?;
    let names: Vec<String> = resp.keys.into_iter().map(|k| k.name).collect();
    let next = (!resp.list_complete).then_some(resp.cursor).flatten();
    Ok(page(&names, next))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_parsing() {
        let q = parse_query(Some("prefix=ac&limit=500")).unwrap();
        assert_eq!(q.prefix, "ac");
        assert_eq!(q.limit, 100);
        assert_eq!(q.cursor, None);
        assert_eq!(parse_query(None).unwrap().limit, 50);
        assert_eq!(
            parse_query(Some("prefix=tenant%3Ax")).unwrap_err().status,
            422
        );
        assert_eq!(parse_query(Some("limit=0")).unwrap_err().status, 422);
        assert_eq!(parse_query(Some("cursor=a%20b")).unwrap_err().status, 422);
        let sealed = seal_cursor("abc");
        assert_eq!(
            parse_query(Some(&format!("cursor={sealed}")))
                .unwrap()
                .cursor
                .as_deref(),
            Some("abc")
        );
    }

    #[test]
    fn only_cursors_the_api_returned_are_taken() {
        for kv in ["abc", "AAAA-_/+=~", &"x".repeat(1024)] {
            assert_eq!(open_cursor(&seal_cursor(kv)).as_deref(), Some(kv));
        }
        for bad in [
            "garbage",
            "abc",
            "t1.",
            "t1.!!!",
            "t2.YWJj",
            "t1.YWJj=",
            &seal_cursor("a b"),
            &seal_cursor(""),
            &seal_cursor(&"x".repeat(1025)),
        ] {
            assert_eq!(open_cursor(bad), None, "{bad}");
            let e = parse_query(Some(&format!("cursor={bad}"))).unwrap_err();
            assert_eq!((e.status, e.code), (422, "invalid_field"), "{bad}");
            assert!(e.message.contains("`cursor`"), "{}", e.message);
        }
    }

    #[test]
    fn page_keeps_only_tenant_ids() {
        let v = page(
            &["tenant:acme".into(), "key:abc".into(), "tenant:Bad!".into()],
            Some("c".into()),
        );
        assert_eq!(
            v,
            json!({"data":[{"id":"acme"}],"next_cursor": seal_cursor("c")})
        );
    }
}
