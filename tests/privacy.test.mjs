// Issue 17: retention and erasure of candidates' personal data (README "Personal data"),
// through the built worker with loopback receivers.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import {
  startWorker, startReceiver, admin, edge, createTenant, createKey, sleep, assertErrorShape, fixture, storageDump,
} from "./harness.mjs";

let w, clock, harvest, ashbyApi;
const closers = [];
// A fake Greenhouse Harvest v3 for the clock worker: a token for anyone, and every read
// answered empty, the application after `harvestDelayMs` (an enrichment that finishes late).
let harvestDelayMs = 0;
const harvestAnswers = [];
async function receiver(fn) {
  const r = await startReceiver(fn);
  closers.push(r);
  return r;
}

// A retention day lasts 50 ms in `clock` (60 days = 3 s). The variable is test-only: it is
// honoured only together with ALLOW_INSECURE_TARGETS=true (the harness default).
before(async () => {
  harvest = await receiver(async (req) => {
    const json = (body) => ({ status: 200, headers: { "content-type": "application/json" }, body });
    if (req.path.startsWith("/token")) return json({ access_token: "at-1", token_type: "bearer", expires_in: 3600 });
    if (req.path.startsWith("/v3/applications")) await sleep(harvestDelayMs);
    harvestAnswers.push({ path: req.path, at: Date.now() });
    return json([]);
  });
  // A fake Ashby API: assessment.update answers 500 naming the candidate (retried).
  ashbyApi = await receiver(() => ({ status: 500, headers: { "content-type": "application/json" },
    body: { success: false, errorInfo: { code: "locked", message: "Alex Chen <alex.chen@example.com> is locked" } } }));
  [w, clock] = await Promise.all([
    startWorker({ vars: { RETRY_SCHEDULE: "5,5", ASHBY_API_BASE: `${ashbyApi.url}/api/` } }),
    startWorker({ vars: { RETRY_SCHEDULE: "1,1,1,1,1,1,1,1,1,1,1,1", TEST_ONLY_RETENTION_DAY_MS: "50",
      HARVEST_API_BASE: `${harvest.url}/v3`, HARVEST_TOKEN_URL: `${harvest.url}/token` } }),
  ]);
});
after(async () => {
  await Promise.all([w?.stop(), clock?.stop(), ...closers.map((c) => c.close())]);
});

async function setup(worker, id, respond = () => ({ status: 200 })) {
  const hooks = await receiver(respond);
  await createTenant(worker, id, hooks.url);
  await admin(worker, "PATCH", `/v1/tenants/${id}`, { greenhouse: { partner_username: "p", partner_password: "s" } });
  const gh = (await createKey(worker, id, "greenhouse")).secretKey;
  const ab = (await createKey(worker, id, "ashby")).secretKey;
  return { id, hooks, gh, ab };
}

let seq = 0;
async function ghOrder(worker, ctx, candidate = {}, extra = {}) {
  const base = fixture("greenhouse/send_test.json");
  const body = { ...base, candidate: { ...base.candidate, ...candidate }, url: `https://app.greenhouse.io/integrations/testing_partners/take_home_tests/${++seq}`, ...extra };
  const r = await edge(worker, ctx.id, "greenhouse", "send_test", { key: ctx.gh, body });
  assert.equal(r.status, 200, r.text);
  return r.body.partner_interview_id;
}
async function abOrder(worker, ctx, candidate = {}) {
  const base = fixture("ashby/assessment.start.json");
  const body = { ...base, candidate: { ...base.candidate, ...candidate }, application: { ...base.application, ashby_id: `app_${++seq}` } };
  const r = await edge(worker, ctx.id, "ashby", "assessment.start", { key: ctx.ab, body });
  assert.equal(r.status, 200, r.text);
  return r.body.assessment_id ?? r.body.results?.assessment_id;
}
const get = async (worker, path) => {
  const r = await admin(worker, "GET", path);
  assert.equal(r.status, 200, r.text);
  return r.body;
};
const eventsOf = async (worker, t, recordId) => (await get(worker, `/v1/tenants/${t}/events?record_id=${recordId}`)).data;
async function until(what, fn, ms = 30_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(250);
  }
}
const delivered = (worker, t, recordId) => until(`${recordId} delivered`, async () =>
  (await eventsOf(worker, t, recordId)).every((e) => e.state === "delivered"));

/** The erasure audit lines logged for `tenant`, waiting up to 5 s for the first: a line
 *  reaches the worker's output through wrangler a moment after the answer. */
async function auditLines(tenant) {
  const lines = () => w.logs().split("\n").filter((l) => l.includes("personal data erased") && l.includes(tenant));
  for (let i = 0; i < 50 && lines().length === 0; i++) await sleep(100);
  return lines();
}

test("erasure by email (any case) reaches every provider's assessments, leaves others, and survives a restart", async () => {
  const ctx = await setup(w, "priv-email");
  const a1 = await ghOrder(w, ctx);
  const a2 = await ghOrder(w, ctx, { phone_number: "+1-555-000-0000" });
  const a3 = await abOrder(w, ctx, { email: "JOHN.DOE@example.com", first_name: "John", last_name: "Doe" });
  const other = await ghOrder(w, ctx, { email: "jane.roe@example.com", first_name: "Jane", last_name: "Roe" });
  assert.ok(a3, "ashby order answered an id");
  for (const id of [a1, a2, a3, other]) await delivered(w, ctx.id, id);
  const statusBefore = {};
  for (const id of [a1, a2, a3]) statusBefore[id] = (await get(w, `/v1/tenants/${ctx.id}/assessments/${id}`)).status;

  const r = await admin(w, "POST", `/v1/tenants/${ctx.id}/erasure`, { email: "John.Doe@Example.COM" });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.erased.assessments, 3);
  assert.equal(r.body.erased.events, 3);
  assert.equal(r.body.erased.attempts, 3);
  assert.equal(r.body.erased.cancelledDeliveries, 0);

  const check = async () => {
    for (const id of [a1, a2, a3]) {
      const a = await get(w, `/v1/tenants/${ctx.id}/assessments/${id}`);
      const text = JSON.stringify(a);
      for (const gone of ["john", "John", "Doe", "555", "johndoe.dev", "recruiter@example.com"]) {
        assert.ok(!text.includes(gone), `${gone} still in ${id}: ${text}`);
      }
      assert.equal(a.id, id);
      assert.equal(a.status, statusBefore[id]);
      assert.equal(a.personalDataErased.reason, "request");
      assert.equal(a.originData, null);
      for (const e of await eventsOf(w, ctx.id, id)) {
        const ev = await get(w, `/v1/tenants/${ctx.id}/events/${e.eventId}`);
        assert.equal(ev.body, '{"erased":true}');
        assert.equal(ev.state, "delivered");
        assert.ok(ev.attempts.length >= 1 && ev.attempts.every((x) => x.response === null), JSON.stringify(ev.attempts));
        const replay = await admin(w, "POST", `/v1/tenants/${ctx.id}/events/${e.eventId}/replay`);
        assertErrorShape(assert, replay, 409);
        assert.equal(replay.body.error.code, "erased");
      }
    }
    const kept = await get(w, `/v1/tenants/${ctx.id}/assessments/${other}`);
    assert.equal(kept.candidate.firstName, "Jane");
    assert.equal(kept.personalDataErased, undefined);
  };
  await check();
  // One audit line, without the email.
  const audit = await auditLines("priv-email");
  const logs = w.logs();
  assert.equal(audit.length, 1, logs.slice(-3000));
  assert.ok(audit[0].includes('"by":"email"') && audit[0].includes('"assessments":3'), audit[0]);
  assert.ok(!/john\.doe/i.test(logs), "the email appears in the worker's log");

  // A second request finds nothing left to erase; nothing reappears after a restart.
  const again = await admin(w, "POST", `/v1/tenants/${ctx.id}/erasure`, { email: "john.doe@example.com" });
  assert.equal(again.status, 200);
  assert.equal(again.body.erased.assessments, 0);
  await w.restart();
  await check();
});

test("erasure by email also erases the events that carry the email but name no assessment (an ATS's error report)", async () => {
  const ctx = await setup(w, "priv-err");
  const a = await ghOrder(w, ctx);
  await delivered(w, ctx.id, a);
  // Greenhouse reports errors about calls naming an id the bridge does not know: the
  // provider.error carries the candidate's email and no assessment.
  const report = (email) => edge(w, ctx.id, "greenhouse", "response_error", { key: ctx.gh, body: {
    api_call: "send_test", errors: ["candidate could not be invited"], partner_interview_id: "ats_ass_unknown", candidate_email: email } });
  assert.equal((await report("John.DOE@example.com")).status, 200);
  assert.equal((await report("jane.roe@example.com")).status, 200);
  const errorEvents = await until("both provider.error events delivered", async () => {
    const list = (await get(w, `/v1/tenants/${ctx.id}/events`)).data.filter((e) => e.eventType === "provider.error");
    return list.length === 2 && list.every((e) => e.state === "delivered") ? list : null;
  });
  const bodyOf = async (e) => (await get(w, `/v1/tenants/${ctx.id}/events/${e.eventId}`)).body;
  const johns = [], janes = [];
  for (const e of errorEvents) {
    assert.equal(e.recordId ?? null, null, "names no assessment");
    ((await bodyOf(e)).toLowerCase().includes("john.doe@example.com") ? johns : janes).push(e);
  }
  assert.equal(johns.length, 1);
  assert.equal(janes.length, 1);

  const r = await admin(w, "POST", `/v1/tenants/${ctx.id}/erasure`, { email: "john.doe@EXAMPLE.com" });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.erased.assessments, 1);
  assert.equal(r.body.erased.events, 2, "the order's record.new and the error report");
  assert.equal(r.body.erased.attempts, 2);
  const check = async () => {
    const erased = await get(w, `/v1/tenants/${ctx.id}/events/${johns[0].eventId}`);
    assert.equal(erased.body, '{"erased":true}');
    assert.equal(erased.state, "delivered");
    assert.ok(erased.attempts.length >= 1 && erased.attempts.every((x) => x.response === null), JSON.stringify(erased.attempts));
    const replay = await admin(w, "POST", `/v1/tenants/${ctx.id}/events/${johns[0].eventId}/replay`);
    assertErrorShape(assert, replay, 409);
    assert.equal(replay.body.error.code, "erased");
    // Nothing stored carries the email any more; another candidate's report is untouched.
    const everything = JSON.stringify(await get(w, `/v1/tenants/${ctx.id}/events`)) + JSON.stringify(await get(w, `/v1/tenants/${ctx.id}/assessments`));
    for (const e of (await get(w, `/v1/tenants/${ctx.id}/events`)).data) {
      assert.ok(!/john\.doe@example\.com/i.test(await bodyOf(e)), `${e.eventType} ${e.eventId} still carries the email`);
    }
    assert.ok(!/john\.doe@example\.com/i.test(everything));
    assert.match(await bodyOf(janes[0]), /jane\.roe@example\.com/);
  };
  await check();
  // A repeat finds nothing more; nothing reappears after a restart.
  const again = await admin(w, "POST", `/v1/tenants/${ctx.id}/erasure`, { email: "john.doe@example.com" });
  assert.deepEqual(again.body.erased, { assessments: 0, events: 0, attempts: 0, cancelledDeliveries: 0, hiringTeamAssessments: 0, hiringTeamEvents: 0 });
  await w.restart();
  await check();
});

test("erasure by email matches whole addresses only: ax@example.com erases nothing of max@example.com", async () => {
  const ctx = await setup(w, "priv-whole");
  const max = await ghOrder(w, ctx, { email: "max@example.com" });
  await delivered(w, ctx.id, max);
  const report = await edge(w, ctx.id, "greenhouse", "response_error", { key: ctx.gh, body: {
    api_call: "send_test", errors: ["bounced"], partner_interview_id: "ats_ass_unknown", candidate_email: "max@example.com.au" } });
  assert.equal(report.status, 200, report.text);
  const r = await admin(w, "POST", `/v1/tenants/${ctx.id}/erasure`, { email: "ax@example.com" });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.body.erased, { assessments: 0, events: 0, attempts: 0, cancelledDeliveries: 0, hiringTeamAssessments: 0, hiringTeamEvents: 0 });
  const [recordNew] = await eventsOf(w, ctx.id, max);
  const body = (await get(w, `/v1/tenants/${ctx.id}/events/${recordNew.eventId}`)).body;
  assert.match(body, /max@example\.com/);
  const replay = await admin(w, "POST", `/v1/tenants/${ctx.id}/events/${recordNew.eventId}/replay`);
  assert.ok(replay.status < 300, replay.text);
});

test("an ATS error report about an erased assessment stores no personal data again", async () => {
  const ctx = await setup(w, "priv-late-err");
  const a = await ghOrder(w, ctx, { email: "late.report@example.com" });
  await delivered(w, ctx.id, a);
  const r = await admin(w, "POST", `/v1/tenants/${ctx.id}/erasure`, { email: "late.report@example.com" });
  assert.equal(r.body.erased.assessments, 1, r.text);
  const report = await edge(w, ctx.id, "greenhouse", "response_error", { key: ctx.gh, body: {
    api_call: "test_status", errors: ["Late Report could not be reached"], partner_interview_id: a, candidate_email: "late.report@example.com" } });
  assert.equal(report.status, 200, report.text);
  const stored = await get(w, `/v1/tenants/${ctx.id}/assessments/${a}`);
  assert.ok(stored.personalDataErased, JSON.stringify(stored));
  assert.equal(stored.providerErrors.length, 1, JSON.stringify(stored.providerErrors));
  const events = await eventsOf(w, ctx.id, a);
  const bodies = await Promise.all(events.map(async (e) => (await get(w, `/v1/tenants/${ctx.id}/events/${e.eventId}`)).body));
  for (const text of [JSON.stringify(stored), ...bodies]) {
    assert.ok(!/late\.report@example\.com|Late Report/i.test(text), text);
  }
});

test("the personalDataErased marker survives a cancel and a result after the erasure, and so does the ATS's answer", async () => {
  const ctx = await setup(w, "priv-after");
  const ab = await abOrder(w, ctx);
  const gh = await ghOrder(w, ctx);
  for (const id of [ab, gh]) await delivered(w, ctx.id, id);
  for (const id of [ab, gh]) {
    const r = await admin(w, "POST", `/v1/tenants/${ctx.id}/erasure`, { assessment_id: id });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.erased.assessments, 1);
  }
  // Ashby cancels the erased assessment: CANCELLED, still erased, and the record.deleted the
  // vendor gets says so and carries nothing personal.
  const c = await edge(w, ctx.id, "ashby", "assessment.cancel", { key: ctx.ab, body: { assessment_id: ab } });
  assert.equal(c.status, 200, c.text);
  const cancelled = await get(w, `/v1/tenants/${ctx.id}/assessments/${ab}`);
  assert.equal(cancelled.status, "CANCELLED");
  assert.equal(cancelled.personalDataErased?.reason, "request", JSON.stringify(cancelled));
  assert.equal(cancelled.candidate.emails, null);
  const deleted = await until("record.deleted delivered", async () => {
    const req = ctx.hooks.requests.find((q) => JSON.parse(q.body).eventType === "record.deleted");
    return req ? JSON.parse(req.body) : null;
  });
  assert.equal(deleted.recordId, ab);
  assert.equal(deleted.eventData.candidateAssessment.personalDataErased.reason, "request");
  assert.equal(deleted.eventData.candidateAssessment.status, "CANCELLED");
  assert.ok(!/alex|chen|cand_789xyz/i.test(JSON.stringify(deleted)), JSON.stringify(deleted));
  // A result after the erasure: the marker stays, the ATS still gets its status.
  const res = await admin(w, "POST", `/v1/tenants/${ctx.id}/assessments/${gh}/result`, { status: "EXPIRED" });
  assert.equal(res.status, 200, res.text);
  assert.equal(res.body.personalDataErased?.reason, "request", res.text);
  const done = await get(w, `/v1/tenants/${ctx.id}/assessments/${gh}`);
  assert.equal(done.status, "EXPIRED");
  assert.equal(done.personalDataErased?.reason, "request");
  const s = await edge(w, ctx.id, "greenhouse", "test_status", { key: ctx.gh, query: `?partner_interview_id=${gh}` });
  assert.equal(s.body.partner_status, "expired");
  const modified = await until("record.modified delivered", async () => {
    const req = ctx.hooks.requests.find((q) => JSON.parse(q.body).eventType === "record.modified");
    return req ? JSON.parse(req.body) : null;
  });
  assert.equal(modified.eventData.candidateAssessment.personalDataErased.reason, "request");
  assert.ok(!/john|doe/i.test(JSON.stringify(modified)), JSON.stringify(modified));
  assert.ok(!JSON.stringify(modified).includes("johndoe.dev"));
  // Both stay erased after a restart.
  await w.restart();
  for (const id of [ab, gh]) assert.equal((await get(w, `/v1/tenants/${ctx.id}/assessments/${id}`)).personalDataErased?.reason, "request");
});

test("erasure by assessment id keeps the status answer for the ATS; bad requests answer 4xx naming the field", async () => {
  const ctx = await setup(w, "priv-id");
  const a = await ghOrder(w, ctx);
  const b = await ghOrder(w, ctx);
  await delivered(w, ctx.id, a);
  const res = await admin(w, "POST", `/v1/tenants/${ctx.id}/assessments/${a}/result`, { status: "EXPIRED" });
  assert.equal(res.status, 200, res.text);
  const r = await admin(w, "POST", `/v1/tenants/${ctx.id}/erasure`, { assessment_id: a });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.erased.assessments, 1);
  assert.ok(r.body.erased.events >= 2, r.text);
  const erased = await get(w, `/v1/tenants/${ctx.id}/assessments/${a}`);
  assert.equal(erased.status, "EXPIRED");
  assert.equal(erased.candidate.emails, null);
  assert.equal(erased.result.status, "EXPIRED");
  const s = await edge(w, ctx.id, "greenhouse", "test_status", { key: ctx.gh, query: `?partner_interview_id=${a}` });
  assert.equal(s.status, 200, s.text);
  assert.equal(s.body.partner_status, "expired");
  assert.equal((await get(w, `/v1/tenants/${ctx.id}/assessments/${b}`)).candidate.firstName, "John");

  assertErrorShape(assert, await admin(w, "POST", `/v1/tenants/${ctx.id}/erasure`, { assessment_id: "ats_ass_nope" }), 404);
  for (const [body, field] of [[{}, "email"], [{ email: "nope" }, "email"], [{ email: 7 }, "email"], [{ email: "@" }, "email"], [{ email: "a@b" }, "email"], [{ email: "mailto:c5@x.example" }, "email"], [{ email: "<c5@x.example>" }, "email"], [{ assessment_id: "" }, "assessment_id"], [{ email: "a@b.c", assessment_id: a }, "email"], [{ phone: "1" }, "phone"]]) {
    const bad = await admin(w, "POST", `/v1/tenants/${ctx.id}/erasure`, body);
    assertErrorShape(assert, bad, 422);
    assert.ok(bad.body.error.message.includes(field), `${JSON.stringify(body)}: ${bad.text}`);
  }
  assertErrorShape(assert, await admin(w, "POST", `/v1/tenants/${ctx.id}/erasure`, undefined, { raw: "{" }), 400);
  assertErrorShape(assert, await admin(w, "GET", `/v1/tenants/${ctx.id}/erasure`), 405);
  assertErrorShape(assert, await admin(w, "POST", `/v1/tenants/priv-none/erasure`, { email: "a@b.c" }), 404);
});

test("a pending delivery of an erased event is cancelled, says why, and is never sent (retry, replay-all, restart)", async () => {
  const ctx = await setup(w, "priv-pending", () => ({ status: 503 }));
  const a = await ghOrder(w, ctx);
  await ctx.hooks.waitFor(1);
  const [ev] = await eventsOf(w, ctx.id, a);
  assert.equal(ev.state, "pending");
  const r = await admin(w, "POST", `/v1/tenants/${ctx.id}/erasure`, { email: "john.doe@example.com" });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.erased.cancelledDeliveries, 1);
  const sent = ctx.hooks.requests.length;
  const cancelled = await get(w, `/v1/tenants/${ctx.id}/events/${ev.eventId}`);
  assert.equal(cancelled.state, "failed");
  assert.match(cancelled.lastError, /erased/);
  assert.equal(cancelled.body, '{"erased":true}');
  // "Replay all failed" skips it; a single replay refuses it.
  const all = await admin(w, "POST", `/v1/tenants/${ctx.id}/events/replay`);
  assert.equal(all.status, 202, all.text);
  assert.equal(all.body.replayed, 0);
  assertErrorShape(assert, await admin(w, "POST", `/v1/tenants/${ctx.id}/events/${ev.eventId}/replay`), 409);
  // The receiver recovers; after a restart (the sweep runs) and past the 5 s retry, nothing
  // of the erased event is sent.
  ctx.hooks.setScript(() => ({ status: 200 }));
  await w.restart();
  await sleep(12_000);
  assert.equal(ctx.hooks.requests.length, sent, "an erased event was sent again");
  const still = await get(w, `/v1/tenants/${ctx.id}/events/${ev.eventId}`);
  assert.equal(still.state, "failed");
  assert.match(still.lastError, /erased/);
});

test("retention_days: default 180, 60..3650 or null, 422 naming the field otherwise", async () => {
  await setup(clock, "priv-ret-cfg");
  assert.equal((await get(clock, "/v1/tenants/priv-ret-cfg")).retention_days, 180);
  for (const bad of [59, 0, 3651, 90.5, "90", true]) {
    const r = await admin(clock, "PATCH", "/v1/tenants/priv-ret-cfg", { retention_days: bad });
    assertErrorShape(assert, r, 422);
    assert.match(r.body.error.message, /retention_days/);
  }
  const keep = await admin(clock, "PATCH", "/v1/tenants/priv-ret-cfg", { retention_days: null });
  assert.equal(keep.status, 200, keep.text);
  assert.equal(keep.body.retention_days, null);
  assert.equal((await get(clock, "/v1/tenants/priv-ret-cfg")).retention_days, null);
  const set = await admin(clock, "PATCH", "/v1/tenants/priv-ret-cfg", { retention_days: 60 });
  assert.equal(set.body.retention_days, 60);
  const t = await get(clock, "/v1/tenants/priv-ret-cfg");
  assert.equal(t.retention_days, 60);
  assert.ok(Number.isInteger(t.storageBytes) && t.storageBytes > 0, JSON.stringify(t));
});

test("retention purges final assessments' personal data after the window (test clock), keeps ids, states and results", async () => {
  const ctx = await setup(clock, "priv-ret");
  const kept = await setup(clock, "priv-ret-keep");
  await admin(clock, "PATCH", `/v1/tenants/${kept.id}`, { retention_days: null });
  const done = await ghOrder(clock, ctx);
  const open = await ghOrder(clock, ctx);
  const keepDone = await ghOrder(clock, kept);
  for (const [t, id] of [[ctx.id, done], [ctx.id, open], [kept.id, keepDone]]) await delivered(clock, t, id);
  for (const [t, id] of [[ctx.id, done], [kept.id, keepDone]]) {
    const r = await admin(clock, "POST", `/v1/tenants/${t}/assessments/${id}/result`, { status: "EXPIRED" });
    assert.equal(r.status, 200, r.text);
  }
  await admin(clock, "PATCH", `/v1/tenants/${ctx.id}`, { retention_days: 60 }); // 3 s here
  const purged = await until("retention purge", async () => {
    const a = await get(clock, `/v1/tenants/${ctx.id}/assessments/${done}`);
    return a.personalDataErased ? a : null;
  }, 40_000);
  assert.equal(purged.personalDataErased.reason, "retention");
  assert.equal(purged.status, "EXPIRED");
  assert.equal(purged.result.status, "EXPIRED");
  assert.ok(!JSON.stringify(purged).includes("john.doe"), JSON.stringify(purged));
  const s = await edge(clock, ctx.id, "greenhouse", "test_status", { key: ctx.gh, query: `?partner_interview_id=${done}` });
  assert.equal(s.body.partner_status, "expired");
  for (const e of await eventsOf(clock, ctx.id, done)) {
    const ev = await get(clock, `/v1/tenants/${ctx.id}/events/${e.eventId}`);
    assert.equal(ev.body, '{"erased":true}');
    assert.ok(ev.attempts.every((x) => x.response === null));
  }
  // The open assessment keeps its candidate; its delivered event loses its body past the window.
  const stillOpen = await get(clock, `/v1/tenants/${ctx.id}/assessments/${open}`);
  assert.equal(stillOpen.candidate.firstName, "John");
  assert.equal(stillOpen.personalDataErased, undefined);
  await until("delivered bodies purged", async () => {
    const [e] = await eventsOf(clock, ctx.id, open);
    return (await get(clock, `/v1/tenants/${ctx.id}/events/${e.eventId}`)).body === '{"erased":true}';
  }, 20_000);
  // A tenant keeping data (null) keeps it.
  const k = await get(clock, `/v1/tenants/${kept.id}/assessments/${keepDone}`);
  assert.equal(k.candidate.firstName, "John");
  assert.equal(k.personalDataErased, undefined);
});

test("retention counts from when the assessment became final: reads and refused writes afterwards do not push the purge out", async () => {
  const ctx = await setup(clock, "priv-final-at");
  const id = await ghOrder(clock, ctx);
  await delivered(clock, ctx.id, id);
  await admin(clock, "PATCH", `/v1/tenants/${ctx.id}`, { retention_days: 60 }); // 3 s here
  const r = await admin(clock, "POST", `/v1/tenants/${ctx.id}/assessments/${id}/result`, { status: "EXPIRED" });
  assert.equal(r.status, 200, r.text);
  const finalAt = Date.now();
  // Keep touching it the way an ATS and the vendor do after the end: status reads, a cancel
  // that finds it final, a refused second result, an event replay.
  const purged = await until("retention purge", async () => {
    await edge(clock, ctx.id, "greenhouse", "test_status", { key: ctx.gh, query: `?partner_interview_id=${id}` });
    assert.equal((await admin(clock, "POST", `/v1/tenants/${ctx.id}/assessments/${id}/result`, { status: "COMPLETED", result_url: "https://vendor.example/r" })).status, 409);
    const a = await get(clock, `/v1/tenants/${ctx.id}/assessments/${id}`);
    return a.personalDataErased ? a : null;
  }, 30_000);
  const after = Date.now() - finalAt;
  assert.equal(purged.personalDataErased.reason, "retention");
  assert.equal(purged.status, "EXPIRED");
  // Due 3 s after the final result; the alarm runs a moment after that.
  assert.ok(after >= 2_500, `purged after ${after} ms, before the window ended`);
  assert.ok(after < 15_000, `purged only after ${after} ms`);
});

test("retention counts from the final state, not the record's last change: an enrichment finishing after the final result does not push the purge out", async () => {
  const ctx = await setup(clock, "priv-final-late");
  const h = await admin(clock, "PATCH", `/v1/tenants/${ctx.id}`, { retention_days: 60, greenhouse: { harvest: { client_id: "c1", client_secret: "s1", user_id: 1 } } }); // 60 days = 3 s here
  assert.equal(h.status, 200, h.text);
  harvestDelayMs = 3_500;
  try {
    const id = await ghOrder(clock, ctx);
    const r = await admin(clock, "POST", `/v1/tenants/${ctx.id}/assessments/${id}/result`, { status: "EXPIRED" });
    assert.equal(r.status, 200, r.text);
    const finalAt = Date.now();
    const purgedAt = await until("retention purge", async () => {
      const a = await get(clock, `/v1/tenants/${ctx.id}/assessments/${id}`);
      return a.personalDataErased ? Date.now() : null;
    }, 30_000);
    // The enrichment's reads were answered (and the record changed) after the final result,
    // and the purge came before that change was 3 s (the window) old: it counted from the end.
    const lastRead = Math.max(...harvestAnswers.map((x) => x.at));
    assert.ok(harvestAnswers.length > 0 && lastRead > finalAt + 1_000, `Harvest answered at +${lastRead - finalAt} ms`);
    assert.ok(purgedAt < lastRead + 3_000, `purged ${purgedAt - lastRead} ms after the record's last change, ${purgedAt - finalAt} ms after the final result`);
    assert.ok(purgedAt >= finalAt + 2_500, `purged only ${purgedAt - finalAt} ms after the final result`);
    const a = await get(clock, `/v1/tenants/${ctx.id}/assessments/${id}`);
    assert.equal(a.personalDataErased.reason, "retention");
    assert.equal(a.status, "EXPIRED");
    assert.ok(!JSON.stringify(a).includes("john.doe"), JSON.stringify(a));
  } finally {
    harvestDelayMs = 0;
  }
});

test("attempts kept per event are capped (first and latest), the count stays exact", async () => {
  const ctx = await setup(clock, "priv-cap", () => ({ status: 500, body: "down" }));
  await admin(clock, "PATCH", `/v1/tenants/${ctx.id}`, { retention_days: null });
  const a = await ghOrder(clock, ctx);
  const ev = await until("event failed", async () => {
    const [e] = await eventsOf(clock, ctx.id, a);
    return e.state === "failed" ? e : null;
  }, 90_000);
  assert.equal(ev.attemptCount, 13);
  const detail = await get(clock, `/v1/tenants/${ctx.id}/events/${ev.eventId}`);
  assert.equal(detail.attemptCount, 13);
  assert.equal(detail.attempts.length, 10);
  // Each attempt reached the receiver, but for the odd one lost to a keep-alive race (the
  // receiver closes idle sockets after 1 s, the retry interval): that one is recorded as a
  // network failure and still counted.
  const network = detail.attempts.filter((x) => x.kind === "network").length;
  assert.ok(ctx.hooks.requests.length <= 13 && ctx.hooks.requests.length >= 13 - 3 - network, `${ctx.hooks.requests.length} requests`);
  const times = detail.attempts.map((x) => Date.parse(x.at));
  assert.deepEqual([...times].sort((x, y) => x - y), times);
  // The first attempt is kept: it was made before the second receiver request arrived.
  assert.ok(times[0] < ctx.hooks.requests[1].at + performance.timeOrigin, "the first attempt is kept");
});

// Issue 17 (tester): the ATS's error text about an erased assessment — a provider call's
// `last_error`, the assessment's `providerSync` — goes with the erasure; a pending write-back is
// never cancelled (it carries no candidate fields and still reaches the ATS), and an attempt that
// ends after the erasure writes no text back.

/** Whether any stored row (every table and column of the worker's objects) matches `re`. The
 *  check needs the sqlite3 tool: without it, it is skipped and the test says so. */
function assertNotStored(t, worker, re) {
  const dump = storageDump(worker);
  if (dump === null) return t.diagnostic("sqlite3 is not installed: the storage-wide check was skipped");
  assert.match(dump, /CREATE TABLE (IF NOT EXISTS )?"?assessments/, "the dump holds the tenant objects' tables");
  const hit = dump.split("\n").find((l) => re.test(l));
  assert.equal(hit, undefined, `still stored: ${hit?.slice(0, 400)}`);
}
const syncOf = (worker, t, id, ok) => until(`providerSync of ${id}`, async () => {
  const a = await get(worker, `/v1/tenants/${t}/assessments/${id}`);
  return ok(a.providerSync) ? a : null;
});

test("erasure drops the ATS's error text of write-backs but never cancels one: the pending one still reaches the ATS (retry, restart)", async (t) => {
  const ctx = await setup(w, "priv-calls");
  // Greenhouse's completion callback: /locked answers 500 (retried), /gone 422 (final), both
  // echoing the candidate.
  const cb = await receiver((req) => req.path.startsWith("/locked")
    ? { status: 500, body: "Candidate Ada Lovelace <ada.l@example.com> is locked" }
    : { status: 422, body: "Ada Lovelace (ada.l@example.com) is not in this job" });
  const who = { email: "ada.l@example.com", first_name: "Ada", last_name: "Lovelace" };
  const retrying = await ghOrder(w, ctx, who, { url: `${cb.url}/locked/1` });
  const refused = await ghOrder(w, ctx, who, { url: `${cb.url}/gone/1` });
  for (const id of [retrying, refused]) {
    await delivered(w, ctx.id, id);
    const r = await admin(w, "POST", `/v1/tenants/${ctx.id}/assessments/${id}/result`, fixture("result.completed.json"));
    assert.equal(r.status, 200, r.text);
  }
  const before = await syncOf(w, ctx.id, retrying, (s) => s?.state === "retrying");
  assert.match(before.providerSync.error.message, /Lovelace/, "the ATS's words are shown before the erasure");
  const failed = await syncOf(w, ctx.id, refused, (s) => s?.state === "failed");
  assert.match(failed.providerSync.error.providerMessage, /ada\.l@example\.com/);

  const r = await admin(w, "POST", `/v1/tenants/${ctx.id}/erasure`, { email: "ADA.L@example.com" });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.erased.assessments, 2);
  assert.equal(r.body.erased.cancelledProviderCalls, undefined, "erasure cancels no write-back: " + r.text);
  const calls = () => cb.requests.filter((q) => q.path.startsWith("/locked")).length;
  const sent = calls();
  const check = async () => {
    const a = await get(w, `/v1/tenants/${ctx.id}/assessments/${retrying}`);
    assert.ok(["retrying", "synced"].includes(a.providerSync.state), JSON.stringify(a.providerSync));
    assert.notEqual(a.providerSync.error?.kind, "cancelled");
    const b = await get(w, `/v1/tenants/${ctx.id}/assessments/${refused}`);
    assert.equal(b.providerSync.state, "failed");
    assert.equal(b.providerSync.lastStatus, 422, "codes and statuses stay");
    assert.equal(b.providerSync.error.code, "provider_sync");
    assert.equal(b.providerSync.error.kind, "refused");
    assert.equal(b.providerSync.error.providerMessage, null);
    for (const x of [a, b]) assert.ok(!/\bada\b|lovelace/i.test(JSON.stringify(x)), JSON.stringify(x));
    assertNotStored(t, w, /lovelace|ada\.l@/i);
  };
  await check();
  // The callback recovers; after a restart (the sweep) the write-back is made and succeeds,
  // and still no ATS text is stored.
  cb.setScript(() => ({ status: 200 }));
  await w.restart();
  await syncOf(w, ctx.id, retrying, (s) => s?.state === "synced");
  assert.ok(calls() > sent, "the pending write-back reached the ATS after the erasure");
  await check();
});

test("a write-back attempt that ends after the erasure, and one made after it, store no ATS text", async (t) => {
  const ctx = await setup(w, "priv-call-late");
  let release;
  const answered = new Promise((r) => (release = r));
  const cb = await receiver(async (req) => {
    if (req.path.startsWith("/slow")) await answered;
    return { status: 500, body: "Grace Hopper <grace.h@example.com> is locked" };
  });
  const inFlight = await ghOrder(w, ctx, { email: "grace.h@example.com", first_name: "Grace", last_name: "Hopper" }, { url: `${cb.url}/slow/1` });
  const later = await ghOrder(w, ctx, { email: "grace.h@example.com", first_name: "Grace", last_name: "Hopper" }, { url: `${cb.url}/now/1` });
  for (const id of [inFlight, later]) await delivered(w, ctx.id, id);
  const r = await admin(w, "POST", `/v1/tenants/${ctx.id}/assessments/${inFlight}/result`, fixture("result.completed.json"));
  assert.equal(r.status, 200, r.text);
  await cb.waitFor(1);
  // Erased while the ATS has not answered yet.
  for (const id of [inFlight, later]) {
    const e = await admin(w, "POST", `/v1/tenants/${ctx.id}/erasure`, { assessment_id: id });
    assert.equal(e.status, 200, e.text);
  }
  release();
  await sleep(1_500);
  const a = await get(w, `/v1/tenants/${ctx.id}/assessments/${inFlight}`);
  // Not cancelled: the attempt's outcome is kept (state, kind, status), its text is not.
  assert.equal(a.providerSync.state, "retrying", JSON.stringify(a.providerSync));
  assert.equal(a.providerSync.error.kind, "unavailable");
  assert.equal(a.providerSync.lastStatus, 500);
  assert.equal(a.providerSync.error.erased, true);
  // A result after the erasure still reaches the ATS; its refusal is shown without the text.
  const res = await admin(w, "POST", `/v1/tenants/${ctx.id}/assessments/${later}/result`, fixture("result.completed.json"));
  assert.equal(res.status, 200, res.text);
  const b = await syncOf(w, ctx.id, later, (s) => s?.state === "retrying");
  assert.equal(b.providerSync.lastStatus, 500);
  assert.equal(b.providerSync.error.kind, "unavailable");
  for (const x of [a, b]) assert.ok(!/grace|hopper/i.test(JSON.stringify(x)), JSON.stringify(x));
  assertNotStored(t, w, /hopper|grace\.h@/i);
  // The retries of both (5 s) are made — erasure cancels no write-back — and store no text either.
  await cb.waitFor(0, 20_000, (reqs) => reqs.filter((q) => q.path.startsWith("/now")).length >= 2
    && reqs.filter((q) => q.path.startsWith("/slow")).length >= 2);
  await sleep(500);
  assertNotStored(t, w, /hopper|grace\.h@/i);
});

test("retention purges the ATS's error text of write-backs too", async (t) => {
  const ctx = await setup(clock, "priv-ret-calls");
  const cb = await receiver(() => ({ status: 422, body: "Linus Torvalds <linus.t@example.com> unknown" }));
  const id = await ghOrder(clock, ctx, { email: "linus.t@example.com", first_name: "Linus", last_name: "Torvalds" }, { url: `${cb.url}/x/1` });
  await delivered(clock, ctx.id, id);
  const r = await admin(clock, "POST", `/v1/tenants/${ctx.id}/assessments/${id}/result`, fixture("result.completed.json"));
  assert.equal(r.status, 200, r.text);
  const failed = await syncOf(clock, ctx.id, id, (s) => s?.state === "failed");
  assert.match(JSON.stringify(failed.providerSync), /Torvalds/);
  await admin(clock, "PATCH", `/v1/tenants/${ctx.id}`, { retention_days: 60 }); // 3 s here
  const purged = await until("retention purge", async () => {
    const a = await get(clock, `/v1/tenants/${ctx.id}/assessments/${id}`);
    return a.personalDataErased ? a : null;
  }, 40_000);
  assert.equal(purged.providerSync.state, "failed");
  assert.equal(purged.providerSync.lastStatus, 422);
  assert.ok(!/linus|torvalds/i.test(JSON.stringify(purged)), JSON.stringify(purged));
  assertNotStored(t, clock, /torvalds|linus\.t@/i);
});

// Issue 17 (tester): an erasure by email that names a member of the customer's staff — a
// recruiter on the hiring team, the requester who sent the order — removes that person from
// every assessment and event body, and leaves the candidates' data.
test("erasure of a staff member's non-ASCII email, in any case, also drops the attempt snippets that quote it", async () => {
  const staff = "Jürgen.Ölmann@exämple.com";
  let n = 0;
  const ctx = await setup(w, "priv-intl", () => (++n === 1 ? { status: 500, body: `unknown requester ${staff}` } : { status: 200 }));
  const gh = await ghOrder(w, ctx, { email: "cand.intl@example.com" }, { sent_by: staff });
  await delivered(w, ctx.id, gh);
  const [ev] = await eventsOf(w, ctx.id, gh);
  const before = await get(w, `/v1/tenants/${ctx.id}/events/${ev.eventId}`);
  assert.ok(before.attempts.some((x) => x.response?.includes(staff)), JSON.stringify(before.attempts));
  const r = await admin(w, "POST", `/v1/tenants/${ctx.id}/erasure`, { email: "JÜRGEN.ÖLMANN@EXÄMPLE.COM" });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.erased.hiringTeamAssessments, 1, r.text);
  assert.equal(r.body.erased.attempts, 1, r.text);
  const after = await get(w, `/v1/tenants/${ctx.id}/events/${ev.eventId}`);
  assert.ok(!/jürgen/i.test(JSON.stringify(after)), JSON.stringify(after));
  assert.equal(after.attempts.length, before.attempts.length, "the attempts stay, without the snippet");
  const a = await get(w, `/v1/tenants/${ctx.id}/assessments/${gh}`);
  assert.equal(a.candidate.emails[0].email, "cand.intl@example.com");
  assert.ok(!/jürgen/i.test(JSON.stringify(a)), JSON.stringify(a));
});

test("erasure of a hiring-team member's email removes them from assessments and event bodies, not the candidates", async (t) => {
  const ctx = await setup(w, "priv-staff");
  const gh = await ghOrder(w, ctx, { email: "ada.c@example.com", first_name: "Ada", last_name: "Candidate" }, { sent_by: "Rita.Recruiter@example.com" });
  const base = fixture("ashby/assessment.start.json");
  const abBody = { ...base,
    candidate: { ...base.candidate, email: "bo.c@example.com", first_name: "Bo", last_name: "Candidate" },
    application: { ...base.application, ashby_id: `app_staff_${++seq}` },
    job: { ...base.job, hiringTeam: [
      { userId: "u_rita", firstName: "Rita", lastName: "Recruiter", email: "rita.recruiter@example.com", role: "Recruiter" },
      { userId: "u_1", firstName: "Sam", lastName: "Lee", email: "sam@example.com", role: "Hiring Manager" }] } };
  const abr = await edge(w, ctx.id, "ashby", "assessment.start", { key: ctx.ab, body: abBody });
  assert.equal(abr.status, 200, abr.text);
  const ab = abr.body.results?.assessment_id ?? abr.body.assessment_id;
  const other = await ghOrder(w, ctx, { email: "cy.c@example.com" }, { sent_by: "someone.else@example.com" });
  for (const id of [gh, ab, other]) await delivered(w, ctx.id, id);
  const before = await get(w, `/v1/tenants/${ctx.id}/assessments/${gh}`);
  assert.equal(before.requester.email, "Rita.Recruiter@example.com");

  const r = await admin(w, "POST", `/v1/tenants/${ctx.id}/erasure`, { email: "rita.recruiter@EXAMPLE.com" });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.body.erased, { assessments: 0, events: 0, attempts: 0, cancelledDeliveries: 0,
    hiringTeamAssessments: 2, hiringTeamEvents: 2 });
  const audit = await auditLines("priv-staff");
  assert.equal(audit.length, 1, w.logs().slice(-3000));
  assert.match(audit[0], /"hiringTeamAssessments":2/);
  assert.ok(!/rita/i.test(w.logs()), "the email appears in the worker's log");

  const check = async () => {
    const g = await get(w, `/v1/tenants/${ctx.id}/assessments/${gh}`);
    assert.deepEqual(g.requester, { id: null, name: null, email: null });
    assert.equal(g.metaData.sentBy, null);
    assert.equal(g.originData.sent_by, null);
    assert.equal(g.personalDataErased, undefined, "the candidate's data is not erased");
    assert.equal(g.candidate.firstName, "Ada");
    assert.equal(g.candidate.emails[0].email, "ada.c@example.com");
    assert.equal(g.metaData.preferredName, "Johnny", "the order's other fields stay");
    const a = await get(w, `/v1/tenants/${ctx.id}/assessments/${ab}`);
    assert.deepEqual(a.hiringTeam[0], { id: null, firstName: null, lastName: null, email: null, role: "RECRUITER" });
    assert.equal(a.hiringTeam[1].email, "sam@example.com", "the other member stays");
    assert.equal(a.candidate.firstName, "Bo");
    assert.equal(a.originData.job.hiringTeam[0].role, "Recruiter");
    assert.equal(a.originData.job.hiringTeam[1].firstName, "Sam");
    for (const x of [g, a]) assert.ok(!/rita|u_rita/i.test(JSON.stringify(x)), JSON.stringify(x));
    for (const id of [gh, ab]) {
      for (const e of await eventsOf(w, ctx.id, id)) {
        const body = (await get(w, `/v1/tenants/${ctx.id}/events/${e.eventId}`)).body;
        assert.ok(!/rita/i.test(body), body);
        assert.match(body, /ada\.c@example\.com|bo\.c@example\.com/, "the candidate stays in the event");
      }
    }
    const o = await get(w, `/v1/tenants/${ctx.id}/assessments/${other}`);
    assert.equal(o.requester.email, "someone.else@example.com");
    assertNotStored(t, w, /rita/i);
  };
  await check();
  // A replay sends the scrubbed body: nothing of the person comes back.
  const [ev] = await eventsOf(w, ctx.id, ab);
  const seen = ctx.hooks.requests.length;
  const replay = await admin(w, "POST", `/v1/tenants/${ctx.id}/events/${ev.eventId}/replay`);
  assert.ok(replay.status < 300, replay.text);
  await ctx.hooks.waitFor(seen + 1);
  const sent = ctx.hooks.requests.slice(seen).map((q) => q.body).join("\n");
  assert.match(sent, /bo\.c@example\.com/);
  assert.ok(!/rita/i.test(sent), sent);
  // A repeat finds nothing more; nothing comes back after a restart.
  const again = await admin(w, "POST", `/v1/tenants/${ctx.id}/erasure`, { email: "rita.recruiter@example.com" });
  assert.equal(again.body.erased.hiringTeamAssessments, 0, again.text);
  assert.equal(again.body.erased.hiringTeamEvents, 0, again.text);
  await w.restart();
  await check();
});

test("erasure never cancels write-backs: one being retried and the later one waiting behind it both reach Ashby in order; no ATS text is stored", async (t) => {
  const ctx = await setup(w, "priv-waiting");
  await admin(w, "PATCH", `/v1/tenants/${ctx.id}`, { ashby: { api_key: "ashby-key-priv-waiting" } });
  const id = await abOrder(w, ctx);
  await delivered(w, ctx.id, id);
  const updates = () => ashbyApi.requests.filter((q) => q.path === "/api/assessment.update" && JSON.parse(q.body).assessment_id === id).length;
  const started = await admin(w, "POST", `/v1/tenants/${ctx.id}/assessments/${id}/result`, { status: "STARTED" });
  assert.equal(started.status, 200, started.text);
  await syncOf(w, ctx.id, id, (s) => s?.state === "retrying");
  const done = await admin(w, "POST", `/v1/tenants/${ctx.id}/assessments/${id}/result`, fixture("result.completed.json"));
  assert.equal(done.status, 200, done.text);
  const waiting = await syncOf(w, ctx.id, id, (s) => s?.state === "waiting");
  assert.match(JSON.stringify(waiting.providerSync.waitingFor), /Alex Chen/, "the earlier call's ATS text is shown before the erasure");

  const r = await admin(w, "POST", `/v1/tenants/${ctx.id}/erasure`, { assessment_id: id });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.erased.cancelledProviderCalls, undefined, "erasure cancels no write-back: " + r.text);
  const erased = await get(w, `/v1/tenants/${ctx.id}/assessments/${id}`);
  assert.equal(erased.providerSync.state, "waiting", JSON.stringify(erased.providerSync));
  assert.ok(!/alex|chen/i.test(JSON.stringify(erased)), JSON.stringify(erased));
  const sent = ashbyApi.requests.length;
  // Ashby recovers for this assessment: the retried STARTED goes first, then COMPLETED.
  ashbyApi.setScript((req) => (req.path === "/api/assessment.update" && JSON.parse(req.body).assessment_id === id
    ? { status: 200, headers: { "content-type": "application/json" }, body: { success: true, results: {} } }
    : { status: 500, headers: { "content-type": "application/json" },
        body: { success: false, errorInfo: { code: "locked", message: "Alex Chen <alex.chen@example.com> is locked" } } }));
  try {
    await w.restart();
    const a = await syncOf(w, ctx.id, id, (s) => s?.state === "synced");
    const after = ashbyApi.requests.slice(sent).filter((q) => q.path === "/api/assessment.update" && JSON.parse(q.body).assessment_id === id)
      .map((q) => JSON.parse(q.body).assessment_status.value).filter((v, i, all) => v !== all[i - 1]);
    assert.deepEqual(after, ["Started", "Completed"], "both write-backs reach Ashby after the erasure, in order");
    assert.ok(updates() >= 3, "STARTED was retried before the erasure");
    assert.ok(!/alex|chen/i.test(JSON.stringify(a)), JSON.stringify(a));
    assertNotStored(t, w, /alex\.chen@|Alex Chen/);
  } finally {
    ashbyApi.setScript(() => ({ status: 500, headers: { "content-type": "application/json" },
      body: { success: false, errorInfo: { code: "locked", message: "Alex Chen <alex.chen@example.com> is locked" } } }));
  }
});
