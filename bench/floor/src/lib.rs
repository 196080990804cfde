//! The benchmark's Rust floor (README "Performance"): `GET /healthz` answers `ok` and does
//! nothing else; `GET /healthz/logged` also writes one structured line like the bridge's
//! request log; `POST /order` does what the JavaScript reference worker does for an order
//! (bench/reference/worker.js), in workers-rs: one Durable Object insert, the answer, then one
//! signed webhook fetch and one update recording it. Measured next to the reference, they
//! separate what any workers-rs worker pays (the wasm entry glue, per request and per order)
//! from what one log line costs and from the bridge's own work.

use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use worker::{
    durable_object, event, Context, Date, DurableObject, Env, Fetch, Headers, Method, Request,
    RequestInit, Response, Result, SqlStorage, SqlStorageValue, State,
};

#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> Result<Response> {
    match (req.method(), req.path().as_str()) {
        (Method::Get, "/healthz") => Response::ok("ok"),
        (Method::Get, "/healthz/logged") => {
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
        (Method::Post, "/order") => {
            let stub = env
                .durable_object("ORDERS")?
                .id_from_name("bench")?
                .get_stub()?;
            stub.fetch_with_request(req).await
        }
        _ => Response::error("not found", 404),
    }
}

/// The reference's `Orders` object, in Rust: an `events` table, one row per order.
#[durable_object]
pub struct Orders {
    state: State,
    env: Env,
}

impl DurableObject for Orders {
    fn new(state: State, env: Env) -> Self {
        let _ = state.storage().sql().exec(
            "CREATE TABLE IF NOT EXISTS events (id TEXT PRIMARY KEY, body TEXT NOT NULL, delivered_at INTEGER)",
            None,
        );
        Orders { state, env }
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        let order: serde_json::Value = req.json().await?;
        let id = format!(
            "evt_{:016x}{:016x}",
            (worker::js_sys::Math::random() * 2f64.powi(53)) as u64,
            (worker::js_sys::Math::random() * 2f64.powi(53)) as u64
        );
        let body = serde_json::json!({ "type": "record.new", "id": id, "data": order }).to_string();
        let sql = self.state.storage().sql();
        sql.exec(
            "INSERT INTO events (id, body) VALUES (?, ?)",
            vec![id.clone().into(), body.clone().into()],
        )?;
        let url = self.env.var("WEBHOOK_URL")?.to_string();
        let secret = self.env.var("WEBHOOK_SECRET")?.to_string();
        let delivery_id = id.clone();
        self.state
            .wait_until(async move { deliver(sql, url, secret, delivery_id, body).await });
        Response::from_json(&serde_json::json!({ "id": id }))
    }
}

/// Sign (Standard Webhooks: HMAC-SHA256 of `id.timestamp.body`), send, read the answer, and
/// record a 2xx as delivered.
async fn deliver(sql: SqlStorage, url: String, secret: String, id: String, body: String) {
    let ts = (Date::now().as_millis() / 1000).to_string();
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return;
    };
    mac.update(format!("{id}.{ts}.{body}").as_bytes());
    let sig = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    let headers = Headers::new();
    let _ = headers.set("content-type", "application/json");
    let _ = headers.set("webhook-id", &id);
    let _ = headers.set("webhook-timestamp", &ts);
    let _ = headers.set("webhook-signature", &format!("v1,{sig}"));
    let mut init = RequestInit::new();
    init.with_method(Method::Post)
        .with_headers(headers)
        .with_body(Some(body.into()));
    let Ok(req) = Request::new_with_init(&url, &init) else {
        return;
    };
    if let Ok(mut resp) = Fetch::Request(req).send().await {
        let _ = resp.bytes().await;
        if (200..300).contains(&resp.status_code()) {
            let _ = sql.exec(
                "UPDATE events SET delivered_at = ? WHERE id = ?",
                vec![
                    SqlStorageValue::Integer(Date::now().as_millis() as i64),
                    id.into(),
                ],
            );
        }
    }
}
