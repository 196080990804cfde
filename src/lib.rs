//! ats-bridge: a Cloudflare Worker that lets an assessment vendor plug into Applicant Tracking
//! Systems once (the registered ones: `providers::REGISTRY`). See README.md and
//! docs/architecture.md; this file holds the entry points and the embedding API:
//!
//! - [`handle_fetch`]: the whole HTTP surface (`/healthz`, `/v1/*`, `/t/{tenant}/{provider}/*`,
//!   `/p/{provider}/*`, the console at `/console` and the connect page at `/connect/…`).
//! - [`Tenant`]: the `TENANTS` Durable Object class (must be exported by the embedding worker).
//! - [`handle_queue`]: the `DELIVERIES` / `DELIVERIES_DLQ` consumer.
//!
//! With the default `entrypoints` feature the crate is a ready worker; without it, a vendor
//! mounts these three in their own `#[event]` functions.

pub(crate) mod admin;
pub(crate) mod config;
pub(crate) mod delivery;
pub(crate) mod directory;
pub(crate) mod error;
pub(crate) mod http;
pub(crate) mod model;
pub(crate) mod providers;
pub(crate) mod routes;
pub(crate) mod secrets;
pub(crate) mod targets;
pub(crate) mod tenant;
pub(crate) mod web;
pub(crate) mod weburl;

#[cfg(test)]
mod citation_tests;
#[cfg(test)]
mod fuzz_tests;

pub(crate) mod router;

pub use delivery::consumer::handle_queue;
pub use router::{handle_fetch, handle_fetch_under};
pub use tenant::Tenant;

/// Crate version, reported by `/healthz`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

#[cfg(feature = "entrypoints")]
mod entrypoints {
    use worker::{event, Context, Env, MessageBatch, Request, Response, Result};

    #[event(start)]
    fn start() {
        console_error_panic_hook::set_once();
    }

    #[event(fetch)]
    async fn fetch(req: Request, env: Env, ctx: Context) -> Result<Response> {
        crate::handle_fetch(req, env, ctx).await
    }

    #[event(queue)]
    async fn queue(batch: MessageBatch<serde_json::Value>, env: Env, ctx: Context) -> Result<()> {
        crate::handle_queue(batch, env, ctx).await
    }
}
