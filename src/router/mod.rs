//! The worker's front door. It answers `/healthz`, authenticates `/v1` (bearer) and edge calls
//! (Basic key → hash), enforces the body limit, and hands everything tenant-scoped to that
//! tenant's Durable Object, which is the authority for keys and state.

use std::cell::OnceCell;

use serde_json::json;
use worker::{
    js_sys, Context, Date, Env, Headers, Method as WMethod, Request, RequestInit, Response, Result,
};

use crate::config::Config;
use crate::error::{code, ApiError, Context as _};
use crate::http;
use crate::providers::{self, Handler};
use crate::routes::{self, Method};
use crate::secrets;
use crate::web::CancelLinkPage;
use crate::weburl::WebUrl;

mod edge;

use edge::edge_call;

thread_local! {
    // Vars and secrets are fixed for the life of an isolate; parse them once.
    static CONFIG: OnceCell<Config> = const { OnceCell::new() };
}

pub fn config(env: &Env) -> Config {
    CONFIG.with(|c| c.get_or_init(|| Config::from_env(env)).clone())
}

/// Headers the worker adds when forwarding to the tenant object.
pub const H_ORIGIN: &str = "x-bridge-origin";
pub const H_KEY_HASHES: &str = "x-bridge-key-hashes";
/// The request id, so the tenant object can put it on its answer itself: the front door
/// cannot add a header to an answer from the object (its headers are immutable) without
/// copying the whole response.
pub const H_REQUEST_ID: &str = "x-request-id";

/// Handle one HTTP request: the embedding API's fetch entry point for a bridge that owns the
/// whole worker (README "Embedding in your own worker").
pub async fn handle_fetch(req: Request, env: Env, ctx: Context) -> Result<Response> {
    handle_fetch_under("", req, env, ctx).await
}

/// Handle one HTTP request for a bridge mounted under a path prefix (`"/ats"`: the bridge
/// answers `/ats/healthz`, `/ats/v1/…`, `/ats/t/…`, `/ats/p/…`, and every `baseUrl` it hands
/// out includes the prefix). `""` is the root. A path outside the prefix answers 404.
pub async fn handle_fetch_under(
    prefix: &str,
    req: Request,
    env: Env,
    _ctx: Context,
) -> Result<Response> {
    let prefix = prefix.trim_end_matches('/');
    let started = Date::now().as_millis();
    let request_id = req
        .headers()
        .get("cf-ray")
        .ok()
        .flatten()
        .unwrap_or_else(|| secrets::new_id("req_"));
    let method = req.method().to_string();
    let mut log = RequestLog {
        request_id: request_id.clone(),
        ..Default::default()
    };
    let resp = match route(req, &env, prefix, &mut log).await {
        Ok(resp) => resp,
        Err(e) => http::error(&e),
    };
    let error = resp.headers().get(http::H_ERROR_CODE).ok().flatten();
    let resp = match resp.headers().get(H_REQUEST_ID) {
        Ok(Some(_)) => resp, // set by the tenant object
        _ => http::with_header(resp, H_REQUEST_ID, &request_id),
    };
    // One structured line per request, readable in `wrangler tail`. Route templates, never
    // raw paths or bodies, so no key, secret or email can end up here.
    worker::console_log!(
        "{}",
        json!({
            "msg": "request",
            "requestId": request_id,
            "method": method,
            "route": log.route,
            "tenant": log.tenant,
            "provider": log.provider,
            "status": resp.status_code(),
            "error": error,
            "latencyMs": Date::now().as_millis().saturating_sub(started),
        })
    );
    Ok(resp)
}

/// What the request log line says about a request (filled in as routing learns it).
#[derive(Default)]
struct RequestLog {
    request_id: String,
    route: &'static str,
    tenant: Option<String>,
    provider: Option<&'static str>,
}

/// The path inside a mount at `prefix` (`/ats/v1/x` under `/ats` → `/v1/x`); None outside it.
pub(crate) fn strip_mount<'p>(path: &'p str, prefix: &str) -> Option<&'p str> {
    if prefix.is_empty() {
        return Some(path);
    }
    match path.strip_prefix(prefix)? {
        "" => Some("/"),
        rest if rest.starts_with('/') => Some(rest),
        _ => None,
    }
}

/// Where the bridge lives: the request URL, the mount prefix, and the path inside it.
pub(crate) struct Mount<'a> {
    pub(crate) url: WebUrl,
    pub(crate) prefix: &'a str,
    pub(crate) path: String,
}

async fn route(
    mut req: Request,
    env: &Env,
    prefix: &str,
    log: &mut RequestLog,
) -> std::result::Result<Response, ApiError> {
    let url = WebUrl::parse(&req.inner().url()).ok_or_else(ApiError::route_not_found)?;
    let path = strip_mount(url.path(), prefix)
        .ok_or_else(ApiError::route_not_found)?
        .to_string();
    let mount = Mount { url, prefix, path };
    let url = &mount;
    let method = Method::parse(req.method().as_ref());
    let segs = routes::segments(&mount.path);
    match segs.as_slice() {
        ["healthz"] => {
            log.route = "/healthz";
            if method != Method::Get {
                return Err(ApiError::method_not_allowed("GET"));
            }
            Ok(http::json(
                200,
                &json!({"status": "ok", "version": crate::VERSION}),
            ))
        }
        ["v1", rest @ ..] => {
            log.route = "/v1";
            let cfg = config(env);
            let Some(token) = cfg.admin_token.as_deref() else {
                return Err(ApiError::admin_disabled());
            };
            let presented =
                secrets::bearer(req.headers().get("authorization").ok().flatten().as_deref())
                    .map(str::to_string);
            match presented {
                Some(p) if secrets::admin_token_matches(&p, token) => {}
                _ => return Err(ApiError::unauthorized_admin()),
            }
            if rest == ["openapi.json"] {
                log.route = "GET /v1/openapi.json";
                if method != Method::Get {
                    return Err(ApiError::method_not_allowed("GET"));
                }
                return openapi();
            }
            let r = routes::match_admin(method, rest)?;
            log.route = r.template();
            if r == routes::Admin::ListProviders {
                return Ok(http::json(
                    200,
                    &providers::listing::all(&origin(&cfg, url)),
                ));
            }
            if r == routes::Admin::ListTenants {
                return Ok(http::json(
                    200,
                    &crate::directory::list(env, url.url.query()).await?,
                ));
            }
            log.tenant = r.tenant().map(str::to_string);
            let body = if r.takes_body() {
                Some(read_body(&mut req).await?)
            } else {
                None
            };
            let tenant = match r.tenant() {
                Some(t) => t.to_string(),
                None => {
                    // POST /v1/tenants: the new tenant's id is in the body.
                    let v: serde_json::Value =
                        serde_json::from_slice(body.as_deref().unwrap_or_default())
                            .map_err(ApiError::bad_json)?;
                    match v.get("id") {
                        Some(serde_json::Value::String(s)) if crate::model::is_valid_slug(s) => {
                            s.clone()
                        }
                        Some(serde_json::Value::String(_)) => {
                            return Err(ApiError::invalid_field(
                                "id",
                                "must be a slug: lowercase letters, digits and '-', starting with a letter or digit, at most 63 characters",
                            ))
                        }
                        _ => return Err(ApiError::invalid_field("id", "is required (a string)")),
                    }
                }
            };
            let headers = Headers::new();
            let _ = headers.set(H_ORIGIN, &origin(&cfg, url));
            let _ = headers.set(H_REQUEST_ID, &log.request_id);
            // README "Results back to the ATS": result writes may carry an idempotency key.
            if let Ok(Some(k)) = req.headers().get("idempotency-key") {
                let _ = headers.set("idempotency-key", &k);
            }
            forward(env, &tenant, &req, url, headers, body).await
        }
        ["t", rest @ ..] => {
            log.route = "/t";
            let edge = routes::match_edge(method, rest)?;
            edge_call(req, env, url, edge.route, Some(&edge.tenant), log).await
        }
        ["p", rest @ ..] => {
            log.route = "/p";
            let call = match routes::match_partner(method, rest) {
                Ok(call) => call,
                // A cancel link opened in a browser: a page that asks first (docs/architecture.md,
                // "The URL map").
                Err(_) if method == Method::Get && routes::is_cancel_link(rest) => {
                    log.route = "cancel link page";
                    let page = match providers::link_credentials(url.url.query()) {
                        // Its assessment already final: the page says so, with no button.
                        Some((tenant, hashes)) => CancelLinkPage::on_open(
                            link_status(env, &tenant, &hashes, &req, url, &log.request_id).await,
                        ),
                        None => CancelLinkPage::Invalid(401),
                    };
                    return crate::web::cancel_link_page(page);
                }
                Err(e) => return Err(e),
            };
            let content_type = req.headers().get("content-type").ok().flatten();
            let form = matches!(call.op.handler, Handler::CancelLink { .. })
                && crate::web::is_form_submission(content_type.as_deref());
            let answer = edge_call(req, env, url, call, None, log).await;
            if !form {
                return answer;
            }
            // The page's button was pressed: the outcome as a page too, saying what the
            // cancel did (cancelled now, or the assessment was already final).
            let (status, outcome) = match &answer {
                Ok(resp) => (
                    resp.status_code(),
                    resp.headers()
                        .get(crate::web::H_CANCEL_OUTCOME)
                        .ok()
                        .flatten(),
                ),
                Err(e) => (e.status, None),
            };
            match status {
                200 => {
                    let page = CancelLinkPage::after_cancel(outcome.as_deref());
                    crate::web::cancel_link_page(page)
                }
                400..=499 => crate::web::cancel_link_page(CancelLinkPage::Invalid(status)),
                _ => answer,
            }
        }
        ["console", rest @ ..] => {
            log.route = "/console";
            crate::web::console(method, rest)
        }
        ["connect", rest @ ..] => {
            log.route = "/connect";
            crate::web::connect(&mut req, env, url, method, rest, &log.request_id).await
        }
        _ => {
            log.route = "unknown";
            Err(ApiError::route_not_found())
        }
    }
}

/// The status of the assessment a cancel link is bound to, asked of its tenant object (a
/// read: opening a link never cancels). None when the object names none (an unknown token,
/// no such tenant) or cannot be asked: the page then asks, and its button tells the truth.
async fn link_status(
    env: &Env,
    tenant: &str,
    hashes: &[String],
    req: &Request,
    url: &Mount<'_>,
    request_id: &str,
) -> Option<crate::model::Status> {
    let headers = Headers::new();
    let _ = headers.set(H_KEY_HASHES, &hashes.join(","));
    let _ = headers.set(H_REQUEST_ID, request_id);
    let mut resp = forward(env, tenant, req, url, headers, None).await.ok()?;
    if resp.status_code() != 200 {
        return None;
    }
    let v: serde_json::Value = resp.json().await.ok()?;
    let status = v["status"].as_str()?;
    crate::model::Status::ALL
        .into_iter()
        .find(|s| s.as_str() == status)
}

/// The committed OpenAPI document, bundled into the worker's JavaScript (`web::bundle`).
fn openapi() -> std::result::Result<Response, ApiError> {
    let text = crate::web::bundle::file("openapi.json")
        .ok_or_else(|| ApiError::internal_because("the OpenAPI document is not in the build"))?;
    Ok(http::raw_json(200, text))
}

/// The bridge's public root: `PUBLIC_BASE_URL` (else the request's origin) plus the mount
/// prefix. Every `baseUrl` starts with it.
pub(crate) fn origin(cfg: &Config, mount: &Mount) -> String {
    let base = cfg
        .public_base_url
        .clone()
        .unwrap_or_else(|| mount.url.origin().to_string());
    format!("{base}{}", mount.prefix)
}

/// Read a body of at most 256 KB (docs/contract.md "Bad input": 413 beyond).
pub(crate) async fn read_body(req: &mut Request) -> std::result::Result<Vec<u8>, ApiError> {
    if let Ok(Some(len)) = req.headers().get("content-length") {
        if len
            .trim()
            .parse::<usize>()
            .map(|l| l > http::MAX_BODY)
            .unwrap_or(false)
        {
            return Err(ApiError::too_large(http::MAX_BODY));
        }
    }
    let bytes = req.bytes().await.map_err(|_| {
        ApiError::new(
            400,
            code::UNREADABLE_BODY,
            "The request body could not be read.",
        )
    })?;
    if bytes.len() > http::MAX_BODY {
        return Err(ApiError::too_large(http::MAX_BODY));
    }
    Ok(bytes)
}

/// Hand the request to the tenant's Durable Object (same method, path and query).
pub(crate) async fn forward(
    env: &Env,
    tenant: &str,
    req: &Request,
    url: &Mount<'_>,
    headers: Headers,
    body: Option<Vec<u8>>,
) -> std::result::Result<Response, ApiError> {
    let stub = env
        .durable_object("TENANTS")
        .and_then(|ns| ns.get_by_name(tenant))
        .context("binding")?;
    let mut target = format!("https://tenant{}", url.path);
    if let Some(q) = url.url.query() {
        target.push('?');
        target.push_str(q);
    }
    if let Ok(Some(ct)) = req.headers().get("content-type") {
        let _ = headers.set("content-type", &ct);
    }
    let mut init = RequestInit::new();
    init.with_method(match req.method() {
        WMethod::Head => WMethod::Get,
        m => m,
    })
    .with_headers(headers);
    if let Some(b) = body {
        init.with_body(Some(js_sys::Uint8Array::from(b.as_slice()).into()));
    }
    let inner = Request::new_with_init(&target, &init).context("request")?;
    let resp = stub
        .fetch_with_request(inner)
        .await
        .context("tenant object")?;
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::strip_mount;

    #[test]
    fn mount_prefix() {
        assert_eq!(strip_mount("/v1/tenants", ""), Some("/v1/tenants"));
        assert_eq!(strip_mount("/ats/v1/tenants", "/ats"), Some("/v1/tenants"));
        assert_eq!(strip_mount("/ats", "/ats"), Some("/"));
        assert_eq!(strip_mount("/ats/", "/ats"), Some("/"));
        assert_eq!(strip_mount("/atsx/v1", "/ats"), None);
        assert_eq!(strip_mount("/v1/tenants", "/ats"), None);
        assert_eq!(strip_mount("/", "/ats"), None);
    }
}
