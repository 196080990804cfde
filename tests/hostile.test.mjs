// Issue 6 (hostile input): a few thousand mutated requests at every route — bad JSON, wrong
// types, huge strings, deep nesting, invalid UTF-8, missing or garbage headers, wrong methods,
// garbage query strings. Nothing may answer 5xx; every error has the JSON error shape.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startWorker, startReceiver, admin, createTenant, createKey, fixture, ADMIN_TOKEN, basic } from "./harness.mjs";

let w, rx;
const ctx = {};

before(async () => {
  rx = await startReceiver(() => ({ status: 200 }));
  w = await startWorker();
  await createTenant(w, "hostile", rx.url);
  await admin(w, "PUT", "/v1/tenants/hostile/packages", fixture("packages.json"));
  await admin(w, "PATCH", "/v1/tenants/hostile", { ashby: { api_key: "k" }, greenhouse: { partner_username: "u", partner_password: "p" } });
  ctx.gh = (await createKey(w, "hostile", "greenhouse")).secretKey;
  ctx.ab = (await createKey(w, "hostile", "ashby")).secretKey;
  const o = await fetch(`${w.url}/t/hostile/greenhouse/send_test`, {
    method: "POST", headers: { authorization: basic(ctx.gh), "content-type": "application/json" },
    body: JSON.stringify({ ...fixture("greenhouse/send_test.json"), url: `${rx.url}/cb/1` }),
  });
  ctx.assessment = (await o.json()).partner_interview_id;
});
after(async () => {
  await w?.stop();
  await rx?.close();
});

// Small deterministic PRNG so a failure can be replayed.
function rng(seed) {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

const deep = (n) => "[".repeat(n) + "]".repeat(n);
const BAD_BODIES = [
  "", "{", "[", "}", "null", "1", "\"x\"", "true", "{\"a\":}", "{'single':'quotes'}", deep(5000),
  "{\"a\":" + deep(200) + "}", Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]),
  Buffer.from([0xc3, 0x28]), "\u0000\u0001", "x".repeat(100_000),
];
const WEIRD_VALUES = [null, 0, -1, 1e308, "", " ", "x".repeat(70_000), [], {}, [1, [2, [3]]], { nested: { deep: true } }, true, "ats_ass_\u0000", "😀".repeat(1000), "../../etc/passwd", "<script>"];

function mutate(base, r) {
  const v = structuredClone(base);
  const paths = [];
  const walk = (o, p) => {
    if (o && typeof o === "object") for (const k of Object.keys(o)) { paths.push([...p, k]); walk(o[k], [...p, k]); }
  };
  walk(v, []);
  const n = 1 + Math.floor(r() * 3);
  for (let i = 0; i < n && paths.length; i++) {
    const path = paths[Math.floor(r() * paths.length)];
    let cur = v;
    for (const k of path.slice(0, -1)) cur = cur?.[k];
    if (!cur || typeof cur !== "object") continue;
    const last = path.at(-1);
    if (r() < 0.3) delete cur[last];
    else cur[last] = WEIRD_VALUES[Math.floor(r() * WEIRD_VALUES.length)];
  }
  if (r() < 0.2) v[`unknown_${Math.floor(r() * 100)}`] = WEIRD_VALUES[Math.floor(r() * WEIRD_VALUES.length)];
  return v;
}

function routes() {
  const a = ctx.assessment;
  return [
    { method: "POST", path: "/v1/tenants", auth: "admin", base: { id: "fuzzed", name: "x", webhook: { url: rx.url } } },
    { method: "GET", path: "/v1/tenants/hostile", auth: "admin" },
    { method: "PATCH", path: "/v1/tenants/hostile", auth: "admin", base: { name: "n", webhook: { url: rx.url }, packages_url: null, static_package_id: "s", ashby: { api_key: "k" }, greenhouse: { partner_username: "u", partner_password: "p" } } },
    { method: "POST", path: "/v1/tenants/hostile/secrets", auth: "admin", base: { provider: "ashby" }, skipMutationRoute: true },
    { method: "PUT", path: "/v1/tenants/hostile/packages", auth: "admin", base: fixture("packages.json") },
    { method: "GET", path: "/v1/tenants/hostile/assessments", auth: "admin", query: true },
    { method: "GET", path: `/v1/tenants/hostile/assessments/${a}`, auth: "admin" },
    { method: "POST", path: `/v1/tenants/hostile/assessments/${a}/result`, auth: "admin", base: { status: "IN_PROGRESS", score: 1, max_score: 2, started_at: "2026-11-01T10:00:00Z", summary: "s", metadata: { a: 1 } } },
    { method: "GET", path: "/v1/tenants/hostile/events", auth: "admin", query: true },
    { method: "GET", path: "/v1/tenants/hostile/events/evt_x", auth: "admin" },
    { method: "POST", path: "/v1/tenants/hostile/events/evt_x/replay", auth: "admin" },
    { method: "GET", path: "/t/hostile/greenhouse/list_tests", auth: "gh" },
    { method: "POST", path: "/t/hostile/greenhouse/send_test", auth: "gh", base: { ...fixture("greenhouse/send_test.json"), url: `${rx.url}/cb/fuzz` } },
    { method: "GET", path: "/t/hostile/greenhouse/test_status", auth: "gh", query: true },
    { method: "POST", path: "/t/hostile/greenhouse/response_error", auth: "gh", base: fixture("greenhouse/response_error.json", { assessmentId: a }) },
    { method: "POST", path: "/t/hostile/ashby/assessment.list", auth: "ab", base: {} },
    { method: "POST", path: "/t/hostile/ashby/assessment.start", auth: "ab", base: fixture("ashby/assessment.start.json") },
    { method: "POST", path: "/t/hostile/ashby/assessment.cancel", auth: "ab", base: { assessment_id: a } },
  ];
}

const QUERIES = ["?limit=-5", "?limit=abc", "?limit=99999999999999999999", "?cursor=c_-1", "?cursor=%ZZ", "?status=completed", "?state=x",
  "?partner_interview_id=", `?partner_interview_id=${"x".repeat(5000)}`, "?partner_interview_id=%00", "?provider=%E2%82", "?&&&==", "?limit=1&limit=2"];
const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

function authHeader(kind, r) {
  const roll = r();
  if (roll < 0.05) return undefined;
  if (roll < 0.08) return "Basic " + "A".repeat(10_000);
  if (roll < 0.1) return "Bearer";
  if (kind === "admin") return `Bearer ${ADMIN_TOKEN}`;
  return basic(kind === "gh" ? ctx.gh : ctx.ab);
}

function assertShape(res, text, what) {
  assert.ok(res.status < 500, `${what} → ${res.status} ${text.slice(0, 300)}`);
  if (res.status >= 400) {
    let body;
    assert.doesNotThrow(() => (body = JSON.parse(text)), `${what}: error body is JSON: ${text.slice(0, 200)}`);
    const ok = (body?.error && typeof body.error.code === "string" && typeof body.error.message === "string")
      || (what.includes("/ashby/") && res.status === 422 && typeof body?.message === "string");
    assert.ok(ok, `${what}: error shape: ${text.slice(0, 200)}`);
  }
}

test("thousands of mutated requests: no 5xx, every error in the JSON shape", async () => {
  const r = rng(20261122);
  const jobs = [];
  for (const route of routes()) {
    for (let i = 0; i < 125; i++) {
      const roll = r();
      let method = route.method;
      let body;
      let path = route.path;
      const headers = {};
      const auth = authHeader(route.auth, r);
      if (auth) headers.authorization = auth;
      if (roll < 0.1) method = METHODS[Math.floor(r() * METHODS.length)];
      if (route.base !== undefined || method !== "GET") {
        const b = r();
        if (b < 0.3) body = BAD_BODIES[Math.floor(r() * BAD_BODIES.length)];
        else if (route.base !== undefined) body = JSON.stringify(mutate(route.base, r));
        else body = JSON.stringify(WEIRD_VALUES[Math.floor(r() * WEIRD_VALUES.length)]);
        headers["content-type"] = r() < 0.9 ? "application/json" : "text/plain";
      }
      if (route.query || r() < 0.1) path += QUERIES[Math.floor(r() * QUERIES.length)];
      if (method === "GET" || method === "OPTIONS") body = undefined;
      jobs.push({ method, path, headers, body });
    }
  }
  // Broken paths too.
  for (const p of ["/t/", "/t/hostile", "/t/hostile/greenhouse", "/t/hostile/workday/list", "/t/%00/greenhouse/list_tests",
    "/v1/tenants/" + "a".repeat(300), "/v1/tenants/hostile/events/" + "e".repeat(3000), "/v1//tenants", "/%2e%2e/v1/tenants"]) {
    jobs.push({ method: "GET", path: p, headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  }
  let i = 0;
  let done = 0;
  const worker = async () => {
    while (i < jobs.length) {
      const j = jobs[i++];
      const res = await fetch(`${w.url}${j.path}`, { method: j.method, headers: j.headers, body: j.body });
      const text = await res.text();
      assertShape(res, text, `${j.method} ${j.path.slice(0, 80)}`);
      done++;
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  assert.ok(done >= 2000, `sent ${done} requests`);
  // The worker is still healthy and its state intact afterwards.
  const h = await fetch(`${w.url}/healthz`);
  assert.equal(h.status, 200);
  const t = await admin(w, "GET", "/v1/tenants/hostile");
  assert.equal(t.status, 200);
});
