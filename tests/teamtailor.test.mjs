// Issue 13: Teamtailor end to end through the built worker. Teamtailor calls one partner-level
// base URL (/p/teamtailor) and names the customer by its provider key: the activation form
// (field `key` = the tenant's tt_… key) as a JWS signed with the partner API key or a JWE keyed
// from the webhook secret; both are made here with node:crypto. A loopback fake Teamtailor
// receives the partner-result PUTs; a loopback receiver plays the vendor's webhook.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import {
  startWorker, startReceiver, admin, createTenant, createKey, verifyWebhook, sleep, fixture,
  events, wrap, teamtailorJws, teamtailorJwe, teamtailorSignature, ROOT,
} from "./harness.mjs";

const PARTNER_API_KEY = "tt-partner-api-key-test-5d1f";
const WEBHOOK_SECRET = "tt-webhook-secret-test-9a3c";

let w, teamtailor;
let teamtailorScript = () => ({ status: 200, body: { data: {} } });
const closers = [];

before(async () => {
  teamtailor = await startReceiver((req, n) => teamtailorScript(req, n));
  closers.push(teamtailor);
  w = await startWorker({
    vars: {
      RETRY_SCHEDULE: "1,1,1",
      TEAMTAILOR_PARTNER_API_KEY: PARTNER_API_KEY,
      TEAMTAILOR_WEBHOOK_SECRET: WEBHOOK_SECRET,
    },
  });
});
after(async () => {
  await Promise.all([w?.stop(), ...closers.map((c) => c.close())]);
});

const jws = (claims, key = PARTNER_API_KEY) => teamtailorJws(claims, key);
const jwe = (claims, secret = WEBHOOK_SECRET) => teamtailorJwe(claims, secret);
const signature = (eventId, t = undefined, secret = WEBHOOK_SECRET) => teamtailorSignature(eventId, secret, t);

/** Call /p/teamtailor/{op} as Teamtailor would. */
async function tt(op, { token, body, query = "", headers = {}, method } = {}) {
  const h = { ...headers };
  if (token !== undefined) h.authorization = `Bearer ${token}`;
  if (body !== undefined) h["content-type"] = "application/json";
  const r = await fetch(`${w.url}/p/teamtailor/${op}${query}`, {
    method: method ?? (body === undefined ? "GET" : "POST"),
    headers: h,
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  return wrap(r);
}

const PACKAGES = [
  { id: "pkg_backend", name: "Backend take-home", type: "CODE", criteria: [{ id: "sql", label: "SQL" }, { id: "api", label: "API design" }] },
  { id: "pkg_frontend", name: "Frontend exercise" },
];

async function setup(id) {
  const hooks = await startReceiver(() => ({ status: 200 }));
  closers.push(hooks);
  const t = await createTenant(w, id, hooks.url);
  await admin(w, "PUT", `/v1/tenants/${id}/packages`, PACKAGES);
  const issued = await createKey(w, id, "teamtailor");
  return { id, hooks, key: issued.secretKey, issued, secret: t.webhook.secret };
}

let seq = 0;
/** A webhook body from the fixture with a fresh partner result whose update-url is the fake. */
function order(overrides = {}) {
  const b = fixture("teamtailor/webhook.json");
  const rid = `res-${++seq}-${randomBytes(4).toString("hex")}`;
  b["partner-event"].id = `evt-${seq}`;
  b["partner-event"]["partner-result"].id = rid;
  b["partner-event"]["partner-result"]["update-url"] = `${teamtailor.url}/partner/v1/partner-results/${rid}`;
  Object.assign(b["partner-event"], overrides);
  return b;
}
const puts = (rid) => teamtailor.requests
  .filter((r) => r.path === `/partner/v1/partner-results/${rid}`)
  .map((r) => ({ ...r, json: JSON.parse(r.body) }));

/** Poll the assessment until its provider sync reaches `state` (retries are 1 s apart here; a
 *  loaded machine may need a while). */
async function waitSync(tenant, id, state) {
  let a;
  for (let i = 0; i < 300; i++) {
    a = await admin(w, "GET", `/v1/tenants/${tenant}/assessments/${id}`);
    if (a.body.providerSync?.state === state) return a.body;
    await sleep(100);
  }
  assert.fail(`providerSync never became ${state}: ${JSON.stringify(a.body.providerSync)}`);
}

test("a teamtailor key embeds the tenant and comes with the partner-level base URL", async () => {
  const ctx = await setup("tt-key");
  assert.equal(ctx.issued.provider, "teamtailor");
  assert.match(ctx.key, /^tt_tt-key\.[A-Za-z0-9_-]{43}$/);
  assert.ok(ctx.key.length < 171);
  assert.equal(ctx.issued.baseUrl, `${w.url}/p/teamtailor`);
});

test("config: a select of the tenant's packages with their criteria, for JWS and JWE provider keys", async () => {
  const ctx = await setup("tt-config");
  for (const token of [jws({ key: ctx.key }), jwe({ key: ctx.key })]) {
    const r = await tt("config", { token, query: "?job_id=5521&stage_id=88&user_id=204" });
    assert.equal(r.status, 200, r.text);
    const [field] = r.body.config.fields;
    assert.equal(field.id, "test");
    assert.equal(field.type, "select");
    assert.deepEqual(field.options, [{ id: "pkg_backend", label: "Backend take-home" }, { id: "pkg_frontend", label: "Frontend exercise" }]);
    assert.deepEqual(r.body.config["assessment-criteria"], [{ id: "sql", label: "SQL" }, { id: "api", label: "API design" }]);
  }
});

test("config: the vendor's packages_url is asked with Teamtailor's job_id and stage_id", async () => {
  const ctx = await setup("tt-perjob");
  const vendor = await startReceiver((req) => {
    const b = JSON.parse(req.body);
    return { status: 200, headers: { "content-type": "application/json" }, body: [{ id: `pkg_for_${b.job_id ?? "any"}`, name: `Test for job ${b.job_id ?? "any"}` }] };
  });
  closers.push(vendor);
  await admin(w, "PATCH", "/v1/tenants/tt-perjob", { packages_url: vendor.url });
  const token = jws({ key: ctx.key });
  const r = await tt("config", { token, query: "?job_id=5521&stage_id=88&user_id=204" });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.body.config.fields[0].options, [{ id: "pkg_for_5521", label: "Test for job 5521" }]);
  assert.deepEqual(JSON.parse(vendor.requests.at(-1).body), { tenant_id: "tt-perjob", provider: "teamtailor", job_id: "5521", stage_id: "88" });
  // Another job is another question (not answered from the first job's cache).
  const other = await tt("config", { token, query: "?job_id=7000" });
  assert.deepEqual(other.body.config.fields[0].options, [{ id: "pkg_for_7000", label: "Test for job 7000" }]);
  // Without a job (a trigger outside a job): the plain body.
  const plain = await tt("config", { token });
  assert.deepEqual(plain.body.config.fields[0].options, [{ id: "pkg_for_any", label: "Test for job any" }]);
  assert.deepEqual(JSON.parse(vendor.requests.at(-1).body), { tenant_id: "tt-perjob", provider: "teamtailor" });
});

test("webhook: stored, a signed record.new matching the fixture, idempotent on partner-result.id", async () => {
  const ctx = await setup("tt-order");
  const body = order();
  const rid = body["partner-event"]["partner-result"].id;
  const r = await tt("webhook", { token: jwe({ key: ctx.key }), body, headers: { "teamtailor-signature": signature(body["partner-event"].id) } });
  assert.equal(r.status, 200, r.text);
  const id = r.body.assessment_id;
  assert.match(id, /^ats_ass_/);
  const [req] = await ctx.hooks.waitFor(1);
  const ev = verifyWebhook(ctx.secret, req);
  assert.deepEqual(ev, fixture("teamtailor/record.new.expected.json", {
    assessmentId: id, updateUrl: body["partner-event"]["partner-result"]["update-url"], request: body,
    tenantId: "tt-order", status: "NOT_SPECIFIED", partnerEventId: body["partner-event"].id, partnerResultId: rid, eventId: ev.eventId, syncRunId: ev.syncRunId, triggeredAt: ev.triggeredAt,
  }));
  // Teamtailor retries (at most three times): the same id, no second event.
  const again = await tt("webhook", { token: jws({ key: ctx.key }), body });
  assert.equal(again.status, 200);
  assert.equal(again.body.assessment_id, id);
  await sleep(800);
  assert.equal(events(ctx.hooks, "record.new").length, 1);
  const stored = await admin(w, "GET", `/v1/tenants/tt-order/assessments/${id}`);
  assert.equal(stored.body.provider, "teamtailor");
  assert.equal(stored.body.callbackUrl, `${teamtailor.url}/partner/v1/partner-results/${rid}`);
});

test("results: every accepted result is PUT to the update-url as JSON:API with the partner API key", async () => {
  const ctx = await setup("tt-result");
  const body = order();
  const rid = body["partner-event"]["partner-result"].id;
  const id = (await tt("webhook", { token: jws({ key: ctx.key }), body })).body.assessment_id;
  const progress = await admin(w, "POST", `/v1/tenants/tt-result/assessments/${id}/result`, { status: "IN_PROGRESS" });
  assert.equal(progress.status, 200, progress.text);
  await teamtailor.waitFor(0, 15_000, () => puts(rid).length >= 1);
  const [first] = puts(rid);
  assert.equal(first.method, "PUT");
  assert.equal(first.headers.authorization, `Bearer ${PARTNER_API_KEY}`);
  assert.equal(first.headers["x-api-version"], "20180828");
  assert.equal(first.headers["content-type"], "application/vnd.api+json");
  assert.deepEqual(first.json, { data: { type: "partner-results", id: rid, attributes: { status: "pending" } } });

  const done = await admin(w, "POST", `/v1/tenants/tt-result/assessments/${id}/result`, fixture("result.completed.json"));
  assert.equal(done.status, 200, done.text);
  await teamtailor.waitFor(0, 15_000, () => puts(rid).length >= 2);
  assert.deepEqual(puts(rid)[1].json, fixture("teamtailor/partner-result.completed.expected.json", { resultId: rid }));
  const a = await waitSync("tt-result", id, "synced");
  assert.equal(a.status, "COMPLETED");
  assert.equal(a.providerSync.lastStatus, 200);
});

test("after an erasure, results still reach the partner result by its id, and the record stays erased", async () => {
  const ctx = await setup("tt-erased");
  const body = order();
  const rid = body["partner-event"]["partner-result"].id;
  const email = body["partner-event"].candidate.email;
  assert.ok(email);
  const id = (await tt("webhook", { token: jws({ key: ctx.key }), body })).body.assessment_id;
  const e = await admin(w, "POST", `/v1/tenants/tt-erased/erasure`, { assessment_id: id });
  assert.equal(e.status, 200, e.text);
  assert.equal(e.body.erased.assessments, 1);
  const erased = (await admin(w, "GET", `/v1/tenants/tt-erased/assessments/${id}`)).body;
  assert.equal(erased.originData, null);
  assert.ok(!JSON.stringify(erased).includes(email), JSON.stringify(erased));
  const done = await admin(w, "POST", `/v1/tenants/tt-erased/assessments/${id}/result`, fixture("result.completed.json"));
  assert.equal(done.status, 200, done.text);
  await teamtailor.waitFor(0, 15_000, () => puts(rid).length >= 1);
  assert.deepEqual(puts(rid)[0].json, fixture("teamtailor/partner-result.completed.expected.json", { resultId: rid }),
    "the partner-result id survives the erased originData");
  const a = await waitSync("tt-erased", id, "synced");
  assert.equal(a.status, "COMPLETED");
  assert.equal(a.personalDataErased?.reason, "request");
});

test("results: 5xx and 429 are retried until they land; another 4xx is final and visible", async () => {
  const ctx = await setup("tt-sync");
  const b1 = order();
  const r1 = b1["partner-event"]["partner-result"].id;
  let failures = 2;
  teamtailorScript = (req) => {
    if (req.path.endsWith(r1) && failures > 0) {
      failures--;
      return failures === 1 ? { status: 503, body: "busy" } : { status: 429, headers: { "retry-after": "1" }, body: "slow down" };
    }
    return { status: 200, body: { data: {} } };
  };
  const id1 = (await tt("webhook", { token: jws({ key: ctx.key }), body: b1 })).body.assessment_id;
  await admin(w, "POST", `/v1/tenants/tt-sync/assessments/${id1}/result`, { status: "STARTED" });
  const a1 = await waitSync("tt-sync", id1, "synced");
  assert.equal(a1.providerSync.attempts, 3);
  assert.equal(puts(r1).length, 3);

  const b2 = order();
  const r2 = b2["partner-event"]["partner-result"].id;
  teamtailorScript = (req) => (req.path.endsWith(r2)
    ? { status: 422, headers: { "content-type": "application/vnd.api+json" }, body: { errors: [{ detail: "score must be between 0 and 100" }] } }
    : { status: 200, body: { data: {} } });
  const id2 = (await tt("webhook", { token: jws({ key: ctx.key }), body: b2 })).body.assessment_id;
  await admin(w, "POST", `/v1/tenants/tt-sync/assessments/${id2}/result`, { status: "STARTED" });
  const a2 = await waitSync("tt-sync", id2, "failed");
  assert.equal(a2.providerSync.lastStatus, 422);
  assert.equal(a2.providerSync.error.code, "provider_sync");
  assert.match(a2.providerSync.error.message, /score must be between 0 and 100/);
  await sleep(2500);
  assert.equal(puts(r2).length, 1, "a 422 is not retried");
  teamtailorScript = () => ({ status: 200, body: { data: {} } });
});

test("a bad token is the same 401 whether or not the tenant exists; a bad signature gets its own 401", async () => {
  const ctx = await setup("tt-auth");
  const body = order();
  const forged = ctx.key.replace(/\.(.)/, (m, c) => `.${c === "A" ? "B" : "A"}`);
  const ghost = ctx.key.replace("tt_tt-auth.", "tt_no-such-tenant.");
  const answers = [];
  for (const token of [
    undefined, "", "not-a-token", ctx.key, // the bare key is not a provider-key token
    jws({ key: ctx.key }, "another-partner-key"), jwe({ key: ctx.key }, "another-webhook-secret"),
    jws({ other: ctx.key }), jws({ key: forged }), jwe({ key: ghost }), jws({ key: "tt_no-such-tenant" }),
    jws({ key: ctx.key, exp: Math.floor(Date.now() / 1000) - 60 }),
  ]) {
    for (const [op, b] of [["webhook", body], ["config", undefined]]) {
      const r = await tt(op, { token, body: b });
      // Teamtailor sends a bearer token: the challenge and the message say so.
      assert.equal(r.headers.get("www-authenticate"), 'Bearer realm="ats-bridge"', r.text);
      answers.push([r.status, r.text]);
    }
  }
  for (const [status, text] of answers) {
    assert.equal(status, 401);
    assert.equal(text, answers[0][1], "one answer for every kind of bad credential");
  }
  assert.ok(Array.isArray(JSON.parse(answers[0][1]).errors));
  assert.match(JSON.parse(answers[0][1]).errors[0], /Authorization: Bearer/);
  assert.doesNotMatch(JSON.parse(answers[0][1]).errors[0], /Basic/);

  const eventId = body["partner-event"].id;
  const token = jws({ key: ctx.key });
  // A bad signature with a valid key is a 401 about the signature, never "invalid API key".
  for (const [sig, why] of [
    [signature(eventId, undefined, "wrong"), /does not match/],
    [signature(eventId, Math.floor(Date.now() / 1000) - 301), /5 minutes/],
    [signature("another-event"), /does not match/],
    ["t=1,v1=zz", /malformed/],
  ]) {
    const r = await tt("webhook", { token, body, headers: { "teamtailor-signature": sig } });
    assert.equal(r.status, 401, sig);
    assert.equal(r.headers.get("www-authenticate"), 'Bearer realm="ats-bridge"', r.text);
    const errors = JSON.parse(r.text).errors;
    assert.ok(Array.isArray(errors) && errors.length === 1, r.text);
    assert.match(errors[0], /Teamtailor-Signature/, r.text);
    assert.match(errors[0], why, r.text);
    assert.doesNotMatch(errors[0], /API key/i, r.text);
    assert.notEqual(r.text, answers[0][1], "not the bad-key answer");
  }
  const ok = await tt("webhook", { token, body, headers: { "teamtailor-signature": signature(eventId) } });
  assert.equal(ok.status, 200, ok.text);
  // A revoked key stops working at once.
  assert.equal((await admin(w, "DELETE", "/v1/tenants/tt-auth/secrets/teamtailor")).status, 204);
  assert.equal((await tt("config", { token })).status, 401);
});

test("bad input: malformed JSON 400, missing email or test 422 saying so, oversized 413, never a 5xx", async () => {
  const ctx = await setup("tt-bad");
  const token = jws({ key: ctx.key });
  const malformed = await tt("webhook", { token, body: "{nope" });
  assert.equal(malformed.status, 400);
  assert.ok(malformed.body.errors[0].length > 10);

  const noEmail = order();
  delete noEmail["partner-event"].candidate.email;
  const e1 = await tt("webhook", { token, body: noEmail });
  assert.equal(e1.status, 422);
  assert.match(e1.body.errors[0], /candidate\.email/);
  assert.match(e1.body.errors[0], /no email address/);

  const noTest = order({ "webhook-data": { "pass-mark": "70" } });
  const e2 = await tt("webhook", { token, body: noTest });
  assert.equal(e2.status, 422);
  assert.match(e2.body.errors[0], /webhook-data\.test/);
  assert.match(e2.body.errors[0], /pick a test/);

  const foreign = order();
  foreign["partner-event"]["partner-result"]["update-url"] = "ftp://127.0.0.1/x";
  assert.equal((await tt("webhook", { token, body: foreign })).status, 422);

  const big = order();
  big["partner-event"].candidate.questions = [{ question: "x", answer: "y".repeat(300 * 1024) }];
  const e3 = await tt("webhook", { token, body: big });
  assert.equal(e3.status, 413);

  for (const weird of ["[]", "null", "42", '{"partner-event":[]}', '{"partner-event":{"candidate":"x"}}', "\u0000"]) {
    const r = await tt("webhook", { token, body: weird });
    assert.ok(r.status >= 400 && r.status < 500, `${weird}: ${r.status} ${r.text}`);
    assert.ok(Array.isArray(r.body.errors), r.text);
  }
  // The wrong method or operation answers in Teamtailor's shape too, like every 4xx on its paths.
  const wrongMethod = await tt("webhook", { token });
  assert.equal(wrongMethod.status, 405, "GET on the webhook");
  assert.ok(wrongMethod.headers.get("allow"), "405 names the allowed methods");
  assert.equal(typeof wrongMethod.body.errors?.[0], "string", wrongMethod.text);
  const patch = await tt("webhook", { token, method: "PATCH" });
  assert.equal(patch.status, 405);
  assert.equal(typeof patch.body.errors?.[0], "string", patch.text);
  const del = await tt("validate", { token, method: "DELETE" });
  assert.equal(del.status, 405);
  assert.equal(typeof del.body.errors?.[0], "string", del.text);
  const missing = await tt("nothing-here", { token });
  assert.equal(missing.status, 404);
  assert.equal(typeof missing.body.errors?.[0], "string", missing.text);
  await sleep(300);
  assert.equal(events(ctx.hooks, "record.new").length, 0, "nothing refused was stored");
});

test("activation: the form needs no key; validate answers 200 for a live key, else 401 errors", async () => {
  const ctx = await setup("tt-activate");
  const form = await tt("activation", { query: "?company_id=kQ3xZpL9aR2" });
  assert.equal(form.status, 200, form.text);
  const inputs = form.body.config.fields.filter((f) => f.id);
  assert.deepEqual(inputs.map((f) => [f.id, f.type]), [["key", "text"]]);
  assert.ok(form.body.config.fields.some((f) => f.type === "infobox"));
  assert.equal(form.body.validateEndpoint, "validate");

  const ok = await tt("validate", { token: jws({ key: ctx.key }) });
  assert.equal(ok.status, 200, ok.text);
  for (const token of [jws({ key: "tt_tt-activate.wrong" }), jws({ key: "" }), "garbage"]) {
    const bad = await tt("validate", { token });
    assert.equal(bad.status, 401);
    assert.ok(bad.body.errors.length >= 1 && typeof bad.body.errors[0] === "string");
  }
});

test("the teamtailor player plays activation, validate, config and an order against a running worker", async () => {
  const ctx = await setup("tt-player");
  for (const env of [{ TEAMTAILOR_PARTNER_API_KEY: PARTNER_API_KEY }, { TEAMTAILOR_WEBHOOK_SECRET: WEBHOOK_SECRET }]) {
    const r = spawnSync(process.execPath, [join(ROOT, "scripts/demo.mjs"), "teamtailor", "--base", w.url, "--key", ctx.key], {
      cwd: ROOT, encoding: "utf8", timeout: 60_000, env: { PATH: process.env.PATH, ...env },
    });
    assert.equal(r.status, 0, `player failed:\n${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /every call answered as Teamtailor expects/);
    assert.match(r.stdout, /"assessment_id": "ats_ass_/);
  }
  await ctx.hooks.waitFor(2);
  const orders = events(ctx.hooks, "record.new");
  assert.equal(orders.length, 2, "one order per run");
  assert.equal(orders[0].eventData.candidateAssessment.assessmentPackage.id, "pkg_backend", "the first package of the config");
  const bad = spawnSync(process.execPath, [join(ROOT, "scripts/demo.mjs"), "teamtailor", "--base", w.url, "--key", ctx.key], {
    cwd: ROOT, encoding: "utf8", timeout: 60_000, env: { PATH: process.env.PATH, TEAMTAILOR_PARTNER_API_KEY: "not-the-deployment-key" },
  });
  assert.notEqual(bad.status, 0);
  assert.match(bad.stdout + bad.stderr, /401/);
});

test("mutated orders: every field of the fixture replaced by odd values answers 2xx or a 4xx in Teamtailor's shape", async () => {
  const ctx = await setup("tt-mutants");
  const token = jws({ key: ctx.key });
  const paths = [];
  const walk = (o, p) => {
    if (o && typeof o === "object") for (const k of Object.keys(o)) { paths.push([...p, k]); walk(o[k], [...p, k]); }
  };
  walk(order(), []);
  const odd = [null, 0, -1, 1e308, "", "x".repeat(5000), [], {}, [null], true, "\u0000", "<script>", { nested: { deep: [1] } }];
  const answers = [];
  for (const path of paths) {
    for (const value of [odd[answers.length % odd.length], undefined]) {
      const b = order();
      let cur = b;
      for (const k of path.slice(0, -1)) cur = cur[k];
      if (value === undefined) delete cur[path.at(-1)];
      else cur[path.at(-1)] = value;
      const r = await tt("webhook", { token, body: b });
      answers.push(r.status);
      assert.ok(r.status < 500, `${path.join(".")} = ${JSON.stringify(value)?.slice(0, 40)} → ${r.status} ${r.text.slice(0, 200)}`);
      if (r.status >= 400) assert.ok(Array.isArray(r.body.errors) && typeof r.body.errors[0] === "string", r.text);
    }
  }
  assert.ok(answers.filter((s) => s === 200).length > 10, "most mutations of optional fields are accepted");
  assert.ok(answers.filter((s) => s === 422).length >= 5, "mutations of required fields are refused");
});
