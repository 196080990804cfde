// Findings from trying the bridge as a new user would, through the built worker: every 405
// names the allowed methods in `Allow`; impossible RFC 3339 instants are refused with a 422
// naming the field; a made-up tenant-directory cursor is refused instead of answering an
// empty page (docs/contract.md "Bad input"); every 401 names what its route authenticates
// with (a cancel link: the link, never a header); a packages_url that hangs is asked once,
// not by every order; Idempotency-Key takes printable ASCII with spaces; a refused URL scheme
// is told what this deployment takes; the README quick start's order names a package the
// quick start publishes.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  ROOT, ADMIN_TOKEN, startWorker, startReceiver, admin, edge, assertErrorShape, createTenant, createKey, fixture,
  events, verifyWebhook, teamtailorJws,
} from "./harness.mjs";

let w;
const closers = [];
// A packages_url question gives up after 400 ms here (a deployment's is 10 s), so a vendor
// endpoint that never answers costs this test that long, once.
before(async () => { w = await startWorker({ vars: { TEST_ONLY_PACKAGES_TIMEOUT_MS: "400" } }); });
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

test("every 401 names what its route authenticates with; a bad cancel link says the link is invalid", async () => {
  await createTenant(w, "nu-auth", "http://127.0.0.1:9/h");
  const post = (path, headers = {}) => fetch(`${w.url}${path}`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: "{}" })
    .then(async (r) => ({ status: r.status, headers: r.headers, text: await r.text() }));
  const get = (path, headers = {}) => fetch(`${w.url}${path}`, { headers })
    .then(async (r) => ({ status: r.status, headers: r.headers, text: await r.text() }));
  const cases = [
    // [answer, what the message must name, what it must not advise, challenge]
    [await get("/v1/tenants/nu-auth"), /Bearer <ADMIN_TOKEN>/, /Basic/, null],
    [await get("/t/nu-auth/greenhouse/list_tests", { authorization: "Basic Z2hfd3Jvbmc6" }), /HTTP Basic/, /Bearer/, /^Basic /],
    [await post("/t/nu-auth/ashby/assessment.list"), /HTTP Basic/, /Bearer/, /^Basic /],
    [await get("/p/recruitee/tests", { authorization: "Bearer rc_nu-auth.wrong" }), /Bearer/, /Basic/, /^Bearer /],
    [await get("/p/teamtailor/validate", { authorization: `Bearer ${teamtailorJws({ key: "tt_nu-auth.wrong" }, "not-the-partner-key")}` }), /Bearer/, /Basic/, /^Bearer /],
  ];
  // A cancel link carries its own credential: a missing, made-up, malformed or foreign token.
  for (const q of ["", "?token=nonsense", `?token=cl_nu-auth.${"A".repeat(43)}`, `?token=cl_no-such-tenant.${"A".repeat(43)}`]) {
    cases.push([await post(`/p/recruitee/cancel${q}`, { authorization: "Bearer rc_nu-auth.whatever" }), /cancel link is invalid/, /Bearer|Basic|Authorization|API key/, null, "invalid_link"]);
  }
  for (const [r, names, never, challenge, code = "unauthorized"] of cases) {
    assert.equal(r.status, 401, r.text);
    const body = JSON.parse(r.text);
    const message = body.error?.message ?? body.errors?.[0];
    assert.match(message, names, r.text);
    assert.doesNotMatch(message, never, r.text);
    if (body.error) assert.equal(body.error.code, code, r.text);
    if (challenge) assert.match(r.headers.get("www-authenticate") ?? "", challenge);
    else assert.equal(r.headers.get("www-authenticate"), null, r.text);
  }
  // A connect link's token that does not work is a 404 page, never a header's 401.
  const connect = await post("/connect/nu-auth/not-a-token/session");
  assert.equal(connect.status, 404, connect.text);
  assert.doesNotMatch(connect.text, /Bearer|Basic/);
});

test("a packages_url that never answers is asked once: the orders after it go on at once, list calls answer its 502", async () => {
  const hung = await startReceiver(() => new Promise(() => {})); // never answers
  const hooks = await startReceiver(() => ({ status: 200 }));
  closers.push(hung, hooks);
  await createTenant(w, "nu-hang", hooks.url);
  await admin(w, "PATCH", "/v1/tenants/nu-hang", { packages_url: `${hung.url}/packages` });
  const key = (await createKey(w, "nu-hang", "greenhouse")).secretKey;
  const order = (n) => edge(w, "nu-hang", "greenhouse", "send_test", {
    key, body: { ...fixture("greenhouse/send_test.json"), url: `https://app.greenhouse.io/integrations/testing_partners/take_home_tests/hang-${n}` },
  });
  // Orders and a list call arriving together while the question is out wait for that one
  // question, not one each.
  const [first, alsoFirst, listedMeanwhile] = await Promise.all([order(1), order(4), edge(w, "nu-hang", "greenhouse", "list_tests", { key })]);
  assert.equal(first.status, 200, first.text);
  assert.equal(alsoFirst.status, 200, alsoFirst.text);
  assertErrorShape(assert, listedMeanwhile, 502);
  assert.equal(hung.requests.length, 1, "one question for the requests that came together");
  // The failure is remembered: the next orders and a list call do not ask the vendor again.
  const second = await order(2);
  assert.equal(second.status, 200, second.text);
  const list = await edge(w, "nu-hang", "greenhouse", "list_tests", { key });
  assertErrorShape(assert, list, 502);
  assert.match(list.body.error.message, /packages_url failed/);
  const third = await order(3);
  assert.equal(third.status, 200, third.text);
  assert.equal(hung.requests.length, 1, "asked once while the failure is remembered");
  // The fallback is as before: each order is accepted with the package name null.
  for (const r of [first, alsoFirst, second, third]) {
    const a = await admin(w, "GET", `/v1/tenants/nu-hang/assessments/${r.body.partner_interview_id}`);
    assert.equal(a.body.assessmentPackage.id, "pkg_9f3aK21");
    assert.equal(a.body.assessmentPackage.name, null);
  }
  await hooks.waitFor(4, 15_000, () => events(hooks, "record.new").length === 4);
  // Another packages_url is asked at once (the memory is per URL).
  const vendor = await startReceiver(() => ({ status: 200, headers: { "content-type": "application/json" }, body: [{ id: "pkg_9f3aK21", name: "Back again" }] }));
  closers.push(vendor);
  await admin(w, "PATCH", "/v1/tenants/nu-hang", { packages_url: `${vendor.url}/packages` });
  const listed = await edge(w, "nu-hang", "greenhouse", "list_tests", { key });
  assert.equal(listed.status, 200, listed.text);
  assert.deepEqual(listed.body, [{ partner_test_id: "pkg_9f3aK21", partner_test_name: "Back again" }]);
});

test("Idempotency-Key takes 1–255 printable ASCII characters, spaces included, as the README says", async () => {
  const hooks = await startReceiver(() => ({ status: 200 }));
  closers.push(hooks);
  await createTenant(w, "nu-idem", hooks.url);
  await admin(w, "PUT", "/v1/tenants/nu-idem/packages", [{ id: "pkg_9f3aK21", name: "P" }]);
  const key = (await createKey(w, "nu-idem", "greenhouse")).secretKey;
  const order = await edge(w, "nu-idem", "greenhouse", "send_test", { key, body: fixture("greenhouse/send_test.json") });
  assert.equal(order.status, 200, order.text);
  const url = `${w.url}/v1/tenants/nu-idem/assessments/${order.body.partner_interview_id}/result`;
  const send = (idem, body = { status: "IN_PROGRESS" }) => fetch(url, {
    method: "POST",
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json", "idempotency-key": idem },
    body: JSON.stringify(body),
  }).then(async (r) => ({ status: r.status, text: await r.text(), replayed: r.headers.get("idempotent-replayed") }));
  // The edges: a space inside, the first (`!` after the space) and last (`~`) printable
  // characters, and the longest key.
  const printable = Array.from({ length: 0x7e - 0x20 + 1 }, (_, i) => String.fromCharCode(0x20 + i)).join("");
  for (const k of ["order 42 / result 1", "!", "~", `a${printable}z`, "k".repeat(255)]) {
    const first = await send(k);
    assert.equal(first.status, 200, `${JSON.stringify(k)}: ${first.text}`);
    assert.equal(first.replayed, null);
    const again = await send(k);
    assert.equal(again.status, 200, again.text);
    assert.equal(again.replayed, "true", `${JSON.stringify(k)} is kept as a key`);
    assert.equal(again.text, first.text);
    const other = await send(k, { status: "STARTED" });
    assert.equal(other.status, 409, other.text);
    assert.equal(JSON.parse(other.text).error.code, "idempotency_key_reused");
  }
  // Past the edges: one character too long, a control character (tab) inside.
  for (const k of ["k".repeat(256), "a\tb"]) {
    const r = await send(k);
    assert.equal(r.status, 400, `${JSON.stringify(k)}: ${r.text}`);
    const e = JSON.parse(r.text).error;
    assert.equal(e.code, "invalid_idempotency_key");
    assert.match(e.message, /1–255 printable ASCII characters \(space to `~`\)/);
  }
});

test("a URL with another scheme is told what this deployment takes (http or https when insecure targets are allowed)", async () => {
  await createTenant(w, "nu-scheme", "http://127.0.0.1:9/h");
  for (const [method, path, body, field] of [
    ["POST", "/v1/tenants/nu-scheme/webhooks", { url: "ftp://files.vendor.example/hooks" }, "url"],
    ["PATCH", "/v1/tenants/nu-scheme", { webhook: { url: "ftp://files.vendor.example/hooks" } }, "webhook.url"],
    ["PATCH", "/v1/tenants/nu-scheme", { packages_url: "ws://127.0.0.1:9/packages" }, "packages_url"],
    ["POST", "/v1/tenants", { id: "nu-scheme-2", webhook: { url: "file:///etc/passwd" } }, "webhook.url"],
  ]) {
    const r = await admin(w, method, path, body);
    assertErrorShape(assert, r, 422);
    assert.equal(r.body.error.code, "invalid_field", r.text);
    assert.ok(r.body.error.message.includes(`\`${field}\``), r.text);
    assert.match(r.body.error.message, /must be an http or https URL/, r.text);
    assert.doesNotMatch(r.body.error.message, /must be an https URL/, r.text);
  }
});

test("the README quick start, as written: the order names a package step 2 publishes", async () => {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const start = readme.indexOf("## Quick start with curl");
  const block = readme.slice(readme.indexOf("```sh", start), readme.indexOf("```\n", readme.indexOf("```sh", start) + 5));
  // Step 2's packages, and the body of step 7's order.
  const packages = JSON.parse(/\/packages -H "authorization: Bearer \$TOKEN" \\\n\s+-d '(\[.*\])'/.exec(block)[1]);
  const orderFile = /send_test .* \\\n\s+-d @(\S+)/.exec(block)[1];
  const body = JSON.parse(readFileSync(join(ROOT, orderFile), "utf8"));
  const published = packages.find((p) => p.id === body.partner_test_id);
  assert.ok(published, `${orderFile} orders ${body.partner_test_id}, which step 2 does not publish (${packages.map((p) => p.id)})`);
  // Played through the worker: the record.new names the published package.
  const hooks = await startReceiver(() => ({ status: 200 }));
  closers.push(hooks);
  const t = await createTenant(w, "nu-quick", hooks.url);
  assert.equal((await admin(w, "PUT", "/v1/tenants/nu-quick/packages", packages)).status, 200);
  const key = (await createKey(w, "nu-quick", "greenhouse")).secretKey;
  const listed = await edge(w, "nu-quick", "greenhouse", "list_tests", { key });
  assert.deepEqual(listed.body.map((p) => p.partner_test_id), packages.map((p) => p.id));
  const order = await edge(w, "nu-quick", "greenhouse", "send_test", { key, body });
  assert.equal(order.status, 200, order.text);
  const [rec] = await hooks.waitFor(1);
  const ev = verifyWebhook(t.webhook.secret, rec);
  assert.equal(ev.eventType, "record.new");
  const pkg = ev.eventData.candidateAssessment.assessmentPackage;
  assert.equal(pkg.id, published.id);
  assert.equal(pkg.name, published.name);
  assert.equal(pkg.description, published.description);
});
