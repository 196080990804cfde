// Issue 14: order kinds (assessment, background_check, reference_check) from every package
// source, carried on every provider's orders, and the envelope's syncDataType that follows them.
// Greenhouse and Ashby orders here; tests/recruitee.test.mjs covers Recruitee's.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import {
  startWorker, startReceiver, admin, edge, createTenant, createKey, verifyWebhook,
  assertErrorShape, fixture,
} from "./harness.mjs";

let w;
const closers = [];
async function receiver(fn) {
  const r = await startReceiver(fn);
  closers.push(r);
  return r;
}

before(async () => {
  w = await startWorker({ vars: { RETRY_SCHEDULE: "1,1,1" } });
});
after(async () => {
  await Promise.all([w?.stop(), ...closers.map((c) => c.close())]);
});

const KIND_PACKAGES = fixture("packages.kinds.json");

async function tenant(id) {
  const hooks = await receiver(() => ({ status: 200 }));
  const t = await createTenant(w, id, hooks.url);
  return { id, hooks, secret: t.webhook.secret };
}

let seq = 0;
/** One Greenhouse order for `testId`; returns the verified record.new. */
async function greenhouseOrder(ctx, key, testId) {
  const n = ++seq;
  const body = { ...fixture("greenhouse/send_test.json"), partner_test_id: testId,
    url: `http://127.0.0.1:9/integrations/testing_partners/take_home_tests/k${n}` };
  const r = await edge(w, ctx.id, "greenhouse", "send_test", { key, body });
  assert.equal(r.status, 200, r.text);
  const id = r.body.partner_interview_id;
  const reqs = await ctx.hooks.waitFor(0, 15_000, (rs) => rs.some((q) => JSON.parse(q.body).recordId === id));
  return verifyWebhook(ctx.secret, reqs.find((q) => JSON.parse(q.body).recordId === id));
}

async function ashbyOrder(ctx, key, typeId) {
  const body = fixture("ashby/assessment.start.json");
  body.assessment_type_id = typeId;
  body.application.ashby_id = `app_kind_${++seq}`;
  const r = await edge(w, ctx.id, "ashby", "assessment.start", { key, body });
  assert.equal(r.status, 200, r.text);
  const id = r.body.results.assessment_id;
  const reqs = await ctx.hooks.waitFor(0, 15_000, (rs) => rs.some((q) => JSON.parse(q.body).recordId === id));
  return verifyWebhook(ctx.secret, reqs.find((q) => JSON.parse(q.body).recordId === id));
}

test("stored packages carry their kind into Greenhouse orders and the envelope's syncDataType", async () => {
  const ctx = await tenant("kind-stored");
  const put = await admin(w, "PUT", "/v1/tenants/kind-stored/packages", KIND_PACKAGES);
  assert.equal(put.status, 200, put.text);
  assert.deepEqual(put.body.data.map((p) => p.kind ?? null), ["background_check", "reference_check", null]);
  const key = (await createKey(w, ctx.id, "greenhouse")).secretKey;

  const bg = await greenhouseOrder(ctx, key, "bg-standard");
  assert.equal(bg.eventData.candidateAssessment.assessmentPackage.kind, "background_check");
  assert.equal(bg.eventData.candidateAssessment.assessmentPackage.type, "CRIMINAL_RECORD");
  assert.equal(bg.eventData.candidateAssessment.assessmentPackage.name, "Standard criminal record check");
  assert.equal(bg.syncDataType, "ats_background_checks");
  assert.equal(bg.syncJobId, "ats_background_checks_real_time");

  const ref = await greenhouseOrder(ctx, key, "ref-two");
  assert.equal(ref.eventData.candidateAssessment.assessmentPackage.kind, "reference_check");
  assert.equal(ref.syncDataType, "ats_background_checks");

  // A package without a kind takes the tenant's default (assessment unless set).
  const plain = await greenhouseOrder(ctx, key, "code-90");
  assert.equal(plain.eventData.candidateAssessment.assessmentPackage.kind, "assessment");
  assert.equal(plain.syncDataType, "ats_assessments");
  assert.equal(plain.syncJobId, "ats_assessments_real_time");

  // The stored kind is readable back; a later record.modified keeps the data type.
  const got = await admin(w, "GET", `/v1/tenants/kind-stored/assessments/${bg.recordId}`);
  assert.equal(got.body.assessmentPackage.kind, "background_check");
  const res = await admin(w, "POST", `/v1/tenants/kind-stored/assessments/${bg.recordId}/result`, { status: "IN_PROGRESS" });
  assert.equal(res.status, 200, res.text);
  const reqs = await ctx.hooks.waitFor(0, 15_000, (rs) => rs.some((q) => JSON.parse(q.body).eventType === "record.modified"));
  const mod = verifyWebhook(ctx.secret, reqs.find((q) => JSON.parse(q.body).eventType === "record.modified"));
  assert.equal(mod.syncDataType, "ats_background_checks");
});

test("packages_url packages carry their kind into Ashby orders", async () => {
  const ctx = await tenant("kind-url");
  const vendor = await receiver(() => ({ status: 200, headers: { "content-type": "application/json" },
    body: [{ id: "ref-vendor", name: "Two references", kind: "reference_check" }, { id: "plain-vendor", name: "Plain" }] }));
  assert.equal((await admin(w, "PATCH", "/v1/tenants/kind-url", { packages_url: vendor.url, default_kind: "background_check" })).status, 200);
  const key = (await createKey(w, ctx.id, "ashby")).secretKey;
  const ref = await ashbyOrder(ctx, key, "ref-vendor");
  assert.equal(ref.eventData.candidateAssessment.assessmentPackage.kind, "reference_check");
  assert.equal(ref.eventData.candidateAssessment.assessmentPackage.name, "Two references");
  assert.equal(ref.syncDataType, "ats_background_checks");
  // No kind on the vendor's package: the tenant default (background_check here).
  const plain = await ashbyOrder(ctx, key, "plain-vendor");
  assert.equal(plain.eventData.candidateAssessment.assessmentPackage.kind, "background_check");
  assert.equal(plain.syncDataType, "ats_background_checks");
});

test("static_package_id orders take the tenant's default_kind; unknown packages too", async () => {
  const ctx = await tenant("kind-static");
  const p = await admin(w, "PATCH", "/v1/tenants/kind-static", { static_package_id: "bg-only", default_kind: "background_check" });
  assert.equal(p.status, 200, p.text);
  assert.equal(p.body.default_kind, "background_check");
  const key = (await createKey(w, ctx.id, "greenhouse")).secretKey;
  const bg = await greenhouseOrder(ctx, key, "bg-only");
  assert.equal(bg.eventData.candidateAssessment.assessmentPackage.kind, "background_check");
  assert.equal(bg.syncDataType, "ats_background_checks");
  const other = await greenhouseOrder(ctx, key, "not-listed");
  assert.equal(other.eventData.candidateAssessment.assessmentPackage.kind, "background_check");
  assert.equal(other.eventData.candidateAssessment.assessmentPackage.name, null);

  // null resets the default to assessment.
  const reset = await admin(w, "PATCH", "/v1/tenants/kind-static", { default_kind: null });
  assert.equal(reset.body.default_kind, "assessment");
  const plain = await greenhouseOrder(ctx, key, "bg-only");
  assert.equal(plain.eventData.candidateAssessment.assessmentPackage.kind, "assessment");
  assert.equal(plain.syncDataType, "ats_assessments");
  assert.equal((await admin(w, "GET", "/v1/tenants/kind-static")).body.default_kind, "assessment");
});

test("an invalid kind is refused naming the field: 422 from the admin API, 502 from packages_url", async () => {
  await tenant("kind-bad");
  const bad = await admin(w, "PUT", "/v1/tenants/kind-bad/packages", [{ id: "a", name: "A" }, { id: "b", name: "B", kind: "drug_test" }]);
  assertErrorShape(assert, bad, 422);
  assert.match(bad.body.error.message, /\[1\]\.kind/);
  const notString = await admin(w, "PUT", "/v1/tenants/kind-bad/packages", [{ id: "a", name: "A", kind: 1 }]);
  assertErrorShape(assert, notString, 422);
  assert.match(notString.body.error.message, /\[0\]\.kind/);
  const patch = await admin(w, "PATCH", "/v1/tenants/kind-bad", { default_kind: "Background_Check" });
  assertErrorShape(assert, patch, 422);
  assert.match(patch.body.error.message, /default_kind/);
  assert.equal((await admin(w, "GET", "/v1/tenants/kind-bad")).body.default_kind, "assessment");

  const vendor = await receiver(() => ({ status: 200, headers: { "content-type": "application/json" },
    body: [{ id: "x", name: "X", kind: "credit_check" }] }));
  await admin(w, "PATCH", "/v1/tenants/kind-bad", { packages_url: vendor.url });
  const key = (await createKey(w, "kind-bad", "greenhouse")).secretKey;
  const list = await edge(w, "kind-bad", "greenhouse", "list_tests", { key });
  assertErrorShape(assert, list, 502);
  assert.match(list.body.error.message, /\[0\]\.kind/);
});
