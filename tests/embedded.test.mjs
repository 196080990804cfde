// Issue 12: the embedding API as a product surface. examples/embedded is a vendor's own worker
// that mounts the bridge under /ats next to its own routes; a Greenhouse order goes through it
// end to end (edge call → signed webhook → result → completion PATCH → test_status), and every
// URL the bridge hands out includes the mount.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import {
  startWorker, startReceiver, admin, edge, createTenant, createKey, verifyWebhook,
  assertErrorShape, fixture, events, basic, wrap, sleep,
} from "./harness.mjs";

let w;
const closers = [];

before(async () => {
  w = await startWorker({ workerDir: "examples/embedded", mount: "/ats" });
});
after(async () => {
  await Promise.all([w?.stop(), ...closers.map((c) => c.close())]);
});

test("the vendor's own routes answer next to the bridge, which only owns /ats", async () => {
  assert.ok(w.url.endsWith("/ats"));
  const home = await wrap(await fetch(`${w.origin}/`));
  assert.equal(home.status, 200);
  assert.match(home.text, /Vendor app/);
  const hello = await wrap(await fetch(`${w.origin}/api/hello`));
  assert.deepEqual(hello.body, { hello: "from the vendor's own worker" });
  const health = await wrap(await fetch(`${w.url}/healthz`));
  assert.equal(health.status, 200);
  assert.equal(health.body.status, "ok");
  // Outside the mount the bridge is not there: the vendor's 404, not the bridge's.
  const outside = await wrap(await fetch(`${w.origin}/v1/tenants`, { method: "POST" }));
  assert.equal(outside.status, 404);
  assert.equal(outside.body.error, undefined, "not the bridge's error shape");
  const lookalike = await wrap(await fetch(`${w.origin}/atsx/healthz`));
  assert.equal(lookalike.status, 404);
  // The bridge's own answers under the mount keep their contract.
  assertErrorShape(assert, await admin(w, "GET", "/v1/tenants/nope", undefined, { token: "wrong" }), 401);
  assertErrorShape(assert, await wrap(await fetch(`${w.url}/t/acme/greenhouse/list_tests`)), 401);
  const openapi = await admin(w, "GET", "/v1/openapi.json");
  assert.equal(openapi.status, 200);
  assert.equal(openapi.body.openapi.slice(0, 3), "3.1");
});

test("a Greenhouse order through the embedded bridge, end to end", async () => {
  const hooks = await startReceiver(() => ({ status: 200 }));
  closers.push(hooks);
  const gh = { seen: [] };
  gh.rx = await startReceiver(async (req) => {
    if (req.method === "PATCH") {
      // Like Greenhouse: read test_status the moment the completion PATCH arrives.
      const s = await edge(w, "emb", "greenhouse", "test_status", { key: gh.key, query: `?partner_interview_id=${gh.id}` });
      gh.seen.push(s.body);
    }
    return { status: 200 };
  });
  closers.push(gh.rx);

  const t = await createTenant(w, "emb", hooks.url);
  await admin(w, "PUT", "/v1/tenants/emb/packages", fixture("packages.json"));
  await admin(w, "PATCH", "/v1/tenants/emb", { greenhouse: { partner_username: "gh-partner", partner_password: "gh-secret" } });
  const key = await createKey(w, "emb", "greenhouse");
  gh.key = key.secretKey;
  assert.equal(key.baseUrl, `${w.origin}/ats/t/emb/greenhouse`, "baseUrl includes the mount");
  const view = await admin(w, "GET", "/v1/tenants/emb");
  assert.equal(view.body.providers.greenhouse.baseUrl, `${w.origin}/ats/t/emb/greenhouse`);

  // Greenhouse calls the URL it was given.
  const list = await wrap(await fetch(`${key.baseUrl}/list_tests`, { headers: { authorization: basic(gh.key) } }));
  assert.equal(list.status, 200);
  assert.equal(list.body[0].partner_test_id, "pkg_9f3aK21");
  const body = { ...fixture("greenhouse/send_test.json"), url: `${gh.rx.url}/integrations/testing_partners/take_home_tests/1` };
  const sent = await wrap(await fetch(`${key.baseUrl}/send_test`, {
    method: "POST", headers: { authorization: basic(gh.key), "content-type": "application/json" }, body: JSON.stringify(body),
  }));
  assert.equal(sent.status, 200, sent.text);
  gh.id = sent.body.partner_interview_id;
  assert.match(gh.id, /^ats_ass_/);

  await hooks.waitFor(1);
  const [created] = events(hooks, "record.new");
  assert.ok(verifyWebhook(t.webhook.secret, hooks.requests[0]), "signed");
  assert.equal(created.recordId, gh.id);
  assert.equal(created.eventData.candidateAssessment.provider, "greenhouse");
  assert.equal(created.eventData.candidateAssessment.assessmentPackage.name, "Backend take-home");

  const res = await admin(w, "POST", `/v1/tenants/emb/assessments/${gh.id}/result`, fixture("result.completed.json"));
  assert.equal(res.status, 200, res.text);
  const [patch] = await gh.rx.waitFor(1);
  assert.equal(patch.method, "PATCH");
  assert.equal(patch.path, "/integrations/testing_partners/take_home_tests/1");
  assert.equal(patch.headers.authorization, basic("gh-partner", "gh-secret"));
  await gh.rx.waitFor(1, 5000, () => gh.seen.length >= 1);
  assert.equal(gh.seen[0].partner_status, "complete");
  assert.equal(gh.seen[0].partner_score, 87.5);

  await hooks.waitFor(2);
  const [modified] = events(hooks, "record.modified");
  assert.equal(modified.recordId, gh.id);
  assert.equal(modified.eventData.candidateAssessment.status, "COMPLETED");
  for (let i = 0; i < 50; i++) {
    const a = await admin(w, "GET", `/v1/tenants/emb/assessments/${gh.id}`);
    if (a.body.providerSync?.state === "synced") break;
    await sleep(100);
  }
  const a = await admin(w, "GET", `/v1/tenants/emb/assessments/${gh.id}`);
  assert.equal(a.body.providerSync.state, "synced");
});
