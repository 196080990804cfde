// Issue 6 (security checks): tenant isolation, SSRF refusals with insecure targets off, and no
// secret, key, token or full candidate email in the worker's logs over a whole flow.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { request as httpRequest } from "node:http";
import {
  startWorker, startReceiver, admin, edge, createTenant, createKey, fixture, assertErrorShape, ADMIN_TOKEN, sleep, events,
} from "./harness.mjs";

let w, strict, rx, ghFake;
const secrets = [];

before(async () => {
  rx = await startReceiver(() => ({ status: 200 }));
  ghFake = await startReceiver((req) => (req.method === "PATCH" ? { status: 403, body: "nope" } : { status: 200 }));
  [w, strict] = await Promise.all([
    startWorker({ vars: { RETRY_SCHEDULE: "1", ASHBY_API_BASE: ghFake.url } }),
    startWorker({ vars: { ALLOW_INSECURE_TARGETS: "false", ASHBY_API_BASE: "http://127.0.0.1:9" } }),
  ]);
});
after(async () => {
  await Promise.all([w?.stop(), strict?.stop(), rx?.close(), ghFake?.close()]);
});

test("tenant isolation: keys, assessment ids and event ids of one tenant never work for another", async () => {
  const a = await createTenant(w, "iso-a", `${rx.url}/a`);
  const b = await createTenant(w, "iso-b", `${rx.url}/b`);
  secrets.push(a.webhook.secret, b.webhook.secret);
  const ghA = (await createKey(w, "iso-a", "greenhouse")).secretKey;
  const abA = (await createKey(w, "iso-a", "ashby")).secretKey;
  const ghB = (await createKey(w, "iso-b", "greenhouse")).secretKey;
  const abB = (await createKey(w, "iso-b", "ashby")).secretKey;
  secrets.push(ghA, abA, ghB, abB);
  const order = await edge(w, "iso-a", "greenhouse", "send_test", { key: ghA, body: { ...fixture("greenhouse/send_test.json"), url: `${ghFake.url}/x/1` } });
  const ghId = order.body.partner_interview_id;
  const start = await edge(w, "iso-a", "ashby", "assessment.start", { key: abA, body: fixture("ashby/assessment.start.json") });
  const abId = start.body.results.assessment_id;
  await rx.waitFor(2);
  const evA = events(rx)[0].eventId;

  assertErrorShape(assert, await edge(w, "iso-b", "greenhouse", "list_tests", { key: ghA }), 401);
  assertErrorShape(assert, await edge(w, "iso-b", "greenhouse", "test_status", { key: ghB, query: `?partner_interview_id=${ghId}` }), 404);
  assertErrorShape(assert, await edge(w, "iso-b", "ashby", "assessment.cancel", { key: abB, body: { assessment_id: abId } }), 404);
  assertErrorShape(assert, await admin(w, "GET", `/v1/tenants/iso-b/assessments/${ghId}`), 404);
  assertErrorShape(assert, await admin(w, "POST", `/v1/tenants/iso-b/assessments/${abId}/result`, { status: "STARTED" }), 404);
  assertErrorShape(assert, await admin(w, "GET", `/v1/tenants/iso-b/events/${evA}`), 404);
  assertErrorShape(assert, await admin(w, "POST", `/v1/tenants/iso-b/events/${evA}/replay`), 404);
  assert.equal((await admin(w, "GET", "/v1/tenants/iso-b/assessments")).body.data.length, 0);
  assert.equal((await admin(w, "GET", "/v1/tenants/iso-b/events")).body.data.length, 0);
  // A's response_error naming A's interview, sent with B's key, is not attached to A's record.
  await edge(w, "iso-b", "greenhouse", "response_error", { key: ghB, body: { api_call: "test_status", errors: ["x"], partner_interview_id: ghId } });
  await rx.waitFor(3);
  const pe = events(rx, "provider.error")[0];
  assert.equal(pe.recordId, null, "B cannot reach A's assessment through its id");
  assert.ok(rx.requests.at(-1).path.endsWith("/b"));
  assert.equal((await admin(w, "GET", `/v1/tenants/iso-a/assessments/${ghId}`)).body.providerErrors.length, 0);
});

test("SSRF: private, loopback and link-local targets are refused when insecure targets are off", async () => {
  for (const url of ["https://127.0.0.1/h", "https://10.0.0.1/h", "https://169.254.169.254/h", "https://[::1]/h", "https://localhost/h", "https://172.16.5.4/h", "http://hooks.example.com/h"]) {
    assertErrorShape(assert, await admin(strict, "POST", "/v1/tenants", { id: "ssrf", webhook: { url } }), 422);
  }
  await createTenant(strict, "ssrf-ok", "https://hooks.vendor.example/x");
  for (const url of ["https://192.168.0.10/p", "http://vendor.example/p", "https://[fd00::1]/p"]) {
    assertErrorShape(assert, await admin(strict, "PATCH", "/v1/tenants/ssrf-ok", { packages_url: url }), 422);
  }
  for (const url of ["https://127.0.0.1/x", "https://evil.example/x", "https://app.greenhouse.io.evil.example/x"]) {
    const key = (await createKey(strict, "ssrf-ok", "greenhouse")).secretKey;
    assertErrorShape(assert, await edge(strict, "ssrf-ok", "greenhouse", "send_test", { key, body: { ...fixture("greenhouse/send_test.json"), url } }), 422);
  }
  // An ASHBY_API_BASE on loopback is refused at result time (nothing stored, nothing sent).
  await admin(strict, "PATCH", "/v1/tenants/ssrf-ok", { ashby: { api_key: "k" } });
  const abKey = (await createKey(strict, "ssrf-ok", "ashby")).secretKey;
  const s = await edge(strict, "ssrf-ok", "ashby", "assessment.start", { key: abKey, body: fixture("ashby/assessment.start.json") });
  const r = await admin(strict, "POST", `/v1/tenants/ssrf-ok/assessments/${s.body.results.assessment_id}/result`, { status: "STARTED" });
  assertErrorShape(assert, r, 422);
  assert.match(r.body.error.message, /ASHBY_API_BASE/);
});

test("no secret, key, token or full candidate email appears in the worker's logs", async () => {
  const t = await createTenant(w, "logs", rx.url);
  secrets.push(t.webhook.secret);
  const rot = await admin(w, "POST", "/v1/tenants/logs/webhook/secret");
  secrets.push(rot.body.secret);
  await admin(w, "PATCH", "/v1/tenants/logs", { ashby: { api_key: "ashby-api-key-SECRET-1" }, greenhouse: { partner_username: "partner-user", partner_password: "partner-pass-SECRET-2" } });
  const gh = (await createKey(w, "logs", "greenhouse")).secretKey;
  const ab = (await createKey(w, "logs", "ashby")).secretKey;
  secrets.push(gh, ab, "ashby-api-key-SECRET-1", "partner-pass-SECRET-2");
  const o = await edge(w, "logs", "greenhouse", "send_test", { key: gh, body: { ...fixture("greenhouse/send_test.json"), url: `${ghFake.url}/x/2` } });
  // The fake Greenhouse answers 403 to the PATCH and the fake Ashby 200: failure paths log.
  await admin(w, "POST", `/v1/tenants/logs/assessments/${o.body.partner_interview_id}/result`, fixture("result.completed.json"));
  const s = await edge(w, "logs", "ashby", "assessment.start", { key: ab, body: fixture("ashby/assessment.start.json") });
  await admin(w, "POST", `/v1/tenants/logs/assessments/${s.body.results.assessment_id}/result`, { status: "STARTED" });
  await edge(w, "logs", "greenhouse", "response_error", { key: gh, body: fixture("greenhouse/response_error.json", { assessmentId: o.body.partner_interview_id }) });
  await edge(w, "logs", "greenhouse", "list_tests", { key: gh + "wrong" });
  await admin(w, "GET", "/v1/tenants/logs", undefined, { token: "wrong-token" });
  await sleep(2500);
  const logs = w.logs() + strict.logs();
  assert.ok(logs.length > 500, "logs were captured");
  for (const s of [...secrets, ADMIN_TOKEN]) assert.ok(!logs.includes(s), `a secret leaked into the logs: ${s.slice(0, 6)}…`);
  assert.ok(!/whsec_[A-Za-z0-9+/]{20}/.test(logs), "no webhook secret");
  assert.ok(!/\b(gh|ab)_[A-Za-z0-9_-]{40}/.test(logs), "no provider key");
  for (const email of ["john.doe@example.com", "alex.chen@example.com", "recruiter@example.com"]) {
    assert.ok(!logs.includes(email), `full email in logs: ${email}`);
  }
});

// Issue 11 (8): what two Authorization headers get (README, "Authentication").
function rawRequest(url, method, headers, body) {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, headers }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        let parsed = text;
        try { parsed = JSON.parse(text); } catch {}
        resolve({ status: res.statusCode, headers: res.headers, body: parsed, text });
      });
    });
    req.on("error", reject);
    req.end(body);
  });
}

test("two Authorization headers get 401, even when each alone would be valid", async () => {
  await createTenant(w, "two-auth", rx.url);
  const gh = (await createKey(w, "two-auth", "greenhouse")).secretKey;
  const bearer = `Bearer ${ADMIN_TOKEN}`;
  const basicKey = "Basic " + Buffer.from(`${gh}:`).toString("base64");
  // One header each works…
  assert.equal((await rawRequest(`${w.url}/v1/tenants/two-auth`, "GET", { authorization: bearer })).status, 200);
  assert.equal((await rawRequest(`${w.url}/t/two-auth/greenhouse/list_tests`, "GET", { authorization: basicKey })).status, 200);
  // …two (sent as two header lines, which HTTP joins into one comma-separated value) do not.
  for (const pair of [[bearer, bearer], [bearer, "Bearer wrong"], ["Bearer wrong", bearer]]) {
    const r = await rawRequest(`${w.url}/v1/tenants/two-auth`, "GET", { authorization: pair });
    assertErrorShape(assert, r, 401);
    assert.equal(r.body.error.code, "unauthorized");
  }
  for (const pair of [[basicKey, basicKey], [basicKey, "Basic " + Buffer.from("gh_wrong:").toString("base64")]]) {
    const r = await rawRequest(`${w.url}/t/two-auth/greenhouse/list_tests`, "GET", { authorization: pair });
    assertErrorShape(assert, r, 401);
    assert.equal(r.headers["www-authenticate"], 'Basic realm="ats-bridge"');
  }
});
