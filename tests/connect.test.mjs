// Connect links and the admin calls the console relies on, over HTTP against the built worker:
// POST/GET/DELETE /v1/tenants/{t}/connect-links, the /connect/… page and its calls, GET
// /v1/tenants (directory search), GET …/events?record_id= and POST …/events/replay.
// (The pages themselves are driven in a real browser by browser.test.mjs.)
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startWorker, startReceiver, admin, edge, createTenant, assertErrorShape, fixture, sleep } from "./harness.mjs";

let w, hooks, ashby;
before(async () => {
  hooks = await startReceiver(() => ({ status: 200 }));
  ashby = await startReceiver((req) => req.path.endsWith("/apiKey.info")
    ? { status: 200, headers: { "content-type": "application/json" }, body: { success: false, errorInfo: { code: "api_key_invalid", message: "This API key was revoked" } } }
    : { status: 200, body: { success: true, results: {} } });
  w = await startWorker({ vars: { RETRY_SCHEDULE: "1", ASHBY_API_BASE: ashby.url } });
  await createTenant(w, "cl-a", `${hooks.url}/a`);
  await createTenant(w, "cl-b", `${hooks.url}/b`);
});
after(async () => { await Promise.all([w?.stop(), hooks?.close(), ashby?.close()]); });

const post = (url, body) => fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body ?? {}) });

test("creating a link validates its body and answers an unguessable url once", async () => {
  for (const body of [{}, { provider: "lever" }, { provider: "ashby", expires_in_seconds: 10 }, { provider: "ashby", expires_in_seconds: 99_999_999 }, { provider: "ashby", colour: 1 }]) {
    assertErrorShape(assert, await admin(w, "POST", "/v1/tenants/cl-a/connect-links", body), 422);
  }
  // An unknown provider is named as such, not as a missing field.
  const unknown = await admin(w, "POST", "/v1/tenants/cl-a/connect-links", { provider: "lever" });
  assert.match(unknown.body.error.message, /must be one of: /, unknown.text);
  const missing = await admin(w, "POST", "/v1/tenants/cl-a/connect-links", {});
  assert.match(missing.body.error.message, /is required, one of: /, missing.text);
  assertErrorShape(assert, await admin(w, "POST", "/v1/tenants/nobody/connect-links", { provider: "ashby" }), 404);
  const a = await admin(w, "POST", "/v1/tenants/cl-a/connect-links", { provider: "ashby", expires_in_seconds: 600 });
  const b = await admin(w, "POST", "/v1/tenants/cl-a/connect-links", { provider: "ashby" });
  assert.equal(a.status, 201, a.text);
  assert.match(a.body.url, /\/connect\/cl-a\/[A-Za-z0-9_-]{43}$/);
  assert.notEqual(a.body.url, b.body.url);
  assert.equal(a.body.state, "active");
  const ttl = Date.parse(a.body.expiresAt) - Date.parse(a.body.createdAt);
  assert.equal(ttl, 600_000);
  assert.equal(Date.parse(b.body.expiresAt) - Date.parse(b.body.createdAt), 7 * 86_400_000);
  const list = await admin(w, "GET", "/v1/tenants/cl-a/connect-links");
  assert.equal(list.status, 200);
  assert.deepEqual(list.body.data.map((l) => l.id).sort(), [a.body.id, b.body.id].sort());
  for (const l of list.body.data) assert.equal(l.state, "active");
  for (const url of [a.body.url, b.body.url]) assert.ok(!list.text.includes(url.split("/").pop()), "never the token");
  assert.deepEqual((await admin(w, "GET", "/v1/tenants/cl-b/connect-links")).body.data, [], "links are per tenant");
});

test("the page opens for its own tenant only; the key is issued on first view and shown once", async () => {
  const link = (await admin(w, "POST", "/v1/tenants/cl-a/connect-links", { provider: "greenhouse" })).body;
  const token = link.url.split("/").pop();
  // Another tenant's path with this token: the other tenant's object does not know it.
  assert.equal((await fetch(`${w.url}/connect/cl-b/${token}`)).status, 404);
  assert.equal((await post(`${w.url}/connect/cl-b/${token}/session`)).status, 404);
  assert.equal((await fetch(`${w.url}/connect/no-such-tenant/${token}`)).status, 404);
  assert.equal((await fetch(`${w.url}/connect/cl-a/short`)).status, 404);

  const page = await fetch(link.url);
  assert.equal(page.status, 200);
  assert.match(page.headers.get("content-type"), /text\/html/);
  assert.match(page.headers.get("content-security-policy"), /frame-ancestors 'none'/);

  const first = await (await post(`${link.url}/session`)).json();
  assert.equal(first.tenant.id, "cl-a");
  assert.equal(first.provider, "greenhouse");
  assert.match(first.key.value, /^gh_/);
  assert.deepEqual(first.urls.map((u) => u.value.replace(w.url, "")), ["/list_tests", "/send_test", "/test_status", "/response_error"].map((s) => `/t/cl-a/greenhouse${s}`));
  assert.ok(!JSON.stringify(first).includes("whsec_"));
  assert.equal((await edge(w, "cl-a", "greenhouse", "list_tests", { key: first.key.value })).status, 200);
  const second = await (await post(`${link.url}/session`)).json();
  assert.equal(second.key.value, null, "shown once");
  assert.equal(second.key.issuedAt, first.key.issuedAt);

  // Greenhouse needs nothing back: completing connects; the listing says so.
  assertErrorShape(assert, await wrapJson(await post(`${link.url}/complete`, { api_key: "x" })), 422);
  const done = await post(`${link.url}/complete`, {});
  assert.equal(done.status, 200);
  assert.equal((await done.json()).state, "connected");
  const item = (await admin(w, "GET", "/v1/tenants/cl-a/connect-links")).body.data.find((l) => l.id === link.id);
  assert.equal(item.state, "connected");
  assert.ok(item.connectedAt && item.keyIssuedAt && item.viewedAt);
  assert.equal((await fetch(`${link.url}/session`)).status, 405);
  // Used once: completing again is refused.
  const twice = await wrapJson(await post(`${link.url}/complete`, {}));
  assertErrorShape(assert, twice, 409);
  assert.equal(twice.body.error.code, "connect_link_used");
});

test("an Ashby key the ATS refuses is not stored and the page says why", async () => {
  const link = (await admin(w, "POST", "/v1/tenants/cl-b/connect-links", { provider: "ashby" })).body;
  assertErrorShape(assert, await wrapJson(await post(`${link.url}/complete`, {})), 422);
  const r = await wrapJson(await post(`${link.url}/complete`, { api_key: "revoked-key" }));
  assertErrorShape(assert, r, 422);
  assert.equal(r.body.error.code, "credentials_rejected");
  assert.match(r.body.error.message, /This API key was revoked/);
  assert.equal((await admin(w, "GET", "/v1/tenants/cl-b")).body.ashby.api_key_set, false);
  assert.equal((await admin(w, "GET", "/v1/tenants/cl-b/connect-links")).body.data[0].state, "active");
});

test("a link connects once: credentials posted again answer 409 connect_link_used and the stored ones stay", async () => {
  const tenant = "once-link"; // not "cl-…": the directory test lists those
  await createTenant(w, tenant, `${hooks.url}/once`);
  await admin(w, "PUT", `/v1/tenants/${tenant}/packages`, fixture("packages.json"));
  const link = (await admin(w, "POST", `/v1/tenants/${tenant}/connect-links`, { provider: "ashby" })).body;
  const session = await (await post(`${link.url}/session`)).json();
  const checks = () => ashby.requests.filter((r) => r.path.endsWith("/apiKey.info")).length;
  ashby.setScript((req) => ({ status: 200, headers: { "content-type": "application/json" }, body: { success: true, results: {} } }));
  try {
    const first = await post(`${link.url}/complete`, { api_key: "first-ashby-key" });
    assert.equal(first.status, 200, await first.clone().text());
    const connectedAt = (await first.json()).connectedAt;
    const checked = checks();

    // The same link again, with other credentials (or none): refused before anything is
    // checked or stored, with a message that says what to do.
    for (const body of [{ api_key: "second-ashby-key" }, {}]) {
      const again = await wrapJson(await post(`${link.url}/complete`, body));
      assertErrorShape(assert, again, 409);
      assert.equal(again.body.error.code, "connect_link_used");
      assert.match(again.body.error.message, /already used to connect Ashby.*new link/);
    }
    assert.equal(checks(), checked, "no second check with Ashby");
    const item = (await admin(w, "GET", `/v1/tenants/${tenant}/connect-links`)).body.data.find((l) => l.id === link.id);
    assert.equal(item.state, "connected");
    assert.equal(item.connectedAt, connectedAt, "connectedAt is the first connection's");
    // The page still opens and says connected (it shows no key and takes nothing).
    const s = await (await post(`${link.url}/session`)).json();
    assert.equal(s.state, "connected");
    assert.equal(s.key.value, null);

    // The stored Ashby key is still the first one: a result goes to Ashby with it.
    const order = await edge(w, tenant, "ashby", "assessment.start", { key: session.key.value, body: fixture("ashby/assessment.start.json") });
    assert.equal(order.status, 200, order.text);
    const id = order.body.results.assessment_id;
    const res = await admin(w, "POST", `/v1/tenants/${tenant}/assessments/${id}/result`, { status: "IN_PROGRESS" });
    assert.equal(res.status, 200, res.text);
    const reqs = await ashby.waitFor(0, 15_000, (rs) => rs.some((r) => r.path.endsWith("/assessment.update") && JSON.parse(r.body).assessment_id === id));
    const update = reqs.find((r) => r.path.endsWith("/assessment.update") && JSON.parse(r.body).assessment_id === id);
    assert.equal(update.headers.authorization, "Basic " + Buffer.from("first-ashby-key:").toString("base64"));

    // A new link is how the credentials change.
    const fresh = (await admin(w, "POST", `/v1/tenants/${tenant}/connect-links`, { provider: "ashby" })).body;
    await post(`${fresh.url}/session`);
    assert.equal((await post(`${fresh.url}/complete`, { api_key: "second-ashby-key" })).status, 200);
  } finally {
    ashby.setScript((req) => req.path.endsWith("/apiKey.info")
      ? { status: 200, headers: { "content-type": "application/json" }, body: { success: false, errorInfo: { code: "api_key_invalid", message: "This API key was revoked" } } }
      : { status: 200, body: { success: true, results: {} } });
  }
});

test("a link connected without its page ever opening issues no key when opened later", async () => {
  const tenant = "unviewed-link";
  await createTenant(w, tenant, `${hooks.url}/unviewed`);
  const link = (await admin(w, "POST", `/v1/tenants/${tenant}/connect-links`, { provider: "greenhouse" })).body;
  assert.equal((await post(`${link.url}/complete`, {})).status, 200);
  const s = await (await post(`${link.url}/session`)).json();
  assert.equal(s.state, "connected");
  assert.equal(s.key.value, null, "a used link issues no key");
  assert.equal(s.key.issuedAt, null);
  assert.equal((await admin(w, "GET", `/v1/tenants/${tenant}`)).body.providers.greenhouse.key_set, false);
  const item = (await admin(w, "GET", `/v1/tenants/${tenant}/connect-links`)).body.data.find((l) => l.id === link.id);
  assert.equal(item.keyIssuedAt, null);
  assert.ok(item.viewedAt);
});

test("revoking a link refuses it at once, page and calls alike; unknown ids are 404", async () => {
  const link = (await admin(w, "POST", "/v1/tenants/cl-a/connect-links", { provider: "ashby" })).body;
  assert.equal((await fetch(link.url)).status, 200);
  assert.equal((await admin(w, "DELETE", `/v1/tenants/cl-a/connect-links/${link.id}`)).status, 204);
  const page = await fetch(link.url);
  assert.equal(page.status, 404);
  assert.match(await page.text(), /no longer works/);
  const s = await wrapJson(await post(`${link.url}/session`));
  assertErrorShape(assert, s, 404);
  assert.equal(s.body.error.code, "connect_link_not_found");
  assert.equal((await admin(w, "GET", "/v1/tenants/cl-a/connect-links")).body.data.find((l) => l.id === link.id).state, "revoked");
  assertErrorShape(assert, await admin(w, "DELETE", "/v1/tenants/cl-a/connect-links/cl_nope"), 404);
  assertErrorShape(assert, await admin(w, "DELETE", `/v1/tenants/cl-b/connect-links/${link.id}`), 404);
});

test("GET /v1/tenants lists ids by prefix with paging; bad queries are 422", async () => {
  const all = await admin(w, "GET", "/v1/tenants?prefix=cl-");
  assert.equal(all.status, 200);
  assert.deepEqual(all.body.data, [{ id: "cl-a" }, { id: "cl-b" }]);
  const p1 = await admin(w, "GET", "/v1/tenants?prefix=cl-&limit=1");
  assert.deepEqual(p1.body.data, [{ id: "cl-a" }]);
  assert.ok(p1.body.next_cursor);
  const p2 = await admin(w, "GET", `/v1/tenants?prefix=cl-&limit=1&cursor=${encodeURIComponent(p1.body.next_cursor)}`);
  assert.deepEqual(p2.body.data, [{ id: "cl-b" }]);
  assert.deepEqual((await admin(w, "GET", "/v1/tenants?prefix=zz")).body.data, []);
  assertErrorShape(assert, await admin(w, "GET", "/v1/tenants?prefix=Bad%21"), 422);
  assertErrorShape(assert, await admin(w, "GET", "/v1/tenants?limit=0"), 422);
  assertErrorShape(assert, await admin(w, "GET", "/v1/tenants", undefined, { token: null }), 401);
});

test("events filter by record_id, and replay-all re-delivers every failed event with its webhook-id", async () => {
  const key = (await admin(w, "POST", "/v1/tenants/cl-b/secrets", { provider: "greenhouse" })).body.secretKey;
  hooks.setScript(() => ({ status: 400 }));
  const ids = [];
  for (const n of [1, 2]) {
    const r = await edge(w, "cl-b", "greenhouse", "send_test", { key, body: { ...fixture("greenhouse/send_test.json"), url: `https://app.greenhouse.io/x/${n}` } });
    assert.equal(r.status, 200, r.text);
    ids.push(r.body.partner_interview_id);
  }
  const deadline = Date.now() + 15_000;
  let failed = [];
  while (Date.now() < deadline) {
    failed = (await admin(w, "GET", "/v1/tenants/cl-b/events?state=failed")).body.data;
    if (failed.length === 2) break;
    await sleep(200);
  }
  assert.equal(failed.length, 2);
  const mine = (await admin(w, "GET", `/v1/tenants/cl-b/events?record_id=${ids[0]}`)).body.data;
  assert.equal(mine.length, 1);
  assert.equal(mine[0].recordId, ids[0]);
  hooks.setScript(() => ({ status: 200 }));
  const before = hooks.requests.length;
  const r = await admin(w, "POST", "/v1/tenants/cl-b/events/replay");
  assert.equal(r.status, 202);
  assert.equal(r.body.replayed, 2);
  assert.deepEqual([...r.body.eventIds].sort(), failed.map((e) => e.eventId).sort());
  await hooks.waitFor(before + 2, 15_000);
  const seen = hooks.requests.slice(before).map((q) => q.headers["webhook-id"]).sort();
  assert.deepEqual(seen, failed.map((e) => e.eventId).sort());
  assert.equal((await admin(w, "POST", "/v1/tenants/cl-b/events/replay")).body.replayed, 0);
});

async function wrapJson(r) {
  const text = await r.text();
  let body = text;
  try { body = JSON.parse(text); } catch {}
  return { status: r.status, body, text };
}
