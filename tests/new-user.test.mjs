// Findings from trying the bridge as a new user would, through the built worker: every 405
// names the allowed methods in `Allow`; impossible RFC 3339 instants are refused with a 422
// naming the field; a made-up tenant-directory cursor is refused instead of answering an
// empty page (docs/contract.md "Bad input").
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import {
  startWorker, startReceiver, admin, edge, assertErrorShape, createTenant, createKey, fixture, events,
} from "./harness.mjs";

let w;
const closers = [];
before(async () => { w = await startWorker(); });
after(async () => { await Promise.all([w?.stop(), ...closers.map((c) => c.close())]); });

test("every 405 carries an Allow header listing the methods that work", async () => {
  await createTenant(w, "nu-allow", "http://127.0.0.1:9/h");
  const key = (await createKey(w, "nu-allow", "greenhouse")).secretKey;
  const cases = [
    [await admin(w, "DELETE", "/v1/tenants/nu-allow"), `${w.url}/v1/tenants/nu-allow`, "admin"],
    [await admin(w, "PUT", "/v1/tenants", {}), `${w.url}/v1/tenants`, "admin"],
    [await admin(w, "POST", "/v1/providers", {}), `${w.url}/v1/providers`, "admin"],
    [await edge(w, "nu-allow", "greenhouse", "send_test", { key, httpMethod: "GET" }), `${w.url}/t/nu-allow/greenhouse/send_test`, "edge"],
    [await edge(w, "nu-allow", "greenhouse", "list_tests", { key, httpMethod: "DELETE" }), `${w.url}/t/nu-allow/greenhouse/list_tests`, "edge"],
  ];
  for (const [r, url, kind] of cases) {
    assertErrorShape(assert, r, 405);
    const allow = r.headers.get("allow");
    assert.ok(allow, `${url}: 405 without Allow`);
    const methods = allow.split(",").map((m) => m.trim());
    assert.ok(methods.length > 0 && methods.every((m) => /^[A-Z]+$/.test(m)), `${url}: Allow ${allow}`);
    assert.ok(r.body.error.message.includes(allow), `${url}: the message names ${allow}: ${r.text}`);
    // Each method the header lists is one the endpoint takes: never a 405 again.
    for (const m of methods) {
      const headers = { authorization: kind === "admin" ? "Bearer test-admin-token-0123456789" : `Basic ${Buffer.from(`${key}:`).toString("base64")}` };
      const again = await fetch(url, { method: m, headers, body: ["GET", "HEAD", "DELETE"].includes(m) ? undefined : "{}" });
      await again.arrayBuffer();
      assert.notEqual(again.status, 405, `${m} ${url} is listed in Allow but answers 405`);
    }
  }
  const health = await fetch(`${w.url}/healthz`, { method: "POST" });
  await health.arrayBuffer();
  assert.equal(health.status, 405);
  assert.equal(health.headers.get("allow"), "GET");
});

test("impossible RFC 3339 instants are refused with a 422 naming the field", async () => {
  const hooks = await startReceiver(() => ({ status: 200 }));
  const gh = await startReceiver(() => ({ status: 200 }));
  closers.push(hooks, gh);
  await createTenant(w, "nu-time", hooks.url);
  await admin(w, "PATCH", "/v1/tenants/nu-time", { greenhouse: { partner_username: "u", partner_password: "p" } });
  const key = (await createKey(w, "nu-time", "greenhouse")).secretKey;
  const body = { ...fixture("greenhouse/send_test.json"), url: `${gh.url}/integrations/testing_partners/take_home_tests/9` };
  const order = await edge(w, "nu-time", "greenhouse", "send_test", { key, body });
  assert.equal(order.status, 200, order.text);
  const id = order.body.partner_interview_id;
  const url = `/v1/tenants/nu-time/assessments/${id}/result`;
  for (const [field, value] of [
    ["started_at", "2026-11-01T10:00:00+25:00"],
    ["started_at", "2026-11-01T10:00:00+01:60"],
    ["completed_at", "2026-02-30T10:00:00Z"],
    ["completed_at", "2027-02-29T10:00:00Z"],
    ["started_at", "2026-11-01T10:00:60Z"],
  ]) {
    const r = await admin(w, "POST", url, { status: "IN_PROGRESS", [field]: value });
    assertErrorShape(assert, r, 422);
    assert.equal(r.body.error.code, "invalid_field", r.text);
    assert.ok(r.body.error.message.includes(field), `${value}: ${r.text}`);
  }
  // Nothing was stored or sent for the refused results; real instants still work.
  const ok = await admin(w, "POST", url, { status: "IN_PROGRESS", started_at: "2028-02-29T23:59:59+23:59" });
  assert.equal(ok.status, 200, ok.text);
  await hooks.waitFor(2, 15_000, () => events(hooks, "record.modified").length === 1);
  assert.equal(events(hooks, "record.modified").length, 1);
});

test("GET /v1/tenants with a cursor the API never returned is refused, not an empty page", async () => {
  for (const id of ["nu-dir-a", "nu-dir-b"]) await createTenant(w, id, "http://127.0.0.1:9/h");
  for (const cursor of ["garbage", "t1.", "t1.%21%21", "abc%3D%3D"]) {
    const r = await admin(w, "GET", `/v1/tenants?prefix=nu-dir-&cursor=${cursor}`);
    assertErrorShape(assert, r, 422);
    assert.equal(r.body.error.code, "invalid_field", r.text);
    assert.match(r.body.error.message, /`cursor`/);
  }
  // The cursors it hands out still page through every tenant.
  const p1 = await admin(w, "GET", "/v1/tenants?prefix=nu-dir-&limit=1");
  assert.equal(p1.status, 200, p1.text);
  assert.ok(p1.body.next_cursor, p1.text);
  const p2 = await admin(w, "GET", `/v1/tenants?prefix=nu-dir-&limit=1&cursor=${encodeURIComponent(p1.body.next_cursor)}`);
  assert.equal(p2.status, 200, p2.text);
  assert.deepEqual([...p1.body.data, ...p2.body.data].map((t) => t.id), ["nu-dir-a", "nu-dir-b"]);
});
