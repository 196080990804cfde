// The dead-letter queue (README "Configuration": DELIVERIES_DLQ, "messages the consumer gave up
// on, recorded, never silently dropped"): a message Cloudflare Queues moves there after the
// `DELIVERIES` consumer's retries (wrangler.toml `max_retries`) reaches the bridge's own DLQ
// consumer, which records it where the delivery is shown — a provider call's on its assessment
// (`providerSync.deadLettered`), a webhook delivery's on its event (`lastError`) — and leaves
// the delivery pending for the alarm sweep. The test-only front worker (tests/front/worker.mjs,
// same `wrangler dev` session) puts the message on the real local DLQ the way the queue does.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startWorker, startReceiver, admin, edge, createTenant, createKey, fixture, sleep } from "./harness.mjs";

let w, ashbyApi, hooks;
let ashbyScript = () => ({ status: 500, body: { success: false } });
const closers = [];

before(async () => {
  ashbyApi = await startReceiver((req, n) => ashbyScript(req, n));
  hooks = await startReceiver(() => ({ status: 500 }));
  closers.push(ashbyApi, hooks);
  // A long first retry: the queued retry never comes during the test, as when the queue has
  // given up on it.
  w = await startWorker({ front: true, vars: { RETRY_SCHEDULE: "600", ASHBY_API_BASE: `${ashbyApi.url}/api/` } });
});
after(async () => {
  await Promise.all([w?.stop(), ...closers.map((c) => c.close())]);
});

/** Every JSON object the worker logged. */
function jsonLines() {
  return w.logs().split("\n").flatMap((l) => {
    const i = l.indexOf("{\"msg\"");
    if (i < 0) return [];
    try { return [JSON.parse(l.slice(i, l.lastIndexOf("}") + 1))]; } catch { return []; }
  });
}

async function until(what, fn, ms = 15_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(150);
  }
}

/** Put a `DELIVERIES` message body on the dead-letter queue, as the queue does on giving up. */
async function deadLetter(msg) {
  const r = await fetch(`${w.url}/__test/dead-letter`, {
    method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(msg),
  });
  assert.equal(r.status, 200, await r.text());
}

async function ashbyTenant(id) {
  await createTenant(w, id, hooks.url);
  await admin(w, "PUT", `/v1/tenants/${id}/packages`, [{ id: "pkg_456", name: "Assessment" }]);
  await admin(w, "PATCH", `/v1/tenants/${id}`, { ashby: { api_key: `ashby-key-${id}` } });
  const key = (await createKey(w, id, "ashby")).secretKey;
  const body = fixture("ashby/assessment.start.json");
  body.application.ashby_id = `app_${id}`;
  const r = await edge(w, id, "ashby", "assessment.start", { key, body });
  assert.equal(r.status, 200, r.text);
  return r.body.results.assessment_id;
}

const callLine = (assessmentId) => jsonLines().find((l) => l.msg === "provider call attempt" && l.assessmentId === assessmentId);

test("a provider call's message dead-lettered while the call is pending ends visible on its assessment", async () => {
  const id = await ashbyTenant("dl-pending");
  assert.equal((await admin(w, "POST", `/v1/tenants/dl-pending/assessments/${id}/result`, { status: "STARTED" })).status, 200);
  // Attempt 1 fails (HTTP 500): retrying, attempt 2's message queued.
  const sync = await until("a retrying call", async () => {
    const a = await admin(w, "GET", `/v1/tenants/dl-pending/assessments/${id}`);
    return a.body.providerSync?.state === "retrying" && a.body.providerSync;
  });
  assert.equal(sync.attempts, 1);
  const line = await until("the attempt's log line", () => callLine(id));
  assert.match(line.callId, /^call_/);
  assert.equal(line.attempt, 1);

  await deadLetter({ t: "dl-pending", e: line.callId, n: 2, k: "provider" });
  const dead = await until("providerSync.deadLettered", async () => {
    const a = await admin(w, "GET", `/v1/tenants/dl-pending/assessments/${id}`);
    return a.body.providerSync?.deadLettered && a.body.providerSync;
  });
  assert.equal(dead.deadLettered.attempt, 2);
  assert.match(dead.deadLettered.message, /attempt 2 was dead-lettered; the alarm sweep will enqueue it again/);
  assert.ok(!Number.isNaN(Date.parse(dead.deadLettered.at)), "when it was dead-lettered");
  // The call itself is untouched: still retrying, with what its attempt said.
  assert.equal(dead.state, "retrying");
  assert.equal(dead.attempts, 1);
  assert.equal(dead.lastStatus, 500);
});

test("a provider call's message dead-lettered after the call finished says nothing was lost", async () => {
  ashbyScript = () => ({ status: 200, body: { success: true } });
  try {
    const id = await ashbyTenant("dl-done");
    await admin(w, "POST", `/v1/tenants/dl-done/assessments/${id}/result`, { status: "STARTED" });
    await until("a synced call", async () => (await admin(w, "GET", `/v1/tenants/dl-done/assessments/${id}`)).body.providerSync?.state === "synced");
    const line = await until("the attempt's log line", () => callLine(id));
    await deadLetter({ t: "dl-done", e: line.callId, n: 2, k: "provider" });
    const dead = await until("providerSync.deadLettered", async () => {
      const a = await admin(w, "GET", `/v1/tenants/dl-done/assessments/${id}`);
      return a.body.providerSync?.deadLettered && a.body.providerSync;
    });
    assert.match(dead.deadLettered.message, /after the call had already finished; nothing was lost/);
    assert.equal(dead.state, "synced", "a finished call stays as it ended");
  } finally {
    ashbyScript = () => ({ status: 500, body: { success: false } });
  }
});

test("a webhook event's message dead-lettered while it is pending ends on the event", async () => {
  await createTenant(w, "dl-hook", hooks.url);
  const ping = await admin(w, "POST", "/v1/tenants/dl-hook/webhook/test");
  const eventId = ping.body.eventId;
  assert.match(eventId, /^evt_/, ping.text);
  await until("attempt 1 failed", async () => (await admin(w, "GET", `/v1/tenants/dl-hook/events/${eventId}`)).body.attemptCount === 1);
  await deadLetter({ t: "dl-hook", e: eventId, n: 2, k: "webhook" });
  const ev = await until("the event's lastError", async () => {
    const e = (await admin(w, "GET", `/v1/tenants/dl-hook/events/${eventId}`)).body;
    return /dead-lettered/.test(e.lastError ?? "") && e;
  });
  assert.equal(ev.state, "pending", "the sweep keeps it moving");
  assert.match(ev.lastError, /attempt 2 was dead-lettered; the sweep will re-enqueue it/);
});
