//! The benchmark's Rust floor (README "Performance"): `GET /healthz` answers `ok` and does
//! nothing else; `GET /healthz/logged` also writes one structured line like the bridge's
//! request log. Measured next to the JavaScript reference worker, the two separate what any
//! workers-rs worker pays per request (the wasm entry glue) from what one log line costs.

use worker::{event, Context, Date, Env, Request, Response, Result};

#[event(fetch)]
async fn fetch(req: Request, _env: Env, _ctx: Context) -> Result<Response> {
    match req.path().as_str() {
        "/healthz" => Response::ok("ok"),
        "/healthz/logged" => {
            let started = Date::now().as_millis();
            worker::console_log!(
                "{}",
                serde_json::json!({
                    "msg": "request",
                    "method": "GET",
                    "route": "/healthz",
                    "status": 200,
                    "latencyMs": Date::now().as_millis().saturating_sub(started),
                })
            );
            Response::ok("ok")
        }
        _ => Response::error("not found", 404),
    }
}
