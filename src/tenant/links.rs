//! Cancel links (README "Cancel links"): capability URLs the bridge hands an ATS (a provider
//! with a `Handler::CancelLink` operation puts one in its `after_order` call), each bound to one
//! assessment. The token names its tenant (so the
//! front door routes without a lookup); this object keeps only the token's hash.

use serde::Deserialize;
use worker::{SqlStorage, SqlStorageValue as V};

use crate::error::{ApiResult, Context};
use crate::providers::{self, Operation, Provider};
use crate::secrets;

// The `cancel_links` table: created by step 1 of `migrations::LADDER` (frozen there);
// a change to it is a new step.

/// The provider's cancel-link operation, if it has one.
pub fn operation(provider: Provider) -> Option<&'static Operation> {
    provider
        .spec()
        .operations
        .iter()
        .find(|o| matches!(o.handler, providers::Handler::CancelLink { .. }))
}

/// Mint a link for `assessment_id` (synchronously: in the caller's transaction) and return its
/// URL: `{the provider's baseUrl}/{segment}?token=cl_<tenant>.<secret>`.
pub fn mint(
    sql: &SqlStorage,
    provider: Provider,
    op: &Operation,
    origin: &str,
    tenant: &str,
    assessment_id: &str,
    at: i64,
) -> ApiResult<String> {
    let token = providers::new_cancel_link_token(tenant);
    sql.exec(
        "INSERT INTO cancel_links (hash, assessment_id, created_at) VALUES (?, ?, ?)",
        vec![
            secrets::hash_key(&token).into(),
            assessment_id.into(),
            V::Integer(at),
        ],
    )
    .context("insert cancel link")?;
    Ok(link_url(provider, op, origin, tenant, &token))
}

/// A cancel link's URL: `{the provider's baseUrl}/{segment}?token={token}`. Token characters
/// (slug, '.', url-safe base64) need no escaping in a query.
fn link_url(provider: Provider, op: &Operation, origin: &str, tenant: &str, token: &str) -> String {
    format!(
        "{}/{}?token={token}",
        provider.base_url(origin, tenant),
        op.segment
    )
}

/// The assessment one of the presented token hashes is bound to.
pub fn resolve(sql: &SqlStorage, hashes: &[String]) -> ApiResult<Option<String>> {
    #[derive(Deserialize)]
    struct Row {
        assessment_id: String,
    }
    for h in hashes {
        let rows: Vec<Row> = sql
            .exec(
                "SELECT assessment_id FROM cancel_links WHERE hash = ?",
                vec![h.as_str().into()],
            )
            .and_then(|c| c.to_array())
            .context("read cancel link")?;
        if let Some(r) = rows.into_iter().next() {
            return Ok(Some(r.assessment_id));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_is_the_cancel_operation_under_the_providers_base_url_with_its_token() {
        let with: Vec<Provider> = Provider::all()
            .filter(|p| operation(*p).is_some())
            .collect();
        assert!(!with.is_empty(), "a registered provider hosts cancel links");
        for p in Provider::all() {
            let Some(op) = operation(p) else {
                continue;
            };
            assert!(matches!(op.handler, providers::Handler::CancelLink { .. }));
            let token = providers::new_cancel_link_token("acme");
            let url = link_url(p, op, "https://b.example/ats", "acme", &token);
            assert_eq!(
                url,
                format!(
                    "{}/{}?token={token}",
                    p.base_url("https://b.example/ats", "acme"),
                    op.segment
                )
            );
            assert!(url.starts_with("https://b.example/ats/"), "{url}");
            // The link authorizes as its token: the front door reads it back from the query.
            let q = url.split_once('?').unwrap().1;
            let (tenant, hashes) = providers::link_credentials(Some(q)).unwrap();
            assert_eq!(tenant, "acme");
            assert_eq!(hashes, vec![secrets::hash_key(&token)]);
        }
    }
}
