// Issue 5: the Ashby assessment partner API end to end, with a loopback fake Ashby API
// (ASHBY_API_BASE) and a loopback partner receiver.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import {
  startWorker, startReceiver, admin, edge, createTenant, createKey, verifyWebhook, sleep,
  assertErrorShape, fixture, events, basic,
} from "./harness.mjs";

let w, ashbyApi;
let ashbyScript = () => ({ status: 200, body: { success: true } });
const closers = [];

before(async () => {
  ashbyApi = await startReceiver((req, n) => ashbyScript(req, n));
  closers.push(ashbyApi);
  w = await startWorker({ vars: { RETRY_SCHEDULE: "1,1,1", ASHBY_API_BASE: `${ashbyApi.url}/api/` } });
});
after(async () => {
  await Promise.all([w?.stop(), ...closers.map((c) => c.close())]);
});

const PACKAGES = [{ id: "pkg_456", name: "Frontend Engineer Assessment", description: "Technical Skills Assessment", type: "SKILLS_TEST" }];

async function setup(id, { apiKey = `ashby-key-${id}` } = {}) {
  const hooks = await startReceiver(() => ({ status: 200 }));
  closers.push(hooks);
  const t = await createTenant(w, id, hooks.url);
  await admin(w, "PUT", `/v1/tenants/${id}/packages`, PACKAGES);
  if (apiKey) await admin(w, "PATCH", `/v1/tenants/${id}`, { ashby: { api_key: apiKey } });
  const key = (await createKey(w, id, "ashby")).secretKey;
  return { id, hooks, key, secret: t.webhook.secret, apiKey };
}

const call = (ctx, method, body) => edge(w, ctx.id, "ashby", method, { key: ctx.key, body });
let appSeq = 0;
function startBody(overrides = {}) {
  const b = fixture("ashby/assessment.start.json");
  b.application.ashby_id = `app_${++appSeq}`;
  return { ...b, ...overrides };
}
const updates = (assessmentId) => ashbyApi.requests
  .filter((r) => r.path === "/api/assessment.update")
  .map((r) => ({ ...r, json: JSON.parse(r.body) }))
  .filter((r) => r.json.assessment_id === assessmentId);

test("assessment.list answers the success envelope from the package sources", async () => {
  const ctx = await setup("ab-list");
  const r = await call(ctx, "assessment.list", {});
  assert.equal(r.status, 200);
  assert.deepEqual(r.body, { success: true, results: [{ assessment_type_id: "pkg_456", name: "Frontend Engineer Assessment", description: "Technical Skills Assessment" }] });
  const vendor = await startReceiver(() => ({ status: 503 }));
  closers.push(vendor);
  await admin(w, "PATCH", "/v1/tenants/ab-list", { packages_url: vendor.url });
  assertErrorShape(assert, await call(ctx, "assessment.list", {}), 502);
  assert.deepEqual(JSON.parse(vendor.requests[0].body), { tenant_id: "ab-list", provider: "ashby" });
});

test("assessment.start: success envelope and a signed record.new matching the fixture", async () => {
  const ctx = await setup("ab-start");
  const body = startBody();
  const r = await call(ctx, "assessment.start", body);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.success, true);
  const id = r.body.results.assessment_id;
  assert.match(id, /^ats_ass_/);
  const [req] = await ctx.hooks.waitFor(1);
  const ev = verifyWebhook(ctx.secret, req);
  assert.deepEqual(ev, fixture("ashby/record.new.expected.json", {
    assessmentId: id, applicationId: body.application.ashby_id, request: body, status: "NOT_SPECIFIED",
    tenantId: "ab-start", eventId: ev.eventId, syncRunId: ev.syncRunId, triggeredAt: ev.triggeredAt,
  }));
});

test("assessment.start is idempotent while active; validation answers Ashby's {message}", async () => {
  const ctx = await setup("ab-idem");
  const body = startBody();
  const a = await call(ctx, "assessment.start", body);
  const b = await call(ctx, "assessment.start", body);
  assert.equal(b.body.results.assessment_id, a.body.results.assessment_id);
  await ctx.hooks.waitFor(1);
  await sleep(800);
  assert.equal(events(ctx.hooks, "record.new").length, 1, "no second event");
  const other = await call(ctx, "assessment.start", { ...body, assessment_type_id: "pkg_other" });
  assert.notEqual(other.body.results.assessment_id, a.body.results.assessment_id, "another type is another assessment");

  for (const [mutate, field] of [
    [(x) => delete x.candidate.email, "candidate.email"],
    [(x) => delete x.application, "application.ashby_id"],
    [(x) => delete x.assessment_type_id, "assessment_type_id"],
    [(x) => (x.candidate.ashby_id = null), "candidate.ashby_id"],
  ]) {
    const x = startBody();
    mutate(x);
    const r = await call(ctx, "assessment.start", x);
    assert.equal(r.status, 422, r.text);
    assert.deepEqual(Object.keys(r.body), ["message"], "Ashby's shape");
    assert.ok(r.body.message.includes(field), r.body.message);
  }
  assertErrorShape(assert, await call(ctx, "assessment.start", "{nope"), 400);
});

test("assessment.cancel: CANCELLED, record.deleted with the full record, repeats are quiet", async () => {
  const ctx = await setup("ab-cancel");
  const body = startBody();
  const id = (await call(ctx, "assessment.start", body)).body.results.assessment_id;
  const c = await call(ctx, "assessment.cancel", { assessment_id: id });
  assert.equal(c.status, 200);
  assert.deepEqual(c.body, { success: true, results: { assessment_id: id } });
  await ctx.hooks.waitFor(2);
  const [del] = events(ctx.hooks, "record.deleted");
  const [created] = events(ctx.hooks, "record.new");
  assert.equal(del.recordId, id);
  assert.deepEqual(del.eventData.candidateAssessment, { ...created.eventData.candidateAssessment, status: "CANCELLED" },
    "the full stored assessment, originData still the start request");
  assert.deepEqual(del.eventData.candidateAssessment.originData, body);

  assert.equal((await call(ctx, "assessment.cancel", { assessment_id: id })).status, 200);
  await sleep(800);
  assert.equal(events(ctx.hooks, "record.deleted").length, 1, "no second record.deleted");
  assertErrorShape(assert, await call(ctx, "assessment.cancel", { assessment_id: "ats_ass_unknown" }), 404);
  const missing = await call(ctx, "assessment.cancel", {});
  assert.equal(missing.status, 422);
  assert.ok(missing.body.message.includes("assessment_id"));
  assertErrorShape(assert, await admin(w, "POST", `/v1/tenants/ab-cancel/assessments/${id}/result`, { status: "STARTED" }), 409);

  const again = await call(ctx, "assessment.start", body);
  assert.notEqual(again.body.results.assessment_id, id, "a later start for the same application and type is a new assessment");
  const a = await admin(w, "GET", `/v1/tenants/ab-cancel/assessments/${id}`);
  assert.equal(a.body.status, "CANCELLED");
});

test("assessment.cancel of an assessment already completed, rejected or expired: a 422 {message} saying nothing was canceled", async () => {
  const ctx = await setup("ab-cancel-final");
  for (const [final, word] of [[fixture("result.completed.json"), "completed"], [{ status: "REJECTED", reason: "no show" }, "rejected"], [{ status: "EXPIRED" }, "expired"]]) {
    const id = (await call(ctx, "assessment.start", startBody())).body.results.assessment_id;
    const r = await admin(w, "POST", `/v1/tenants/ab-cancel-final/assessments/${id}/result`, final);
    assert.equal(r.status, 200, r.text);
    await ashbyApi.waitFor(0, 15_000, () => updates(id).length >= 1);
    const c = await call(ctx, "assessment.cancel", { assessment_id: id });
    assert.equal(c.status, 422, c.text);
    assert.deepEqual(c.body, { message: `The assessment was already ${word}; nothing was canceled.` }, "Ashby's shape, shown to its user");
    await sleep(500);
    assert.equal(events(ctx.hooks, "record.deleted").filter((e) => e.recordId === id).length, 0, "no record.deleted");
    assert.equal((await admin(w, "GET", `/v1/tenants/ab-cancel-final/assessments/${id}`)).body.status, final.status);
    assert.equal(updates(id).length, 1, "nothing more is sent to Ashby");
  }
});

test("results go to Ashby as assessment.update with Basic auth, User-Agent, increasing timestamps", async () => {
  const ctx = await setup("ab-result");
  const id = (await call(ctx, "assessment.start", startBody())).body.results.assessment_id;
  const post = (b) => admin(w, "POST", `/v1/tenants/ab-result/assessments/${id}/result`, b);
  assert.equal((await post({ status: "STARTED", started_at: "2026-11-01T10:00:00Z" })).status, 200);
  assert.equal((await post({ status: "IN_PROGRESS" })).status, 200);
  assert.equal((await post({ status: "IN_PROGRESS" })).status, 200);
  const done = await post(fixture("result.completed.json"));
  assert.equal(done.status, 200, done.text);
  await ashbyApi.waitFor(0, 10_000, () => updates(id).length >= 4);
  const ups = updates(id);
  assert.equal(ups.length, 4, "each accepted result is forwarded");
  for (const u of ups) {
    assert.equal(u.method, "POST");
    assert.equal(u.headers.authorization, basic("ashby-key-ab-result", ""));
    assert.match(u.headers["user-agent"], /^ats-bridge\//);
    assert.equal(u.headers["content-type"], "application/json");
  }
  const byTs = [...ups].sort((a, b) => a.json.timestamp - b.json.timestamp);
  for (let i = 1; i < byTs.length; i++) assert.ok(byTs[i].json.timestamp > byTs[i - 1].json.timestamp, "strictly increasing");
  assert.deepEqual(byTs.map((u) => u.json.assessment_status.value), ["Started", "In Progress", "In Progress", "Completed"]);
  const completed = byTs[3].json;
  assert.deepEqual(completed, fixture("ashby/assessment.update.completed.expected.json", { assessmentId: id, timestamp: completed.timestamp }));

  await ctx.hooks.waitFor(5);
  const mods = events(ctx.hooks, "record.modified");
  assert.equal(mods.length, 4);
  assert.equal(mods.at(-1).eventData.candidateAssessment.status, "COMPLETED");
  assertErrorShape(assert, await post({ status: "IN_PROGRESS" }), 409);
});

test("EXPIRED and CANCELLED results send cancelled_reason", async () => {
  const ctx = await setup("ab-expire");
  const id = (await call(ctx, "assessment.start", startBody())).body.results.assessment_id;
  assert.equal((await admin(w, "POST", `/v1/tenants/ab-expire/assessments/${id}/result`, { status: "EXPIRED", reason: "Link expired" })).status, 200);
  await ashbyApi.waitFor(0, 10_000, () => updates(id).length >= 1);
  const [u] = updates(id);
  assert.deepEqual(u.json.cancelled_reason, { identifier: "cancelled_reason", label: "Reason", type: "string", value: "Link expired" });
  assert.equal(u.json.assessment_result, undefined);
});

test("no Ashby API key: the result call answers 422 before storing anything", async () => {
  const ctx = await setup("ab-nokey", { apiKey: null });
  const id = (await call(ctx, "assessment.start", startBody())).body.results.assessment_id;
  const r = await admin(w, "POST", `/v1/tenants/ab-nokey/assessments/${id}/result`, { status: "STARTED" });
  assertErrorShape(assert, r, 422);
  assert.match(r.body.error.message, /Ashby API key/);
  const a = await admin(w, "GET", `/v1/tenants/ab-nokey/assessments/${id}`);
  assert.equal(a.body.status, "NOT_SPECIFIED");
  assert.equal(a.body.result, null);
  await sleep(500);
  assert.equal(events(ctx.hooks, "record.modified").length, 0);
});

test("assessment.update failures: 5xx retried until it lands, 403 final and visible", async () => {
  const ctx = await setup("ab-sync");
  const id = (await call(ctx, "assessment.start", startBody())).body.results.assessment_id;
  let failures = 2;
  ashbyScript = (req) => {
    const j = JSON.parse(req.body || "{}");
    if (j.assessment_id === id && failures-- > 0) return { status: 500, body: { success: false } };
    if (j.assessment_id === "__forbid__") return { status: 403 };
    return { status: 200, body: { success: true } };
  };
  await admin(w, "POST", `/v1/tenants/ab-sync/assessments/${id}/result`, { status: "STARTED" });
  await ashbyApi.waitFor(0, 15_000, () => updates(id).length >= 3);
  let a;
  for (let i = 0; i < 50; i++) {
    a = await admin(w, "GET", `/v1/tenants/ab-sync/assessments/${id}`);
    if (a.body.providerSync?.state === "synced") break;
    await sleep(100);
  }
  assert.equal(a.body.providerSync.state, "synced");
  assert.equal(a.body.providerSync.attempts, 3);
  const ts = new Set(updates(id).map((u) => u.json.timestamp));
  assert.equal(ts.size, 1, "a retry resends the same update");

  const id2 = (await call(ctx, "assessment.start", startBody())).body.results.assessment_id;
  ashbyScript = (req) => (JSON.parse(req.body || "{}").assessment_id === id2
    ? { status: 403, body: { success: false, errorInfo: { code: "forbidden", message: "Missing candidatesWrite" } } }
    : { status: 200, body: { success: true } });
  await admin(w, "POST", `/v1/tenants/ab-sync/assessments/${id2}/result`, { status: "STARTED" });
  for (let i = 0; i < 50; i++) {
    a = await admin(w, "GET", `/v1/tenants/ab-sync/assessments/${id2}`);
    if (a.body.providerSync?.state === "failed") break;
    await sleep(100);
  }
  assert.equal(a.body.providerSync.state, "failed");
  assert.equal(a.body.providerSync.lastStatus, 403);
  assert.equal(a.body.providerSync.error.code, "provider_sync");
  assert.match(a.body.providerSync.error.message, /candidatesWrite/);
  await sleep(2500);
  assert.equal(updates(id2).length, 1, "a 403 is not retried");
  ashbyScript = () => ({ status: 200, body: { success: true } });
});

test("one result endpoint and one event format for both providers", async () => {
  const ctx = await setup("ab-unified");
  const gh = (await createKey(w, "ab-unified", "greenhouse")).secretKey;
  await admin(w, "PATCH", "/v1/tenants/ab-unified", { greenhouse: { partner_username: "u", partner_password: "p" } });
  const greenhouseCallback = await startReceiver(() => ({ status: 200 }));
  closers.push(greenhouseCallback);
  const ghOrder = await edge(w, "ab-unified", "greenhouse", "send_test", { key: gh, body: { ...fixture("greenhouse/send_test.json"), url: `${greenhouseCallback.url}/x/1` } });
  const abOrder = await call(ctx, "assessment.start", startBody());
  const ids = [ghOrder.body.partner_interview_id, abOrder.body.results.assessment_id];
  for (const id of ids) {
    const r = await admin(w, "POST", `/v1/tenants/ab-unified/assessments/${id}/result`, fixture("result.completed.json"));
    assert.equal(r.status, 200, r.text);
  }
  await ctx.hooks.waitFor(4);
  const mods = events(ctx.hooks, "record.modified");
  assert.equal(mods.length, 2);
  const shape = (e) => [Object.keys(e).sort(), Object.keys(e.eventData).sort(), Object.keys(e.eventData.candidateAssessment).sort()];
  assert.deepEqual(shape(mods[0]), shape(mods[1]), "same envelope, same keys, whichever ATS");
  assert.deepEqual(new Set(mods.map((m) => m.eventData.candidateAssessment.provider)), new Set(["greenhouse", "ashby"]));
});

// Issue 11 (1): Ashby answers many errors with HTTP 200; its envelope, not the status, decides.
async function syncOf(tenant, id, state) {
  let a;
  for (let i = 0; i < 80; i++) {
    a = await admin(w, "GET", `/v1/tenants/${tenant}/assessments/${id}`);
    if (a.body.providerSync?.state === state) return a.body.providerSync;
    await sleep(100);
  }
  assert.fail(`providerSync of ${id} never became ${state}: ${JSON.stringify(a.body.providerSync)}`);
}

async function waitSync(tenant, id, ok) {
  let a;
  for (let i = 0; i < 80; i++) {
    a = await admin(w, "GET", `/v1/tenants/${tenant}/assessments/${id}`);
    if (a.body.providerSync && ok(a.body.providerSync)) return a.body.providerSync;
    await sleep(100);
  }
  assert.fail(`providerSync of ${id}: ${JSON.stringify(a.body.providerSync)}`);
}

test("assessment.update answered 200 success:false is a final failure carrying Ashby's code, message and request id", async () => {
  const ctx = await setup("ab-200-false");
  const id = (await call(ctx, "assessment.start", startBody())).body.results.assessment_id;
  const oldForm = (await call(ctx, "assessment.start", startBody())).body.results.assessment_id;
  const notEnvelope = (await call(ctx, "assessment.start", startBody())).body.results.assessment_id;
  ashbyScript = (req) => {
    const j = JSON.parse(req.body || "{}");
    if (j.assessment_id === id) {
      return { status: 200, headers: { "content-type": "application/json" }, body: { success: false, errorInfo: { code: "assessment_not_found", message: "Assessment not found", requestId: "r-1" } } };
    }
    if (j.assessment_id === oldForm) return { status: 200, body: { success: false, errors: ["invalid_input", "timestamp must increase"] } };
    if (j.assessment_id === notEnvelope) return { status: 200, body: "<html>maintenance</html>" };
    return { status: 200, body: { success: true } };
  };
  try {
    for (const x of [id, oldForm, notEnvelope]) {
      assert.equal((await admin(w, "POST", `/v1/tenants/ab-200-false/assessments/${x}/result`, { status: "STARTED" })).status, 200);
    }
    const sync = await syncOf("ab-200-false", id, "failed");
    assert.equal(sync.lastStatus, 200);
    assert.equal(sync.error.code, "provider_sync");
    assert.equal(sync.error.kind, "refused");
    assert.equal(sync.error.providerCode, "assessment_not_found");
    assert.equal(sync.error.providerMessage, "Assessment not found");
    assert.equal(sync.error.requestId, "r-1");
    assert.match(sync.error.message, /assessment_not_found: Assessment not found \(request id r-1\)/);
    const old = await syncOf("ab-200-false", oldForm, "failed");
    assert.equal(old.error.providerMessage, "invalid_input; timestamp must increase");
    const html = await syncOf("ab-200-false", notEnvelope, "failed");
    assert.match(html.error.message, /without its success envelope/);
    await sleep(2500);
    assert.equal(updates(id).length, 1, "a refusal is final: not retried");
    assert.equal(updates(notEnvelope).length, 1);
  } finally {
    ashbyScript = () => ({ status: 200, body: { success: true } });
  }
});

test("assessment.update success: Ashby's warnings are kept on the sync state", async () => {
  const ctx = await setup("ab-warn");
  const id = (await call(ctx, "assessment.start", startBody())).body.results.assessment_id;
  ashbyScript = (req) => (JSON.parse(req.body || "{}").assessment_id === id
    ? { status: 200, body: { success: true, results: {}, warnings: ["metadata identifier meta_x was truncated"] } }
    : { status: 200, body: { success: true } });
  try {
    assert.equal((await admin(w, "POST", `/v1/tenants/ab-warn/assessments/${id}/result`, { status: "STARTED" })).status, 200);
    const sync = await syncOf("ab-warn", id, "synced");
    assert.deepEqual(sync.warnings, ["metadata identifier meta_x was truncated"]);
    assert.equal(sync.error, null);
    // The warnings belong to the answer that carried them: a later call answered without
    // warnings shows none (while it is pending, too), and a later failure shows none either.
    ashbyScript = () => ({ status: 200, body: { success: true } });
    const second = await admin(w, "POST", `/v1/tenants/ab-warn/assessments/${id}/result`, { status: "IN_PROGRESS" });
    assert.equal(second.status, 200);
    assert.equal(second.body.providerSync.state, "pending");
    assert.deepEqual(second.body.providerSync.warnings, [], "a call not answered yet has no warnings");
    const later = await waitSync("ab-warn", id, (s) => s.state === "synced" && updates(id).length === 2);
    assert.deepEqual(later.warnings, [], JSON.stringify(later));
    ashbyScript = () => ({ status: 200, body: { success: true, warnings: ["w2"] } });
    await admin(w, "POST", `/v1/tenants/ab-warn/assessments/${id}/result`, { status: "IN_PROGRESS" });
    const third = await waitSync("ab-warn", id, (s) => s.state === "synced" && updates(id).length === 3);
    assert.deepEqual(third.warnings, ["w2"]);
    ashbyScript = () => ({ status: 200, body: { success: false, errorInfo: { code: "x", message: "no" } } });
    await admin(w, "POST", `/v1/tenants/ab-warn/assessments/${id}/result`, { status: "IN_PROGRESS" });
    const failed = await syncOf("ab-warn", id, "failed");
    assert.deepEqual(failed.warnings, [], JSON.stringify(failed));
  } finally {
    ashbyScript = () => ({ status: 200, body: { success: true } });
  }
});

// Issue 11 (2): package lists are read in full (up to the documented cap), not cut at 2 KB.
test("a 40-package packages_url answer (about 6 KB) lists and names packages; over 256 KB is a 502 naming the cap", async () => {
  const ctx = await setup("ab-many");
  const many = Array.from({ length: 40 }, (_, i) => ({ id: `pkg_${i}`, name: `Package number ${i} with a longer name`, description: `Description of package ${i}, long enough to count.` }));
  let answer = many;
  const vendor = await startReceiver(() => ({ status: 200, headers: { "content-type": "application/json" }, body: answer }));
  closers.push(vendor);
  assert.ok(JSON.stringify(many).length > 5000);
  await admin(w, "PATCH", "/v1/tenants/ab-many", { packages_url: vendor.url });
  const list = await call(ctx, "assessment.list", {});
  assert.equal(list.status, 200, list.text);
  assert.equal(list.body.results.length, 40);
  assert.equal(list.body.results[39].name, "Package number 39 with a longer name");
  const s = await call(ctx, "assessment.start", startBody({ assessment_type_id: "pkg_39" }));
  assert.equal(s.status, 200, s.text);
  await ctx.hooks.waitFor(1);
  assert.equal(events(ctx.hooks, "record.new")[0].eventData.candidateAssessment.assessmentPackage.name, "Package number 39 with a longer name");

  // Over the cap (and no longer cached: another tenant asks).
  const ctx2 = await setup("ab-huge");
  answer = Array.from({ length: 3000 }, (_, i) => ({ id: `p${i}`, name: "x".repeat(100) }));
  await admin(w, "PATCH", "/v1/tenants/ab-huge", { packages_url: vendor.url });
  const huge = await call(ctx2, "assessment.list", {});
  assertErrorShape(assert, huge, 502);
  assert.match(huge.body.error.message, /256 KB/);
});

// Issue 11 (7): failures are told apart by what happened, never by their latency.
test("a dropped connection is a retried network failure; credentials removed before a retry fail with kind no_credentials", async () => {
  const ctx = await setup("ab-kinds");
  const dropped = (await call(ctx, "assessment.start", startBody())).body.results.assessment_id;
  const orphan = (await call(ctx, "assessment.start", startBody())).body.results.assessment_id;
  let drops = 1;
  ashbyScript = (req) => {
    const j = JSON.parse(req.body || "{}");
    if (j.assessment_id === dropped && drops-- > 0) return "drop";
    if (j.assessment_id === orphan) return { status: 503, body: { success: false } };
    return { status: 200, body: { success: true } };
  };
  try {
    assert.equal((await admin(w, "POST", `/v1/tenants/ab-kinds/assessments/${dropped}/result`, { status: "STARTED" })).status, 200);
    const synced = await syncOf("ab-kinds", dropped, "synced");
    assert.equal(synced.attempts, 2, "the dropped attempt was retried, not taken for missing credentials");

    assert.equal((await admin(w, "POST", `/v1/tenants/ab-kinds/assessments/${orphan}/result`, { status: "STARTED" })).status, 200);
    const retrying = await syncOf("ab-kinds", orphan, "retrying");
    assert.equal(retrying.error.kind, "unavailable");
    assert.equal(retrying.lastStatus, 503);
    assert.equal((await admin(w, "PATCH", "/v1/tenants/ab-kinds", { ashby: { api_key: null } })).status, 200);
    const failed = await syncOf("ab-kinds", orphan, "failed");
    assert.equal(failed.error.kind, "no_credentials");
    assert.match(failed.error.message, /no credentials/);
  } finally {
    ashbyScript = () => ({ status: 200, body: { success: true } });
  }
});
