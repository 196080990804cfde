// Issue 2: health, admin auth, tenants, keys, packages, edge authentication, bad input.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import {
  startWorker, admin, edge, basic, assertErrorShape, createTenant, createKey, ADMIN_TOKEN,
} from "./harness.mjs";

let w; // insecure targets allowed (loopback receivers)
let strict; // production-like: insecure targets refused, PUBLIC_BASE_URL set
let closed; // ADMIN_TOKEN unset

before(async () => {
  [w, strict, closed] = await Promise.all([
    startWorker(),
    startWorker({ vars: { ALLOW_INSECURE_TARGETS: "false", PUBLIC_BASE_URL: "https://bridge.vendor.example/" } }),
    startWorker({ vars: { ADMIN_TOKEN: null } }),
  ]);
});
after(async () => {
  await Promise.all([w?.stop(), strict?.stop(), closed?.stop()]);
});

test("healthz answers ok with the version", async () => {
  const r = await fetch(`${w.url}/healthz`);
  assert.equal(r.status, 200);
  const b = await r.json();
  assert.equal(b.status, "ok");
  assert.match(b.version, /^\d+\.\d+\.\d+/);
});

test("admin API fails closed without ADMIN_TOKEN", async () => {
  const r = await admin(closed, "GET", "/v1/tenants/acme");
  assertErrorShape(assert, r, 503);
  const r2 = await admin(closed, "POST", "/v1/tenants", { id: "x", webhook: { url: "https://h.example" } }, { token: "" });
  assertErrorShape(assert, r2, 503);
});

test("admin API refuses missing and wrong bearer tokens", async () => {
  assertErrorShape(assert, await admin(w, "GET", "/v1/tenants/acme", undefined, { token: null }), 401);
  assertErrorShape(assert, await admin(w, "GET", "/v1/tenants/acme", undefined, { token: ADMIN_TOKEN + "x" }), 401);
  assertErrorShape(assert, await admin(w, "GET", "/v1/tenants/acme", undefined, { token: ADMIN_TOKEN.slice(0, -1) }), 401);
  const r = await fetch(`${w.url}/v1/tenants/acme`, { headers: { authorization: `Basic ${ADMIN_TOKEN}` } });
  assert.equal(r.status, 401);
});

test("tenant lifecycle: create, duplicate, read, patch", async () => {
  const created = await admin(w, "POST", "/v1/tenants", { id: "life", name: "Life Inc", webhook: { url: "http://127.0.0.1:9/hook" } });
  assert.equal(created.status, 201, created.text);
  const secret = created.body.webhook.secret;
  assert.match(secret, /^whsec_[A-Za-z0-9+/=]+$/);
  assert.ok(Buffer.from(secret.slice(6), "base64").length >= 24, "secret carries >= 24 random bytes");
  assert.equal(created.body.id, "life");
  assert.equal(created.body.name, "Life Inc");

  const dup = await admin(w, "POST", "/v1/tenants", { id: "life", webhook: { url: "http://127.0.0.1:9/other" } });
  assertErrorShape(assert, dup, 409);

  const got = await admin(w, "GET", "/v1/tenants/life");
  assert.equal(got.status, 200);
  assert.ok(!got.text.includes(secret), "the webhook secret is shown only once");
  assert.equal(got.body.webhook.url, "http://127.0.0.1:9/hook");
  assert.equal(got.body.webhook.secret, undefined);

  const patched = await admin(w, "PATCH", "/v1/tenants/life", {
    name: null, webhook: { url: "http://127.0.0.1:9/new" }, static_package_id: "pkg_1",
    ashby: { api_key: "ashby-secret-value" }, greenhouse: { partner_username: "partner", partner_password: "pw-secret" },
  });
  assert.equal(patched.status, 200, patched.text);
  assert.equal(patched.body.name, null);
  assert.equal(patched.body.webhook.url, "http://127.0.0.1:9/new");
  assert.equal(patched.body.static_package_id, "pkg_1");
  assert.equal(patched.body.ashby.api_key_set, true);
  assert.equal(patched.body.greenhouse.partner_username, "partner");
  assert.equal(patched.body.greenhouse.partner_password_set, true);
  assert.ok(!patched.text.includes("ashby-secret-value") && !patched.text.includes("pw-secret"));

  const cleared = await admin(w, "PATCH", "/v1/tenants/life", { ashby: { api_key: null }, static_package_id: null });
  assert.equal(cleared.body.ashby.api_key_set, false);
  assert.equal(cleared.body.static_package_id, null);

  for (const bad of [{ webhook: { url: null } }, { webhook: null }, { colour: "red" }, { name: 42 }]) {
    const r = await admin(w, "PATCH", "/v1/tenants/life", bad);
    assertErrorShape(assert, r, 422);
  }
  const unknown = await admin(w, "GET", "/v1/tenants/nobody-here");
  assertErrorShape(assert, unknown, 404);
  assertErrorShape(assert, await admin(w, "PATCH", "/v1/tenants/nobody-here", { name: "x" }), 404);
});

test("tenant creation validates the id and the webhook URL", async () => {
  for (const [body, field] of [
    [{ id: "Bad_Slug", webhook: { url: "https://h.example" } }, "id"],
    [{ id: "-bad", webhook: { url: "https://h.example" } }, "id"],
    [{ id: "a".repeat(64), webhook: { url: "https://h.example" } }, "id"],
    [{ webhook: { url: "https://h.example" } }, "id"],
    [{ id: "nohook" }, "webhook.url"],
    [{ id: "badurl", webhook: { url: "not a url" } }, "webhook.url"],
  ]) {
    const r = await admin(w, "POST", "/v1/tenants", body);
    assertErrorShape(assert, r, 422);
    assert.ok(r.body.error.message.includes(field), `message names ${field}: ${r.text}`);
  }
});

test("without insecure targets, private/loopback/link-local and http webhooks are refused", async () => {
  for (const url of [
    "http://hooks.vendor.example/x", "https://127.0.0.1/x", "https://localhost/x", "https://10.0.0.8/x",
    "https://192.168.1.10/x", "https://169.254.169.254/latest", "https://[::1]/x", "https://[fe80::1]/x",
  ]) {
    const r = await admin(strict, "POST", "/v1/tenants", { id: "ssrf", webhook: { url } });
    assertErrorShape(assert, r, 422);
    assert.ok(r.body.error.message.includes("webhook.url"), r.text);
  }
  const ok = await admin(strict, "POST", "/v1/tenants", { id: "prod", webhook: { url: "https://hooks.vendor.example/x" } });
  assert.equal(ok.status, 201, ok.text);
  const p = await admin(strict, "PATCH", "/v1/tenants/prod", { packages_url: "https://10.1.1.1/packages" });
  assertErrorShape(assert, p, 422);
});

test("provider keys: shape, baseUrl, PUBLIC_BASE_URL", async () => {
  await createTenant(w, "keys", "http://127.0.0.1:9/h");
  const gh = await createKey(w, "keys", "greenhouse");
  assert.match(gh.secretKey, /^gh_[A-Za-z0-9_-]{43,}$/);
  assert.ok(gh.secretKey.length < 171);
  assert.equal(gh.provider, "greenhouse");
  // Without PUBLIC_BASE_URL the origin is the request's own.
  assert.match(gh.baseUrl, new RegExp(`^http://(127\\.0\\.0\\.1|localhost):${new URL(w.url).port}/t/keys/greenhouse$`));
  assert.ok(!Number.isNaN(Date.parse(gh.createdAt)));
  const ab = await createKey(w, "keys", "ashby");
  assert.match(ab.secretKey, /^ab_/);

  const bad = await admin(w, "POST", "/v1/tenants/keys/secrets", { provider: "lever" });
  assertErrorShape(assert, bad, 422);
  assert.ok(bad.body.error.message.includes("provider"));
  assertErrorShape(assert, await admin(w, "POST", "/v1/tenants/nobody/secrets", { provider: "ashby" }), 404);

  const shown = await admin(w, "GET", "/v1/tenants/keys");
  assert.ok(!shown.text.includes(gh.secretKey), "keys are never shown again");
  assert.equal(shown.body.providers.greenhouse.key_set, true);

  await createTenant(strict, "pub", "https://hooks.vendor.example/x");
  const pub = await createKey(strict, "pub", "ashby");
  assert.equal(pub.baseUrl, "https://bridge.vendor.example/t/pub/ashby");
});

test("edge auth: key as username, as password, with a password; refusals are uniform", async () => {
  await createTenant(w, "edge-a", "http://127.0.0.1:9/h");
  await createTenant(w, "edge-b", "http://127.0.0.1:9/h");
  const ghA = (await createKey(w, "edge-a", "greenhouse")).secretKey;
  const abA = (await createKey(w, "edge-a", "ashby")).secretKey;
  await createKey(w, "edge-b", "greenhouse");

  const authed = (r) => r.status !== 401;
  assert.ok(authed(await edge(w, "edge-a", "greenhouse", "list_tests", { key: ghA })));
  assert.ok(authed(await edge(w, "edge-a", "greenhouse", "list_tests", { auth: basic("", ghA) })));
  assert.ok(authed(await edge(w, "edge-a", "greenhouse", "list_tests", { auth: basic(ghA, "ignored") })));
  assert.ok(authed(await edge(w, "edge-a", "ashby", "assessment.list", { key: abA, body: {} })));

  const refusals = [
    await edge(w, "edge-a", "greenhouse", "list_tests", {}), // no header
    await edge(w, "edge-a", "greenhouse", "list_tests", { auth: "Bearer " + ghA }),
    await edge(w, "edge-a", "greenhouse", "list_tests", { key: ghA + "x" }),
    await edge(w, "edge-b", "greenhouse", "list_tests", { key: ghA }), // another tenant
    await edge(w, "edge-a", "ashby", "assessment.list", { key: ghA, body: {} }), // wrong provider
    await edge(w, "no-such-tenant", "greenhouse", "list_tests", { key: ghA }), // unknown tenant
    await edge(w, "Bad_Tenant", "greenhouse", "list_tests", { key: ghA }), // malformed tenant
    await edge(w, "edge-a", "greenhouse", "list_tests", { auth: "Basic %%%" }),
  ];
  for (const r of refusals) {
    assertErrorShape(assert, r, 401);
    assert.equal(r.headers.get("www-authenticate"), 'Basic realm="ats-bridge"');
    assert.equal(r.text, refusals[0].text, "unknown tenants are indistinguishable from bad keys");
  }
});

test("rotation and revocation take effect on the very next request", async () => {
  await createTenant(w, "rot", "http://127.0.0.1:9/h");
  const k1 = (await createKey(w, "rot", "greenhouse")).secretKey;
  assert.notEqual((await edge(w, "rot", "greenhouse", "list_tests", { key: k1 })).status, 401);
  const k2 = (await createKey(w, "rot", "greenhouse")).secretKey;
  assert.notEqual(k1, k2);
  assert.equal((await edge(w, "rot", "greenhouse", "list_tests", { key: k1 })).status, 401, "old key dead at once");
  assert.notEqual((await edge(w, "rot", "greenhouse", "list_tests", { key: k2 })).status, 401);
  const del = await admin(w, "DELETE", "/v1/tenants/rot/secrets/greenhouse");
  assert.equal(del.status, 204);
  assert.equal((await edge(w, "rot", "greenhouse", "list_tests", { key: k2 })).status, 401, "revoked key dead at once");
});

test("webhook secret rotation answers a new secret once", async () => {
  const t = await createTenant(w, "whrot", "http://127.0.0.1:9/h");
  const r = await admin(w, "POST", "/v1/tenants/whrot/webhook/secret");
  assert.equal(r.status, 201);
  assert.match(r.body.secret, /^whsec_/);
  assert.notEqual(r.body.secret, t.webhook.secret);
  const got = await admin(w, "GET", "/v1/tenants/whrot");
  assert.equal(got.body.webhook.secret_rotating, true);
  assert.ok(!got.text.includes(r.body.secret));
});

test("packages: replace the list, validation names the field", async () => {
  await createTenant(w, "pkgs", "http://127.0.0.1:9/h");
  const ok = await admin(w, "PUT", "/v1/tenants/pkgs/packages", [
    { id: "p1", name: "Backend", description: "90 minutes", type: "CODE" }, { id: "p2", name: "Frontend" },
  ]);
  assert.equal(ok.status, 200, ok.text);
  assert.equal(ok.body.data.length, 2);
  const replaced = await admin(w, "PUT", "/v1/tenants/pkgs/packages", [{ id: "p3", name: "Only" }]);
  assert.deepEqual(replaced.body.data.map((p) => p.id), ["p3"]);
  const bad = await admin(w, "PUT", "/v1/tenants/pkgs/packages", [{ id: "p1" }]);
  assertErrorShape(assert, bad, 422);
  assert.ok(bad.body.error.message.includes("name"));
  assertErrorShape(assert, await admin(w, "PUT", "/v1/tenants/pkgs/packages", { id: "p1" }), 422);
});

test("bad input: 400 malformed JSON, 405 wrong method, 413 too large, 404 unknown route", async () => {
  await createTenant(w, "bad", "http://127.0.0.1:9/h");
  const gh = (await createKey(w, "bad", "greenhouse")).secretKey;
  assertErrorShape(assert, await admin(w, "POST", "/v1/tenants", undefined, { raw: "{not json" }), 400);
  assertErrorShape(assert, await admin(w, "PATCH", "/v1/tenants/bad", undefined, { raw: "[1," }), 400);
  assertErrorShape(assert, await admin(w, "POST", "/v1/tenants", undefined, { raw: "" }), 400);
  assertErrorShape(assert, await admin(w, "DELETE", "/v1/tenants/bad"), 405);
  // GET /v1/tenants lists tenants (the console's search); other methods on the collection are 405.
  assertErrorShape(assert, await admin(w, "PUT", "/v1/tenants", {}), 405);
  assertErrorShape(assert, await edge(w, "bad", "greenhouse", "send_test", { key: gh, httpMethod: "GET" }), 405);
  assertErrorShape(assert, await edge(w, "bad", "greenhouse", "list_tests", { key: gh, httpMethod: "DELETE" }), 405);
  const big = JSON.stringify({ id: "big", name: "x".repeat(300 * 1024), webhook: { url: "http://127.0.0.1:9/h" } });
  assertErrorShape(assert, await admin(w, "POST", "/v1/tenants", undefined, { raw: big }), 413);
  assertErrorShape(assert, await edge(w, "bad", "greenhouse", "send_test", { key: gh, body: big }), 413);
  assertErrorShape(assert, await admin(w, "GET", "/v1/nothing-here"), 404);
  assertErrorShape(assert, await admin(w, "GET", "/nothing"), 404);
  assertErrorShape(assert, await edge(w, "bad", "greenhouse", "no_such_call", { key: gh }), 404);
  const r = await fetch(`${w.url}/healthz`, { method: "POST" });
  assert.equal(r.status, 405);
});

test("the local server does not try to fetch the Request.cf object from Cloudflare (everything stays on 127.0.0.1)", () => {
  // Without CLOUDFLARE_CF_FETCH_ENABLED=false (Makefile, harness) the dev server fetches it from
  // workers.cloudflare.com at start and, offline, warns that it could not.
  assert.doesNotMatch(w.logs(), /Request\.cf|workers\.cloudflare\.com/);
});

test("the worker logs no secrets", async () => {
  const logs = w.logs();
  assert.ok(!/whsec_[A-Za-z0-9+/]{20}/.test(logs), "no webhook secret in logs");
  assert.ok(!/\b(gh|ab)_[A-Za-z0-9_-]{40}/.test(logs), "no provider key in logs");
  assert.ok(!logs.includes(ADMIN_TOKEN), "no admin token in logs");
  assert.ok(!logs.includes("ashby-secret-value"));
});

test("two rotations inside a grace period keep every replaced key until its own end (two connect links opened in a day)", async () => {
  await createTenant(w, "grace2", "http://127.0.0.1:9/h");
  const k0 = (await createKey(w, "grace2", "ashby")).secretKey;
  const rotate = async (ttl) => (await admin(w, "POST", "/v1/tenants/grace2/secrets", { provider: "ashby", previous_key_ttl_seconds: ttl })).body.secretKey;
  const list = (key) => edge(w, "grace2", "ashby", "assessment.list", { key, body: {} });
  const k1 = await rotate(2);
  const k2 = await rotate(60);
  for (const [k, name] of [[k0, "the live key replaced first"], [k1, "the key replaced second"], [k2, "the new key"]]) {
    assert.equal((await list(k)).status, 200, name);
  }
  await new Promise((res) => setTimeout(res, 2300));
  assert.equal((await list(k0)).status, 401, "the first replaced key ends at its own grace end");
  assert.equal((await list(k1)).status, 200, "the second keeps its own");
  assert.equal((await list(k2)).status, 200);
  // A rotation without grace ends every replaced key at once.
  const k3 = (await admin(w, "POST", "/v1/tenants/grace2/secrets", { provider: "ashby" })).body.secretKey;
  assert.equal((await list(k1)).status, 401);
  assert.equal((await list(k2)).status, 401);
  assert.equal((await list(k3)).status, 200);
});

test("rotation with previous_key_ttl_seconds keeps the old key working for the grace period only", async () => {
  await createTenant(w, "grace", "http://127.0.0.1:9/h");
  const k1 = (await createKey(w, "grace", "ashby")).secretKey;
  const r = await admin(w, "POST", "/v1/tenants/grace/secrets", { provider: "ashby", previous_key_ttl_seconds: 2 });
  assert.equal(r.status, 201);
  assert.ok(Date.parse(r.body.previousKeyValidUntil) > Date.now());
  const k2 = r.body.secretKey;
  const list = (key) => edge(w, "grace", "ashby", "assessment.list", { key, body: {} });
  assert.equal((await list(k1)).status, 200, "old key still works inside the grace period");
  assert.equal((await list(k2)).status, 200);
  await new Promise((res) => setTimeout(res, 2300));
  assert.equal((await list(k1)).status, 401, "old key dead after the grace period");
  assert.equal((await list(k2)).status, 200);
  // A plain rotation ends any grace at once; DELETE kills every key.
  const k3 = (await admin(w, "POST", "/v1/tenants/grace/secrets", { provider: "ashby", previous_key_ttl_seconds: 60 })).body.secretKey;
  assert.equal((await list(k2)).status, 200);
  assert.equal((await admin(w, "DELETE", "/v1/tenants/grace/secrets/ashby")).status, 204);
  assert.equal((await list(k2)).status, 401);
  assert.equal((await list(k3)).status, 401);
  assertErrorShape(assert, await admin(w, "POST", "/v1/tenants/grace/secrets", { provider: "ashby", previous_key_ttl_seconds: -1 }), 422);
  assertErrorShape(assert, await admin(w, "POST", "/v1/tenants/grace/secrets", { provider: "ashby", previous_key_ttl_seconds: "1h" }), 422);
});
