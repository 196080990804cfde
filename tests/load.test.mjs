// Issue 6 (load with faults): 2,000 Greenhouse orders across 20 tenants while the partner's
// receiver answers 500 to about half the requests and drops some connections. After recovery
// every order's record.new has arrived exactly under its own tenant, and every signature
// verifies with that tenant's secret. Bounded: the test gives up after 120 s.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startWorker, startReceiver, createTenant, createKey, fixture, verifyWebhook, basic, sleep } from "./harness.mjs";

const TENANTS = 20;
const ORDERS_PER_TENANT = 100;
const CONCURRENCY = 16;

let w, rx;
let chaos = true;
let rand = 42;
const random = () => ((rand = (rand * 1664525 + 1013904223) >>> 0) / 2 ** 32);

before(async () => {
  rx = await startReceiver(() => {
    if (!chaos) return { status: 200 };
    const r = random();
    if (r < 0.05) return "drop";
    if (r < 0.5) return { status: 500, body: "chaos" };
    return { status: 200 };
  });
  // Retries a second apart, enough of them to outlast the chaos phase.
  w = await startWorker({ vars: { RETRY_SCHEDULE: Array(40).fill(1).join(",") } });
});
after(async () => {
  await w?.stop();
  await rx?.close();
});

test("2,000 orders, 20 tenants, a flaky receiver: every record.new arrives once per order, signed, to its tenant", { timeout: 180_000 }, async () => {
  const tenants = [];
  for (let i = 0; i < TENANTS; i++) {
    const id = `load-${i}`;
    const t = await createTenant(w, id, `${rx.url}/hook/${id}`);
    const key = (await createKey(w, id, "greenhouse")).secretKey;
    tenants.push({ id, key, secret: t.webhook.secret, orders: new Set() });
  }
  const jobs = [];
  for (let n = 0; n < ORDERS_PER_TENANT; n++) for (const t of tenants) jobs.push({ t, n });
  const started = performance.now();
  let next = 0;
  const client = async () => {
    while (next < jobs.length) {
      const { t, n } = jobs[next++];
      const body = { ...fixture("greenhouse/send_test.json"), url: `${rx.url}/gh/${t.id}/${n}` };
      const r = await fetch(`${w.url}/t/${t.id}/greenhouse/send_test`, {
        method: "POST", headers: { authorization: basic(t.key), "content-type": "application/json" }, body: JSON.stringify(body),
      });
      const text = await r.text();
      assert.equal(r.status, 200, text);
      t.orders.add(JSON.parse(text).partner_interview_id);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, client));
  const orderSecs = (performance.now() - started) / 1000;
  await sleep(2000); // some more chaos while retries are in flight
  chaos = false;

  const expected = TENANTS * ORDERS_PER_TENANT;
  const arrived = () => new Set(rx.requests.filter((q) => q.headers["webhook-id"]).map((q) => q.headers["webhook-id"])).size;
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline && arrived() < expected) await sleep(500);
  await sleep(1000); // let in-flight retries of already-counted ids land before checking them
  const byId = new Map();
  for (const q of rx.requests) {
    const tenantId = q.path.split("/").pop();
    const t = tenants.find((x) => x.id === tenantId);
    assert.ok(t, `request for a known tenant path: ${q.path}`);
    const ev = verifyWebhook(t.secret, q); // signed with this tenant's secret, not another's
    assert.equal(ev.eventType, "record.new");
    assert.equal(ev.eventData.candidateAssessment.tenantId, tenantId, "never delivered to the wrong tenant");
    assert.ok(t.orders.has(ev.recordId), "the record belongs to this tenant's orders");
    byId.set(q.headers["webhook-id"], ev.recordId);
  }
  assert.equal(byId.size, expected, `distinct webhook-ids received: ${byId.size}`);
  assert.equal(new Set(byId.values()).size, expected, "one record.new per order");
  const attempts = rx.requests.length;
  console.log(`# load: ${expected} orders in ${orderSecs.toFixed(1)} s (${(expected / orderSecs).toFixed(0)}/s), ${attempts} webhook requests for ${expected} events`);
});
