// Issue 4: the Greenhouse Assessment Partner API end to end, with a loopback fake Greenhouse
// (which, like the real one, calls test_status the moment it receives the completion PATCH)
// and a loopback partner receiver.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import {
  startWorker, startReceiver, admin, edge, createTenant, createKey, verifyWebhook, sleep,
  assertErrorShape, fixture, events, basic, wrap,
} from "./harness.mjs";

let w, strict;
const closers = [];
async function receiver(fn) {
  const r = await startReceiver(fn);
  closers.push(r);
  return r;
}

before(async () => {
  [w, strict] = await Promise.all([
    startWorker({ vars: { RETRY_SCHEDULE: "1,1,1" } }),
    startWorker({ vars: { ALLOW_INSECURE_TARGETS: "false" } }),
  ]);
});
after(async () => {
  await Promise.all([w?.stop(), strict?.stop(), ...closers.map((c) => c.close())]);
});

/** A tenant with a partner receiver, a fake Greenhouse and a Greenhouse key. */
async function setup(id, { packages = fixture("packages.json"), partner = { partner_username: "gh-partner", partner_password: "gh-secret" } } = {}) {
  const hooks = await receiver(() => ({ status: 200 }));
  const gh = { statusSeen: [] };
  gh.rx = await receiver(async (req) => {
    if (req.method === "PATCH") {
      // Greenhouse calls test_status immediately after the PATCH.
      const id = req.path.split("/").pop();
      const s = await edge(w, gh.tenant, "greenhouse", "test_status", { key: gh.key, query: `?partner_interview_id=${gh.ids[id]}` });
      gh.statusSeen.push(s.body);
    }
    return gh.script ? gh.script(req) : { status: 200 };
  });
  gh.ids = {};
  gh.tenant = id;
  const t = await createTenant(w, id, hooks.url);
  if (packages) await admin(w, "PUT", `/v1/tenants/${id}/packages`, packages);
  if (partner) await admin(w, "PATCH", `/v1/tenants/${id}`, { greenhouse: partner });
  gh.key = (await createKey(w, id, "greenhouse")).secretKey;
  return { t, hooks, gh, secret: t.webhook.secret };
}

let orderSeq = 0;
async function order(ctx, overrides = {}) {
  const n = ++orderSeq;
  const body = { ...fixture("greenhouse/send_test.json"), url: `${ctx.gh.rx.url}/integrations/testing_partners/take_home_tests/${n}`, ...overrides };
  const r = await edge(w, ctx.gh.tenant, "greenhouse", "send_test", { key: ctx.gh.key, body });
  assert.equal(r.status, 200, r.text);
  ctx.gh.ids[String(n)] = r.body.partner_interview_id;
  return { id: r.body.partner_interview_id, body, n };
}

test("list_tests follows the package sources: packages_url, stored list, static id, none", async () => {
  const ctx = await setup("gh-list");
  const stored = await edge(w, "gh-list", "greenhouse", "list_tests", { key: ctx.gh.key });
  assert.equal(stored.status, 200);
  assert.deepEqual(stored.body, [
    { partner_test_id: "pkg_9f3aK21", partner_test_name: "Backend take-home" },
    { partner_test_id: "pkg_fe_01", partner_test_name: "Frontend pairing" },
  ]);

  const ctx2 = await setup("gh-static", { packages: null });
  assert.deepEqual((await edge(w, "gh-static", "greenhouse", "list_tests", { key: ctx2.gh.key })).body, []);
  await admin(w, "PATCH", "/v1/tenants/gh-static", { static_package_id: "only-one" });
  assert.deepEqual((await edge(w, "gh-static", "greenhouse", "list_tests", { key: ctx2.gh.key })).body,
    [{ partner_test_id: "only-one", partner_test_name: "only-one" }]);

  let vendorUp = true;
  const vendor = await receiver(() => (vendorUp
    ? { status: 200, headers: { "content-type": "application/json" }, body: [{ id: "v1", name: "From vendor" }] }
    : { status: 500, body: "down" }));
  await admin(w, "PATCH", "/v1/tenants/gh-list", { packages_url: `${vendor.url}/packages` });
  const fromVendor = await edge(w, "gh-list", "greenhouse", "list_tests", { key: ctx.gh.key });
  assert.deepEqual(fromVendor.body, [{ partner_test_id: "v1", partner_test_name: "From vendor" }]);
  const call = vendor.requests[0];
  assert.equal(call.method, "POST");
  assert.deepEqual(JSON.parse(call.body), { tenant_id: "gh-list", provider: "greenhouse" });
  verifyWebhook(ctx.secret, call); // signed like a webhook

  // A failing packages_url is a 502, never silently replaced by the stored list.
  const ctx3 = await setup("gh-list-down");
  vendorUp = false;
  await admin(w, "PATCH", "/v1/tenants/gh-list-down", { packages_url: `${vendor.url}/packages` });
  const down = await edge(w, "gh-list-down", "greenhouse", "list_tests", { key: ctx3.gh.key });
  assertErrorShape(assert, down, 502);
  // Orders are still accepted, with the package name unknown.
  const o = await order(ctx3);
  const [ev] = await ctx3.hooks.waitFor(1).then(() => events(ctx3.hooks, "record.new"));
  assert.equal(ev.recordId, o.id);
  assert.equal(ev.eventData.candidateAssessment.assessmentPackage.name, null);
  assert.equal(ev.eventData.candidateAssessment.assessmentPackage.id, "pkg_9f3aK21");
});

test("send_test answers at once and emits a signed record.new matching the fixture", async () => {
  const ctx = await setup("gh-order");
  const o = await order(ctx);
  assert.match(o.id, /^ats_ass_[A-Za-z0-9]+$/);
  const [req] = await ctx.hooks.waitFor(1);
  const ev = verifyWebhook(ctx.secret, req);
  const expected = fixture("greenhouse/record.new.expected.json", {
    assessmentId: o.id, callbackUrl: o.body.url, request: o.body, tenantId: "gh-order",
    eventId: ev.eventId, syncRunId: ev.syncRunId, triggeredAt: ev.triggeredAt,
  });
  assert.deepEqual(ev, expected);
  assert.equal(req.headers["webhook-id"], ev.eventId);
  assert.match(ev.syncRunId, /^real_time_\d+$/);
});

test("send_test is idempotent on url and tolerant of old forms", async () => {
  const ctx = await setup("gh-idem");
  const o = await order(ctx);
  const again = await edge(w, "gh-idem", "greenhouse", "send_test", { key: ctx.gh.key, body: o.body });
  assert.equal(again.body.partner_interview_id, o.id);
  await ctx.hooks.waitFor(1);
  await sleep(800);
  assert.equal(events(ctx.hooks, "record.new").length, 1, "no second event");
  assert.equal((await admin(w, "GET", "/v1/tenants/gh-idem/assessments")).body.data.length, 1);

  // url inside candidate (pre-2019), numeric ids, nulls, unknown fields, a non-empty password.
  const old = {
    partner_test_id: 12345, sent_by: null, surprise: { nested: [1, 2] },
    candidate: { first_name: "Ann", last_name: null, email: "ann@example.com", phone_number: null, resume_url: null,
      greenhouse_profile_url: "https://app3.greenhouse.io/people/99?application_id=100", url: `${ctx.gh.rx.url}/take_home_tests/old` },
  };
  const r = await edge(w, "gh-idem", "greenhouse", "send_test", { auth: basic(ctx.gh.key, "not-empty"), body: old });
  assert.equal(r.status, 200, r.text);
  await ctx.hooks.waitFor(2);
  const ev = events(ctx.hooks, "record.new").find((e) => e.recordId === r.body.partner_interview_id);
  const a = ev.eventData.candidateAssessment;
  assert.equal(a.assessmentPackage.id, "12345");
  assert.equal(a.callbackUrl, `${ctx.gh.rx.url}/take_home_tests/old`);
  assert.equal(a.candidate.id, "99");
  assert.equal(a.applicationId, "100");
  assert.equal(a.candidate.phones, null);
  assert.deepEqual(a.originData, old);
});

test("send_test validation: 422 naming the field; 400 for malformed JSON; foreign callbacks refused", async () => {
  const ctx = await setup("gh-val");
  const base = fixture("greenhouse/send_test.json");
  for (const [mutate, field] of [
    [(b) => delete b.partner_test_id, "partner_test_id"],
    [(b) => delete b.candidate.email, "candidate.email"],
    [(b) => delete b.url, "url"],
    [(b) => (b.partner_test_id = null), "partner_test_id"],
  ]) {
    const b = structuredClone(base);
    mutate(b);
    const r = await edge(w, "gh-val", "greenhouse", "send_test", { key: ctx.gh.key, body: b });
    assertErrorShape(assert, r, 422);
    assert.ok(r.body.error.message.includes(field), `${field}: ${r.text}`);
  }
  assertErrorShape(assert, await edge(w, "gh-val", "greenhouse", "send_test", { key: ctx.gh.key, body: "{oops" }), 400);
  assertErrorShape(assert, await edge(w, "gh-val", "greenhouse", "send_test", { key: ctx.gh.key, body: "[1,2]" }), 422);

  await createTenant(strict, "gh-strict", "https://hooks.vendor.example/x");
  const key = (await createKey(strict, "gh-strict", "greenhouse")).secretKey;
  for (const url of ["https://evil.example/steal", "http://app.greenhouse.io/x", "https://127.0.0.1/x", "https://greenhouse.io.evil.example/x"]) {
    const r = await edge(strict, "gh-strict", "greenhouse", "send_test", { key, body: { ...base, url } });
    assertErrorShape(assert, r, 422);
    assert.ok(r.body.error.message.includes("url"));
  }
  const ok = await edge(strict, "gh-strict", "greenhouse", "send_test", { key, body: base });
  assert.equal(ok.status, 200, "a real greenhouse.io callback is accepted");
});

test("test_status: lowercase status until a COMPLETED result; unknown or foreign ids are 404", async () => {
  const ctx = await setup("gh-status");
  const o = await order(ctx);
  const st = (id) => edge(w, "gh-status", "greenhouse", "test_status", { key: ctx.gh.key, query: `?partner_interview_id=${id}` });
  const first = await st(o.id);
  assert.equal(first.status, 200);
  assert.deepEqual(first.body, { partner_status: "not_specified", partner_profile_url: null, partner_score: null, metadata: {} });
  const prog = await admin(w, "POST", `/v1/tenants/gh-status/assessments/${o.id}/result`, { status: "IN_PROGRESS", started_at: "2026-11-01T10:00:00Z" });
  assert.equal(prog.status, 200, prog.text);
  assert.equal((await st(o.id)).body.partner_status, "in_progress");
  assertErrorShape(assert, await st("ats_ass_doesnotexist"), 404);
  assertErrorShape(assert, await edge(w, "gh-status", "greenhouse", "test_status", { key: ctx.gh.key }), 422);
  const other = await setup("gh-status-other");
  const foreign = await edge(w, "gh-status-other", "greenhouse", "test_status", { key: other.gh.key, query: `?partner_interview_id=${o.id}` });
  assertErrorShape(assert, foreign, 404);
});

test("COMPLETED result: stored, record.modified, PATCH with partner Basic auth; test_status already complete", async () => {
  const ctx = await setup("gh-done");
  const o = await order(ctx);
  const res = await admin(w, "POST", `/v1/tenants/gh-done/assessments/${o.id}/result`, fixture("result.completed.json"));
  assert.equal(res.status, 200, res.text);
  assert.equal(res.body.status, "COMPLETED");
  assert.equal(res.body.result.score, 87.5);

  const [patch] = await ctx.gh.rx.waitFor(1);
  assert.equal(patch.method, "PATCH");
  assert.equal(patch.path, `/integrations/testing_partners/take_home_tests/${o.n}`);
  assert.equal(patch.body, "", "no body");
  assert.equal(patch.headers.authorization, basic("gh-partner", "gh-secret"));
  await ctx.gh.rx.waitFor(1, 5000, () => ctx.gh.statusSeen.length >= 1);
  const seen = ctx.gh.statusSeen[0];
  assert.equal(seen.partner_status, "complete", "Greenhouse saw complete the moment it got the PATCH");
  assert.equal(seen.partner_profile_url, "https://vendor.example/r/1");
  assert.equal(seen.partner_score, 87.5);
  assert.deepEqual(seen.metadata, {
    "Started At": "2026-11-01T10:00:00Z", "Completed At": "2026-11-01T11:00:00Z", Notes: "Strong", "Max Score": 100,
    Plagiarism: false, Language: "Rust",
  });
  for (const v of Object.values(seen.metadata)) assert.notEqual(typeof v, "object", "metadata is flat");

  await ctx.hooks.waitFor(2);
  const mod = events(ctx.hooks, "record.modified");
  assert.equal(mod.length, 1);
  assert.equal(mod[0].recordId, o.id);
  assert.equal(mod[0].eventData.candidateAssessment.status, "COMPLETED");
  assert.equal(mod[0].eventData.result.result_url, "https://vendor.example/r/1");

  const again = await admin(w, "POST", `/v1/tenants/gh-done/assessments/${o.id}/result`, { status: "IN_PROGRESS" });
  assertErrorShape(assert, again, 409);
  // Eventually the sync is recorded as done on the assessment.
  for (let i = 0; i < 50; i++) {
    const a = await admin(w, "GET", `/v1/tenants/gh-done/assessments/${o.id}`);
    if (a.body.providerSync?.state === "synced") break;
    await sleep(100);
  }
  const a = await admin(w, "GET", `/v1/tenants/gh-done/assessments/${o.id}`);
  assert.equal(a.body.providerSync.state, "synced");
  assert.equal(a.body.providerSync.lastStatus, 200);
});

test("results: validation, non-final updates, other final statuses without PATCH, credentials rules", async () => {
  const ctx = await setup("gh-rules", { partner: null });
  const o = await order(ctx);
  const post = (body) => admin(w, "POST", `/v1/tenants/gh-rules/assessments/${o.id}/result`, body);
  for (const [body, field] of [
    [{}, "status"], [{ status: "COMPLETED" }, "result_url"],
    [{ status: "COMPLETED", result_url: "http://vendor.example/r" }, "result_url"], [{ status: "WON" }, "status"],
  ]) {
    const r = await post(body);
    assertErrorShape(assert, r, 422);
    assert.ok(r.body.error.message.includes(field), r.text);
  }
  assertErrorShape(assert, await admin(w, "POST", "/v1/tenants/gh-rules/assessments/ats_ass_nope/result", { status: "STARTED" }), 404);
  assert.equal((await post({ status: "STARTED" })).status, 200);
  assert.equal((await post({ status: "STARTED" })).status, 200, "non-final statuses may repeat");
  assert.equal((await post({ status: "IN_PROGRESS" })).status, 200);
  await ctx.hooks.waitFor(4);
  assert.equal(events(ctx.hooks, "record.modified").length, 3, "each accepted call emits one record.modified");

  // No partner credentials anywhere: COMPLETED is refused before anything is stored.
  const refused = await post(fixture("result.completed.json"));
  assertErrorShape(assert, refused, 422);
  assert.match(refused.body.error.message, /partner/i);
  const still = await admin(w, "GET", `/v1/tenants/gh-rules/assessments/${o.id}`);
  assert.equal(still.body.status, "IN_PROGRESS");
  await sleep(500);
  assert.equal(events(ctx.hooks, "record.modified").length, 3, "nothing emitted for the refused call");

  // EXPIRED is final and changes test_status without a PATCH.
  assert.equal((await post({ status: "EXPIRED", reason: "Candidate never started" })).status, 200);
  const st = await edge(w, "gh-rules", "greenhouse", "test_status", { key: ctx.gh.key, query: `?partner_interview_id=${o.id}` });
  assert.equal(st.body.partner_status, "expired");
  assertErrorShape(assert, await post({ status: "STARTED" }), 409);
  await sleep(500);
  assert.equal(ctx.gh.rx.requests.length, 0, "no PATCH for a non-COMPLETED final status");
});

test("deployment partner credentials are used when the tenant has none", async () => {
  const deploy = await startWorker({ vars: { GREENHOUSE_PARTNER_USERNAME: "deploy-user", GREENHOUSE_PARTNER_PASSWORD: "deploy-pass" } });
  try {
    const gh = await receiver(() => ({ status: 204 }));
    await createTenant(deploy, "gh-deploy", gh.url);
    const key = (await createKey(deploy, "gh-deploy", "greenhouse")).secretKey;
    const body = { ...fixture("greenhouse/send_test.json"), url: `${gh.url}/take_home_tests/1` };
    const o = await edge(deploy, "gh-deploy", "greenhouse", "send_test", { key, body });
    assert.equal(o.status, 200);
    const r = await admin(deploy, "POST", `/v1/tenants/gh-deploy/assessments/${o.body.partner_interview_id}/result`, fixture("result.completed.json"));
    assert.equal(r.status, 200, r.text);
    const patch = (await gh.waitFor(2, 10_000, (rs) => rs.some((x) => x.method === "PATCH"))).find((x) => x.method === "PATCH");
    assert.equal(patch.headers.authorization, basic("deploy-user", "deploy-pass"));
    // A tenant override wins over the deployment's credentials.
    await admin(deploy, "PATCH", "/v1/tenants/gh-deploy", { greenhouse: { partner_username: "tenant-user", partner_password: "tenant-pass" } });
    const o2 = await edge(deploy, "gh-deploy", "greenhouse", "send_test", { key, body: { ...body, url: `${gh.url}/take_home_tests/2` } });
    await admin(deploy, "POST", `/v1/tenants/gh-deploy/assessments/${o2.body.partner_interview_id}/result`, fixture("result.completed.json"));
    const patches = await gh.waitFor(0, 10_000, (rs) => rs.filter((x) => x.method === "PATCH").length >= 2);
    assert.equal(patches.filter((x) => x.method === "PATCH")[1].headers.authorization, basic("tenant-user", "tenant-pass"));
  } finally {
    await deploy.stop();
  }
});

test("PATCH failures: 5xx retried until it lands; 403 is final and visible on the assessment", async () => {
  const ctx = await setup("gh-sync");
  ctx.gh.script = (req) => (req.method === "PATCH" && ctx.gh.rx.requests.length < 3 ? { status: 502 } : { status: 200 });
  const o = await order(ctx);
  await admin(w, "POST", `/v1/tenants/gh-sync/assessments/${o.id}/result`, fixture("result.completed.json"));
  await ctx.gh.rx.waitFor(3, 15_000);
  for (let i = 0; i < 50; i++) {
    if ((await admin(w, "GET", `/v1/tenants/gh-sync/assessments/${o.id}`)).body.providerSync?.state === "synced") break;
    await sleep(200);
  }
  const synced = await admin(w, "GET", `/v1/tenants/gh-sync/assessments/${o.id}`);
  assert.equal(synced.body.providerSync.state, "synced");
  assert.equal(synced.body.providerSync.attempts, 3);

  const ctx2 = await setup("gh-sync-403");
  ctx2.gh.script = () => ({ status: 403, body: "Forbidden: bad partner credentials" });
  const o2 = await order(ctx2);
  await admin(w, "POST", `/v1/tenants/gh-sync-403/assessments/${o2.id}/result`, fixture("result.completed.json"));
  await ctx2.gh.rx.waitFor(1);
  let a;
  for (let i = 0; i < 50; i++) {
    a = await admin(w, "GET", `/v1/tenants/gh-sync-403/assessments/${o2.id}`);
    if (a.body.providerSync?.state === "failed") break;
    await sleep(100);
  }
  assert.equal(a.body.providerSync.state, "failed");
  assert.equal(a.body.providerSync.lastStatus, 403);
  assert.equal(a.body.providerSync.error.code, "provider_sync");
  assert.match(a.body.providerSync.error.message, /403/);
  await sleep(2500);
  assert.equal(ctx2.gh.rx.requests.length, 1, "a 403 is not retried");
});

test("response_error: 200, stored on the assessment, forwarded as provider.error", async () => {
  const ctx = await setup("gh-err");
  const o = await order(ctx);
  const body = fixture("greenhouse/response_error.json", { assessmentId: o.id });
  const r = await edge(w, "gh-err", "greenhouse", "response_error", { key: ctx.gh.key, body });
  assert.equal(r.status, 200);
  assert.deepEqual(r.body, { status: 200 });
  await ctx.hooks.waitFor(2);
  const [pe] = events(ctx.hooks, "provider.error");
  assert.equal(pe.recordId, o.id);
  assert.equal(pe.eventData.providerError.apiCall, "test_status");
  assert.deepEqual(pe.eventData.providerError.errors, body.errors);
  assert.equal(pe.eventData.candidateAssessment.id, o.id);
  const a = await admin(w, "GET", `/v1/tenants/gh-err/assessments/${o.id}`);
  assert.equal(a.body.providerErrors.length, 1);
  assert.equal(a.body.providerErrors[0].apiCall, "test_status");

  const unknown = await edge(w, "gh-err", "greenhouse", "response_error", { key: ctx.gh.key, body: { api_call: "send_test", errors: ["nope"] } });
  assert.equal(unknown.status, 200);
  await ctx.hooks.waitFor(3);
  const orphan = events(ctx.hooks, "provider.error").find((e) => e.eventData.providerError.apiCall === "send_test");
  assert.equal(orphan.recordId, null);
  assert.equal(orphan.eventData.candidateAssessment, undefined);
  assertErrorShape(assert, await edge(w, "gh-err", "greenhouse", "response_error", { key: ctx.gh.key, body: "{bad" }), 400);
});

test("admin assessments: filters, cursor paging, single view", async () => {
  const ctx = await setup("gh-admin");
  const ids = [];
  for (let i = 0; i < 3; i++) ids.push((await order(ctx)).id);
  await admin(w, "POST", `/v1/tenants/gh-admin/assessments/${ids[1]}/result`, { status: "IN_PROGRESS" });
  const all = await admin(w, "GET", "/v1/tenants/gh-admin/assessments?limit=2");
  assert.deepEqual(all.body.data.map((a) => a.id), [ids[2], ids[1]]);
  const rest = await admin(w, "GET", `/v1/tenants/gh-admin/assessments?limit=2&cursor=${all.body.next_cursor}`);
  assert.deepEqual(rest.body.data.map((a) => a.id), [ids[0]]);
  assert.equal(rest.body.next_cursor, null);
  const prog = await admin(w, "GET", "/v1/tenants/gh-admin/assessments?status=IN_PROGRESS");
  assert.deepEqual(prog.body.data.map((a) => a.id), [ids[1]]);
  assert.equal((await admin(w, "GET", "/v1/tenants/gh-admin/assessments?provider=ashby")).body.data.length, 0);
  assert.equal((await admin(w, "GET", "/v1/tenants/gh-admin/assessments?provider=greenhouse")).body.data.length, 3);
  assertErrorShape(assert, await admin(w, "GET", "/v1/tenants/gh-admin/assessments?status=in_progress"), 422);
  assertErrorShape(assert, await admin(w, "GET", "/v1/tenants/gh-admin/assessments?provider=lever"), 422);
  const one = await admin(w, "GET", `/v1/tenants/gh-admin/assessments/${ids[1]}`);
  for (const k of ["id", "applicationId", "assessmentPackage", "callbackUrl", "candidate", "jobId", "metaData", "originData", "status", "provider", "tenantId", "result", "createdAt", "updatedAt", "providerSync"]) {
    assert.ok(k in one.body, `assessment view has ${k}`);
  }
  assert.equal(one.body.status, "IN_PROGRESS");
  assertErrorShape(assert, await admin(w, "GET", "/v1/tenants/gh-admin/assessments/ats_ass_missing"), 404);
});

// Issue 11 (6): only Greenhouse's app hosts (subdomains of greenhouse.io) are callbacks.
test("send_test refuses the bare greenhouse.io apex and lookalikes as callbacks", async () => {
  await createTenant(strict, "gh-apex", "https://hooks.vendor.example/x");
  const key = (await createKey(strict, "gh-apex", "greenhouse")).secretKey;
  for (const url of ["https://greenhouse.io/x", "https://GREENHOUSE.io/x", "https://evilgreenhouse.io/x", "https://greenhouse.io.evil.com/x", "https://app.greenhouse.io:8443/x", "https://u@app.greenhouse.io/x"]) {
    const r = await edge(strict, "gh-apex", "greenhouse", "send_test", { key, body: { ...fixture("greenhouse/send_test.json"), url } });
    assertErrorShape(assert, r, 422);
    assert.match(r.body.error.message, /`url`/, url);
  }
  const ok = await edge(strict, "gh-apex", "greenhouse", "send_test", { key, body: { ...fixture("greenhouse/send_test.json"), url: "https://app.greenhouse.io/integrations/testing_partners/take_home_tests/1" } });
  assert.equal(ok.status, 200, ok.text);
  const a = await admin(strict, "GET", `/v1/tenants/gh-apex/assessments/${ok.body.partner_interview_id}`);
  assert.equal(a.body.callbackUrl, "https://app.greenhouse.io/integrations/testing_partners/take_home_tests/1");
  assert.equal((await admin(strict, "GET", "/v1/tenants/gh-apex/assessments")).body.data.length, 1, "nothing stored for the refused ones");
});

// Issue 11 (2): list_tests reads the vendor's whole answer.
test("list_tests reads a 40-package packages_url answer in full", async () => {
  const ctx = await setup("gh-many");
  const many = Array.from({ length: 40 }, (_, i) => ({ id: `pkg_${i}`, name: `Package number ${i} with a longer name`, description: `Description of package ${i}, long enough to count.` }));
  const vendor = await receiver(() => ({ status: 200, headers: { "content-type": "application/json" }, body: many }));
  await admin(w, "PATCH", "/v1/tenants/gh-many", { packages_url: vendor.url });
  const r = await edge(w, "gh-many", "greenhouse", "list_tests", { key: ctx.gh.key });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.length, 40);
  assert.deepEqual(r.body[39], { partner_test_id: "pkg_39", partner_test_name: "Package number 39 with a longer name" });
  const o = await order(ctx, { partner_test_id: "pkg_17" });
  await ctx.hooks.waitFor(1);
  const ev = events(ctx.hooks, "record.new").find((e) => e.recordId === o.id);
  assert.equal(ev.eventData.candidateAssessment.assessmentPackage.name, "Package number 17 with a longer name");
});
