// Replaying a write-back (README "Results back to the ATS", "Replaying a write-back"): an
// assessment's latest provider call that failed for good is sent again on demand
// (`POST …/assessments/{id}/provider-sync/replay`, attempted at once) or with every other one
// (`POST …/provider-sync/replay`, through the queue); what may not be replayed answers 404/409.
// Through the built worker with loopback fakes of Greenhouse, Ashby and Recruitee and a short
// retry schedule; only 127.0.0.1 is contacted.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import {
  startWorker, startReceiver, admin, edge, createTenant, createKey, assertErrorShape, fixture,
  events, basic, sleep, wrap,
} from "./harness.mjs";

const CODENAME = "vendorco";
let w, ats;
// The shared fake Ashby/Recruitee's answer to each request; a test sets its own.
let atsScript = () => ({ status: 200 });
const closers = [];

before(async () => {
  ats = await startReceiver((req, n) => atsScript(req, n));
  closers.push(ats);
  w = await startWorker({ vars: {
    // Three attempts a second apart: a call the ATS keeps refusing with 5xx fails for good soon.
    RETRY_SCHEDULE: "1,1",
    ASHBY_API_BASE: `${ats.url}/api/`,
    RECRUITEE_API_BASE: `${ats.url}/api/`,
    RECRUITEE_PARTNER_CODENAME: CODENAME,
    RECRUITEE_PARTNER_SECRET: "rt-partner-secret-replay-test",
  } });
});
after(async () => {
  await Promise.all([w?.stop(), ...closers.map((c) => c.close())]);
});

async function receiver(fn) {
  const r = await startReceiver(fn);
  closers.push(r);
  return r;
}

const replayPath = (t, id) => `/v1/tenants/${t}/assessments/${encodeURIComponent(id)}/provider-sync/replay`;
const replay = (t, id) => admin(w, "POST", replayPath(t, id));
const replayAll = (t) => admin(w, "POST", `/v1/tenants/${t}/provider-sync/replay`);
const assessment = async (t, id) => (await admin(w, "GET", `/v1/tenants/${t}/assessments/${id}`)).body;

async function postResult(t, id, body = fixture("result.completed.json")) {
  const r = await admin(w, "POST", `/v1/tenants/${t}/assessments/${id}/result`, body);
  assert.equal(r.status, 200, r.text);
  return r;
}

/** Poll the assessment's providerSync until `pred` holds. */
async function syncUntil(t, id, pred, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = (await assessment(t, id)).providerSync;
    if (s && pred(s)) return s;
    if (Date.now() > deadline) assert.fail(`providerSync of ${id} did not get there: ${JSON.stringify(s)}`);
    await sleep(100);
  }
}

/** A Greenhouse tenant (partner credentials `gh-partner` / `password`); returns its key. */
async function greenhouseTenant(t, password = "gh-secret") {
  const hooks = await receiver(() => ({ status: 200 }));
  await createTenant(w, t, hooks.url);
  await admin(w, "PUT", `/v1/tenants/${t}/packages`, fixture("packages.json"));
  await admin(w, "PATCH", `/v1/tenants/${t}`, { greenhouse: { partner_username: "gh-partner", partner_password: password } });
  return { key: (await createKey(w, t, "greenhouse")).secretKey, hooks };
}

/** A Greenhouse order whose callback is its own fake Greenhouse answering with `script`;
 *  returns the assessment id and the fake. */
async function greenhouseOrder(t, key, script) {
  const gh = await receiver(script);
  const body = { ...fixture("greenhouse/send_test.json"), url: `${gh.url}/integrations/testing_partners/take_home_tests/1` };
  const r = await edge(w, t, "greenhouse", "send_test", { key, body });
  assert.equal(r.status, 200, r.text);
  return { id: r.body.partner_interview_id, gh };
}

test("a write-back that failed for good is re-sent by a replay once the ATS is back: synced, attempt numbers go on; a synced one can be re-sent too", async () => {
  const { key } = await greenhouseTenant("rp-gh");
  let down = true;
  const { id, gh } = await greenhouseOrder("rp-gh", key, () => (down ? { status: 503, body: "down" } : { status: 204 }));
  await postResult("rp-gh", id);
  const failed = await syncUntil("rp-gh", id, (s) => s.state === "failed");
  assert.equal(failed.attempts, 3, JSON.stringify(failed));
  assert.equal(failed.lastStatus, 503);
  assert.equal(failed.error.kind, "unavailable");
  assert.equal(gh.requests.length, 3);
  // The result is final: posting it again cannot carry it to Greenhouse.
  const again = await admin(w, "POST", `/v1/tenants/rp-gh/assessments/${id}/result`, fixture("result.completed.json"));
  assertErrorShape(assert, again, 409);
  assert.equal(again.body.error.code, "assessment_final");

  down = false;
  const r = await replay("rp-gh", id);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.assessmentId, id);
  assert.equal(r.body.callId, failed.callId, "the latest call is re-sent, not a new one");
  assert.equal(r.body.providerSync.state, "synced", JSON.stringify(r.body));
  assert.equal(r.body.providerSync.attempts, 4, "its attempt numbers go on");
  assert.equal(r.body.providerSync.lastStatus, 204);
  assert.equal(r.body.providerSync.error, null);
  assert.equal(gh.requests.length, 4, "Greenhouse got the call once more, during the replay");
  const [first, , , resent] = gh.requests;
  assert.equal(resent.method, "PATCH");
  assert.equal(resent.path, first.path);
  assert.equal(resent.body, first.body, "the same call (Greenhouse's completion PATCH has no body)");
  assert.equal(resent.headers.authorization, basic("gh-partner", "gh-secret"));
  assert.deepEqual((await assessment("rp-gh", id)).providerSync, r.body.providerSync, "the answer is what GET shows");

  // A synced call may be replayed too (the ATS lost it): re-sent at once.
  const twice = await replay("rp-gh", id);
  assert.equal(twice.status, 200, twice.text);
  assert.equal(twice.body.providerSync.state, "synced");
  assert.equal(twice.body.providerSync.attempts, 5);
  assert.equal(gh.requests.length, 5);
});

test("credentials the ATS refused and the vendor has since fixed: the replay sends the call with the credentials as they are now", async () => {
  const { key } = await greenhouseTenant("rp-creds", "wrong");
  const right = basic("gh-partner", "right");
  const { id, gh } = await greenhouseOrder("rp-creds", key, (req) => (req.headers.authorization === right ? { status: 200 } : { status: 401, body: "bad credentials" }));
  await postResult("rp-creds", id);
  const failed = await syncUntil("rp-creds", id, (s) => s.state === "failed");
  assert.equal(failed.attempts, 1, "a 401 is final");
  assert.equal(failed.error.kind, "refused");
  const p = await admin(w, "PATCH", "/v1/tenants/rp-creds", { greenhouse: { partner_password: "right" } });
  assert.equal(p.status, 200, p.text);
  const r = await replay("rp-creds", id);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.providerSync.state, "synced", JSON.stringify(r.body));
  assert.equal(gh.requests.at(-1).headers.authorization, right);
});

test("a replay the ATS fails again is retried on a fresh schedule and can fail for good again", async () => {
  const { key } = await greenhouseTenant("rp-again");
  const { id, gh } = await greenhouseOrder("rp-again", key, () => ({ status: 503, body: "still down" }));
  await postResult("rp-again", id);
  await syncUntil("rp-again", id, (s) => s.state === "failed");
  const r = await replay("rp-again", id);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.providerSync.state, "retrying", JSON.stringify(r.body));
  assert.equal(r.body.providerSync.error.code, "provider_sync_retrying");
  assert.equal(r.body.providerSync.attempts, 4);
  assert.ok(r.body.providerSync.nextAttemptAt);
  // While it is being retried, it is already going.
  const busy = await replay("rp-again", id);
  assertErrorShape(assert, busy, 409);
  assert.equal(busy.body.error.code, "provider_sync_pending");
  // A whole fresh cycle: three more attempts (4, 5, 6), then failed again.
  const s = await syncUntil("rp-again", id, (x) => x.state === "failed");
  assert.equal(s.attempts, 6, JSON.stringify(s));
  assert.equal(gh.requests.length, 6);
});

test("refusals: unknown tenant or assessment 404, wrong method 405, no token 401, no call 409 nothing_to_replay; never a 5xx for odd ids", async () => {
  const { key } = await greenhouseTenant("rp-err");
  const { id, gh } = await greenhouseOrder("rp-err", key, () => ({ status: 200 }));
  // No result posted yet: nothing was ever stored to send to Greenhouse.
  const none = await replay("rp-err", id);
  assertErrorShape(assert, none, 409);
  assert.equal(none.body.error.code, "nothing_to_replay");
  assert.match(none.body.error.message, /no provider call/);
  assert.equal(gh.requests.length, 0);

  const unknown = await replay("rp-err", "ats_ass_unknown");
  assertErrorShape(assert, unknown, 404);
  assert.equal(unknown.body.error.code, "not_found");
  assert.match(unknown.body.error.message, /assessment/);
  assertErrorShape(assert, await replay("rp-nobody", id), 404);
  assertErrorShape(assert, await replayAll("rp-nobody"), 404);
  assertErrorShape(assert, await admin(w, "POST", replayPath("Bad_Slug", id)), 404);
  for (const path of [replayPath("rp-err", id), "/v1/tenants/rp-err/provider-sync/replay"]) {
    for (const method of ["GET", "PUT", "DELETE", "PATCH"]) {
      const r = await admin(w, method, path);
      assertErrorShape(assert, r, 405);
      assert.equal(r.body.error.code, "method_not_allowed");
      assert.equal(r.headers.get("allow"), "POST");
    }
    assertErrorShape(assert, await admin(w, "POST", path, undefined, { token: null }), 401);
    assertErrorShape(assert, await admin(w, "POST", path, undefined, { token: "wrong" }), 401);
  }
  for (const odd of ["x".repeat(5000), "ats_ass_%00", "ats_ass_'; DROP TABLE calls; --", "ats_ass_ü", "call_x"]) {
    const r = await admin(w, "POST", `/v1/tenants/rp-err/assessments/${odd}/provider-sync/replay`);
    assert.ok(r.status >= 400 && r.status < 500, `${odd.slice(0, 20)}: ${r.status} ${r.text}`);
    assertErrorShape(assert, r, r.status);
  }
  // A body is ignored, whatever it is.
  const withBody = await admin(w, "POST", replayPath("rp-err", id), undefined, { raw: "{not json" });
  assertErrorShape(assert, withBody, 409);
  // The tenant still works.
  assert.equal((await assessment("rp-err", id)).id, id);
});

test("a call in flight is already going: 409 provider_sync_pending, and it is not sent twice", async () => {
  const { key } = await greenhouseTenant("rp-busy");
  let release;
  const held = new Promise((r) => { release = r; });
  const { id, gh } = await greenhouseOrder("rp-busy", key, async () => { await held; return { status: 204 }; });
  await postResult("rp-busy", id);
  await gh.waitFor(1);
  const r = await replay("rp-busy", id);
  assertErrorShape(assert, r, 409);
  assert.equal(r.body.error.code, "provider_sync_pending");
  assert.match(r.body.error.message, /still pending/);
  release();
  await syncUntil("rp-busy", id, (s) => s.state === "synced");
  assert.equal(gh.requests.length, 1);
});

test("an erased assessment's write-back may be replayed (write-backs carry no candidate fields): one at once, another in the bulk replay", async () => {
  const { key } = await greenhouseTenant("rp-erased");
  let down = true;
  const script = () => (down ? { status: 503 } : { status: 204 });
  const one = await greenhouseOrder("rp-erased", key, script);
  const two = await greenhouseOrder("rp-erased", key, script);
  for (const o of [one, two]) {
    await postResult("rp-erased", o.id);
    await syncUntil("rp-erased", o.id, (s) => s.state === "failed");
    const e = await admin(w, "POST", "/v1/tenants/rp-erased/erasure", { assessment_id: o.id });
    assert.equal(e.status, 200, e.text);
    assert.equal((await assessment("rp-erased", o.id)).personalDataErased?.reason, "request");
  }
  down = false;
  const r = await replay("rp-erased", one.id);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.providerSync.state, "synced", r.text);
  assert.equal(one.gh.requests.length, 4, "three attempts before, one replayed");
  const patch = one.gh.requests.at(-1);
  assert.equal(patch.method, "PATCH");
  assert.ok(!/@|john|doe/i.test(patch.body), `no candidate data in the write-back: ${patch.body}`);
  const all = await replayAll("rp-erased");
  assert.equal(all.status, 202, all.text);
  assert.deepEqual(all.body.replayed.map((x) => x.assessmentId), [two.id], all.text);
  await syncUntil("rp-erased", two.id, (s) => s.state === "synced");
  assert.equal(two.gh.requests.length, 4);
  assert.equal((await assessment("rp-erased", two.id)).personalDataErased?.reason, "request", "still erased");
});

test("a replay cut short by a restart is made again once its lease runs out: the alarm covers it before its attempt", async () => {
  const { key } = await greenhouseTenant("rp-restart");
  let mode = "down";
  let release;
  const hang = new Promise((r) => { release = r; });
  const { id, gh } = await greenhouseOrder("rp-restart", key, async () => {
    if (mode === "hang") { await hang; return { status: 503 }; }
    return mode === "down" ? { status: 503 } : { status: 204 };
  });
  await postResult("rp-restart", id);
  await syncUntil("rp-restart", id, (s) => s.state === "failed");
  // Until every alarm the order and the result armed has fired (an event's lease, 20 s, plus the
  // sweep's grace): from here only the replay itself can arm one.
  await sleep(23_000);
  mode = "hang";
  const cut = replay("rp-restart", id).catch((e) => e); // its worker goes away mid-attempt
  await gh.waitFor(4); // the replay's attempt is in flight
  mode = "up";
  await w.restart();
  release();
  await cut;
  // Nothing else touches the tenant: only its alarm can send the call again.
  const s = await syncUntil("rp-restart", id, (x) => x.state === "synced", 60_000);
  assert.equal(s.attempts, 5, JSON.stringify(s));
  assert.equal(gh.requests.length, 5);
});

// --- The ATS cancels ------------------------------------------------------------------------

async function ashbyTenant(t) {
  const hooks = await receiver(() => ({ status: 200 }));
  await createTenant(w, t, hooks.url);
  await admin(w, "PUT", `/v1/tenants/${t}/packages`, fixture("packages.kinds.json"));
  await admin(w, "PATCH", `/v1/tenants/${t}`, { ashby: { api_key: `ashby-key-${t}` } });
  return (await createKey(w, t, "ashby")).secretKey;
}
let appSeq = 0;
async function ashbyOrder(t, key) {
  const b = fixture("ashby/assessment.start.json");
  b.application.ashby_id = `app_replay_${++appSeq}`;
  const r = await edge(w, t, "ashby", "assessment.start", { key, body: b });
  assert.equal(r.status, 200, r.text);
  return r.body.results.assessment_id;
}
const ashbyUpdateOf = (req) => (req.path === "/api/assessment.update" ? JSON.parse(req.body).assessment_id : null);

test("Ashby cancels: a write-back its cancellation stopped, or one that had failed before it, is never replayed (409 provider_sync_cancelled)", async () => {
  const key = await ashbyTenant("rp-ashby");
  const stoppedId = await ashbyOrder("rp-ashby", key);
  const refusedId = await ashbyOrder("rp-ashby", key);
  atsScript = (req) => {
    const of = ashbyUpdateOf(req);
    if (of === stoppedId) return { status: 503, body: { success: false } };
    if (of === refusedId) return { status: 200, body: { success: false, errorInfo: { code: "stage_locked", message: "Stage is locked" } } };
    return { status: 200, body: { success: true } };
  };
  // STARTED is being retried when Ashby cancels: stopped, `cancelled`.
  await postResult("rp-ashby", stoppedId, { status: "STARTED" });
  await ats.waitFor(0, 15_000, (rs) => rs.some((r) => ashbyUpdateOf(r) === stoppedId));
  const c1 = await edge(w, "rp-ashby", "ashby", "assessment.cancel", { key, body: { assessment_id: stoppedId } });
  assert.equal(c1.status, 200, c1.text);
  // STARTED was refused for good (a final answer) before Ashby cancelled: `failed`.
  await postResult("rp-ashby", refusedId, { status: "STARTED" });
  await syncUntil("rp-ashby", refusedId, (s) => s.state === "failed");
  const c2 = await edge(w, "rp-ashby", "ashby", "assessment.cancel", { key, body: { assessment_id: refusedId } });
  assert.equal(c2.status, 200, c2.text);
  await syncUntil("rp-ashby", stoppedId, (s) => s.state === "cancelled");
  atsScript = () => ({ status: 200, body: { success: true } });
  const sent = ats.requests.length;

  for (const id of [stoppedId, refusedId]) {
    const r = await replay("rp-ashby", id);
    assertErrorShape(assert, r, 409);
    assert.equal(r.body.error.code, "provider_sync_cancelled", r.text);
    assert.match(r.body.error.message, /ATS cancelled the assessment/);
  }
  const all = await replayAll("rp-ashby");
  assert.equal(all.status, 202, all.text);
  assert.deepEqual(all.body, { replayed: [] }, "neither is in the bulk replay");
  await sleep(1_500);
  assert.equal(ats.requests.length, sent, "nothing reached Ashby about the cancelled assessments");
  assert.equal((await assessment("rp-ashby", refusedId)).providerSync.state, "failed");
});

test("Recruitee cancels: the cancellation's own write-back ('canceled') that failed for good can be replayed", async () => {
  const hooks = await receiver(() => ({ status: 200 }));
  await createTenant(w, "rp-rc", hooks.url);
  await admin(w, "PUT", "/v1/tenants/rp-rc/packages", fixture("packages.kinds.json"));
  const key = (await createKey(w, "rp-rc", "recruitee")).secretKey;
  const order = { ...fixture("recruitee/send_candidate.json"), report_id: randomUUID() };
  const report = `/api/p/${CODENAME}/reports/${order.report_id}`;
  const mark = (req) => (req.path === report ? JSON.parse(req.body).status : null);
  let refuseCanceled = true;
  atsScript = (req) => (mark(req) === "canceled" && refuseCanceled
    ? { status: 400, body: "bad request" }
    : { status: 200, headers: { "content-type": "application/json" }, body: { report: {} } });
  const placed = await wrap(await fetch(`${w.url}/p/recruitee/send_candidate`, {
    method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json" }, body: JSON.stringify(order),
  }));
  assert.equal(placed.status, 200, placed.text);
  const id = placed.body.assessment_id;
  await syncUntil("rp-rc", id, (s) => s.state === "synced");
  const link = JSON.parse(ats.requests.find((r) => mark(r) === "sent").body).urls.cancel;
  const cancel = await wrap(await fetch(link, { method: "POST" }));
  assert.equal(cancel.status, 200, cancel.text);
  const failed = await syncUntil("rp-rc", id, (s) => s.state === "failed");
  assert.equal(failed.lastStatus, 400);
  refuseCanceled = false;
  const r = await replay("rp-rc", id);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.callId, failed.callId);
  assert.equal(r.body.providerSync.state, "synced", JSON.stringify(r.body));
  const marks = ats.requests.map(mark).filter(Boolean);
  assert.deepEqual(marks, ["sent", "canceled", "canceled"], "only the cancellation went again");
});

// --- Every failed one -----------------------------------------------------------------------

test("bulk replay: every assessment whose latest write-back failed for good, oldest first, through the queue; nothing else", async () => {
  const { key, hooks } = await greenhouseTenant("rp-bulk");
  let down = true;
  const flaky = () => (down ? { status: 503 } : { status: 204 });
  const a = await greenhouseOrder("rp-bulk", key, flaky);
  const b = await greenhouseOrder("rp-bulk", key, flaky);
  const ok = await greenhouseOrder("rp-bulk", key, () => ({ status: 204 }));
  const idle = await greenhouseOrder("rp-bulk", key, flaky); // no result: no call
  for (const o of [a, b, ok]) await postResult("rp-bulk", o.id);
  const callOf = {};
  for (const o of [a, b]) callOf[o.id] = (await syncUntil("rp-bulk", o.id, (s) => s.state === "failed")).callId;
  await syncUntil("rp-bulk", ok.id, (s) => s.state === "synced");

  down = false;
  const r = await replayAll("rp-bulk");
  assert.equal(r.status, 202, r.text);
  assert.deepEqual(r.body, { replayed: [
    { assessmentId: a.id, callId: callOf[a.id] },
    { assessmentId: b.id, callId: callOf[b.id] },
  ] });
  for (const o of [a, b]) {
    const s = await syncUntil("rp-bulk", o.id, (x) => x.state === "synced");
    assert.equal(s.attempts, 4, JSON.stringify(s));
    assert.equal(o.gh.requests.length, 4);
  }
  assert.equal(ok.gh.requests.length, 1, "a synced call is not part of the bulk replay");
  assert.equal(idle.gh.requests.length, 0);
  // Nothing failed any more.
  assert.deepEqual((await replayAll("rp-bulk")).body, { replayed: [] });
  // A replay re-sends the call only: no webhook event is emitted again.
  assert.equal(events(hooks, "record.modified").length, 3);
});
