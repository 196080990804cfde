//! Webhook endpoints (README "Webhook endpoints"): up to [`MAX_ENDPOINTS`] extra endpoints per
//! tenant besides its `webhook`, each with its own `whsec_` secret (shown once, when it is
//! created), an `event_types` filter (empty = every type), a 410-disable state and a delivery
//! log. `POST/GET/PATCH/DELETE /v1/tenants/{t}/webhooks[/{id}]` and
//! `GET /v1/tenants/{t}/webhooks/{id}/deliveries`. The secret lives in the tenant object's
//! storage with the endpoint (the object is the only reader). Deliveries are the outbox's
//! (`tenant/outbox.rs`, lane `Endpoint`).

mod input;

pub use input::*;

use serde::Deserialize;
use serde_json::{json, Map, Value};
use worker::{Response, SqlStorage, SqlStorageValue as V};

use super::{now, Tenant, TenantRequest};
use crate::error::{code, ApiError, ApiResult, Context};
use crate::model::{rfc3339, EventType};
use crate::{http, secrets, targets};

pub const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS endpoints (
  id TEXT PRIMARY KEY,
  url TEXT NOT NULL,
  description TEXT,
  event_types TEXT NOT NULL DEFAULT '[]',
  secret TEXT NOT NULL,
  disabled INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
";

/// Extra endpoints a tenant may have besides its `webhook`.
pub const MAX_ENDPOINTS: usize = 10;

/// The name the tenant's own webhook goes by where an endpoint id is expected
/// (`replay?endpoint=webhook`, logs).
pub const WEBHOOK: &str = "webhook";

/// One stored endpoint.
#[derive(Debug, Clone, Deserialize)]
pub struct Endpoint {
    pub id: String,
    pub url: String,
    pub description: Option<String>,
    /// JSON array of event type names; `[]` takes every type.
    event_types: String,
    secret: String,
    disabled: i64,
    created_at: i64,
    updated_at: i64,
}

impl Endpoint {
    pub fn event_types(&self) -> Vec<String> {
        serde_json::from_str(&self.event_types).unwrap_or_default()
    }

    pub fn is_disabled(&self) -> bool {
        self.disabled != 0
    }

    /// Where its deliveries go and what signs them.
    pub(super) fn target(&self) -> super::outbox::Target {
        super::outbox::Target {
            url: self.url.clone(),
            disabled: self.is_disabled(),
            secret: Some(self.secret.clone()),
        }
    }

    /// The admin view (never the secret): `{id, url, description, event_types, disabled,
    /// createdAt, updatedAt}`.
    pub fn view(&self) -> Value {
        json!({
            "id": self.id,
            "url": self.url,
            "description": self.description,
            "event_types": self.event_types(),
            "disabled": self.is_disabled(),
            "createdAt": rfc3339(self.created_at),
            "updatedAt": rfc3339(self.updated_at),
        })
    }
}

const COLS: &str = "id, url, description, event_types, secret, disabled, created_at, updated_at";

/// Every endpoint of the tenant, oldest first.
pub fn all(sql: &SqlStorage) -> ApiResult<Vec<Endpoint>> {
    sql.exec(
        &format!("SELECT {COLS} FROM endpoints ORDER BY created_at, id"),
        None,
    )
    .and_then(|c| c.to_array())
    .context("read endpoints")
}

/// One endpoint by id.
pub fn get(sql: &SqlStorage, id: &str) -> ApiResult<Option<Endpoint>> {
    let rows: Vec<Endpoint> = sql
        .exec(
            &format!("SELECT {COLS} FROM endpoints WHERE id = ?"),
            vec![id.into()],
        )
        .and_then(|c| c.to_array())
        .context("read endpoint")?;
    Ok(rows.into_iter().next())
}

/// Disable (a 410) or re-enable an endpoint.
pub fn set_disabled(sql: &SqlStorage, id: &str, disabled: bool, t: i64) -> ApiResult<()> {
    sql.exec(
        "UPDATE endpoints SET disabled = ?, updated_at = ? WHERE id = ?",
        vec![V::Integer(disabled as i64), V::Integer(t), id.into()],
    )
    .context("endpoint state")?;
    Ok(())
}

impl Tenant {
    /// `POST /webhooks`: `201` with the endpoint and its `secret` (shown this once); `409
    /// webhook_limit_reached` past [`MAX_ENDPOINTS`].
    pub(super) fn create_endpoint(&self, call: &TenantRequest) -> ApiResult<Response> {
        self.load_config()?;
        let input = parse(&call.json()?, true, self.config().allow_insecure)?;
        let sql = self.sql();
        if all(&sql)?.len() >= MAX_ENDPOINTS {
            return Err(ApiError::conflict(
                code::WEBHOOK_LIMIT_REACHED,
                format!("A tenant has at most {MAX_ENDPOINTS} webhook endpoints besides its `webhook`; delete one first."),
            ));
        }
        let (id, secret, t) = (secrets::new_id("we_"), secrets::new_webhook_secret(), now());
        sql.exec(
            &format!("INSERT INTO endpoints ({COLS}) VALUES (?, ?, ?, ?, ?, 0, ?, ?)"),
            vec![
                id.clone().into(),
                input.url.unwrap_or_default().into(),
                input.description.flatten().into(),
                json!(input.event_types.unwrap_or_default())
                    .to_string()
                    .into(),
                secret.clone().into(),
                V::Integer(t),
                V::Integer(t),
            ],
        )
        .context("insert endpoint")?;
        let ep = get(&sql, &id)?.ok_or_else(ApiError::internal)?;
        let mut v = ep.view();
        v["secret"] = json!(secret);
        Ok(http::json(201, &v))
    }

    /// `GET /webhooks`: `{"data":[…]}` oldest first, without secrets.
    pub(super) fn list_endpoints(&self) -> ApiResult<Response> {
        self.load_config()?;
        let data: Vec<Value> = all(&self.sql())?.iter().map(Endpoint::view).collect();
        Ok(http::json(200, &json!({ "data": data })))
    }

    pub(super) fn get_endpoint(&self, id: &str) -> ApiResult<Response> {
        self.load_config()?;
        let ep = get(&self.sql(), id)?.ok_or_else(|| ApiError::not_found("endpoint"))?;
        Ok(http::json(200, &ep.view()))
    }

    /// `PATCH /webhooks/{id}`: any of `url`, `event_types`, `description`. A `url` (same or
    /// new) re-enables an endpoint a 410 disabled, and what it held goes out at once; on an
    /// enabled endpoint it never cuts a backoff short (README "Webhook endpoints").
    pub(super) async fn patch_endpoint(
        &self,
        id: &str,
        call: &TenantRequest,
    ) -> ApiResult<Response> {
        self.load_config()?;
        let input = parse(&call.json()?, false, self.config().allow_insecure)?;
        let sql = self.sql();
        let ep = get(&sql, id)?.ok_or_else(|| ApiError::not_found("endpoint"))?;
        let reenable = input.url.is_some() && ep.is_disabled();
        let t = now();
        sql.exec(
            "UPDATE endpoints SET url = ?, description = ?, event_types = ?, disabled = ?, updated_at = ? WHERE id = ?",
            vec![
                input.url.unwrap_or(ep.url.clone()).into(),
                input.description.unwrap_or(ep.description.clone()).into(),
                input
                    .event_types
                    .map(|e| json!(e).to_string())
                    .unwrap_or(ep.event_types.clone())
                    .into(),
                V::Integer(i64::from(ep.is_disabled() && !reenable)),
                V::Integer(t),
                id.into(),
            ],
        )
        .context("update endpoint")?;
        let fresh = get(&sql, id)?.ok_or_else(ApiError::internal)?;
        if reenable {
            // What the 410 held goes out now through the queue (marked due in this same
            // synchronous stretch; the messages follow).
            let ob = self.outbox()?;
            if ob.flush(Some(id)).await? > 0 {
                let grace = crate::delivery::sweep_grace_ms(&self.config().retry_schedule);
                self.arm(now() + grace).await;
            }
        }
        Ok(http::json(200, &fresh.view()))
    }

    /// `DELETE /webhooks/{id}`: `204`; its pending deliveries fail (never sent), its log stays
    /// on the events.
    pub(super) fn delete_endpoint(&self, id: &str) -> ApiResult<Response> {
        self.load_config()?;
        let sql = self.sql();
        get(&sql, id)?.ok_or_else(|| ApiError::not_found("endpoint"))?;
        sql.exec("DELETE FROM endpoints WHERE id = ?", vec![id.into()])
            .context("delete endpoint")?;
        self.outbox()?.fail_endpoint(id)?;
        Ok(http::empty(204))
    }

    /// `GET /webhooks/{id}/deliveries`: the endpoint's delivery log.
    pub(super) fn endpoint_deliveries(
        &self,
        id: &str,
        call: &TenantRequest,
    ) -> ApiResult<Response> {
        self.load_config()?;
        get(&self.sql(), id)?.ok_or_else(|| ApiError::not_found("endpoint"))?;
        Ok(http::json(
            200,
            &self.outbox()?.endpoint_log(id, call.query.as_deref())?,
        ))
    }
}
