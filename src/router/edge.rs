//! The front door's edge calls (`/t/{tenant}/{provider}/{op}`, `/p/{provider}/{op}`;
//! docs/architecture.md "One order, from the ATS to the webhook and back", step 2).

use worker::{Env, Headers, Request, Response};

use super::{config, forward, origin, read_body, Mount, RequestLog};
use super::{H_KEY_HASHES, H_ORIGIN, H_REQUEST_ID};
use crate::error::ApiError;
use crate::http;
use crate::providers::{self, EdgeRequest, Handler, Inbound};
use crate::routes::EdgeRoute;

/// An edge call (`/t/...` or `/p/...`): authenticate what can be checked without state
/// (the provider's key extraction, prefix, length; for partner-level providers the tenant the
/// key names), then hand it to the tenant's object with the key hashes, which decides. Errors
/// answer in the provider's shape.
pub(super) async fn edge_call(
    mut req: Request,
    env: &Env,
    url: &Mount<'_>,
    call: EdgeRoute,
    path_tenant: Option<&str>,
    log: &mut RequestLog,
) -> std::result::Result<Response, ApiError> {
    let spec = call.provider.spec();
    log.route = call.name();
    log.provider = Some(spec.name);
    let cfg = config(env);
    let shape = |e: ApiError| e.shaped(spec.error_shape);
    let header = |n: &str| req.headers().get(n).ok().flatten();
    let authorization = header("authorization");
    let inbound = Inbound {
        authorization: authorization.as_deref(),
        header: &header,
        settings: &cfg.settings,
    };
    // A public form (an activation form the ATS shows before any key exists) is the same for
    // everyone: answered here, without a credential or a tenant object.
    if let Handler::Activation {
        render,
        public: true,
    } = &call.op.handler
    {
        let req = EdgeRequest {
            tenant: "",
            body: &[],
            query: url.url.query(),
            headers: &[],
            allow_insecure: cfg.allow_insecure,
            settings: &cfg.settings,
        };
        return render(&req).map(|v| http::json(200, &v)).map_err(shape);
    }
    // A cancel link carries its own credential (its token); every other operation the
    // provider's key.
    let credentials = match call.op.handler {
        providers::Handler::CancelLink { .. } => providers::link_credentials(url.url.query()),
        _ => providers::edge_credentials(call.provider, path_tenant, &inbound),
    };
    let forwarded: Vec<(&str, String)> = spec
        .forward_headers
        .iter()
        .filter_map(|n| header(n).map(|v| (*n, v)))
        .collect();
    log.tenant = path_tenant.map(str::to_string);
    let Some((tenant, hashes)) = credentials else {
        return Err(shape(match call.op.handler {
            providers::Handler::CancelLink { .. } => providers::invalid_cancel_link(),
            _ => ApiError::unauthorized_edge(spec.edge_auth),
        }));
    };
    log.tenant = Some(tenant.clone());
    let body = if call.takes_body() {
        Some(read_body(&mut req).await.map_err(shape)?)
    } else {
        None
    };
    let headers = Headers::new();
    let _ = headers.set(H_ORIGIN, &origin(&cfg, url));
    let _ = headers.set(H_KEY_HASHES, &hashes.join(","));
    let _ = headers.set(H_REQUEST_ID, &log.request_id);
    for (n, v) in forwarded {
        let _ = headers.set(n, &v);
    }
    forward(env, &tenant, &req, url, headers, body)
        .await
        .map_err(shape)
}
