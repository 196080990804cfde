// Issue 15: Greenhouse orders enriched from Harvest v3 (README "Order enrichment"), through the
// built worker with a loopback fake of Greenhouse's token endpoint and of Harvest v3, and a
// loopback partner receiver: the write-only credential, the enriched record.new, a slow
// Harvest (partial record.new, then exactly one record.modified), a missing scope, 429 with
// Retry-After, an expired token (one refresh), an unknown application, wrong credentials, the
// job listing, the connect page's Harvest fields, and a restart in the middle of an enrichment.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import {
  startWorker, startReceiver, admin, edge, createTenant, createKey, fixture, events, sleep,
  assertErrorShape,
} from "./harness.mjs";

let w, harvest, hooks;
/** Behaviour of the fake per OAuth client id (each test uses its own client and tenant). */
const clients = {};
const json = (status, body, headers = {}) => ({ status, headers: { "content-type": "application/json", ...headers }, body });

const APPLICATION = { id: 87456321, candidate_id: 762198, job_id: 501,
  keyed_custom_fields: { salary_band: { name: "Salary band", type: "short_text", value: "B2" } } };
const JOB = { id: 501, name: "Backend Engineer", requisition_id: "REQ-7", status: "open",
  departments: [{ id: 1, name: "Engineering" }],
  offices: [{ id: 2, name: "Berlin", location: { name: "Berlin, Germany" } }],
  hiring_team: {
    hiring_managers: [{ id: 11, first_name: "Hana", last_name: "Manager" }],
    recruiters: [{ id: 12, first_name: "Rita", last_name: "Recruiter", email: "rita@example.com" }],
    coordinators: [], sourcers: [] } };

/** Harvest's default answers (a client's `read` may answer first). */
function harvestData(u) {
  const q = u.searchParams;
  switch (u.pathname) {
    case "/v3/applications":
      return json(200, q.get("ids") === "87456321" ? [APPLICATION] : []);
    case "/v3/jobs":
      if (q.get("ids")) return json(200, { data: q.get("ids") === "501" ? [JOB] : [] });
      if (q.get("cursor") === "page2") return json(200, [{ ...JOB, id: 502, name: "Designer", status: "open", hiring_team: undefined }]);
      return json(200, [JOB], { link: `<${harvest.url}/v3/jobs?cursor=page2>; rel="next"` });
    case "/v3/users":
      if (q.get("ids") === "11") return json(200, [{ id: 11, first_name: "Hana", last_name: "Manager", primary_email_address: "hana@example.com" }]);
      if (q.get("email") === "recruiter@example.com") return json(200, [{ id: 13, first_name: "Rex", last_name: "Sender", emails: ["recruiter@example.com"] }]);
      return json(200, []);
    default:
      return json(404, { error: "not found" });
  }
}

before(async () => {
  harvest = await startReceiver(async (req) => {
    const u = new URL(req.path, "http://fake");
    if (u.pathname === "/token") {
      const [id, secret] = Buffer.from((req.headers.authorization ?? "").replace(/^Basic /, ""), "base64").toString().split(":");
      const c = clients[id];
      if (!c) return json(401, { error: "invalid_client" });
      c.tokenCalls.push(req);
      if (secret !== c.secret) return json(401, { error: "invalid_client", error_description: "Client authentication failed" });
      return json(200, { access_token: `at-${id}-${c.tokenCalls.length}`, token_type: "bearer", expires_in: 3600 });
    }
    const token = (req.headers.authorization ?? "").replace(/^Bearer /, "");
    const c = clients[token.split("-")[1]];
    if (!c) return json(401, { error: "invalid_token" });
    c.reads.push({ path: u.pathname, query: u.search, token, at: req.at });
    if (c.read) {
      const out = await c.read(u, token, c);
      if (out) return out;
    }
    return harvestData(u);
  });
  hooks = await startReceiver(() => ({ status: 200 }));
  w = await startWorker({ vars: { RETRY_SCHEDULE: "1,1,1", HARVEST_API_BASE: `${harvest.url}/v3`, HARVEST_TOKEN_URL: `${harvest.url}/token` } });
});
after(async () => { await Promise.all([w?.stop(), harvest?.close(), hooks?.close()]); });

/** A tenant with Greenhouse key and (unless `harvest: false`) Harvest credentials for client `id`. */
async function tenant(id, { read, secret = "s3cret", harvestCreds = true } = {}) {
  const client = id.replace(/-/g, "");
  clients[client] = { secret: "s3cret", tokenCalls: [], reads: [], read };
  await createTenant(w, id, `${hooks.url}/${id}`);
  if (harvestCreds) {
    const r = await admin(w, "PATCH", `/v1/tenants/${id}`, { greenhouse: { harvest: { client_id: client, client_secret: secret, user_id: 4711 } } });
    assert.equal(r.status, 200, r.text);
  }
  const key = (await createKey(w, id, "greenhouse")).secretKey;
  return { id, key, client: clients[client] };
}

let seq = 0;
async function order(t, overrides = {}) {
  const body = { ...fixture("greenhouse/send_test.json"), url: `https://app.greenhouse.io/integrations/testing_partners/take_home_tests/${++seq}`, ...overrides };
  const r = await edge(w, t.id, "greenhouse", "send_test", { key: t.key, body });
  assert.equal(r.status, 200, r.text);
  return r.body.partner_interview_id;
}

/** The webhook events of one assessment, in arrival order. */
function eventsOf(id, type) {
  return events(hooks, type).filter((e) => e.recordId === id);
}

async function waitEvent(id, type, n = 1, ms = 15_000) {
  await hooks.waitFor(0, ms, () => eventsOf(id, type).length >= n);
  return eventsOf(id, type);
}

test("the Harvest credential is write-only: set, shown only as harvest_set, validated, removed with null", async () => {
  const t = await tenant("hv-creds", { harvestCreds: false });
  let v = await admin(w, "GET", `/v1/tenants/${t.id}`);
  assert.equal(v.body.greenhouse.harvest_set, false);
  for (const bad of [
    { harvest: { client_id: "a" } },
    { harvest: { client_id: "a", client_secret: "b", user_id: "not-a-number" } },
    { harvest: { client_id: "a", client_secret: "b", colour: 1 } },
    { harvest: "a:b" },
  ]) {
    const r = await admin(w, "PATCH", `/v1/tenants/${t.id}`, { greenhouse: bad });
    assertErrorShape(assert, r, 422);
    assert.match(r.body.error.message, /greenhouse\.harvest/);
  }
  const set = await admin(w, "PATCH", `/v1/tenants/${t.id}`, { greenhouse: { harvest: { client_id: "hvcreds", client_secret: "very-secret-value", user_id: "4711" } } });
  assert.equal(set.status, 200, set.text);
  assert.equal(set.body.greenhouse.harvest_set, true);
  v = await admin(w, "GET", `/v1/tenants/${t.id}`);
  assert.equal(v.body.greenhouse.harvest_set, true);
  assert.ok(!v.text.includes("very-secret-value") && !v.text.includes("hvcreds"), "never shown");
  const cleared = await admin(w, "PATCH", `/v1/tenants/${t.id}`, { greenhouse: { harvest: null } });
  assert.equal(cleared.body.greenhouse.harvest_set, false);
});

test("happy path: record.new carries job, hiring team, requester and custom fields; the token and users are reused", async () => {
  const t = await tenant("hv-happy");
  const id = await order(t);
  const [ev] = await waitEvent(id, "record.new");
  const a = ev.eventData.candidateAssessment;
  assert.deepEqual(a.enrichment, { status: "complete", missing: [], error: null });
  assert.equal(a.jobId, "501");
  assert.deepEqual(a.job, { id: "501", name: "Backend Engineer", requisitionId: "REQ-7", url: null,
    locations: [{ name: "Berlin", address: "Berlin, Germany" }], departments: ["Engineering"] });
  assert.deepEqual(a.hiringTeam, [
    { id: "11", firstName: "Hana", lastName: "Manager", email: "hana@example.com", role: "HIRING_MANAGER" },
    { id: "12", firstName: "Rita", lastName: "Recruiter", email: "rita@example.com", role: "RECRUITER" }]);
  assert.deepEqual(a.requester, { id: "13", name: "Rex Sender", email: "recruiter@example.com" });
  assert.deepEqual(a.customFields, { salary_band: { label: "Salary band", type: "short_text", value: "B2" } });
  assert.equal(a.applicationId, "87456321");
  // The token request: client credentials as Basic, the user as `sub`.
  const tok = t.client.tokenCalls[0];
  assert.equal(tok.headers.authorization, "Basic " + Buffer.from("hvhappy:s3cret").toString("base64"));
  assert.match(tok.headers["content-type"], /application\/x-www-form-urlencoded/);
  assert.equal(tok.body, "grant_type=client_credentials&sub=4711");
  assert.deepEqual(t.client.reads.map((r) => r.path + r.query), [
    "/v3/applications?ids=87456321", "/v3/jobs?ids=501", "/v3/users?ids=11", "/v3/users?email=recruiter%40example.com"]);
  for (const r of t.client.reads) assert.equal(r.token, "at-hvhappy-1");
  // The stored record is the one sent.
  const stored = await admin(w, "GET", `/v1/tenants/${t.id}/assessments/${id}`);
  assert.deepEqual(stored.body.job, a.job);
  assert.equal(stored.body.enrichment.status, "complete");
  // A second order: same token, users from the cache; the application and job are read again.
  const id2 = await order(t);
  await waitEvent(id2, "record.new");
  assert.equal(t.client.tokenCalls.length, 1, "the token is cached until shortly before expiry");
  assert.deepEqual(t.client.reads.slice(4).map((r) => r.path + r.query), ["/v3/applications?ids=87456321", "/v3/jobs?ids=501"]);
  await sleep(1_500);
  assert.equal(eventsOf(id, "record.modified").length + eventsOf(id2, "record.modified").length, 0, "complete in time: no record.modified");
});

test("slow Harvest: record.new leaves at the 3 s budget as partial, then exactly one record.modified with the completed record", async () => {
  let jobAnswered = Infinity;
  const t = await tenant("hv-slow", { read: async (u) => {
    if (u.pathname === "/v3/jobs") { await sleep(4_500); jobAnswered = performance.now(); }
  } });
  const sentAt = performance.now();
  const id = await order(t);
  const [ev] = await waitEvent(id, "record.new");
  const arrived = hooks.requests.find((r) => r.body.includes(ev.eventId)).at;
  // It waited for the budget, and did not wait for Harvest's slow answer.
  assert.ok(arrived - sentAt >= 2_500, `record.new after ${arrived - sentAt} ms`);
  assert.ok(arrived < jobAnswered, "record.new left before Harvest answered");
  const early = ev.eventData.candidateAssessment;
  assert.equal(early.enrichment.status, "partial");
  assert.match(early.enrichment.error, /had not finished .* a record\.modified with the completed record follows/);
  assert.deepEqual(early.enrichment.missing, ["job", "hiringTeam"]);
  assert.equal(early.job, null);
  const [mod] = await waitEvent(id, "record.modified");
  const done = mod.eventData.candidateAssessment;
  assert.equal(done.enrichment.status, "complete");
  assert.equal(done.job.name, "Backend Engineer");
  assert.equal(done.hiringTeam.length, 2);
  assert.ok(mod.triggeredAt > ev.triggeredAt);
  await sleep(2_500);
  assert.equal(eventsOf(id, "record.modified").length, 1, "exactly one record.modified");
  assert.equal(eventsOf(id, "record.new").length, 1, "one record.new");
});

test("a missing scope (403) is named; what could be read is kept; no record.modified follows", async () => {
  const t = await tenant("hv-scope", { read: (u) => (u.pathname === "/v3/jobs" ? json(403, { error: "insufficient_scope" }) : null) });
  const id = await order(t);
  const [ev] = await waitEvent(id, "record.new");
  const a = ev.eventData.candidateAssessment;
  assert.equal(a.enrichment.status, "partial");
  assert.deepEqual(a.enrichment.missing, ["job", "hiringTeam"]);
  assert.match(a.enrichment.error, /HTTP 403.*harvest:jobs:list/);
  assert.equal(a.requester.name, "Rex Sender");
  assert.equal(a.customFields.salary_band.value, "B2");
  await sleep(1_500);
  assert.equal(eventsOf(id, "record.modified").length, 0);
});

test("429 with Retry-After: the read waits as told; a Retry-After past the budget ends in an error naming it", async () => {
  const t = await tenant("hv-rate", { read: (u, _tok, c) => (u.pathname === "/v3/applications" && c.reads.filter((r) => r.path === "/v3/applications").length === 1
    ? json(429, { error: "rate limited" }, { "retry-after": "1" }) : null) });
  const id = await order(t);
  const [ev] = await waitEvent(id, "record.new");
  assert.equal(ev.eventData.candidateAssessment.enrichment.status, "complete");
  const apps = t.client.reads.filter((r) => r.path === "/v3/applications");
  assert.equal(apps.length, 2);
  assert.ok(apps[1].at - apps[0].at >= 900, `waited ${apps[1].at - apps[0].at} ms`);

  const slow = await tenant("hv-rate-long", { read: (u) => (u.pathname === "/v3/applications" ? json(429, {}, { "retry-after": "600" }) : null) });
  const id2 = await order(slow);
  const [ev2] = await waitEvent(id2, "record.new");
  const e = ev2.eventData.candidateAssessment.enrichment;
  assert.notEqual(e.status, "complete");
  assert.match(e.error, /HTTP 429, Retry-After 600/);
  assert.equal(slow.client.reads.filter((r) => r.path === "/v3/applications").length, 1, "not retried past the budget");
});

test("an expired token: a 401 gets a new token once; a token refused again ends the enrichment as failed", async () => {
  const t = await tenant("hv-expired", { read: (_u, token) => (token.endsWith("-1") ? json(401, { error: "token expired" }) : null) });
  const id = await order(t);
  const [ev] = await waitEvent(id, "record.new");
  assert.equal(ev.eventData.candidateAssessment.enrichment.status, "complete");
  assert.equal(t.client.tokenCalls.length, 2);
  assert.deepEqual(t.client.reads.map((r) => r.token), ["at-hvexpired-1", "at-hvexpired-2", "at-hvexpired-2", "at-hvexpired-2", "at-hvexpired-2"]);

  const dead = await tenant("hv-dead", { read: () => json(401, { error: "invalid_token" }) });
  const id2 = await order(dead);
  const [ev2] = await waitEvent(id2, "record.new");
  const e = ev2.eventData.candidateAssessment.enrichment;
  assert.equal(e.status, "failed");
  assert.match(e.error, /HTTP 401/);
  assert.equal(dead.client.tokenCalls.length, 2, "refreshed once, not in a loop");
});

test("wrong client credentials: the order stands, enrichment failed naming the credentials", async () => {
  const t = await tenant("hv-wrong", { secret: "not-the-secret" });
  const id = await order(t);
  const [ev] = await waitEvent(id, "record.new");
  const a = ev.eventData.candidateAssessment;
  assert.equal(a.enrichment.status, "failed");
  assert.match(a.enrichment.error, /refused the Harvest v3 client credentials \(HTTP 401: Client authentication failed\)/);
  assert.equal(a.requester.email, "recruiter@example.com", "the order's own values stay");
  assert.equal(t.client.reads.length, 0);
});

test("an unknown application: job and hiring team missing, the error names the application", async () => {
  const t = await tenant("hv-unknown");
  const body = fixture("greenhouse/send_test.json");
  body.candidate.greenhouse_profile_url = "https://app.greenhouse.io/people/762198?application_id=999";
  const id = await order(t, { candidate: body.candidate });
  const [ev] = await waitEvent(id, "record.new");
  const a = ev.eventData.candidateAssessment;
  assert.notEqual(a.enrichment.status, "complete");
  assert.deepEqual(a.enrichment.missing, ["job", "hiringTeam"]);
  assert.match(a.enrichment.error, /no application 999/);
  assert.equal(a.job, null);
  assert.equal(a.requester.id, "13");
});

test("GET /v1/tenants/{t}/greenhouse/jobs lists the customer's jobs through Harvest, page by page", async () => {
  const t = await tenant("hv-jobs");
  const first = await admin(w, "GET", `/v1/tenants/${t.id}/greenhouse/jobs?status=open`);
  assert.equal(first.status, 200, first.text);
  assert.deepEqual(first.body.data, [{ id: "501", name: "Backend Engineer", requisitionId: "REQ-7", status: "open", departments: ["Engineering"], offices: ["Berlin"] }]);
  assert.equal(first.body.next_cursor, "page2");
  const second = await admin(w, "GET", `/v1/tenants/${t.id}/greenhouse/jobs?status=open&cursor=page2`);
  assert.equal(second.status, 200, second.text);
  assert.equal(second.body.data[0].name, "Designer");
  assert.equal(second.body.next_cursor, null);
  assert.deepEqual(t.client.reads.map((r) => r.query), ["?per_page=100&status=open", "?cursor=page2"]);

  assertErrorShape(assert, await admin(w, "GET", `/v1/tenants/${t.id}/greenhouse/jobs?status=bogus`), 422);
  assertErrorShape(assert, await admin(w, "GET", `/v1/tenants/${t.id}/greenhouse/jobs?cursor=${encodeURIComponent("a b")}`), 422);
  const ashby = await admin(w, "GET", `/v1/tenants/${t.id}/ashby/jobs`);
  assertErrorShape(assert, ashby, 404);
  assert.equal(ashby.body.error.code, "read_api_not_available");
  assertErrorShape(assert, await admin(w, "POST", `/v1/tenants/${t.id}/greenhouse/jobs`, {}), 405);

  const none = await tenant("hv-jobs-none", { harvestCreds: false });
  const r = await admin(w, "GET", `/v1/tenants/${none.id}/greenhouse/jobs`);
  assertErrorShape(assert, r, 422);
  assert.equal(r.body.error.code, "read_api_not_configured");

  const scoped = await tenant("hv-jobs-403", { read: () => json(403, {}) });
  const refused = await admin(w, "GET", `/v1/tenants/${scoped.id}/greenhouse/jobs`);
  assertErrorShape(assert, refused, 502);
  assert.match(refused.body.error.message, /harvest:jobs:list/);

  const limited = await tenant("hv-jobs-429", { read: () => json(429, {}, { "retry-after": "7" }) });
  const busy = await admin(w, "GET", `/v1/tenants/${limited.id}/greenhouse/jobs`);
  assertErrorShape(assert, busy, 503);
  assert.equal(busy.headers.get("retry-after"), "7");
});

test("the connect page asks for Harvest v3 credentials (optional), checks them with a token request, and stores them write-only", async () => {
  const t = await tenant("hv-connect", { harvestCreds: false });
  const link = (await admin(w, "POST", `/v1/tenants/${t.id}/connect-links`, { provider: "greenhouse" })).body;
  const post = (path, body) => fetch(`${link.url}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  const session = await (await post("/session", {})).json();
  assert.deepEqual(session.fields.map((f) => [f.name, f.optional, f.secret]), [
    ["harvest.client_id", true, false], ["harvest.client_secret", true, true], ["harvest.user_id", true, false]]);
  assert.match(session.fields[0].help, /harvest:applications:list.*harvest:jobs:list.*harvest:users:list/);

  // Half the credentials: refused naming the missing part.
  let r = await post("/complete", { "harvest.client_id": "hvconnect" });
  assert.equal(r.status, 422);
  assert.match((await r.json()).error.message, /greenhouse\.harvest\.client_secret/);
  // A wrong secret: Greenhouse's token endpoint refuses, the page says so, nothing is stored.
  r = await post("/complete", { "harvest.client_id": "hvconnect", "harvest.client_secret": "wrong" });
  assert.equal(r.status, 422);
  const refused = await r.json();
  assert.equal(refused.error.code, "credentials_rejected");
  assert.match(refused.error.message, /refused the Harvest v3 client credentials/);
  assert.equal((await admin(w, "GET", `/v1/tenants/${t.id}`)).body.greenhouse.harvest_set, false);
  // Right: checked with a token request, stored, connected.
  r = await post("/complete", { "harvest.client_id": "hvconnect", "harvest.client_secret": "s3cret", "harvest.user_id": "4711" });
  assert.equal(r.status, 200, await r.clone().text());
  assert.equal((await r.json()).state, "connected");
  const check = t.client.tokenCalls.at(-1);
  assert.equal(check.body, "grant_type=client_credentials&sub=4711");
  const v = await admin(w, "GET", `/v1/tenants/${t.id}`);
  assert.equal(v.body.greenhouse.harvest_set, true);
  assert.ok(!v.text.includes("s3cret"));
  // And orders of this tenant are enriched from now on.
  const id = await order(t);
  const [ev] = await waitEvent(id, "record.new");
  assert.equal(ev.eventData.candidateAssessment.enrichment.status, "complete");
});

test("a restart mid-enrichment loses nothing and sends nothing twice: the held record.new goes at its time, the alarm finishes the reads, one record.modified", async () => {
  let first = true;
  const t = await tenant("hv-restart", { read: async (u) => {
    // The first read hangs past the restart; after it Harvest answers normally.
    if (u.pathname === "/v3/applications" && first) { first = false; await sleep(6_000); }
  } });
  const id = await order(t);
  await w.restart();
  const [ev] = await waitEvent(id, "record.new", 1, 30_000);
  assert.equal(ev.eventData.candidateAssessment.enrichment.status, "partial", "sent as stored at its due time");
  const [mod] = await waitEvent(id, "record.modified", 1, 60_000);
  assert.equal(mod.eventData.candidateAssessment.enrichment.status, "complete");
  assert.equal(mod.eventData.candidateAssessment.job.name, "Backend Engineer");
  await sleep(3_000);
  assert.equal(eventsOf(id, "record.new").length, 1);
  assert.equal(eventsOf(id, "record.modified").length, 1);
  assert.equal(new Set(hooks.requests.filter((r) => r.body.includes(id)).map((r) => r.headers["webhook-id"])).size, 2);
});

// Issue 17 (tester): an assessment erased while its enrichment runs (README "Personal data").
test("erased while Harvest is slow or rate limiting: the reads stop at once, no record.modified follows, and the note says why", async () => {
  const slow = await tenant("hv-erase-slow", { read: async (u) => {
    if (u.pathname === "/v3/jobs") await sleep(5_000);
  } });
  const limited = await tenant("hv-erase-429", { read: (u) => (u.pathname === "/v3/jobs"
    ? json(429, { error: "rate limited" }, { "retry-after": "1" }) : null) });
  const ids = [await order(slow), await order(limited)];
  for (const id of ids) {
    const [ev] = await waitEvent(id, "record.new");
    assert.match(ev.eventData.candidateAssessment.enrichment.error, /a record\.modified with the completed record follows/);
  }
  // The slow tenant's job read is in flight; the limited one waits out a Retry-After.
  assert.ok(slow.client.reads.some((r) => r.path === "/v3/jobs"), JSON.stringify(slow.client.reads));
  assert.ok(limited.client.reads.filter((r) => r.path === "/v3/jobs").length >= 1);
  const byEmail = await admin(w, "POST", `/v1/tenants/${slow.id}/erasure`, { email: "john.doe@example.com" });
  assert.equal(byEmail.status, 200, byEmail.text);
  const byId = await admin(w, "POST", `/v1/tenants/${limited.id}/erasure`, { assessment_id: ids[1] });
  assert.equal(byId.status, 200, byId.text);
  const erasedAt = performance.now();
  const readsThen = [slow.client.reads.length, limited.client.reads.length];
  await sleep(7_000); // past the slow read's answer and several Retry-After waits
  assert.equal(slow.client.reads.length, readsThen[0], "a read after the erasure");
  assert.equal(limited.client.reads.length, readsThen[1], "a read after the erasure");
  assert.ok([...slow.client.reads, ...limited.client.reads].every((r) => r.at < erasedAt));
  for (const [t, id] of [[slow, ids[0]], [limited, ids[1]]]) {
    assert.equal(eventsOf(id, "record.modified").length, 0, "no record.modified after the erasure");
    const a = (await admin(w, "GET", `/v1/tenants/${t.id}/assessments/${id}`)).body;
    assert.equal(a.personalDataErased.reason, "request");
    assert.equal(a.enrichment.status, "failed", JSON.stringify(a.enrichment));
    assert.match(a.enrichment.error, /^stopped: the candidate's personal data was erased on request; the reads were cancelled and no record\.modified follows$/);
    assert.ok(!/john|doe|recruiter@/i.test(JSON.stringify(a)), JSON.stringify(a));
  }
  // Nothing resumes after a restart either (the alarm finds no running enrichment).
  await w.restart();
  await sleep(2_000);
  assert.equal(slow.client.reads.length + limited.client.reads.length, readsThen[0] + readsThen[1]);
  for (const id of ids) assert.equal(eventsOf(id, "record.modified").length, 0);
});
