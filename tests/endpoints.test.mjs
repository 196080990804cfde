// Issue 16 (4): webhook endpoints (README "Webhook endpoints") through the built worker with
// loopback receivers.
// Up to 10 endpoints besides `webhook`, each with its own secret (shown once), event_types
// filter, 410-disable state, delivery log and replay; every event fans out to every matching
// endpoint and each delivery retries, fails and replays on its own, in record order per endpoint.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import {
  startWorker, startReceiver, admin, edge, createTenant, createKey, assertErrorShape, verifyWebhook,
  fixture, events, sleep,
} from "./harness.mjs";

let w, quick;
const closers = [];
async function receiver(fn) {
  const r = await startReceiver(fn);
  closers.push(r);
  return r;
}

before(async () => {
  [w, quick] = await Promise.all([
    startWorker({ vars: { RETRY_SCHEDULE: Array(30).fill("1").join(",") } }),
    // One retry: a delivery that keeps failing is `failed` within seconds.
    startWorker({ vars: { RETRY_SCHEDULE: "1" } }),
  ]);
});
after(async () => { await Promise.all([w?.stop(), quick?.stop(), ...closers.map((c) => c.close())]); });

/** A Greenhouse tenant whose `webhook` goes to `hooks`; `order()` places one order. */
async function tenant(id, hooks, worker = w) {
  const t = await createTenant(worker, id, hooks.url);
  const key = (await createKey(worker, id, "greenhouse")).secretKey;
  let n = 0;
  const order = async () => {
    const r = await edge(worker, id, "greenhouse", "send_test", {
      key, body: { ...fixture("greenhouse/send_test.json"), url: `http://127.0.0.1:9/take_home_tests/${id}-${++n}` },
    });
    assert.equal(r.status, 200, r.text);
    return r.body.partner_interview_id;
  };
  const progress = async (assessment, status = "IN_PROGRESS") => {
    const r = await admin(worker, "POST", `/v1/tenants/${id}/assessments/${assessment}/result`, { status });
    assert.equal(r.status, 200, r.text);
  };
  return { id, secret: t.webhook.secret, order, progress };
}

async function addEndpoint(t, worker, body) {
  if (!body) [worker, body] = [w, worker];
  const r = await admin(worker, "POST", `/v1/tenants/${t}/webhooks`, body);
  assert.equal(r.status, 201, r.text);
  return r.body;
}

const ids = (rx, type) => events(rx, type).map((e) => e.eventId);

test("endpoint admin API: secret shown once, list/get/patch/delete, validation, at most 10", async () => {
  const hooks = await receiver();
  await tenant("ep-admin", hooks);
  const base = "/v1/tenants/ep-admin/webhooks";
  const created = await addEndpoint("ep-admin", { url: "https://a.example/h", event_types: ["record.new", "ping"], description: "Orders" });
  assert.match(created.id, /^we_/);
  assert.match(created.secret, /^whsec_/);
  assert.deepEqual(created.event_types, ["record.new", "ping"]);
  assert.equal(created.description, "Orders");
  assert.equal(created.disabled, false);

  // The secret is shown once: never in list, get or patch answers.
  const list = await admin(w, "GET", base);
  assert.equal(list.status, 200, list.text);
  assert.equal(list.body.data.length, 1);
  const got = await admin(w, "GET", `${base}/${created.id}`);
  assert.equal(got.status, 200, got.text);
  for (const text of [list.text, got.text]) assert.ok(!text.includes(created.secret) && !text.includes("whsec_"), text);
  const { secret: _, ...view } = created;
  assert.deepEqual(got.body, view);

  const patched = await admin(w, "PATCH", `${base}/${created.id}`, { event_types: [], description: null });
  assert.equal(patched.status, 200, patched.text);
  assert.deepEqual(patched.body.event_types, []);
  assert.equal(patched.body.description, null);
  assert.equal(patched.body.url, "https://a.example/h");
  assert.ok(!patched.text.includes("whsec_"));

  // Validation: 422 naming the field; unknown ids 404; wrong methods 405.
  for (const [body, field] of [
    [{}, "url"], [{ url: "ftp://x.example" }, "url"], [{ url: "https://x.example", event_types: ["record.created"] }, "event_types"],
    [{ url: "https://x.example", event_types: "ping" }, "event_types"], [{ url: "https://x.example", secret: "whsec_x" }, "secret"],
    [{ url: "https://x.example", description: "x".repeat(501) }, "description"],
  ]) {
    const r = await admin(w, "POST", base, body);
    assertErrorShape(assert, r, 422);
    assert.ok(r.body.error.message.includes(`\`${field}\``), r.text);
  }
  assertErrorShape(assert, await admin(w, "POST", base, undefined, { raw: "{" }), 400);
  assertErrorShape(assert, await admin(w, "PATCH", `${base}/${created.id}`, { event_types: [7] }), 422);
  assertErrorShape(assert, await admin(w, "GET", `${base}/we_nope`), 404);
  assertErrorShape(assert, await admin(w, "PATCH", `${base}/we_nope`, { url: "https://b.example" }), 404);
  assertErrorShape(assert, await admin(w, "DELETE", `${base}/we_nope`), 404);
  assertErrorShape(assert, await admin(w, "GET", `${base}/we_nope/deliveries`), 404);
  assertErrorShape(assert, await admin(w, "PUT", base, {}), 405);
  assertErrorShape(assert, await admin(w, "GET", base, undefined, { token: null }), 401);
  assertErrorShape(assert, await admin(w, "GET", "/v1/tenants/nobody-here/webhooks"), 404);

  // At most 10 besides `webhook`: the 11th is a clear 409; deleting one makes room.
  for (let i = 2; i <= 10; i++) await addEndpoint("ep-admin", { url: `https://a.example/h${i}` });
  const over = await admin(w, "POST", base, { url: "https://a.example/h11" });
  assertErrorShape(assert, over, 409);
  assert.equal(over.body.error.code, "webhook_limit_reached");
  assert.match(over.body.error.message, /10/);
  assert.equal((await admin(w, "GET", base)).body.data.length, 10);
  const del = await admin(w, "DELETE", `${base}/${created.id}`);
  assert.equal(del.status, 204, del.text);
  assertErrorShape(assert, await admin(w, "GET", `${base}/${created.id}`), 404);
  await addEndpoint("ep-admin", { url: "https://a.example/h11" });
});

test("fan-out: every matching endpoint gets each event once, signed with its own secret; event_types filter", async () => {
  const hooks = await receiver();
  const all = await receiver();
  const onlyModified = await receiver();
  const t = await tenant("ep-fan", hooks);
  const a = await addEndpoint(t.id, { url: all.url });
  const m = await addEndpoint(t.id, { url: onlyModified.url, event_types: ["record.modified"] });

  const id = await t.order();
  await t.progress(id);
  await Promise.all([hooks.waitFor(2), all.waitFor(2), onlyModified.waitFor(1)]);
  const ping = await admin(w, "POST", `/v1/tenants/${t.id}/webhook/test`);
  assert.equal(ping.status, 202, ping.text);

  await hooks.waitFor(3);
  await all.waitFor(3);
  await onlyModified.waitFor(1);
  await sleep(1500); // give a duplicate every chance to show up
  assert.deepEqual(events(hooks).map((e) => e.eventType), ["record.new", "record.modified", "ping"]);
  assert.deepEqual(events(all).map((e) => e.eventType), ["record.new", "record.modified", "ping"]);
  assert.deepEqual(events(onlyModified).map((e) => e.eventType), ["record.modified"]);
  // The same event (same webhook-id) everywhere, signed with each endpoint's own secret only.
  assert.deepEqual(ids(all), ids(hooks));
  assert.deepEqual(ids(onlyModified), ids(hooks, "record.modified"));
  for (const r of hooks.requests) assert.doesNotThrow(() => verifyWebhook(t.secret, r));
  for (const r of all.requests) {
    assert.doesNotThrow(() => verifyWebhook(a.secret, r));
    assert.throws(() => verifyWebhook(t.secret, r), "not signed with the tenant's webhook secret");
  }
  for (const r of onlyModified.requests) {
    assert.doesNotThrow(() => verifyWebhook(m.secret, r));
    assert.throws(() => verifyWebhook(a.secret, r));
  }
  // The first attempt to every endpoint is immediate: no retry was needed, one attempt each.
  const detail = await admin(w, "GET", `/v1/tenants/${t.id}/events/${ids(hooks, "record.modified")[0]}`);
  assert.equal(detail.status, 200, detail.text);
  assert.equal(detail.body.state, "delivered");
  assert.equal(detail.body.attempts.length, 1);
  assert.deepEqual(detail.body.deliveries.map((d) => [d.endpointId, d.state, d.attemptCount, d.attempts.length]).sort(),
    [[a.id, "delivered", 1, 1], [m.id, "delivered", 1, 1]].sort());
  const recordNew = await admin(w, "GET", `/v1/tenants/${t.id}/events/${ids(hooks, "record.new")[0]}`);
  assert.deepEqual(recordNew.body.deliveries.map((d) => d.endpointId), [a.id], "the filter kept record.new from the other endpoint");

  // Each endpoint's delivery log.
  const log = await admin(w, "GET", `/v1/tenants/${t.id}/webhooks/${m.id}/deliveries`);
  assert.equal(log.status, 200, log.text);
  assert.deepEqual(log.body.data.map((d) => [d.eventType, d.state, d.endpointId]), [["record.modified", "delivered", m.id]]);
  const allLog = await admin(w, "GET", `/v1/tenants/${t.id}/webhooks/${a.id}/deliveries?state=delivered&limit=2`);
  assert.deepEqual(allLog.body.data.map((d) => d.eventType), ["ping", "record.modified"], "newest first");
  assert.ok(allLog.body.next_cursor);
  const page2 = await admin(w, "GET", `/v1/tenants/${t.id}/webhooks/${a.id}/deliveries?limit=2&cursor=${allLog.body.next_cursor}`);
  assert.deepEqual(page2.body.data.map((d) => d.eventType), ["record.new"]);
  assertErrorShape(assert, await admin(w, "GET", `/v1/tenants/${t.id}/webhooks/${a.id}/deliveries?state=lost`), 422);

  // A filter change applies to later events.
  await admin(w, "PATCH", `/v1/tenants/${t.id}/webhooks/${m.id}`, { event_types: ["ping"] });
  await admin(w, "POST", `/v1/tenants/${t.id}/webhook/test`);
  await onlyModified.waitFor(2);
  assert.deepEqual(events(onlyModified).map((e) => e.eventType), ["record.modified", "ping"]);
});

test("one endpoint down: the others get everything exactly once at once; it catches up alone, in record order", async () => {
  const hooks = await receiver();
  const up = await receiver();
  const gone = await receiver();
  const deadUrl = gone.url;
  await gone.close(); // connection refused from now on
  const t = await tenant("ep-down", hooks);
  const good = await addEndpoint(t.id, { url: up.url });
  const down = await addEndpoint(t.id, { url: deadUrl });

  const records = [await t.order(), await t.order()];
  for (const r of records) await t.progress(r);
  await t.progress(records[0], "STARTED");
  // Healthy endpoints get all five at once, whatever the down one does.
  await up.waitFor(5);
  await hooks.waitFor(5);
  assert.deepEqual(events(up).map((e) => e.eventType), events(hooks).map((e) => e.eventType));

  // The down endpoint retries on its own: its deliveries are pending with attempts, the
  // other endpoint's are delivered.
  const firstNew = ids(hooks, "record.new")[0];
  const detail = () => admin(w, "GET", `/v1/tenants/${t.id}/events/${firstNew}`);
  const retried = Date.now() + 20_000;
  while ((await detail()).body.deliveries.find((x) => x.endpointId === down.id).attemptCount < 2 && Date.now() < retried) await sleep(250);
  const d = await detail();
  const byEndpoint = Object.fromEntries(d.body.deliveries.map((x) => [x.endpointId, x]));
  assert.equal(d.body.state, "delivered");
  assert.equal(byEndpoint[good.id].state, "delivered");
  assert.equal(byEndpoint[good.id].attemptCount, 1);
  assert.equal(byEndpoint[down.id].state, "pending");
  assert.ok(byEndpoint[down.id].attemptCount >= 2, JSON.stringify(byEndpoint[down.id]));
  assert.equal(byEndpoint[down.id].attempts[0].kind, "network");
  // A record's later events wait behind its first at the down endpoint only.
  const held = (await admin(w, "GET", `/v1/tenants/${t.id}/webhooks/${down.id}/deliveries?state=pending`)).body.data;
  assert.equal(held.length, 5);
  assert.ok(held.filter((x) => x.eventType !== "record.new").every((x) => x.attemptCount === 0 && /waiting for/.test(x.lastError)), JSON.stringify(held));
  // A held delivery names the earlier event it waits for (its record's record.new, `evt_…`)
  // and the endpoint, never a delivery id; it shows no due time and says why it is held.
  for (const x of held.filter((d) => d.eventType !== "record.new")) {
    const first = held.find((d) => d.recordId === x.recordId && d.eventType === "record.new");
    assert.equal(x.lastError, `waiting for ${first.eventId}, an earlier event of the same record, to be delivered to endpoint ${down.id} or fail`);
    assert.doesNotMatch(x.lastError, /dlv_/);
    assert.equal(x.nextAttemptAt, null);
    assert.equal(x.heldReason, x.lastError);
  }
  for (const x of held.filter((d) => d.eventType === "record.new")) assert.equal(x.heldReason, null, JSON.stringify(x));

  // The receiver comes back (a new URL, since the old port is closed): the down endpoint gets
  // each event, per record in commit order; nobody else gets anything again.
  const back = await receiver();
  const p = await admin(w, "PATCH", `/v1/tenants/${t.id}/webhooks/${down.id}`, { url: back.url });
  assert.equal(p.status, 200, p.text);
  await back.waitFor(5, 20_000);
  await sleep(1500);
  const got = events(back);
  assert.equal(got.length, 5, "each event once");
  assert.deepEqual([...new Set(got.map((e) => e.eventId))].sort(), ids(hooks).sort());
  for (const r of records) {
    assert.deepEqual(got.filter((e) => e.recordId === r).map((e) => e.eventType),
      events(hooks).filter((e) => e.recordId === r).map((e) => e.eventType), `order of ${r}`);
  }
  for (const r of back.requests) assert.doesNotThrow(() => verifyWebhook(down.secret, r));
  assert.equal(up.requests.length, 5, "the healthy endpoint got everything exactly once");
  assert.equal(hooks.requests.length, 5);
});

test("410 disables one endpoint only; a PATCH with its url re-enables it and sends what it held", async () => {
  const hooks = await receiver();
  const other = await receiver();
  let goneMode = true;
  const leaving = await receiver(() => ({ status: goneMode ? 410 : 200 }));
  const t = await tenant("ep-410", hooks);
  const ok = await addEndpoint(t.id, { url: other.url });
  const g = await addEndpoint(t.id, { url: leaving.url });

  const first = await t.order();
  await leaving.waitFor(1);
  await sleep(300);
  const view = await admin(w, "GET", `/v1/tenants/${t.id}/webhooks/${g.id}`);
  assert.equal(view.body.disabled, true);
  assert.equal((await admin(w, "GET", `/v1/tenants/${t.id}/webhooks/${ok.id}`)).body.disabled, false);
  assert.equal((await admin(w, "GET", `/v1/tenants/${t.id}`)).body.webhook.disabled ?? false, false);

  // While disabled, new events reach the webhook and the other endpoint at once; none is sent
  // to the disabled one (not even by the sweep).
  const second = await t.order();
  await t.progress(second);
  await other.waitFor(3);
  await hooks.waitFor(3);
  await sleep(3000);
  assert.equal(leaving.requests.length, 1, "nothing more to a disabled endpoint");
  const pending = (await admin(w, "GET", `/v1/tenants/${t.id}/webhooks/${g.id}/deliveries?state=pending`)).body.data;
  assert.equal(pending.length, 3);
  // While disabled nothing is due: no past nextAttemptAt, and each says why it is held.
  for (const x of pending) {
    assert.equal(x.nextAttemptAt, null, JSON.stringify(x));
    assert.match(x.heldReason, /endpoint is disabled: it answered 410 Gone; a PATCH of its url/, JSON.stringify(x));
  }
  const heldEvent = (await admin(w, "GET", `/v1/tenants/${t.id}/events/${pending[0].eventId}`)).body;
  const heldThere = heldEvent.deliveries.find((d) => d.endpointId === g.id);
  assert.equal(heldThere.nextAttemptAt, null);
  assert.match(heldThere.heldReason, /disabled/);
  assert.equal(heldEvent.deliveries.find((d) => d.endpointId === ok.id).heldReason, null);

  // Re-enabled by a PATCH with its (same) url: what it held goes out within seconds.
  goneMode = false;
  const p = await admin(w, "PATCH", `/v1/tenants/${t.id}/webhooks/${g.id}`, { url: leaving.url });
  assert.equal(p.status, 200, p.text);
  assert.equal(p.body.disabled, false);
  await leaving.waitFor(4, 10_000);
  await sleep(1000);
  const after = (await admin(w, "GET", `/v1/tenants/${t.id}/webhooks/${g.id}/deliveries`)).body.data;
  assert.ok(after.every((x) => x.heldReason === null), JSON.stringify(after));
  const delivered = events(leaving).slice(1);
  assert.equal(delivered.length, 3);
  assert.deepEqual(delivered.filter((e) => e.recordId === second).map((e) => e.eventType), ["record.new", "record.modified"]);
  assert.ok(delivered.some((e) => e.recordId === first && e.eventType === "record.new"));
  assert.equal(other.requests.length, 3, "the other endpoint was never affected");
});

test("per-endpoint replay: only that endpoint gets it again; unknown endpoint 404; deleted endpoint's pending deliveries fail; erasure covers endpoint deliveries", async () => {
  const hooks = await receiver();
  const a = await receiver();
  const b = await receiver(() => ({ status: 400 })); // refuses: its delivery fails after its one retry
  const t = await tenant("ep-replay", hooks, quick);
  const ea = await addEndpoint(t.id, quick, { url: a.url });
  const eb = await addEndpoint(t.id, quick, { url: b.url });
  const id = await t.order();
  await Promise.all([hooks.waitFor(1), a.waitFor(1), b.waitFor(2)]);
  const eventId = ids(hooks)[0];
  const detail = () => admin(quick, "GET", `/v1/tenants/${t.id}/events/${eventId}`);
  const failedBy = Date.now() + 10_000;
  while ((await detail()).body.deliveries.find((d) => d.endpointId === eb.id).state !== "failed" && Date.now() < failedBy) await sleep(200);
  const before = await detail();
  const state = (ep) => before.body.deliveries.find((d) => d.endpointId === ep).state;
  assert.equal(state(ea.id), "delivered");
  assert.equal(state(eb.id), "failed");
  assert.equal(before.body.state, "delivered");

  // Replay to endpoint A only.
  const r = await admin(quick, "POST", `/v1/tenants/${t.id}/events/${eventId}/replay?endpoint=${ea.id}`);
  assert.equal(r.status, 202, r.text);
  assert.equal(r.body.endpoint, ea.id);
  await a.waitFor(2);
  await sleep(1000);
  assert.equal(hooks.requests.length, 1);
  assert.equal(b.requests.length, 2);
  assert.equal(a.requests[1].headers["webhook-id"], eventId, "same webhook-id");
  // The failed one at B, fixed receiver, replayed on its own.
  b.setScript(() => ({ status: 200 }));
  const rb = await admin(quick, "POST", `/v1/tenants/${t.id}/events/${eventId}/replay?endpoint=${eb.id}`);
  assert.equal(rb.status, 202, rb.text);
  await b.waitFor(3);
  await sleep(500);
  assert.equal((await admin(quick, "GET", `/v1/tenants/${t.id}/events/${eventId}`)).body.deliveries.find((d) => d.endpointId === eb.id).state, "delivered");
  assert.equal(a.requests.length, 2);
  assert.equal(hooks.requests.length, 1);
  // Without `endpoint` (or with `webhook`): the tenant's webhook only.
  assert.equal((await admin(quick, "POST", `/v1/tenants/${t.id}/events/${eventId}/replay?endpoint=webhook`)).status, 202);
  await hooks.waitFor(2);
  await sleep(500);
  assert.equal(a.requests.length, 2);
  assertErrorShape(assert, await admin(quick, "POST", `/v1/tenants/${t.id}/events/${eventId}/replay?endpoint=we_unknown`), 404);

  // A deleted endpoint's pending deliveries fail and are never sent.
  a.setScript(() => ({ status: 503 }));
  await t.progress(id);
  await a.waitFor(3);
  assert.equal((await admin(quick, "DELETE", `/v1/tenants/${t.id}/webhooks/${ea.id}`)).status, 204);
  const modified = ids(hooks, "record.modified");
  await hooks.waitFor(3);
  const afterDelete = await admin(quick, "GET", `/v1/tenants/${t.id}/events/${ids(hooks, "record.modified")[0] ?? modified[0]}`);
  const dA = afterDelete.body.deliveries.find((d) => d.endpointId === ea.id);
  assert.equal(dA.state, "failed");
  assert.match(dA.lastError, /deleted/);
  const sentToA = a.requests.length;
  await sleep(2500);
  assert.equal(a.requests.length, sentToA, "nothing more to a deleted endpoint");

  // Erasure: endpoint deliveries' snippets go, a pending one is cancelled, replay refuses.
  b.setScript(() => ({ status: 503, body: "receiver says john.doe@example.com" }));
  await t.progress(id, "STARTED");
  await b.waitFor(5);
  const er = await admin(quick, "POST", `/v1/tenants/${t.id}/erasure`, { assessment_id: id });
  assert.equal(er.status, 200, er.text);
  assert.ok(er.body.erased.cancelledDeliveries >= 1, er.text);
  const list = (await admin(quick, "GET", `/v1/tenants/${t.id}/events?record_id=${id}`)).body.data;
  for (const e of list) {
    const detail = await admin(quick, "GET", `/v1/tenants/${t.id}/events/${e.eventId}`);
    assert.ok(!detail.text.includes("john.doe@example.com"), detail.text);
    for (const dl of detail.body.deliveries) assert.notEqual(dl.state, "pending");
    const rr = await admin(quick, "POST", `/v1/tenants/${t.id}/events/${e.eventId}/replay?endpoint=${eb.id}`);
    assert.equal(rr.status, 409, rr.text);
    assert.equal(rr.body.error.code, "erased");
  }
  const sentToB = b.requests.length;
  await sleep(2500);
  assert.equal(b.requests.length, sentToB, "nothing erased is sent again");
});
