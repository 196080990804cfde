// Issue 3: the delivery engine, exercised with `ping` events through the real worker.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import {
  startWorker, startReceiver, admin, createTenant, verifyWebhook, sleep, assertErrorShape, freePort,
} from "./harness.mjs";

let w;
const receivers = [];
async function receiver(fn) {
  const r = await startReceiver(fn);
  receivers.push(r);
  return r;
}

before(async () => {
  // Three retries a second apart: four attempts in all, so exhaustion takes seconds.
  w = await startWorker({ vars: { RETRY_SCHEDULE: "1,1,1" } });
});
after(async () => {
  await w?.stop();
  await Promise.all(receivers.map((r) => r.close()));
});

async function ping(tenant) {
  const r = await admin(w, "POST", `/v1/tenants/${tenant}/webhook/test`);
  assert.equal(r.status, 202, r.text);
  assert.match(r.body.eventId, /^evt_/);
  return r.body.eventId;
}

async function eventDetail(tenant, id) {
  const r = await admin(w, "GET", `/v1/tenants/${tenant}/events/${id}`);
  assert.equal(r.status, 200, r.text);
  return r.body;
}

async function waitForState(tenant, id, state, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ev = await eventDetail(tenant, id);
    if (ev.state === state) return ev;
    if (Date.now() > deadline) throw new Error(`event ${id} stayed ${ev.state}: ${JSON.stringify(ev)}`);
    await sleep(200);
  }
}

test("ping: signed per Standard Webhooks, verified by an independent library, recorded", async () => {
  const rx = await receiver(() => ({ status: 200, body: "thanks" }));
  const t = await createTenant(w, "ping", `${rx.url}/hook`);
  const id = await ping("ping");
  const [req] = await rx.waitFor(1);
  assert.equal(req.method, "POST");
  assert.equal(req.path, "/hook");
  assert.equal(req.headers["webhook-id"], id);
  assert.equal(req.headers["content-type"], "application/json");
  assert.match(req.headers["webhook-signature"], /^v1,[A-Za-z0-9+/=]+$/);
  const ts = Number(req.headers["webhook-timestamp"]);
  assert.ok(Math.abs(ts - Date.now() / 1000) < 30, "timestamp is unix seconds of the attempt");
  const payload = verifyWebhook(t.webhook.secret, req);
  assert.equal(payload.eventType, "ping");
  assert.equal(payload.eventId, id);
  assert.equal(payload.recordId, null);
  assert.equal(payload.syncType, "real_time");
  assert.equal(payload.syncJobId, "ats_assessments_real_time");
  assert.match(payload.syncRunId, /^real_time_\d+$/);
  assert.equal(typeof payload.triggeredAt, "number");
  assert.throws(() => verifyWebhook("whsec_" + Buffer.alloc(32, 1).toString("base64"), req), "a wrong secret fails");

  const ev = await waitForState("ping", id, "delivered");
  assert.equal(ev.attemptCount, 1);
  assert.equal(ev.body, req.body, "the stored body is exactly what was sent");
  assert.equal(ev.attempts.length, 1);
  assert.equal(ev.attempts[0].status, 200);
  assert.equal(ev.attempts[0].response, "thanks");
  assert.equal(typeof ev.attempts[0].latencyMs, "number");
  assert.ok(ev.deliveredAt);
  assert.ok(!JSON.stringify(ev).includes(t.webhook.secret), "no secret in the event view");
});

test("500, 500, 200: delivered on the third attempt with one webhook-id", async () => {
  const rx = await receiver((_req, n) => ({ status: n < 3 ? 500 : 200, body: `answer ${n}` }));
  const t = await createTenant(w, "retry", rx.url);
  const id = await ping("retry");
  const reqs = await rx.waitFor(3, 20_000);
  assert.deepEqual(reqs.map((r) => r.headers["webhook-id"]), [id, id, id]);
  for (const r of reqs) verifyWebhook(t.webhook.secret, r);
  assert.equal(new Set(reqs.map((r) => r.body)).size, 1, "same body on every attempt");
  const ev = await waitForState("retry", id, "delivered");
  assert.deepEqual(ev.attempts.map((a) => a.status), [500, 500, 200]);
  assert.equal(ev.attempts[0].response, "answer 1");
  assert.equal(ev.attemptCount, 3);
  await sleep(1500);
  assert.equal(rx.requests.length, 3, "nothing more after success");
});

test("302 is a failure and the redirect is never followed", async () => {
  const target = await receiver(() => ({ status: 200 }));
  const rx = await receiver(() => ({ status: 302, headers: { location: `${target.url}/stolen` } }));
  await createTenant(w, "redirect", rx.url);
  const id = await ping("redirect");
  const ev = await waitForState("redirect", id, "failed", 20_000);
  assert.deepEqual(ev.attempts.map((a) => a.status), [302, 302, 302, 302], "1 attempt + 3 retries");
  assert.equal(target.requests.length, 0, "the redirect target received nothing");
  assert.equal(rx.requests.length, 4);
});

test("exhausted events are failed, listed, and replay delivers with the same webhook-id", async () => {
  let up = false;
  const rx = await receiver(() => ({ status: up ? 200 : 503 }));
  const t = await createTenant(w, "exhaust", rx.url);
  const id = await ping("exhaust");
  const failed = await waitForState("exhaust", id, "failed", 20_000);
  assert.equal(failed.attemptCount, 4);
  assert.equal(failed.nextAttemptAt, null);
  const list = await admin(w, "GET", "/v1/tenants/exhaust/events?state=failed");
  assert.deepEqual(list.body.data.map((e) => e.eventId), [id]);
  assert.equal((await admin(w, "GET", "/v1/tenants/exhaust/events?state=delivered")).body.data.length, 0);

  up = true;
  const rep = await admin(w, "POST", `/v1/tenants/exhaust/events/${id}/replay`);
  assert.equal(rep.status, 202, rep.text);
  const ev = await waitForState("exhaust", id, "delivered");
  assert.equal(ev.attemptCount, 5);
  const last = rx.requests.at(-1);
  assert.equal(last.headers["webhook-id"], id);
  verifyWebhook(t.webhook.secret, last);
  assertErrorShape(assert, await admin(w, "POST", "/v1/tenants/exhaust/events/evt_nope/replay"), 404);
  assertErrorShape(assert, await admin(w, "GET", "/v1/tenants/exhaust/events/evt_nope"), 404);
});

test("410 disables the endpoint; PATCH webhook.url re-enables and pending events go out", async () => {
  let gone = true;
  const rx = await receiver(() => ({ status: gone ? 410 : 200 }));
  await createTenant(w, "gone", rx.url);
  const first = await ping("gone");
  await rx.waitFor(1);
  await sleep(300);
  const t1 = await admin(w, "GET", "/v1/tenants/gone");
  assert.equal(t1.body.webhook.enabled, false);
  const second = await ping("gone");
  await sleep(2500);
  assert.equal(rx.requests.length, 1, "nothing is sent while disabled");
  for (const id of [first, second]) {
    const ev = await eventDetail("gone", id);
    assert.equal(ev.state, "pending");
    // Held while the webhook is disabled: no past due time, and the reason.
    assert.equal(ev.nextAttemptAt, null, JSON.stringify(ev));
    assert.match(ev.heldReason, /webhook is disabled: it answered 410 Gone; a PATCH of webhook\.url/);
  }
  const listed = (await admin(w, "GET", "/v1/tenants/gone/events?state=pending")).body.data;
  assert.ok(listed.length === 2 && listed.every((e) => e.nextAttemptAt === null && /disabled/.test(e.heldReason)), JSON.stringify(listed));

  gone = false;
  const p = await admin(w, "PATCH", "/v1/tenants/gone", { webhook: { url: rx.url } });
  assert.equal(p.status, 200);
  assert.equal(p.body.webhook.enabled, true);
  await rx.waitFor(3, 10_000);
  await waitForState("gone", first, "delivered");
  await waitForState("gone", second, "delivered");
  assert.equal((await eventDetail("gone", first)).heldReason, null);
  const ids = rx.requests.slice(1).map((r) => r.headers["webhook-id"]).sort();
  assert.deepEqual(ids, [first, second].sort());
});

test("429 with Retry-After delays the next attempt at least that long", async () => {
  const rx = await receiver((_r, n) => (n === 1 ? { status: 429, headers: { "retry-after": "3" } } : { status: 200 }));
  await createTenant(w, "ratelimit", rx.url);
  const id = await ping("ratelimit");
  const reqs = await rx.waitFor(2, 20_000);
  const gap = reqs[1].at - reqs[0].at;
  assert.ok(gap >= 2900, `second attempt ${gap} ms after the first, Retry-After said 3 s`);
  await waitForState("ratelimit", id, "delivered");
});

test("secret rotation: both signatures are sent and each verifies", async () => {
  const rx = await receiver(() => ({ status: 200 }));
  const t = await createTenant(w, "rotate", rx.url);
  const rot = await admin(w, "POST", "/v1/tenants/rotate/webhook/secret");
  assert.equal(rot.status, 201);
  await ping("rotate");
  const [req] = await rx.waitFor(1);
  const sigs = req.headers["webhook-signature"].split(" ");
  assert.equal(sigs.length, 2, "new and old signatures, space-separated");
  verifyWebhook(rot.body.secret, req);
  verifyWebhook(t.webhook.secret, req);
  // Each signature on its own belongs to exactly one of the secrets.
  verifyWebhook(rot.body.secret, { ...req, headers: { ...req.headers, "webhook-signature": sigs[0] } });
  verifyWebhook(t.webhook.secret, { ...req, headers: { ...req.headers, "webhook-signature": sigs[1] } });
});

test("a receiver that never answers times out after 15 s and is retried", async () => {
  const rx = await receiver((_r, n) => (n === 1 ? new Promise(() => {}) : { status: 200 }));
  await createTenant(w, "slow", rx.url);
  const id = await ping("slow");
  const ev = await waitForState("slow", id, "delivered", 40_000);
  assert.equal(ev.attempts[0].status, null);
  assert.match(ev.attempts[0].error, /timed out/);
  assert.equal(ev.attempts[0].kind, "timeout");
  assert.ok(ev.attempts[0].latencyMs >= 14_500 && ev.attempts[0].latencyMs < 25_000, `latency ${ev.attempts[0].latencyMs}`);
  assert.equal(ev.attempts[1].status, 200);
});

test("events list: newest first, state filter, cursor paging, limit clamp", async () => {
  const rx = await receiver(() => ({ status: 200 }));
  await createTenant(w, "paging", rx.url);
  const ids = [];
  for (let i = 0; i < 5; i++) ids.push(await ping("paging"));
  await rx.waitFor(5);
  const p1 = await admin(w, "GET", "/v1/tenants/paging/events?limit=2");
  assert.equal(p1.status, 200);
  assert.deepEqual(p1.body.data.map((e) => e.eventId), [ids[4], ids[3]]);
  assert.ok(p1.body.next_cursor);
  const p2 = await admin(w, "GET", `/v1/tenants/paging/events?limit=2&cursor=${p1.body.next_cursor}`);
  assert.deepEqual(p2.body.data.map((e) => e.eventId), [ids[2], ids[1]]);
  const p3 = await admin(w, "GET", `/v1/tenants/paging/events?limit=2&cursor=${p2.body.next_cursor}`);
  assert.deepEqual(p3.body.data.map((e) => e.eventId), [ids[0]]);
  assert.equal(p3.body.next_cursor, null);
  const item = p1.body.data[0];
  for (const k of ["eventId", "eventType", "recordId", "state", "attemptCount", "nextAttemptAt", "createdAt", "deliveredAt"]) {
    assert.ok(k in item, `list item has ${k}`);
  }
  assert.equal((await admin(w, "GET", "/v1/tenants/paging/events?limit=1000")).body.data.length, 5);
  assertErrorShape(assert, await admin(w, "GET", "/v1/tenants/paging/events?state=PENDINGX"), 422);
  assertErrorShape(assert, await admin(w, "GET", "/v1/tenants/paging/events?cursor=garbage"), 422);
});

test("nothing lost: receiver down, 20 events, worker restarted, receiver up → all 20 arrive", async () => {
  const port = await freePort();
  const durable = await startWorker({ vars: { RETRY_SCHEDULE: "1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1" }, persistTo: undefined });
  try {
    const t = await createTenant(durable, "durable", `http://127.0.0.1:${port}/hook`);
    const ids = [];
    for (let i = 0; i < 20; i++) {
      const r = await admin(durable, "POST", "/v1/tenants/durable/webhook/test");
      assert.equal(r.status, 202);
      ids.push(r.body.eventId);
    }
    await sleep(1500); // first attempts fail (connection refused) and retries are queued
    await durable.restart(); // queue messages held in memory are gone with the process
    const got = new Map();
    const server = createServer((req, res) => {
      let body = "";
      req.on("data", (c) => (body += c));
      req.on("end", () => {
        got.set(req.headers["webhook-id"], { headers: req.headers, body });
        res.end("ok");
      });
    });
    // A listen error (the port taken meanwhile on a shared machine) fails the test instead of
    // leaving it waiting forever with its worker running.
    await new Promise((r, reject) => { server.once("error", reject); server.listen(port, "127.0.0.1", r); });
    try {
      const deadline = Date.now() + 45_000;
      while (got.size < 20 && Date.now() < deadline) await sleep(250);
      assert.deepEqual([...got.keys()].sort(), [...ids].sort(), "every committed event arrived");
      for (const rec of got.values()) verifyWebhook(t.webhook.secret, rec);
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  } finally {
    await durable.stop();
  }
});

// Issue 11 (7): every failed attempt carries an explicit kind, whatever its latency.
test("an answer whose body breaks off after a 200 status line is a network failure, retried, not a delivery", async () => {
  let n = 0;
  const rx = await receiver(() => (++n === 1 ? "break" : n === 2 ? "break-chunked" : { status: 200 }));
  await createTenant(w, "broken-body", `${rx.url}/hook`);
  const id = await ping("broken-body");
  const ev = await waitForState("broken-body", id, "delivered");
  assert.deepEqual(ev.attempts.map((a) => a.kind), ["network", "network", null]);
  for (const a of ev.attempts.slice(0, 2)) {
    assert.equal(a.status, null);
    assert.match(a.error, /the answer broke off after its status line \(HTTP 200\)/);
  }
  assert.equal(rx.requests.length, 3);
});

test("failed attempts say what kind of failure they were: http_status, network", async () => {
  let n = 0;
  const rx = await receiver(() => (++n === 1 ? { status: 500, body: "boom" } : n === 2 ? "drop" : { status: 200 }));
  await createTenant(w, "kinds", `${rx.url}/hook`);
  const id = await ping("kinds");
  const ev = await waitForState("kinds", id, "delivered");
  assert.deepEqual(ev.attempts.map((a) => a.kind), ["http_status", "network", null]);
  assert.equal(ev.attempts[0].status, 500);
  assert.equal(ev.attempts[0].response, "boom");
  assert.equal(ev.attempts[1].status, null);
  assert.match(ev.attempts[1].error, /network error/);
});
