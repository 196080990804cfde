//! The tenant object's side of connect links (README "Connect links"): it stores each link's
//! token hash and is the only authority on whether a link opens the connect page. Rules live
//! in `admin::connect` and the per-ATS content in `providers::setup`.

use serde_json::{json, Value};
use worker::{Headers, Method as WMethod, Response, SqlStorageValue as V};

use super::{now, Tenant, TenantRequest};
use crate::admin::connect::{self as rules, LinkRow};
use crate::delivery::attempt;
use crate::error::{code, ApiError, ApiResult, Context};
use crate::http;
use crate::model::{rfc3339, Provider};
use crate::providers::setup;
use crate::routes::Method;
use crate::secrets;
use crate::targets;

// The `connect_links` table: created by step 1 of `migrations::LADDER` (frozen there);
// a change to it is a new step.

const COLS: &str =
    "id, provider, created_at, expires_at, revoked_at, viewed_at, key_issued_at, connected_at";

/// How long the connect page waits for the ATS to check a credential: 10 s.
const CHECK_TIMEOUT_MS: u64 = 10_000;

fn link_not_found() -> ApiError {
    ApiError::new(
        404,
        "connect_link_not_found",
        "This connect link does not exist, has expired or was revoked. Ask your vendor for a new one.",
    )
}

impl Tenant {
    /// `POST /v1/tenants/{t}/connect-links`: `201 {id, url, expiresAt, …}`; the token is in
    /// `url` only, this once.
    pub(super) fn create_connect_link(&self, t: &str, call: &TenantRequest) -> ApiResult<Response> {
        self.load_config()?;
        let new = rules::parse_create(&call.json()?)?;
        let token = rules::new_token();
        let (id, n) = (secrets::new_id("cl_"), now());
        let expires_at = n + new.ttl_seconds * 1000;
        self.sql()
            .exec(
                "INSERT INTO connect_links (id, provider, hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
                vec![
                    id.clone().into(),
                    new.provider.as_str().into(),
                    secrets::hash_key(&token).into(),
                    V::Integer(n),
                    V::Integer(expires_at),
                ],
            )
            .context("store connect link")?;
        Ok(http::json(
            201,
            &json!({
                "id": id,
                "provider": new.provider.as_str(),
                "url": rules::url(&call.origin, t, &token),
                "state": "active",
                "createdAt": rfc3339(n),
                "expiresAt": rfc3339(expires_at),
            }),
        ))
    }

    /// `GET /v1/tenants/{t}/connect-links`: newest first, at most 100, never a token.
    pub(super) fn list_connect_links(&self) -> ApiResult<Response> {
        self.load_config()?;
        let rows: Vec<LinkRow> = self
            .sql()
            .exec(
                &format!("SELECT {COLS} FROM connect_links ORDER BY created_at DESC, id LIMIT 100"),
                None,
            )
            .and_then(|c| c.to_array())
            .context("list connect links")?;
        let n = now();
        let data: Vec<Value> = rows.iter().map(|r| rules::item(r, n)).collect();
        Ok(http::json(200, &json!({ "data": data })))
    }

    /// `DELETE /v1/tenants/{t}/connect-links/{id}`: `204`; the link answers 404 from now on.
    pub(super) fn revoke_connect_link(&self, id: &str) -> ApiResult<Response> {
        self.load_config()?;
        let row = self
            .link_by("id", id)?
            .ok_or_else(|| ApiError::not_found("connect link"))?;
        if row.revoked_at.is_none() {
            self.sql()
                .exec(
                    "UPDATE connect_links SET revoked_at = ? WHERE id = ?",
                    vec![V::Integer(now()), id.into()],
                )
                .context("revoke connect link")?;
        }
        Ok(http::empty(204))
    }

    fn link_by(&self, column: &str, value: &str) -> ApiResult<Option<LinkRow>> {
        let rows: Vec<LinkRow> = self
            .sql()
            .exec(
                &format!("SELECT {COLS} FROM connect_links WHERE {column} = ?"),
                vec![value.into()],
            )
            .and_then(|c| c.to_array())
            .context("read connect link")?;
        Ok(rows.into_iter().next())
    }

    /// The link a token opens, if it is usable now.
    fn usable_link(&self, token: &str) -> ApiResult<LinkRow> {
        if !rules::is_token_shaped(token) || !self.exists() {
            return Err(link_not_found());
        }
        let row = self
            .link_by("hash", &secrets::hash_key(token))?
            .filter(|r| rules::usable(r, now()))
            .ok_or_else(link_not_found)?;
        Ok(row)
    }

    /// `/connect/{t}/{token}[/{action}]` from the worker: `GET` checks the link (the worker then
    /// serves the page or the 404 page); `POST …/session` answers the page's content (issuing
    /// the key on the first view); `POST …/complete` takes the customer's credentials.
    pub(super) async fn connect_call(
        &self,
        t: &str,
        token: &str,
        action: &[&str],
        call: &TenantRequest,
    ) -> ApiResult<Response> {
        let row = self.usable_link(token)?;
        let provider = Provider::parse(&row.provider).ok_or_else(link_not_found)?;
        match (call.method, action) {
            (Method::Get, []) => Ok(http::json(
                200,
                &json!({"state": rules::state(&row, now())}),
            )),
            (Method::Post, ["session"]) => self.connect_session(t, row, provider, call).await,
            (Method::Post, ["complete"]) => self.connect_complete(row, provider, call).await,
            (_, [] | ["session"] | ["complete"]) => {
                Err(ApiError::method_not_allowed(if action.is_empty() {
                    "GET"
                } else {
                    "POST"
                }))
            }
            _ => Err(ApiError::route_not_found()),
        }
    }

    async fn connect_session(
        &self,
        t: &str,
        row: LinkRow,
        provider: Provider,
        call: &TenantRequest,
    ) -> ApiResult<Response> {
        let cfg = self.load_config()?;
        let n = now();
        // Claim the first view and the key issue with no await in between, so two tabs opening
        // the link at once cannot both be shown a key. A link that is already connected (its
        // `complete` called directly) issues no key: a used link changes nothing.
        let first_key = row.key_issued_at.is_none() && row.connected_at.is_none();
        self.sql()
            .exec(
                "UPDATE connect_links SET viewed_at = coalesce(viewed_at, ?), key_issued_at = CASE WHEN ? THEN ? ELSE key_issued_at END WHERE id = ?",
                vec![
                    V::Integer(n),
                    V::Integer(i64::from(first_key)),
                    V::Integer(n),
                    row.id.clone().into(),
                ],
            )
            .context("mark connect link viewed")?;
        let key = if first_key {
            let issued = self
                .issue_key(t, provider, rules::REPLACED_KEY_GRACE_SECONDS, &call.origin)
                .await?;
            issued["secretKey"].as_str().map(str::to_string)
        } else {
            None
        };
        let g = setup::guide(provider);
        let base = provider.base_url(&call.origin, t);
        let urls: Vec<Value> = g
            .urls
            .iter()
            .map(|u| json!({"label": u.label, "value": format!("{base}{}", u.suffix)}))
            .collect();
        let fields: Vec<Value> = g
            .fields
            .iter()
            .map(|f| json!({"name": f.name, "label": f.label, "help": f.help, "secret": f.secret, "optional": f.optional}))
            .collect();
        Ok(http::json(
            200,
            &json!({
                "tenant": {"id": cfg.id, "name": cfg.name},
                "provider": provider.as_str(),
                "providerName": g.display_name,
                "state": rules::state(&row, n),
                "expiresAt": rfc3339(row.expires_at),
                "steps": g.steps,
                "urls": urls,
                "key": {
                    "label": g.key_label,
                    "value": key,
                    "issuedAt": row.key_issued_at.or(first_key.then_some(n)).map(rfc3339),
                },
                "fields": fields,
                "note": g.note,
                "connectedAt": row.connected_at.map(rfc3339),
            }),
        ))
    }

    async fn connect_complete(
        &self,
        row: LinkRow,
        provider: Provider,
        call: &TenantRequest,
    ) -> ApiResult<Response> {
        let g = setup::guide(provider);
        rules::ensure_unused(&row, g.display_name)?;
        let body = if call.body.is_empty() {
            Value::Null
        } else {
            call.json()?
        };
        let fields = setup::assemble(provider, rules::parse_credentials(&body, g.fields)?)?;
        let cfg = self.config().clone();
        if let Some(check) = setup::credential_check(provider, &fields, &cfg.settings) {
            let url = targets::check_target(&check.url, cfg.allow_insecure).map_err(|why| {
                ApiError::new(
                    422,
                    code::INVALID_CONFIGURATION,
                    format!("The {} API base {why}.", g.display_name),
                )
            })?;
            let headers = Headers::new();
            let _ = headers.set("authorization", &check.authorization);
            let _ = headers.set("content-type", check.content_type);
            let _ = headers.set("user-agent", attempt::USER_AGENT);
            let r = attempt::send_with_timeout(
                WMethod::Post,
                url.as_str(),
                headers,
                Some(check.body.clone()),
                CHECK_TIMEOUT_MS,
                attempt::PROVIDER_READ_CAP,
            )
            .await;
            (check.accept)(r.status, &r.body)
                .map_err(|why| ApiError::new(422, code::CREDENTIALS_REJECTED, why))?;
        }
        // Claim the link with no await between reading and marking it, so two submissions
        // racing through the check cannot both store credentials (the second answers 409), and
        // a link revoked or expired during the check stores nothing.
        let n = now();
        let current = self
            .link_by("id", &row.id)?
            .filter(|r| rules::usable(r, n))
            .ok_or_else(link_not_found)?;
        rules::ensure_unused(&current, g.display_name)?;
        self.sql()
            .exec(
                "UPDATE connect_links SET connected_at = ? WHERE id = ?",
                vec![V::Integer(n), row.id.clone().into()],
            )
            .context("mark connect link connected")?;
        if !fields.is_empty() {
            let tenant = self.load_config()?.id;
            // Stored on the in-memory copy with no await in between (see `change_secrets`).
            let stored = self
                .change_secrets(&tenant, |s| setup::store(provider, fields, s))
                .await;
            if let Err(e) = stored {
                // Nothing was connected: the link stays usable for another try.
                self.sql()
                    .exec(
                        "UPDATE connect_links SET connected_at = NULL WHERE id = ? AND connected_at = ?",
                        vec![row.id.clone().into(), V::Integer(n)],
                    )
                    .context("release connect link")?;
                return Err(e);
            }
        }
        Ok(http::json(
            200,
            &json!({"state": "connected", "connectedAt": rfc3339(n)}),
        ))
    }
}
