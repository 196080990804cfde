//! Queue consumer for `DELIVERIES` (retries, re-enqueued sweeps) and `DELIVERIES_DLQ`
//! (messages the consumer gave up on). Each message is handed to its tenant's Durable Object,
//! which performs the attempt against its outbox; this layer only routes and acknowledges.

use futures_util::future::join_all;
use serde_json::Value;
use worker::{
    js_sys, Context, Env, MessageBatch, MessageExt, Method, Request, RequestInit, Result,
};

use super::QueueMsg;

/// The embedding API's queue entry point.
pub async fn handle_queue(batch: MessageBatch<Value>, env: Env, _ctx: Context) -> Result<()> {
    // The dead-letter queue is named after the main one (`…-dlq`, see wrangler.toml).
    let dead_letter = batch.queue().ends_with("-dlq");
    let messages = batch.messages()?;
    let outcomes = join_all(
        messages
            .iter()
            .map(|m| handle_one(m.body().clone(), dead_letter, &env)),
    )
    .await;
    for (m, outcome) in messages.iter().zip(outcomes) {
        match outcome {
            Outcome::Done => m.ack(),
            Outcome::Retry => m.retry(),
            Outcome::Unusable(reason) => {
                // Not a message we can ever handle: park it on the DLQ (or, already there, log
                // it) instead of retrying it forever or dropping it unseen.
                worker::console_error!("unusable delivery message ({reason}): {}", m.body());
                if !dead_letter {
                    if let Ok(q) = env.queue("DELIVERIES_DLQ") {
                        if q.send(m.body().clone()).await.is_err() {
                            m.retry();
                            continue;
                        }
                    }
                }
                m.ack();
            }
        }
    }
    Ok(())
}

enum Outcome {
    Done,
    Retry,
    Unusable(&'static str),
}

async fn handle_one(body: Value, dead_letter: bool, env: &Env) -> Outcome {
    let Ok(msg) = serde_json::from_value::<QueueMsg>(body) else {
        return Outcome::Unusable("malformed body");
    };
    if !crate::model::is_valid_slug(&msg.tenant) {
        return Outcome::Unusable("bad tenant id");
    }
    let op = if dead_letter {
        "dead-letter"
    } else {
        "deliver"
    };
    let stub = match env
        .durable_object("TENANTS")
        .and_then(|ns| ns.get_by_name(&msg.tenant))
    {
        Ok(s) => s,
        Err(_) => return Outcome::Retry,
    };
    let Ok(text) = serde_json::to_string(&msg) else {
        return Outcome::Unusable("unserializable");
    };
    let mut init = RequestInit::new();
    init.with_method(Method::Post)
        .with_body(Some(js_sys::JsString::from(text).into()));
    let Ok(req) = Request::new_with_init(&format!("https://tenant/internal/{op}"), &init) else {
        return Outcome::Retry;
    };
    match stub.fetch_with_request(req).await {
        Ok(r) if (200..300).contains(&r.status_code()) => Outcome::Done,
        Ok(r) if r.status_code() == 404 => Outcome::Unusable("unknown tenant or event"),
        _ => Outcome::Retry,
    }
}
