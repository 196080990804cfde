// Issue 14: Recruitee's Partners API end to end through the built worker, with a loopback fake
// Recruitee (RECRUITEE_API_BASE) and a loopback partner receiver: the partner-level `tests` and
// `send_candidate` URLs with the customer's rc_ key as Bearer, the "report sent" mark with the
// bridge's cancel link, the cancel link itself, results as report PATCHes with retries, and
// order kinds from every package source.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import {
  startWorker, startReceiver, admin, createTenant, createKey, verifyWebhook, sleep,
  assertErrorShape, fixture, events, wrap, ROOT,
} from "./harness.mjs";

const CODENAME = "vendorco";
const PARTNER_SECRET = "rt-partner-secret-for-tests-7f3a";
let w, rc;
// The fake Recruitee's answer to each report PATCH; tests replace it.
let rcScript = () => ({ status: 200, headers: { "content-type": "application/json" }, body: { report: {} } });
const closers = [];

before(async () => {
  rc = await startReceiver((req, n) => rcScript(req, n));
  closers.push(rc);
  w = await startWorker({ vars: {
    // Six quick retries: the scripted failures below take three, and a retry may also meet a
    // kept-alive connection the fake has just closed (a real network error, retried like any).
    RETRY_SCHEDULE: "1,1,1,1,1,1",
    RECRUITEE_API_BASE: `${rc.url}/api/`,
    RECRUITEE_PARTNER_CODENAME: CODENAME,
    RECRUITEE_PARTNER_SECRET: PARTNER_SECRET,
  } });
});
after(async () => {
  await Promise.all([w?.stop(), ...closers.map((c) => c.close())]);
});

/** A tenant with a partner receiver, the kinds fixture as its stored packages and an rc_ key. */
async function setup(id, { packages = fixture("packages.kinds.json") } = {}) {
  const hooks = await startReceiver(() => ({ status: 200 }));
  closers.push(hooks);
  const t = await createTenant(w, id, hooks.url);
  if (packages) await admin(w, "PUT", `/v1/tenants/${id}/packages`, packages);
  const issued = await createKey(w, id, "recruitee");
  return { id, hooks, secret: t.webhook.secret, key: issued.secretKey, issued };
}

/** Call a partner-level Recruitee URL the way Recruitee does (Bearer token). */
async function call(path, { key, method, body, auth, raw } = {}) {
  const headers = {};
  if (auth !== undefined) headers.authorization = auth;
  else if (key) headers.authorization = `Bearer ${key}`;
  if (body !== undefined || raw !== undefined) headers["content-type"] = "application/json";
  const r = await fetch(`${w.url}${path}`, {
    method: method ?? (body === undefined && raw === undefined ? "GET" : "POST"),
    headers,
    body: raw ?? (body === undefined ? undefined : JSON.stringify(body)),
  });
  return wrap(r);
}

function order(overrides = {}) {
  return { ...fixture("recruitee/send_candidate.json"), report_id: randomUUID(), ...overrides };
}

async function sendCandidate(ctx, body = order()) {
  const r = await call("/p/recruitee/send_candidate", { key: ctx.key, body });
  assert.equal(r.status, 200, r.text);
  assert.match(r.body.assessment_id, /^ats_ass_/);
  return { id: r.body.assessment_id, body };
}

/** The fake Recruitee's requests for one report, bodies parsed. */
const reportCalls = (reportId) => rc.requests
  .filter((q) => q.path === `/api/p/${CODENAME}/reports/${reportId}`)
  .map((q) => ({ ...q, json: JSON.parse(q.body) }));

async function waitReportCalls(reportId, n, timeoutMs = 15_000) {
  await rc.waitFor(0, timeoutMs, () => reportCalls(reportId).length >= n);
  return reportCalls(reportId);
}

async function waitEvent(ctx, pred) {
  const reqs = await ctx.hooks.waitFor(0, 15_000, (rs) => rs.some((q) => pred(JSON.parse(q.body))));
  return verifyWebhook(ctx.secret, reqs.find((q) => pred(JSON.parse(q.body))));
}

/** Post a result and wait until the assessment's provider sync leaves "pending"/"retrying". */
async function result(ctx, id, body) {
  const r = await admin(w, "POST", `/v1/tenants/${ctx.id}/assessments/${id}/result`, body);
  assert.equal(r.status, 200, r.text);
  return r;
}

async function settledSync(ctx, id, { label = "Recruitee report PATCH", timeoutMs = 15_000 } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const a = (await admin(w, "GET", `/v1/tenants/${ctx.id}/assessments/${id}`)).body;
    const s = a.providerSync;
    if (s && s.call === label && (s.state === "synced" || s.state === "failed")) return a;
    if (Date.now() > deadline) throw new Error(`provider sync did not settle: ${JSON.stringify(s)}`);
    await sleep(100);
  }
}

test("rc_ keys: issued per tenant, embed the tenant, and the baseUrl is the partner-level surface", async () => {
  const ctx = await setup("rc-keys");
  assert.equal(ctx.issued.provider, "recruitee");
  assert.match(ctx.key, /^rc_rc-keys\.[A-Za-z0-9_-]{43}$/);
  assert.ok(ctx.key.length < 171);
  assert.equal(ctx.issued.baseUrl, `${w.url}/p/recruitee`);
  const t = (await admin(w, "GET", "/v1/tenants/rc-keys")).body;
  assert.equal(t.providers.recruitee.key_set, true);
  assert.equal(t.providers.recruitee.baseUrl, `${w.url}/p/recruitee`);
  // Rotation: the old key stops working at once.
  const fresh = (await createKey(w, "rc-keys", "recruitee")).secretKey;
  assert.equal((await call("/p/recruitee/tests", { key: ctx.key })).status, 401);
  assert.equal((await call("/p/recruitee/tests", { key: fresh })).status, 200);
});

test("tests lists the tenant's packages as [{id,name}] from every source", async () => {
  const ctx = await setup("rc-tests");
  const r = await call("/p/recruitee/tests", { key: ctx.key });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.body, fixture("recruitee/tests.expected.json"));

  await admin(w, "PUT", "/v1/tenants/rc-tests/packages", []);
  await admin(w, "PATCH", "/v1/tenants/rc-tests", { static_package_id: "only-check" });
  assert.deepEqual((await call("/p/recruitee/tests", { key: ctx.key })).body, [{ id: "only-check", name: "only-check" }]);

  const vendor = await startReceiver(() => ({ status: 200, headers: { "content-type": "application/json" },
    body: [{ id: "ref-v", name: "References (vendor)", kind: "reference_check" }] }));
  closers.push(vendor);
  await admin(w, "PATCH", "/v1/tenants/rc-tests", { packages_url: vendor.url });
  assert.deepEqual((await call("/p/recruitee/tests", { key: ctx.key })).body, [{ id: "ref-v", name: "References (vendor)" }]);
  assert.deepEqual(JSON.parse(vendor.requests[0].body), { tenant_id: "rc-tests", provider: "recruitee" });
  verifyWebhook(ctx.secret, vendor.requests[0]);
});

test("a bad token is the same 401 whether or not the tenant exists", async () => {
  const ctx = await setup("rc-auth");
  const other = await setup("rc-auth-other");
  const forged = ctx.key.replace(/.$/, (c) => (c === "A" ? "B" : "A"));
  const noTenant = ctx.key.replace("rc_rc-auth.", "rc_no-such-tenant.");
  const cases = [
    {},
    { auth: "Bearer " },
    { auth: `Basic ${Buffer.from(`${ctx.key}:`).toString("base64")}` }, // Recruitee sends Bearer
    { key: forged },
    { key: noTenant },
    { key: "rc_rc-auth.short" },
    { key: other.key.replace("rc_rc-auth-other.", "rc_rc-auth.") }, // another tenant's secret
    { key: (await createKey(w, "rc-auth", "greenhouse")).secretKey }, // another provider's key
  ];
  const bodies = new Set();
  for (const c of cases) {
    for (const [path, body] of [["/p/recruitee/tests", undefined], ["/p/recruitee/send_candidate", order()]]) {
      const r = await call(path, { ...c, body });
      assertErrorShape(assert, r, 401);
      // Recruitee sends a bearer token: the challenge and the message say so.
      assert.equal(r.headers.get("www-authenticate"), 'Bearer realm="ats-bridge"');
      assert.match(r.body.error.message, /Authorization: Bearer/);
      assert.doesNotMatch(r.body.error.message, /Basic/);
      bodies.add(r.text);
    }
  }
  assert.equal(bodies.size, 1, `one answer for every bad token: ${[...bodies].join(" | ")}`);
  assert.equal(events(ctx.hooks, "record.new").length, 0, "nothing was ordered");
});

test("send_candidate: record.new before the answer, idempotent on report_id, then the report is marked sent with a cancel link", async () => {
  const ctx = await setup("rc-order");
  const body = order();
  const r = await call("/p/recruitee/send_candidate", { key: ctx.key, body });
  assert.equal(r.status, 200, r.text);
  const id = r.body.assessment_id;
  assert.deepEqual(r.body, { assessment_id: id });
  // Committed before the answer: readable at once.
  const stored = await admin(w, "GET", `/v1/tenants/rc-order/assessments/${id}`);
  assert.equal(stored.status, 200);
  assert.equal(stored.body.provider, "recruitee");

  const ev = await waitEvent(ctx, (e) => e.eventType === "record.new" && e.recordId === id);
  assert.deepEqual(ev, fixture("recruitee/record.new.expected.json", {
    assessmentId: id, reportId: body.report_id, request: body, tenantId: "rc-order",
    eventId: ev.eventId, syncRunId: ev.syncRunId, triggeredAt: ev.triggeredAt,
  }));
  assert.equal(ev.syncDataType, "ats_background_checks");
  assert.deepEqual(ev.eventData.candidateAssessment.requester, { id: "771", name: "Tomaž Kralj", email: "tomaz.kralj@example.org" });

  // The "sent" mark: PATCH {base}/p/{codename}/reports/{report_id} with RT-PARTNER-SECRET.
  const [sent] = await waitReportCalls(body.report_id, 1);
  assert.equal(sent.method, "PATCH");
  assert.equal(sent.headers["rt-partner-secret"], PARTNER_SECRET);
  assert.equal(sent.headers["content-type"], "application/json");
  assert.equal(sent.headers.authorization, undefined, "the partner secret is not sent as Authorization");
  assert.equal(sent.json.status, "sent");
  const cancel = sent.json.urls.cancel;
  assert.match(cancel, new RegExp(`^${w.url}/p/recruitee/cancel\\?token=cl_rc-order\\.[A-Za-z0-9_-]{43}$`));
  assert.ok(!cancel.includes(id), "the cancel link does not reveal the assessment id");
  const synced = await settledSync(ctx, id, { label: "Recruitee report sent" });
  assert.equal(synced.providerSync.state, "synced");

  // A repeat (Recruitee retrying) gets the same id; no new event, no second mark.
  const again = await call("/p/recruitee/send_candidate", { key: ctx.key, body });
  assert.equal(again.body.assessment_id, id);
  // A second order of the same candidate and test with another report is a new order.
  const second = await sendCandidate(ctx, { ...body, report_id: randomUUID() });
  assert.notEqual(second.id, id);
  await waitEvent(ctx, (e) => e.eventType === "record.new" && e.recordId === second.id);
  await sleep(500);
  assert.equal(events(ctx.hooks, "record.new").filter((e) => e.recordId === id).length, 1);
  assert.equal(reportCalls(body.report_id).length, 1);
  // Each order gets its own cancel link.
  const [secondSent] = await waitReportCalls(second.body.report_id, 1);
  assert.notEqual(secondSent.json.urls.cancel, cancel);
});

test("the cancel link ends the assessment as CANCELLED with exactly one record.deleted", async () => {
  const ctx = await setup("rc-cancel");
  const { id, body } = await sendCandidate(ctx);
  const [sent] = await waitReportCalls(body.report_id, 1);
  const link = sent.json.urls.cancel;
  const path = link.slice(w.url.length);

  // Tampered, foreign or missing tokens: the one 401, nothing cancelled.
  const tampered = path.replace(/.$/, (c) => (c === "A" ? "B" : "A"));
  for (const p of [tampered, "/p/recruitee/cancel", "/p/recruitee/cancel?token=nonsense",
    path.replace("cl_rc-cancel.", "cl_no-such-tenant."), path.replace("token=cl_", "token=rc_")]) {
    assertErrorShape(assert, await call(p, { method: "POST" }), 401);
  }
  assert.equal((await admin(w, "GET", `/v1/tenants/rc-cancel/assessments/${id}`)).body.status, "NOT_SPECIFIED");
  // A GET does not cancel (link previews must not): opened in a browser, the link shows a page
  // that asks first, with a form that posts back to the link itself.
  const page = await fetch(`${w.url}${path}`, { headers: { accept: "text/html" } });
  assert.equal(page.status, 200);
  assert.match(page.headers.get("content-type"), /^text\/html/);
  assert.match(page.headers.get("content-security-policy"), /form-action 'self'/);
  assert.match(page.headers.get("content-security-policy"), /frame-ancestors 'none'/);
  const html = await page.text();
  assert.match(html, /<form method="post">/);
  assert.doesNotMatch(html, /<script/);
  for (const bad of ["/p/recruitee/cancel", "/p/recruitee/cancel?token=nonsense"]) {
    const r = await fetch(`${w.url}${bad}`);
    assert.equal(r.status, 401);
    assert.match(await r.text(), /does not work/);
  }
  // The page's form, posted with an altered token: the "does not work" page, nothing cancelled.
  const form = (p) => fetch(`${w.url}${p}`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: "" });
  const badForm = await form(tampered);
  assert.equal(badForm.status, 401);
  assert.match(badForm.headers.get("content-type"), /^text\/html/);
  assert.match(await badForm.text(), /does not work/);
  assert.equal((await admin(w, "GET", `/v1/tenants/rc-cancel/assessments/${id}`)).body.status, "NOT_SPECIFIED");

  // Recruitee calls it (with the customer's Bearer token, which the link does not need).
  const r = await call(path, { method: "POST", key: ctx.key, body: {} });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.body, { assessment_id: id, status: "canceled" });
  const deleted = await waitEvent(ctx, (e) => e.eventType === "record.deleted" && e.recordId === id);
  assert.equal(deleted.eventData.candidateAssessment.status, "CANCELLED");
  assert.deepEqual(deleted.eventData.candidateAssessment.originData, body, "the full stored record");
  assert.equal(deleted.syncDataType, "ats_background_checks");

  // Repeats (POST or DELETE) answer the same without a second event.
  for (const method of ["POST", "DELETE"]) {
    const rep = await call(path, { method });
    assert.equal(rep.status, 200, rep.text);
    assert.deepEqual(rep.body, { assessment_id: id, status: "canceled" });
  }
  // So does the page's button: it answers with a page saying the assessment is canceled.
  const pressed = await form(path);
  assert.equal(pressed.status, 200);
  assert.match(pressed.headers.get("content-type"), /^text\/html/);
  assert.match(await pressed.text(), /The assessment is canceled/);
  await sleep(700);
  assert.equal(events(ctx.hooks, "record.deleted").length, 1);
  assert.equal((await admin(w, "GET", `/v1/tenants/rc-cancel/assessments/${id}`)).body.status, "CANCELLED");
  // Recruitee handed the cancellation to us: its report is set to canceled, once.
  const calls = await waitReportCalls(body.report_id, 2);
  assert.deepEqual(calls[1].json, { status: "canceled" });
  assert.equal(calls[1].method, "PATCH");
  assert.equal(calls[1].headers["rt-partner-secret"], PARTNER_SECRET);
  assert.equal((await settledSync(ctx, id)).providerSync.state, "synced");
  assert.equal(reportCalls(body.report_id).length, 2, "repeats send nothing more");
  // Results are final now, and the report id stays taken: Recruitee retrying the order gets the
  // cancelled assessment, not a new one.
  assert.equal((await admin(w, "POST", `/v1/tenants/rc-cancel/assessments/${id}/result`, { status: "IN_PROGRESS" })).status, 409);
  const retried = await call("/p/recruitee/send_candidate", { key: ctx.key, body });
  assert.equal(retried.body.assessment_id, id);
  assert.equal(events(ctx.hooks, "record.new").filter((e) => e.recordId === id).length, 1);

  // DELETE cancels too; a link cancels only its own assessment.
  const other = await sendCandidate(ctx);
  const [otherSent] = await waitReportCalls(other.body.report_id, 1);
  const del = await call(otherSent.json.urls.cancel.slice(w.url.length), { method: "DELETE" });
  assert.equal(del.status, 200);
  assert.equal(del.body.assessment_id, other.id);
  await waitEvent(ctx, (e) => e.eventType === "record.deleted" && e.recordId === other.id);
});

test("the cancel link of an assessment already completed or failed cancels nothing and says so", async () => {
  const ctx = await setup("rc-cancel-final");
  const form = (p) => fetch(`${w.url}${p}`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: "" });
  for (const [final, reportStatus, word] of [
    [{ status: "COMPLETED", score: 87.5, max_score: 100, result_url: "https://vendor.example/r/1" }, "completed", "completed"],
    [{ status: "EXPIRED" }, "failed", "expired"],
  ]) {
    const { id, body } = await sendCandidate(ctx);
    const [sent] = await waitReportCalls(body.report_id, 1);
    const path = sent.json.urls.cancel.slice(w.url.length);
    await result(ctx, id, final);
    await waitReportCalls(body.report_id, 2);
    assert.equal((await settledSync(ctx, id)).status, final.status);

    // Recruitee calls the link (POST or DELETE): the real status, and that nothing was canceled.
    for (const method of ["POST", "DELETE"]) {
      const r = await call(path, { method });
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(r.body, { assessment_id: id, status: reportStatus,
        message: `The assessment was already ${word}; nothing was canceled.` });
      assert.equal(r.headers.get("content-type"), "application/json; charset=utf-8");
    }
    // A person pressing the page's button: a page saying it was already final.
    const pressed = await form(path);
    assert.equal(pressed.status, 200);
    assert.match(pressed.headers.get("content-type"), /^text\/html/);
    assert.match(pressed.headers.get("content-security-policy"), /frame-ancestors 'none'/);
    const html = await pressed.text();
    assert.match(html, /<h1>Nothing was canceled<\/h1>/);
    assert.match(html, new RegExp(`already ${word}, so nothing was canceled`));
    assert.doesNotMatch(html, /The assessment is canceled/);
    assert.doesNotMatch(html, /\{\{/, "every placeholder is filled");

    await sleep(700);
    assert.equal(events(ctx.hooks, "record.deleted").filter((e) => e.recordId === id).length, 0, "no record.deleted");
    const a = (await admin(w, "GET", `/v1/tenants/${ctx.id}/assessments/${id}`)).body;
    assert.equal(a.status, final.status, "the assessment keeps its status");
    assert.equal(reportCalls(body.report_id).length, 2, "no report PATCH for the cancel");
    assert.ok(reportCalls(body.report_id).every((c) => c.json.status !== "canceled"));
  }
});

test("a repeat of a cancel link: the JSON answer stays canceled, the page says it was canceled before", async () => {
  const ctx = await setup("rc-cancel-again");
  const { id, body } = await sendCandidate(ctx);
  const [sent] = await waitReportCalls(body.report_id, 1);
  const path = sent.json.urls.cancel.slice(w.url.length);
  const form = () => fetch(`${w.url}${path}`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: "" });
  // The first press cancels: the "is canceled" page.
  const first = await form();
  assert.equal(first.status, 200);
  const firstHtml = await first.text();
  assert.match(firstHtml, /The assessment is canceled/);
  assert.doesNotMatch(firstHtml, /already canceled/);
  // The second says it was canceled already, and nothing more happens.
  const second = await form();
  assert.equal(second.status, 200);
  const html = await second.text();
  assert.match(html, /The assessment is canceled/);
  assert.match(html, /already canceled before; nothing more was done/);
  const rep = await call(path, { method: "DELETE" });
  assert.deepEqual(rep.body, { assessment_id: id, status: "canceled" });
  await waitReportCalls(body.report_id, 2);
  await sleep(700);
  assert.equal(events(ctx.hooks, "record.deleted").filter((e) => e.recordId === id).length, 1);
  assert.equal(reportCalls(body.report_id).length, 2, "one canceled PATCH");
});

test("after an erasure, results and the cancel link still reach the report (its id is kept), and the record stays erased", async () => {
  const ctx = await setup("rc-erased");
  const { id, body } = await sendCandidate(ctx, order({ test_id: "code-90", email: "Erin.Erased@example.com", first_name: "Erin", last_name: "Erased" }));
  const [sent] = await waitReportCalls(body.report_id, 1);
  const path = sent.json.urls.cancel.slice(w.url.length);
  const e = await admin(w, "POST", `/v1/tenants/${ctx.id}/erasure`, { email: "erin.erased@example.com" });
  assert.equal(e.status, 200, e.text);
  assert.equal(e.body.erased.assessments, 1);
  const erased = (await admin(w, "GET", `/v1/tenants/${ctx.id}/assessments/${id}`)).body;
  assert.equal(erased.originData, null);
  assert.ok(!/erin/i.test(JSON.stringify(erased)), JSON.stringify(erased));

  // A progress result: accepted and PATCHed to the same report, with a retry after a 503.
  let n = 0;
  rcScript = (req) => (req.path.endsWith(body.report_id) && ++n === 1
    ? { status: 503, body: "busy" }
    : { status: 200, headers: { "content-type": "application/json" }, body: { report: {} } });
  try {
    const progress = await admin(w, "POST", `/v1/tenants/${ctx.id}/assessments/${id}/result`, { status: "IN_PROGRESS" });
    assert.equal(progress.status, 200, progress.text);
    const calls = await waitReportCalls(body.report_id, 3);
    assert.equal(calls[1].method, "PATCH");
    assert.deepEqual(calls[2].json, calls[1].json, "the same PATCH, retried");
    assert.equal(calls[1].json.subtitle, "In progress");
    assert.equal((await settledSync(ctx, id)).providerSync.state, "synced");
  } finally {
    rcScript = () => ({ status: 200, headers: { "content-type": "application/json" }, body: { report: {} } });
  }
  assert.equal((await admin(w, "GET", `/v1/tenants/${ctx.id}/assessments/${id}`)).body.personalDataErased?.reason, "request");

  // The cancel link: CANCELLED, the report set to canceled, the marker kept.
  const c = await call(path, { method: "POST" });
  assert.equal(c.status, 200, c.text);
  assert.deepEqual(c.body, { assessment_id: id, status: "canceled" });
  const all = await waitReportCalls(body.report_id, 4);
  assert.equal(all[3].json.status, "canceled");
  assert.equal(all[3].method, "PATCH");
  const a = await settledSync(ctx, id);
  assert.equal(a.status, "CANCELLED");
  assert.equal(a.providerSync.state, "synced");
  assert.equal(a.personalDataErased?.reason, "request");
  const deleted = await waitEvent(ctx, (ev) => ev.eventType === "record.deleted" && ev.recordId === id);
  assert.equal(deleted.eventData.candidateAssessment.personalDataErased.reason, "request");
  assert.ok(!/erin/i.test(JSON.stringify(deleted)), JSON.stringify(deleted));
});

test("results become report PATCHes: completed with the score as text, failed, canceled, progress in subtitle", async () => {
  const ctx = await setup("rc-results");
  const cases = [
    { result: { status: "COMPLETED", score: 87.5, max_score: 100, result_url: "https://vendor.example/r/1", completed_at: "2026-11-01T11:00:00Z" },
      expect: { status: "completed", score: "87.5/100", completed_at: "2026-11-01T11:00:00.000Z" } },
    { result: { status: "REJECTED", reason: "Did not pass" }, expect: { status: "failed", subtitle: "Rejected: Did not pass" } },
    { result: { status: "EXPIRED" }, expect: { status: "failed", subtitle: "Expired" } },
    { result: { status: "CANCELLED" }, expect: { status: "canceled", subtitle: "Canceled" } },
  ];
  for (const c of cases) {
    // code-90 has no kind: an assessment, for which Recruitee shows a subtitle.
    const { id, body } = await sendCandidate(ctx, order({ test_id: "code-90" }));
    await waitReportCalls(body.report_id, 1);
    const progress = await result(ctx, id, { status: "IN_PROGRESS" });
    assert.equal(progress.body.status, "IN_PROGRESS");
    await waitReportCalls(body.report_id, 2); // in order: the progress PATCH first
    await result(ctx, id, c.result);
    const calls = await waitReportCalls(body.report_id, 3);
    assert.deepEqual(calls[1].json, { subtitle: "In progress" });
    assert.deepEqual(calls[2].json, c.expect, c.result.status);
    assert.equal(calls[2].method, "PATCH");
    assert.equal(calls[2].headers["rt-partner-secret"], PARTNER_SECRET);
    const a = await settledSync(ctx, id);
    assert.equal(a.providerSync.state, "synced");
    assert.equal(a.status, c.result.status);
  }
  // COMPLETED without completed_at: the time of the result.
  const { id, body } = await sendCandidate(ctx, order({ test_id: "code-90" }));
  await waitReportCalls(body.report_id, 1);
  const before = Date.now();
  await result(ctx, id, { status: "COMPLETED", score: 9, result_url: "https://vendor.example/r/2" });
  const [, done] = await waitReportCalls(body.report_id, 2);
  assert.equal(done.json.score, "9");
  assert.ok(Math.abs(Date.parse(done.json.completed_at) - before) < 60_000, done.json.completed_at);
});

test("a background check's progress is kept but not sent (Recruitee has no subtitle for checks); its final result is", async () => {
  const ctx = await setup("rc-check");
  const { id, body } = await sendCandidate(ctx); // bg-standard: background_check
  await waitReportCalls(body.report_id, 1);
  const r = await result(ctx, id, { status: "IN_PROGRESS" });
  assert.equal(r.body.status, "IN_PROGRESS");
  const mod = await waitEvent(ctx, (e) => e.eventType === "record.modified" && e.recordId === id);
  assert.equal(mod.syncDataType, "ats_background_checks");
  await sleep(700);
  assert.equal(reportCalls(body.report_id).length, 1, "no PATCH for a check's progress");
  await result(ctx, id, { status: "COMPLETED", result_url: "https://vendor.example/checks/1" });
  const calls = await waitReportCalls(body.report_id, 2);
  assert.equal(calls[1].json.status, "completed");
  assert.equal(calls[1].json.subtitle, undefined);
});

test("report PATCHes retry on 5xx, 429 and dropped connections; other 4xx are final and visible on the assessment", async () => {
  const ctx = await setup("rc-retry");
  const { id, body } = await sendCandidate(ctx, order({ test_id: "code-90" }));
  await waitReportCalls(body.report_id, 1);
  let n = 0;
  rcScript = (req) => {
    if (!req.path.endsWith(body.report_id)) return { status: 200 };
    n += 1;
    if (n === 1) return { status: 503, body: "busy" };
    if (n === 2) return "drop";
    if (n === 3) return { status: 429, body: "slow down" };
    return { status: 200, headers: { "content-type": "application/json" }, body: {} };
  };
  try {
    await result(ctx, id, { status: "COMPLETED", score: 3, max_score: 4, result_url: "https://vendor.example/r/3" });
    const a = await settledSync(ctx, id, { timeoutMs: 30_000 });
    assert.equal(a.providerSync.state, "synced", JSON.stringify({ sync: a.providerSync, calls: reportCalls(body.report_id).length }));
    const calls = reportCalls(body.report_id).slice(1);
    assert.equal(n, 4, "503, dropped, 429, then 200");
    assert.equal(calls.length, 4);
    assert.ok(a.providerSync.attempts >= 4, JSON.stringify(a.providerSync));
    for (const c of calls) assert.deepEqual(c.json, calls[0].json, "every retry sends the same body");
    assert.equal(calls[0].json.score, "3/4");

    // A 4xx other than 429 is final: one attempt, the error on the assessment.
    const second = await sendCandidate(ctx, order({ test_id: "code-90" }));
    await waitReportCalls(second.body.report_id, 1);
    rcScript = () => ({ status: 422, headers: { "content-type": "application/json" }, body: { errors: ["score is invalid"] } });
    await result(ctx, second.id, { status: "EXPIRED" });
    const failed = await settledSync(ctx, second.id);
    assert.equal(failed.providerSync.state, "failed");
    assert.equal(failed.providerSync.lastStatus, 422);
    assert.match(failed.providerSync.error.message, /score is invalid/);
    await sleep(2500);
    assert.equal(reportCalls(second.body.report_id).length, 2, "no retry after a final 4xx");
    // Listed with its state in the admin API.
    const list = await admin(w, "GET", "/v1/tenants/rc-retry/assessments?provider=recruitee");
    assert.ok(list.body.data.some((x) => x.id === second.id && x.providerSync.state === "failed"));
  } finally {
    rcScript = () => ({ status: 200, headers: { "content-type": "application/json" }, body: {} });
  }
});

test("the report-sent mark retries too: Recruitee down at order time does not lose it", async () => {
  const ctx = await setup("rc-sent-retry");
  let n = 0;
  rcScript = () => (++n <= 2 ? { status: 502, body: "bad gateway" } : { status: 200, body: "{}" });
  try {
    const { id, body } = await sendCandidate(ctx);
    const a = await settledSync(ctx, id, { label: "Recruitee report sent", timeoutMs: 30_000 });
    assert.equal(a.providerSync.state, "synced");
    const calls = reportCalls(body.report_id);
    assert.equal(calls.length, 3);
    assert.ok(calls.every((c) => c.json.status === "sent" && c.json.urls.cancel === calls[0].json.urls.cancel));
  } finally {
    rcScript = () => ({ status: 200, headers: { "content-type": "application/json" }, body: {} });
  }
});

test("bad input: malformed JSON 400, missing or invalid fields 422 naming them, too large 413", async () => {
  const ctx = await setup("rc-bad");
  assertErrorShape(assert, await call("/p/recruitee/send_candidate", { key: ctx.key, raw: "{nope" }), 400);
  assertErrorShape(assert, await call("/p/recruitee/send_candidate", { key: ctx.key, raw: "" }), 400);
  for (const [field, value] of [["report_id", undefined], ["report_id", "12345"], ["email", "nobody"], ["test_id", null], ["candidate_id", undefined]]) {
    const body = order();
    if (value === undefined) delete body[field]; else body[field] = value;
    const r = await call("/p/recruitee/send_candidate", { key: ctx.key, body });
    assertErrorShape(assert, r, 422);
    assert.match(r.body.error.message, new RegExp(field), r.text);
  }
  assertErrorShape(assert, await call("/p/recruitee/send_candidate", { key: ctx.key, body: [1, 2] }), 422);
  const big = order({ notes: "x".repeat(300 * 1024) });
  assertErrorShape(assert, await call("/p/recruitee/send_candidate", { key: ctx.key, body: big }), 413);
  assertErrorShape(assert, await call("/p/recruitee/send_candidate", { key: ctx.key, method: "GET" }), 405);
  assertErrorShape(assert, await call("/p/recruitee/nope", { key: ctx.key }), 404);
  assert.equal(events(ctx.hooks, "record.new").length, 0);
});

test("order kinds reach Recruitee orders from every package source", async () => {
  // Stored list: covered above (bg-standard → background_check). packages_url:
  const ctx = await setup("rc-kinds", { packages: null });
  const vendor = await startReceiver(() => ({ status: 200, headers: { "content-type": "application/json" },
    body: [{ id: "ref-v", name: "References", type: "REFS", kind: "reference_check" }, { id: "plain", name: "Plain" }] }));
  closers.push(vendor);
  await admin(w, "PATCH", "/v1/tenants/rc-kinds", { packages_url: vendor.url });
  const ref = await sendCandidate(ctx, order({ test_id: "ref-v" }));
  const refEv = await waitEvent(ctx, (e) => e.eventType === "record.new" && e.recordId === ref.id);
  assert.equal(refEv.eventData.candidateAssessment.assessmentPackage.kind, "reference_check");
  assert.equal(refEv.eventData.candidateAssessment.assessmentPackage.type, "REFS");
  assert.equal(refEv.syncDataType, "ats_background_checks");
  const plain = await sendCandidate(ctx, order({ test_id: "plain" }));
  const plainEv = await waitEvent(ctx, (e) => e.eventType === "record.new" && e.recordId === plain.id);
  assert.equal(plainEv.eventData.candidateAssessment.assessmentPackage.kind, "assessment");
  assert.equal(plainEv.syncDataType, "ats_assessments");

  // static_package_id with the tenant's default kind.
  await admin(w, "PATCH", "/v1/tenants/rc-kinds", { packages_url: null, static_package_id: "bg-only", default_kind: "background_check" });
  const bg = await sendCandidate(ctx, order({ test_id: "bg-only", test_name: "Background check" }));
  const bgEv = await waitEvent(ctx, (e) => e.eventType === "record.new" && e.recordId === bg.id);
  assert.equal(bgEv.eventData.candidateAssessment.assessmentPackage.kind, "background_check");
  assert.equal(bgEv.eventData.candidateAssessment.assessmentPackage.name, "bg-only");
  assert.equal(bgEv.syncDataType, "ats_background_checks");
  // A test id no source knows: Recruitee's test_name, the default kind.
  const unknown = await sendCandidate(ctx, order({ test_id: "not-listed", test_name: "Recruitee's name" }));
  const unknownEv = await waitEvent(ctx, (e) => e.eventType === "record.new" && e.recordId === unknown.id);
  assert.equal(unknownEv.eventData.candidateAssessment.assessmentPackage.name, "Recruitee's name");
  assert.equal(unknownEv.eventData.candidateAssessment.assessmentPackage.kind, "background_check");
});

test("the demo's recruitee player plays Recruitee against a running worker", async () => {
  const ctx = await setup("rc-demo");
  const run = (args) => new Promise((resolve) => {
    const p = spawn(process.execPath, [join(ROOT, "scripts/demo.mjs"), ...args], { cwd: ROOT });
    let out = "";
    p.stdout.on("data", (d) => (out += d));
    p.stderr.on("data", (d) => (out += d));
    p.on("exit", (code) => resolve({ code, out }));
  });
  const ok = await run(["recruitee", "--base", w.url, "--key", ctx.key]);
  assert.equal(ok.code, 0, ok.out);
  assert.match(ok.out, /key of tenant "rc-demo"/);
  assert.match(ok.out, /same assessment, no second record\.new/);
  const [ev] = await ctx.hooks.waitFor(1);
  const e = verifyWebhook(ctx.secret, ev);
  assert.equal(e.eventType, "record.new");
  assert.equal(e.eventData.candidateAssessment.assessmentPackage.id, "bg-standard", "the first listed test");
  await sleep(500);
  assert.equal(events(ctx.hooks, "record.new").length, 1);
  const bad = await run(["recruitee", "--base", w.url, "--key", "rc_rc-demo.wrong"]);
  assert.equal(bad.code, 1);
  assert.match(bad.out, /401/);
});

test("without the partner codename and secret, orders are still taken; the missing write-back is visible, results answer 422", async () => {
  const bare = await startWorker({ vars: { RETRY_SCHEDULE: "1", RECRUITEE_API_BASE: `${rc.url}/api/` } });
  try {
    const hooks = await startReceiver(() => ({ status: 200 }));
    closers.push(hooks);
    const t = await createTenant(bare, "rc-bare", hooks.url);
    const key = (await createKey(bare, "rc-bare", "recruitee")).secretKey;
    const body = order();
    const r = await wrap(await fetch(`${bare.url}/p/recruitee/send_candidate`, {
      method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json" }, body: JSON.stringify(body),
    }));
    assert.equal(r.status, 200, r.text);
    const id = r.body.assessment_id;
    const [ev] = await hooks.waitFor(1);
    assert.equal(verifyWebhook(t.webhook.secret, ev).recordId, id);
    const a = (await admin(bare, "GET", `/v1/tenants/rc-bare/assessments/${id}`)).body;
    assert.equal(a.providerSync.state, "failed");
    assert.equal(a.providerSync.error.code, "recruitee_partner_missing");
    assert.match(a.providerSync.error.message, /RECRUITEE_PARTNER_CODENAME/);
    const res = await admin(bare, "POST", `/v1/tenants/rc-bare/assessments/${id}/result`, { status: "EXPIRED" });
    assertErrorShape(assert, res, 422);
    assert.equal(res.body.error.code, "recruitee_partner_missing");
    assert.equal((await admin(bare, "GET", `/v1/tenants/rc-bare/assessments/${id}`)).body.status, "NOT_SPECIFIED", "nothing stored");
    assert.equal(reportCalls(body.report_id).length, 0, "nothing sent to Recruitee");
  } finally {
    await bare.stop();
  }
});
