// Reference for the benchmark: the least a worker can do for one order — one Durable Object
// insert, answer, then one signed webhook fetch and one update recording it. No validation,
// no idempotency, no retries. bench/run.mjs runs it on the same local server as ats-bridge so
// send_test can be compared with the floor the runtime sets. Not part of the product.

import { DurableObject } from "cloudflare:workers";

const enc = new TextEncoder();

export class Orders extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec("CREATE TABLE IF NOT EXISTS events (id TEXT PRIMARY KEY, body TEXT NOT NULL, delivered_at INTEGER)");
    this.key = crypto.subtle.importKey("raw", enc.encode(env.WEBHOOK_SECRET), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  }

  async fetch(request) {
    const order = await request.json();
    const id = `evt_${crypto.randomUUID()}`;
    const body = JSON.stringify({ type: "record.new", id, data: order });
    this.sql.exec("INSERT INTO events (id, body) VALUES (?, ?)", id, body);
    this.ctx.waitUntil(this.deliver(id, body));
    return Response.json({ id });
  }

  async deliver(id, body) {
    const ts = Math.floor(Date.now() / 1000).toString();
    const mac = await crypto.subtle.sign("HMAC", await this.key, enc.encode(`${id}.${ts}.${body}`));
    const sig = btoa(String.fromCharCode(...new Uint8Array(mac)));
    const r = await fetch(this.env.WEBHOOK_URL, {
      method: "POST",
      headers: { "content-type": "application/json", "webhook-id": id, "webhook-timestamp": ts, "webhook-signature": `v1,${sig}` },
      body,
    });
    await r.arrayBuffer();
    if (r.ok) this.sql.exec("UPDATE events SET delivered_at = ? WHERE id = ?", Date.now(), id);
  }
}

export default {
  async fetch(request, env) {
    const { pathname } = new URL(request.url);
    if (pathname === "/healthz") return new Response("ok");
    if (pathname === "/order" && request.method === "POST") {
      return env.ORDERS.get(env.ORDERS.idFromName("bench")).fetch(request);
    }
    return new Response("not found", { status: 404 });
  },
};
