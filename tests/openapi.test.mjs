// Issue 7 (OpenAPI): the committed document is served behind the admin token, and every
// documented operation is routed (never 404 route_not_found or 405). The unit test
// `routes::tests::openapi_matches_router` checks the reverse: every served route is documented.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { startWorker, admin, assertErrorShape, ROOT, ADMIN_TOKEN, basic } from "./harness.mjs";

let w;
const doc = JSON.parse(readFileSync(join(ROOT, "openapi/openapi.json"), "utf8"));
before(async () => { w = await startWorker(); });
after(async () => { await w?.stop(); });

test("GET /v1/openapi.json serves the committed OpenAPI 3.1 document behind the admin token", async () => {
  assertErrorShape(assert, await admin(w, "GET", "/v1/openapi.json", undefined, { token: null }), 401);
  const r = await admin(w, "GET", "/v1/openapi.json");
  assert.equal(r.status, 200);
  assert.match(r.headers.get("content-type"), /application\/json/);
  assert.deepEqual(r.body, doc);
  assert.equal(doc.openapi, "3.1.0");
  assertErrorShape(assert, await admin(w, "POST", "/v1/openapi.json"), 405);
  const direct = await fetch(`${w.url}/openapi.json`);
  assert.notEqual(direct.status, 200, "the asset is not public by itself");
});

test("every documented operation is routed by the worker", async () => {
  let checked = 0;
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const method of Object.keys(ops).filter((m) => ["get", "post", "put", "patch", "delete"].includes(m))) {
      const concrete = path.replace("{tenant}", "nobody").replace("{provider}", "ashby").replace("{id}", "ats_ass_x").replace("{eventId}", "evt_x");
      const headers = path.startsWith("/t/") ? { authorization: basic(path.includes("/ashby/") ? "ab_x" : "gh_x") } : { authorization: `Bearer ${ADMIN_TOKEN}` };
      const r = await fetch(`${w.url}${concrete}`, { method: method.toUpperCase(), headers, body: method === "get" || method === "delete" ? undefined : "{}" });
      const text = await r.text();
      assert.notEqual(r.status, 405, `${method} ${path}: ${text}`);
      let code = null;
      try { code = JSON.parse(text).error?.code ?? null; } catch {}
      assert.notEqual(code, "route_not_found", `${method} ${path} is routed: ${text.slice(0, 200)}`);
      checked++;
    }
  }
  assert.ok(checked >= 24, `checked ${checked} operations`);
});
