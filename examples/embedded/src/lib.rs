//! A vendor's own Cloudflare Worker with ats-bridge mounted under `/ats` (README "Embedding in
//! your own worker"). The vendor keeps its routes; everything under `/ats` is the bridge, and
//! the `baseUrl`s the bridge hands out include `/ats`.

use serde_json::json;
use worker::{event, Context, Env, MessageBatch, Request, Response, Result};

/// The `TENANTS` Durable Object class must be exported by the embedding worker.
pub use ats_bridge::Tenant;

/// Where the bridge is mounted.
const MOUNT: &str = "/ats";

#[event(fetch)]
async fn fetch(req: Request, env: Env, ctx: Context) -> Result<Response> {
    let path = req.path();
    if path == MOUNT || path.starts_with(&format!("{MOUNT}/")) {
        return ats_bridge::handle_fetch_under(MOUNT, req, env, ctx).await;
    }
    // The vendor's own routes.
    match path.as_str() {
        "/" => Response::ok("Vendor app: the ATS bridge lives under /ats"),
        "/api/hello" => Response::from_json(&json!({ "hello": "from the vendor's own worker" })),
        _ => Response::error("Not found", 404),
    }
}

#[event(queue)]
async fn queue(batch: MessageBatch<serde_json::Value>, env: Env, ctx: Context) -> Result<()> {
    ats_bridge::handle_queue(batch, env, ctx).await
}
