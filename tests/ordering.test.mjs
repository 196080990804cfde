// Issue 11 (4, 5): per-record delivery order (README "Order per record") and what a PATCH of
// webhook.url may
// and may not do to pending events, through the real worker with a scriptable receiver.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import {
  startWorker, startReceiver, admin, edge, createTenant, createKey, sleep, fixture,
} from "./harness.mjs";

let w, slow;
const closers = [];
async function receiver(fn) {
  const r = await startReceiver(fn);
  closers.push(r);
  return r;
}

before(async () => {
  [w, slow] = await Promise.all([
    startWorker({ vars: { RETRY_SCHEDULE: "1,1,1" } }),
    // A long backoff: twelve hours before the first retry.
    startWorker({ vars: { RETRY_SCHEDULE: "43200,43200" } }),
  ]);
});
after(async () => {
  await Promise.all([w?.stop(), slow?.stop(), ...closers.map((c) => c.close())]);
});

const body = (req) => (req.headers["webhook-id"] ? JSON.parse(req.body) : null);
/** Received webhook requests as [{type, record, ok}] in arrival order (ok: answered 2xx). */
function log(rx, answered) {
  return rx.requests.filter((r) => r.headers["webhook-id"]).map((r) => {
    const b = body(r);
    return { type: b.eventType, record: b.recordId, id: b.eventId, ok: answered.get(r) };
  });
}

/** A receiver whose answer is decided per request by `decide(payload)` → status. */
async function scriptedReceiver(decide) {
  const answered = new Map();
  const rx = await receiver((req) => {
    const b = body(req);
    const status = b ? decide(b) : 200;
    answered.set(req, status >= 200 && status < 300);
    return { status };
  });
  return { rx, answered };
}

async function greenhouseTenant(worker, id, hookUrl) {
  await createTenant(worker, id, hookUrl);
  const key = (await createKey(worker, id, "greenhouse")).secretKey;
  let n = 0;
  return async () => {
    const r = await edge(worker, id, "greenhouse", "send_test", {
      key, body: { ...fixture("greenhouse/send_test.json"), url: `http://127.0.0.1:9/take_home_tests/${id}-${++n}` },
    });
    assert.equal(r.status, 200, r.text);
    return r.body.partner_interview_id;
  };
}

async function eventOf(worker, tenant, id) {
  return (await admin(worker, "GET", `/v1/tenants/${tenant}/events/${id}`)).body;
}

test("a record's events arrive in commit order: record.modified waits for a refused record.new; other records do not wait", async () => {
  let refuseUntil = Date.now() + 60_000;
  let slowRecord = null;
  const { rx, answered } = await scriptedReceiver((b) => {
    // The first record seen is the slow one: its record.new is refused for a while.
    if (!slowRecord && b.eventType === "record.new") slowRecord = b.recordId;
    return b.recordId === slowRecord && b.eventType === "record.new" && Date.now() < refuseUntil ? 503 : 200;
  });
  const place = await greenhouseTenant(w, "order-1", rx.url);

  const a = await place();
  await rx.waitFor(1);
  assert.equal(slowRecord, a);
  refuseUntil = Date.now() + 2000;
  // The result is posted while record.new is being refused.
  const r = await admin(w, "POST", `/v1/tenants/order-1/assessments/${a}/result`, { status: "STARTED" });
  assert.equal(r.status, 200, r.text);
  // Meanwhile another record's events flow at once.
  const b = await place();
  await rx.waitFor(0, 10_000, () => log(rx, answered).some((e) => e.record === b && e.ok));
  const early = log(rx, answered);
  assert.ok(!early.some((e) => e.record === a && e.ok), "record a is still refused while b went through");
  assert.ok(!early.some((e) => e.record === a && e.type === "record.modified"), "record.modified of a is held");
  // The held event says what it waits for.
  const pending = (await admin(w, "GET", "/v1/tenants/order-1/events?state=pending")).body.data;
  const held = pending.find((e) => e.recordId === a && e.eventType === "record.modified");
  assert.ok(held, JSON.stringify(pending));
  assert.equal(held.nextAttemptAt, null);
  assert.match(held.lastError, /^waiting for evt_/);

  await rx.waitFor(0, 20_000, () => log(rx, answered).some((e) => e.record === a && e.type === "record.modified" && e.ok));
  const seq = log(rx, answered).filter((e) => e.record === a);
  const firstNewOk = seq.findIndex((e) => e.type === "record.new" && e.ok);
  const firstModified = seq.findIndex((e) => e.type === "record.modified");
  assert.ok(firstNewOk >= 0 && firstNewOk < firstModified, `record.new delivered before record.modified is sent: ${JSON.stringify(seq)}`);
  assert.ok(seq.filter((e) => e.type === "record.new").length >= 2, "record.new was refused at least once");
  assert.equal(seq.filter((e) => e.type === "record.modified").length, 1);
  // The released record.modified goes at once from the object, not through the queue (whose
  // consumer waits up to its batch window, 1 s, first).
  const mine = rx.requests.filter((q) => body(q)?.recordId === a);
  const newOkAt = mine.find((q) => body(q).eventType === "record.new" && answered.get(q)).at;
  const modifiedAt = mine.find((q) => body(q).eventType === "record.modified").at;
  assert.ok(modifiedAt - newOkAt < 700, `record.modified arrived ${Math.round(modifiedAt - newOkAt)} ms after record.new was taken`);
});

test("a later event goes once the earlier one of its record has failed for good", async () => {
  let doomed = null;
  const { rx, answered } = await scriptedReceiver((b) => {
    if (!doomed && b.eventType === "record.new") doomed = b.recordId;
    return b.recordId === doomed && b.eventType === "record.new" ? 500 : 200;
  });
  const place = await greenhouseTenant(w, "order-2", rx.url);
  const a = await place();
  assert.equal((await admin(w, "POST", `/v1/tenants/order-2/assessments/${a}/result`, { status: "IN_PROGRESS" })).status, 200);
  // Four attempts a second apart, then record.new is failed and record.modified goes.
  await rx.waitFor(0, 30_000, () => log(rx, answered).some((e) => e.record === a && e.type === "record.modified" && e.ok));
  const seq = log(rx, answered).filter((e) => e.record === a);
  const news = seq.filter((e) => e.type === "record.new");
  assert.equal(news.length, 4, "record.new used its four attempts");
  assert.equal(seq.filter((e) => e.type === "record.modified").length, 1);
  assert.equal(seq.at(-1).type, "record.modified", `record.modified came after every record.new attempt: ${JSON.stringify(seq)}`);
  assert.equal((await eventOf(w, "order-2", news[0].id)).state, "failed");
});

test("PATCH of the same webhook.url never shortens a receiver's Retry-After on an enabled endpoint", async () => {
  const rx = await receiver(() => ({ status: 429, headers: { "retry-after": "3600" } }));
  await createTenant(w, "retry-after", rx.url);
  const ping = await admin(w, "POST", "/v1/tenants/retry-after/webhook/test");
  await rx.waitFor(1);
  await sleep(500);
  const before = await eventOf(w, "retry-after", ping.body.eventId);
  assert.equal(before.attemptCount, 1);
  const due = Date.parse(before.nextAttemptAt);
  assert.ok(due - Date.now() > 3000 * 1000, `next attempt honours Retry-After: ${before.nextAttemptAt}`);
  const p = await admin(w, "PATCH", "/v1/tenants/retry-after", { webhook: { url: rx.url } });
  assert.equal(p.status, 200, p.text);
  await sleep(3000);
  assert.equal(rx.requests.length, 1, "no attempt before the receiver's Retry-After");
  const afterPatch = await eventOf(w, "retry-after", ping.body.eventId);
  assert.equal(afterPatch.state, "pending");
  assert.equal(afterPatch.attemptCount, 1);
  assert.equal(afterPatch.nextAttemptAt, before.nextAttemptAt);
});

test("PATCH of the same webhook.url never shortens a 12-hour backoff (nor uses up a retry)", async () => {
  const rx = await receiver(() => ({ status: 500 }));
  await createTenant(slow, "backoff", rx.url);
  const ping = await admin(slow, "POST", "/v1/tenants/backoff/webhook/test");
  await rx.waitFor(1);
  await sleep(500);
  const before = await eventOf(slow, "backoff", ping.body.eventId);
  assert.ok(Date.parse(before.nextAttemptAt) - Date.now() > 9 * 3600 * 1000, before.nextAttemptAt);
  assert.equal((await admin(slow, "PATCH", "/v1/tenants/backoff", { webhook: { url: rx.url } })).status, 200);
  await sleep(3000);
  assert.equal(rx.requests.length, 1);
  const after = await eventOf(slow, "backoff", ping.body.eventId);
  assert.equal(after.state, "pending");
  assert.equal(after.attemptCount, 1);
  assert.equal(after.nextAttemptAt, before.nextAttemptAt);
});

test("a 410-disabled endpoint: other PATCHes keep it disabled; a PATCH of the same webhook.url sends what it held, in record order, within seconds", async () => {
  let gone = true;
  const { rx, answered } = await scriptedReceiver(() => (gone ? 410 : 200));
  const place = await greenhouseTenant(w, "gone", rx.url);
  const a = await place();
  await rx.waitFor(1);
  await sleep(300);
  const t = await admin(w, "GET", "/v1/tenants/gone");
  assert.equal(t.body.webhook.enabled, false, "disabled by the 410");
  // Events committed while disabled: one for the same record (held behind record.new), a ping.
  assert.equal((await admin(w, "POST", `/v1/tenants/gone/assessments/${a}/result`, { status: "STARTED" })).status, 200);
  await admin(w, "POST", "/v1/tenants/gone/webhook/test");
  gone = false;
  // A PATCH that does not touch webhook.url (even one that writes secrets) re-enables nothing.
  assert.equal((await admin(w, "PATCH", "/v1/tenants/gone", { name: "Renamed", ashby: { api_key: "k" } })).status, 200);
  await sleep(2500);
  assert.equal(rx.requests.length, 1, "still disabled");
  const t0 = Date.now();
  assert.equal((await admin(w, "PATCH", "/v1/tenants/gone", { webhook: { url: rx.url } })).status, 200);
  await rx.waitFor(0, 15_000, () => log(rx, answered).filter((e) => e.ok).length >= 3);
  assert.ok(Date.now() - t0 < 10_000, "within seconds");
  const okSeq = log(rx, answered).filter((e) => e.ok);
  const ofA = okSeq.filter((e) => e.record === a).map((e) => e.type);
  assert.deepEqual(ofA, ["record.new", "record.modified"]);
  assert.ok(okSeq.some((e) => e.type === "ping"));
});
