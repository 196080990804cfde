// Issue 11 (write-back order): the calls of one assessment reach the ATS in the order they were
// stored (README "Order per assessment"). A fake ATS refuses the first write-back (5xx) while a
// later result is posted: the later call waits, shows why on `providerSync`, and goes once the
// earlier one is delivered (or has failed for good); `providerSync` says "synced" only after
// both. Ashby, Teamtailor and Recruitee (its "sent" mark then the cancellation), through the
// built worker with one loopback fake for the three ATSs.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { randomBytes, randomUUID } from "node:crypto";
import {
  startWorker, startReceiver, admin, edge, createTenant, createKey, sleep, fixture, wrap,
  teamtailorJws,
} from "./harness.mjs";

const CODENAME = "vendorco";
const TT_PARTNER_API_KEY = "tt-partner-api-key-order-test";
let w, ats;
// The fake ATS's answer to each request; every test sets its own.
let atsScript = () => ({ status: 200 });
const closers = [];

before(async () => {
  ats = await startReceiver((req, n) => atsScript(req, n));
  closers.push(ats);
  w = await startWorker({ vars: {
    // Quick retries, and enough of them that a call refused for a few seconds is still pending.
    RETRY_SCHEDULE: "1,1,1,1,1,1,1,1",
    ASHBY_API_BASE: `${ats.url}/api/`,
    RECRUITEE_API_BASE: `${ats.url}/api/`,
    RECRUITEE_PARTNER_CODENAME: CODENAME,
    RECRUITEE_PARTNER_SECRET: "rt-partner-secret-order-test",
    TEAMTAILOR_PARTNER_API_KEY: TT_PARTNER_API_KEY,
    TEAMTAILOR_WEBHOOK_SECRET: "tt-webhook-secret-order-test",
  } });
});
after(async () => {
  await Promise.all([w?.stop(), ...closers.map((c) => c.close())]);
});

async function tenant(id, provider, packages = fixture("packages.kinds.json")) {
  const hooks = await startReceiver(() => ({ status: 200 }));
  closers.push(hooks);
  await createTenant(w, id, hooks.url);
  await admin(w, "PUT", `/v1/tenants/${id}/packages`, packages);
  if (provider === "ashby") await admin(w, "PATCH", `/v1/tenants/${id}`, { ashby: { api_key: `ashby-key-${id}` } });
  return (await createKey(w, id, provider)).secretKey;
}

const assessment = async (t, id) => (await admin(w, "GET", `/v1/tenants/${t}/assessments/${id}`)).body;

async function postResult(t, id, body) {
  const r = await admin(w, "POST", `/v1/tenants/${t}/assessments/${id}/result`, body);
  assert.equal(r.status, 200, r.text);
}

/** Poll the assessment's providerSync until `pred` holds; `check` sees every state on the way. */
async function syncUntil(t, id, pred, { check = () => {}, timeoutMs = 30_000 } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = (await assessment(t, id)).providerSync;
    check(s);
    if (s && pred(s)) return s;
    if (Date.now() > deadline) assert.fail(`providerSync of ${id} did not get there: ${JSON.stringify(s)}`);
    await sleep(100);
  }
}

/** Every request the fake ATS got for one assessment's write-backs, as [{what, ok}] in arrival
 *  order; `of(req)` names a request (or null when it is not one of them). */
function seen(of, answered) {
  return ats.requests.map((r) => ({ what: of(r), ok: answered.get(r) })).filter((x) => x.what);
}

/** The fake ATS answers each request with `decide(req)` (status, body), remembering whether
 *  it said yes. */
function script(decide) {
  const answered = new Map();
  atsScript = (req) => {
    const out = decide(req);
    answered.set(req, out.status >= 200 && out.status < 300 && out.body?.success !== false);
    return out;
  };
  return answered;
}

/** The checks common to every provider: the later call waits (not synced, nothing of it sent)
 *  while the earlier one is refused, and says for what. */
function assertWaiting(s, { earlierCall, laterCall }) {
  assert.equal(s.state, "waiting", JSON.stringify(s));
  assert.equal(s.call, laterCall);
  assert.equal(s.attempts, 0);
  assert.match(s.callId, /^call_/);
  assert.equal(s.waitingFor.call, earlierCall);
  assert.match(s.waitingFor.callId, /^call_/);
  assert.notEqual(s.waitingFor.callId, s.callId);
  assert.match(s.waitingFor.message, /earlier call/);
}

// --- Ashby ---------------------------------------------------------------------------------

let appSeq = 0;
async function ashbyOrder(t, key) {
  const b = fixture("ashby/assessment.start.json");
  b.application.ashby_id = `app_order_${++appSeq}`;
  const r = await edge(w, t, "ashby", "assessment.start", { key, body: b });
  assert.equal(r.status, 200, r.text);
  return r.body.results.assessment_id;
}
/** An Ashby update's assessment id and status word ("Started", "Completed"). */
function ashbyUpdate(req) {
  if (req.path !== "/api/assessment.update") return null;
  const j = JSON.parse(req.body);
  return { id: j.assessment_id, status: j.assessment_status?.value };
}

test("Ashby: COMPLETED waits while STARTED is retried, reaches Ashby after it, and providerSync is synced only after both", async () => {
  const key = await tenant("co-ashby", "ashby");
  const id = await ashbyOrder("co-ashby", key);
  const other = await ashbyOrder("co-ashby", key);
  let refuse = true;
  const answered = script((req) => {
    const u = ashbyUpdate(req);
    if (u?.id === id && u.status === "Started" && refuse) return { status: 503, body: { success: false } };
    return { status: 200, body: { success: true } };
  });
  const ofId = (req) => { const u = ashbyUpdate(req); return u?.id === id ? u.status : null; };

  await postResult("co-ashby", id, { status: "STARTED" });
  await ats.waitFor(0, 15_000, () => seen(ofId, answered).length >= 1);
  await postResult("co-ashby", id, fixture("result.completed.json"));
  // The later call waits, and shows the earlier call's retries as the reason.
  const waiting = await syncUntil("co-ashby", id, (s) => s.waitingFor?.state === "retrying", {
    check: (s) => assertWaiting(s, { earlierCall: "Ashby assessment.update", laterCall: "Ashby assessment.update" }),
  });
  assert.equal(waiting.waitingFor.lastStatus, 503);
  assert.equal(waiting.waitingFor.error.code, "provider_sync_retrying");
  assert.ok(waiting.waitingFor.attempts >= 1);
  // Another assessment's write-back does not wait.
  await postResult("co-ashby", other, { status: "STARTED" });
  const otherSync = await syncUntil("co-ashby", other, (s) => s.state === "synced", { timeoutMs: 10_000 });
  assert.equal(otherSync.attempts, 1);
  assert.ok(!seen(ofId, answered).some((x) => x.what === "Completed"), "COMPLETED is not sent while STARTED is pending");
  assert.equal((await assessment("co-ashby", id)).providerSync.state, "waiting");

  refuse = false;
  const synced = await syncUntil("co-ashby", id, (s) => s.state === "synced", {
    check: (s) => {
      if (s?.state !== "synced") return;
      // "synced" only once Ashby took both, STARTED first.
      const calls = seen(ofId, answered);
      assert.ok(calls.some((x) => x.what === "Started" && x.ok) && calls.some((x) => x.what === "Completed" && x.ok), JSON.stringify(calls));
    },
  });
  assert.equal(synced.callId, waiting.callId, "the sync state is the COMPLETED call's");
  assert.equal(synced.attempts, 1);
  assert.equal(synced.earlierFailures, undefined);
  const calls = seen(ofId, answered);
  const firstOkStarted = calls.findIndex((x) => x.what === "Started" && x.ok);
  const firstCompleted = calls.findIndex((x) => x.what === "Completed");
  assert.ok(firstOkStarted >= 1, `STARTED was refused first: ${JSON.stringify(calls)}`);
  assert.ok(firstOkStarted < firstCompleted, `STARTED landed before COMPLETED was sent: ${JSON.stringify(calls)}`);
  assert.equal(calls.filter((x) => x.what === "Completed").length, 1);
  assert.equal(calls.at(-1).what, "Completed", "Ashby ends showing COMPLETED");
  // The released COMPLETED goes at once from the object that saw STARTED accepted, not through
  // the queue, whose consumer waits up to its batch window (`max_batch_timeout`, 1 s) first.
  const mine = ats.requests.filter((r) => ofId(r));
  const acceptedAt = mine.find((r) => ofId(r) === "Started" && answered.get(r)).at;
  const completedAt = mine.find((r) => ofId(r) === "Completed").at;
  assert.ok(completedAt - acceptedAt < 700, `COMPLETED reached Ashby ${Math.round(completedAt - acceptedAt)} ms after STARTED was accepted`);
});

test("Ashby: when STARTED fails for good, COMPLETED still goes after it; synced, with the failure kept in earlierFailures", async () => {
  const key = await tenant("co-ashby-fail", "ashby");
  const id = await ashbyOrder("co-ashby-fail", key);
  let final = false;
  const answered = script((req) => {
    const u = ashbyUpdate(req);
    if (u?.id === id && u.status === "Started") {
      return final
        ? { status: 200, body: { success: false, errorInfo: { code: "stage_locked", message: "Stage is locked", requestId: "r-9" } } }
        : { status: 503, body: { success: false } };
    }
    return { status: 200, body: { success: true } };
  });
  const ofId = (req) => { const u = ashbyUpdate(req); return u?.id === id ? u.status : null; };
  await postResult("co-ashby-fail", id, { status: "STARTED" });
  await ats.waitFor(0, 15_000, () => seen(ofId, answered).length >= 1);
  await postResult("co-ashby-fail", id, fixture("result.completed.json"));
  assertWaiting((await assessment("co-ashby-fail", id)).providerSync, { earlierCall: "Ashby assessment.update", laterCall: "Ashby assessment.update" });
  final = true;
  const synced = await syncUntil("co-ashby-fail", id, (s) => s.state === "synced");
  assert.equal(synced.earlierFailures.length, 1, JSON.stringify(synced));
  const [failure] = synced.earlierFailures;
  assert.equal(failure.call, "Ashby assessment.update");
  assert.notEqual(failure.callId, synced.callId);
  assert.equal(failure.error.providerCode, "stage_locked");
  assert.equal(failure.error.requestId, "r-9");
  const calls = seen(ofId, answered);
  const lastStarted = calls.findLastIndex((x) => x.what === "Started");
  const firstCompleted = calls.findIndex((x) => x.what === "Completed");
  assert.ok(lastStarted < firstCompleted, JSON.stringify(calls));
  assert.equal(calls.at(-1).what, "Completed");
});

test("Ashby cancels the assessment: its progress write-backs still being retried or waiting are not sent afterwards, and providerSync says why", async () => {
  const key = await tenant("co-ashby-cancel", "ashby");
  const id = await ashbyOrder("co-ashby-cancel", key);
  const other = await ashbyOrder("co-ashby-cancel", key);
  const answered = script((req) => {
    const u = ashbyUpdate(req);
    if (u?.id === id) return { status: 503, body: { success: false } };
    return { status: 200, body: { success: true } };
  });
  const ofId = (req) => { const u = ashbyUpdate(req); return u?.id === id ? u.status : null; };
  await postResult("co-ashby-cancel", id, { status: "STARTED" });
  await ats.waitFor(0, 15_000, () => seen(ofId, answered).length >= 2); // being retried
  await postResult("co-ashby-cancel", id, { status: "IN_PROGRESS" });
  await syncUntil("co-ashby-cancel", id, (s) => s.state === "waiting");
  // The other assessment's progress keeps failing too, and is not touched by this cancel.
  await postResult("co-ashby-cancel", other, { status: "STARTED" });

  const c = await edge(w, "co-ashby-cancel", "ashby", "assessment.cancel", { key, body: { assessment_id: id } });
  assert.equal(c.status, 200, c.text);
  const sentBefore = seen(ofId, answered).length;
  // From now on Ashby would accept anything: nothing of this assessment may reach it.
  script(() => ({ status: 200, body: { success: true } }));
  const s = await syncUntil("co-ashby-cancel", id, (x) => x.state === "cancelled");
  assert.equal(s.error.code, "provider_sync_cancelled");
  assert.equal(s.error.kind, "cancelled");
  assert.match(s.error.message, /was not sent: Ashby cancelled the assessment/);
  assert.equal(s.nextAttemptAt, null);
  assert.equal(s.waitingFor, undefined);
  // Several retry periods (RETRY_SCHEDULE 1 s) later, still nothing more was sent for it.
  await sleep(4_000);
  assert.equal(seen(ofId, answered).length, sentBefore, `sent after the cancel: ${JSON.stringify(seen(ofId, answered).slice(sentBefore))}`);
  assert.equal((await assessment("co-ashby-cancel", id)).providerSync.state, "cancelled");
  assert.equal((await assessment("co-ashby-cancel", id)).status, "CANCELLED");
  // The other assessment's call went on and was delivered once Ashby accepted it.
  await syncUntil("co-ashby-cancel", other, (x) => x.state === "synced", { timeoutMs: 15_000 });
});

// --- Teamtailor ----------------------------------------------------------------------------

test("Teamtailor: the completed PUT waits for the refused pending PUT, then lands after it", async () => {
  const key = await tenant("co-tt", "teamtailor", [{ id: "pkg_backend", name: "Backend take-home" }]);
  const b = fixture("teamtailor/webhook.json");
  const rid = `res-order-${randomBytes(4).toString("hex")}`;
  b["partner-event"].id = `evt-order-${rid}`;
  b["partner-event"]["partner-result"].id = rid;
  b["partner-event"]["partner-result"]["update-url"] = `${ats.url}/partner/v1/partner-results/${rid}`;
  const token = teamtailorJws({ key }, TT_PARTNER_API_KEY);
  const placed = await wrap(await fetch(`${w.url}/p/teamtailor/webhook`, {
    method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: JSON.stringify(b),
  }));
  assert.equal(placed.status, 200, placed.text);
  const id = placed.body.assessment_id;
  let refuse = true;
  const ofRid = (req) => (req.path === `/partner/v1/partner-results/${rid}` ? JSON.parse(req.body).data.attributes.status : null);
  const answered = script((req) => (ofRid(req) === "pending" && refuse ? { status: 502, body: "bad gateway" } : { status: 200, body: { data: {} } }));

  await postResult("co-tt", id, { status: "STARTED" });
  await ats.waitFor(0, 15_000, () => seen(ofRid, answered).length >= 1);
  await postResult("co-tt", id, fixture("result.completed.json"));
  assertWaiting((await assessment("co-tt", id)).providerSync, { earlierCall: "Teamtailor partner-result PUT", laterCall: "Teamtailor partner-result PUT" });
  await sleep(1500);
  assert.ok(!seen(ofRid, answered).some((x) => x.what === "completed"), "completed is not sent while pending is refused");
  refuse = false;
  await syncUntil("co-tt", id, (s) => s.state === "synced", {
    check: (s) => {
      if (s?.state === "synced") assert.ok(seen(ofRid, answered).some((x) => x.what === "completed" && x.ok));
    },
  });
  const calls = seen(ofRid, answered);
  assert.ok(calls.filter((x) => x.what === "pending").length >= 2, JSON.stringify(calls));
  assert.ok(calls.findIndex((x) => x.what === "pending" && x.ok) < calls.findIndex((x) => x.what === "completed"), JSON.stringify(calls));
  assert.deepEqual(calls.at(-1), { what: "completed", ok: true });
});

// --- Recruitee -----------------------------------------------------------------------------

test("Recruitee cancels while the 'sent' mark is being retried: the mark is not sent any more and 'canceled' goes at once", async () => {
  const key = await tenant("co-rc", "recruitee");
  const order = { ...fixture("recruitee/send_candidate.json"), report_id: randomUUID() };
  const report = `/api/p/${CODENAME}/reports/${order.report_id}`;
  const ofReport = (req) => (req.path === report ? JSON.parse(req.body).status : null);
  const answered = script((req) => (ofReport(req) === "sent"
    ? { status: 503, body: "unavailable" }
    : { status: 200, headers: { "content-type": "application/json" }, body: { report: {} } }));
  const placed = await wrap(await fetch(`${w.url}/p/recruitee/send_candidate`, {
    method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json" }, body: JSON.stringify(order),
  }));
  assert.equal(placed.status, 200, placed.text);
  const id = placed.body.assessment_id;
  await ats.waitFor(0, 15_000, () => seen(ofReport, answered).length >= 1);
  const link = JSON.parse(ats.requests.find((r) => r.path === report).body).urls.cancel;
  // Recruitee cancels while the "sent" mark is being retried.
  const cancel = await wrap(await fetch(link, { method: "POST" }));
  assert.equal(cancel.status, 200, cancel.text);
  assert.equal(cancel.body.status, "canceled");
  const sentBefore = seen(ofReport, answered).filter((x) => x.what === "sent").length;
  // The cancellation's own PATCH goes (after an attempt of "sent" in flight, if one was).
  const s = await syncUntil("co-rc", id, (x) => x.state === "synced" && x.call === "Recruitee report PATCH");
  assert.equal(s.earlierFailures, undefined, "a mark stopped by the cancellation is no failure");
  await sleep(3_000); // several retry periods (RETRY_SCHEDULE 1 s)
  const calls = seen(ofReport, answered);
  assert.ok(calls.filter((x) => x.what === "sent").length <= sentBefore + 1, `"sent" went on after the cancel: ${JSON.stringify(calls)}`);
  assert.ok(!calls.some((x) => x.what === "sent" && x.ok), JSON.stringify(calls));
  assert.deepEqual(calls.at(-1), { what: "canceled", ok: true }, "Recruitee ends showing canceled");
  assert.equal(calls.filter((x) => x.what === "canceled").length, 1);
});
