// Issue 7 (structured logs): one JSON line per request and per delivery attempt, readable in
// `wrangler tail`, with the request id echoed in `x-request-id`, and no email or secret.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startWorker, startReceiver, createTenant, createKey, edge, fixture, sleep } from "./harness.mjs";

let w, rx;
before(async () => {
  rx = await startReceiver((_r, n) => ({ status: n === 1 ? 500 : 200 }));
  w = await startWorker({ vars: { RETRY_SCHEDULE: "1" } });
});
after(async () => {
  await w?.stop();
  await rx?.close();
});

/** Every JSON object logged by the worker. */
function jsonLines() {
  return w.logs().split("\n").flatMap((l) => {
    const i = l.indexOf("{\"msg\"");
    if (i < 0) return [];
    try { return [JSON.parse(l.slice(i, l.lastIndexOf("}") + 1))]; } catch { return []; }
  });
}

test("a JSON line per request and per delivery attempt", async () => {
  await createTenant(w, "obs", rx.url);
  const key = (await createKey(w, "obs", "greenhouse")).secretKey;
  const r = await edge(w, "obs", "greenhouse", "send_test", { key, body: { ...fixture("greenhouse/send_test.json"), url: `${rx.url}/cb/1` } });
  assert.equal(r.status, 200);
  const requestId = r.headers.get("x-request-id");
  assert.match(requestId, /^req_/);
  await rx.waitFor(2, 10_000);
  await sleep(500);
  const lines = jsonLines();
  const req = lines.find((l) => l.msg === "request" && l.requestId === requestId);
  assert.ok(req, `request line for ${requestId} in logs`);
  assert.deepEqual(
    { route: req.route, tenant: req.tenant, provider: req.provider, status: req.status, method: req.method },
    { route: "send_test", tenant: "obs", provider: "greenhouse", status: 200, method: "POST" },
  );
  assert.equal(typeof req.latencyMs, "number");
  const attempts = lines.filter((l) => l.msg === "delivery attempt" && l.tenant === "obs");
  assert.deepEqual(attempts.map((a) => [a.attempt, a.status, a.outcome]), [[1, 500, "retry"], [2, 200, "delivered"]]);
  assert.ok(attempts.every((a) => a.eventId.startsWith("evt_") && typeof a.latencyMs === "number"));

  const bad = await edge(w, "obs", "greenhouse", "send_test", { key: key + "x", body: {} });
  await sleep(300);
  const refused = jsonLines().find((l) => l.requestId === bad.headers.get("x-request-id"));
  assert.equal(refused.status, 401);
  assert.equal(refused.error, "unauthorized");
  assert.ok(!w.logs().includes("john.doe@example.com"), "no candidate email");
  assert.ok(!w.logs().includes(key), "no key");
});
