#!/usr/bin/env node
// ats-bridge in five minutes. `node scripts/demo.mjs` (or `make demo`) runs the built worker
// locally, plays Greenhouse, Ashby, Teamtailor, Recruitee and your webhook receiver on
// 127.0.0.1, and walks orders through each ATS. `node scripts/demo.mjs greenhouse|ashby --base … --tenant … --key …` (or
// `recruitee|teamtailor --base … --key …`) plays the ATS against a deployed worker, to check a
// tenant before the ATS switches the integration on. `node scripts/demo.mjs receiver --secret
// whsec_…` is a webhook receiver for `make dev`: it verifies and prints every event it gets.
import { randomUUID } from "node:crypto";
import { createServer } from "node:http";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { Webhook } from "standardwebhooks";
import {
  ROOT, startWorker, startReceiver, admin, edge, fixture, sleep, wrap, teamtailorJws, teamtailorJwe,
  teamtailorSignature,
} from "../tests/harness.mjs";

const USAGE = `ats-bridge demo

  node scripts/demo.mjs
      Local tour: starts the built worker (build/) under wrangler dev, plus a fake Greenhouse
      (with Harvest v3), a fake Ashby API, a fake Teamtailor, a fake Recruitee and a webhook
      receiver that verifies every signature, all on 127.0.0.1; one order through each ATS,
      from the order to the result the ATS gets back.

  node scripts/demo.mjs greenhouse --base URL --tenant ID --key gh_… [--callback URL] [--test ID]
      Play Greenhouse against a deployed worker: list_tests → send_test → test_status.
      --callback  the completion URL Greenhouse would send (default: a unique
                  https://app.greenhouse.io/integrations/testing_partners/take_home_tests/… placeholder)

  node scripts/demo.mjs ashby --base URL --tenant ID --key ab_… [--test ID]
      Play Ashby against a deployed worker: assessment.list → assessment.start → assessment.cancel.

  node scripts/demo.mjs recruitee --base URL --key rc_… [--test ID]
      Play Recruitee against a deployed worker: tests → send_candidate → the same send_candidate
      again (idempotent on report_id). The key names its tenant; the bridge then marks the report
      sent at Recruitee (for this made-up report Recruitee answers 404, shown on the assessment).

  node scripts/demo.mjs teamtailor --base URL --key tt_… [--update-url URL] [--test ID]
      Play Teamtailor against a deployed worker: activation → validate → config → webhook.
      The provider-key token is made as Teamtailor makes it, from the deployment's own secrets
      read from the environment: TEAMTAILOR_PARTNER_API_KEY (a JWS), else
      TEAMTAILOR_WEBHOOK_SECRET (a JWE); with the webhook secret set, the order is also signed
      (Teamtailor-Signature).
      --update-url  the partner result's update-url (default: a unique placeholder on
                    https://api.teamtailor.com; results you post for it will fail there with 404)

  node scripts/demo.mjs receiver --secret whsec_… [--secret whsec_…] [--port 8788]
      A webhook receiver for a local worker (\`make dev\`): listens on http://127.0.0.1:PORT (any
      path; point the tenant's webhook.url there), verifies each event's Standard Webhooks
      signature with the tenant's secret (or WEBHOOK_SECRET; several --secret: any one may
      sign, as during a rotation or for webhook endpoints), prints it, and answers 204 (a
      forged or stale one: 400, printed as such). Runs until Ctrl-C.

  --test ID   the package to order (default: the first one the list call returns)
  --help      this text

Remote mode starts nothing: the events it causes go to the tenant's configured webhook.`;

const TENANT = "demo";
const TIMEOUT_MS = 90_000;
// The local tour's deployment secrets for Teamtailor and Recruitee (README "Configuration").
const TT_PARTNER_API_KEY = "demo-teamtailor-partner-api-key";
const TT_WEBHOOK_SECRET = "demo-teamtailor-webhook-secret";
const RC_CODENAME = "demo-vendor";
const RC_PARTNER_SECRET = "demo-recruitee-partner-secret";
class DemoError extends Error {}
const fail = (msg) => { throw new DemoError(msg); };

// ---------- output helpers ----------
// Once the demo is ending, steps still in flight must not print over the closing message.
let quiet = false;
const out = (s = "") => quiet || console.log(s);
const say = (s, indent = 3) => out(" ".repeat(indent) + s);
const heading = (n, title) => out(`\n${n}. ${title}`);
const compact = (v, max = 150) => {
  const s = typeof v === "string" ? v : JSON.stringify(v);
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
};
const indentJson = (v, indent) => JSON.stringify(v, null, 2).split("\n").map((l) => " ".repeat(indent) + l).join("\n");
// Webhooks carry real candidate emails; a tour printed to a terminal (or pasted in a chat) should not.
const maskEmail = (e) => (typeof e === "string" && e.includes("@") ? `${e[0]}***${e.slice(e.indexOf("@"))}` : "(none)");
const showKey = (k) => `${k.slice(0, 7)}… (${k.length} chars, shown once)`;

/** One HTTP exchange, printed as the caller sees it. Anything but 2xx ends the demo with the
 *  server's own error message, which is what a newcomer needs to fix their setup. */
async function call(label, request, { full = false, brief = false } = {}) {
  say(`→ ${label}`);
  const r = await request.catch((e) => fail(`${label}: cannot reach the worker (${e.cause?.code ?? e.cause?.message ?? e.message})`));
  if (brief && r.status < 300) say(`← ${r.status}`);
  else if (full && r.status < 300) out(`   ← ${r.status}\n${indentJson(r.body, 6)}`);
  else say(`← ${r.status} ${compact(r.body)}`);
  if (r.status >= 300) {
    const why = r.body?.error?.message ?? r.body?.message ?? r.body?.errors?.[0] ?? compact(r.text);
    const hint = r.status === 401 ? " (check --tenant and --key: a key works only for its own tenant and ATS)" : "";
    fail(`${label} answered ${r.status}: ${why}${hint}`);
  }
  return r.body;
}

// ---------- lifecycle: whatever happens, stop the worker's process group and the servers ----------
let workerP = null; // the startWorker promise, so an interrupt during start-up still stops it
const servers = [];
let waitingFor = "";
let finishing = false;
let timer = null; // every mode but the receiver (which runs until stopped) ends within TIMEOUT_MS
const startTimer = () => {
  timer = setTimeout(() => finish(new DemoError(`timed out after ${TIMEOUT_MS / 1000} s${waitingFor ? ` waiting for ${waitingFor}` : ""}`)), TIMEOUT_MS);
};
process.on("SIGINT", () => finish(Object.assign(new DemoError("interrupted"), { exitCode: 130 })));
process.on("SIGTERM", () => finish(Object.assign(new DemoError("terminated"), { exitCode: 143 })));

async function finish(err) {
  if (finishing) return;
  finishing = true;
  clearTimeout(timer);
  if (err) {
    const msg = err instanceof DemoError ? err.message : `unexpected error: ${err.message}`;
    out(`\n✗ ${msg}`);
    if (!(err instanceof DemoError) && process.env.DEMO_DEBUG) out(err.stack);
  }
  if (workerP || servers.length) say("stopping the worker and the fake servers…", 0);
  quiet = true;
  await workerP?.then((w) => w.stop(), () => {});
  await Promise.all(servers.map((s) => s.close().catch(() => {})));
  process.exit(err ? err.exitCode ?? 1 : 0);
}

/** Wait for a condition; the global timer ends the demo (naming what it waited for) if it never holds. */
async function until(what, pred) {
  waitingFor = what;
  for (;;) {
    if (problems.length) fail(problems[0]);
    const v = pred();
    if (v) {
      waitingFor = "";
      return v;
    }
    await sleep(25);
  }
}

// ---------- local mode: the partner's webhook receiver ----------
let webhookSecret = null; // known once the tenant exists; no event can arrive before that
const received = new Map(); // webhook-id → event; receivers dedupe on webhook-id (delivery is at-least-once)
const problems = [];

function receiveWebhook(req) {
  try {
    // Exactly what a vendor's backend does: the standardwebhooks library, not our own HMAC code.
    const event = new Webhook(webhookSecret).verify(req.body, req.headers);
    const id = req.headers["webhook-id"];
    if (!received.has(id)) received.set(id, { id, event, shown: false });
    return { status: 204 };
  } catch (e) {
    problems.push(`a webhook failed signature verification (${e.message})`);
    return { status: 400, body: "invalid signature" };
  }
}

async function expectWebhook(type, recordId) {
  const hit = await until(`the ${type} webhook for ${recordId}`, () =>
    [...received.values()].find((h) => !h.shown && h.event.eventType === type && h.event.recordId === recordId));
  hit.shown = true;
  const a = hit.event.eventData?.candidateAssessment ?? {};
  const c = a.candidate ?? {};
  const p = a.assessmentPackage ?? {};
  say(`⇢ webhook ${type}   webhook-id ${hit.id}`, 5);
  if (type !== "record.new") {
    // The record was shown with its record.new; what changed is the status.
    say(`recordId   ${hit.event.recordId}   status ${a.status}   ✓ signature verified`, 7);
    return;
  }
  say(`recordId   ${hit.event.recordId}`, 7);
  say(`candidate  ${c.firstName} ${c.lastName} <${maskEmail(c.emails?.[0]?.email)}>`, 7);
  say(`package    ${p.id} · ${p.name ?? "(no name)"}`, 7);
  say(`status     ${a.status}   (from ${a.provider})`, 7);
  if (a.job) {
    const job = [a.job.name, a.job.requisitionId, (a.job.departments ?? []).join(", ")].filter(Boolean).join(" · ");
    const harvest = a.enrichment?.status && a.enrichment.status !== "not_configured" ? `   (enrichment ${a.enrichment.status}, from Harvest v3)` : "";
    say(`job        ${job}${harvest}`, 7);
  }
  const team = (a.hiringTeam ?? []).map((m) => `${m.firstName} ${m.lastName} (${m.role})`).join(", ");
  if (team || a.requester?.name) say(`team       ${[team, a.requester?.name && `requested by ${a.requester.name}`].filter(Boolean).join("; ")}`, 7);
  say("✓ signature verified", 7);
}

/** The fake Greenhouse's Harvest v3 (README "Order enrichment"): a token, and the order's
 *  application, job, hiring team and requester. */
function harvest(req) {
  const u = new URL(req.path, "http://fake");
  const json = (body) => ({ status: 200, headers: { "content-type": "application/json" }, body });
  if (u.pathname === "/token") return json({ access_token: "demo-harvest-token", token_type: "bearer", expires_in: 3600 });
  if (req.headers.authorization !== "Bearer demo-harvest-token") return { status: 401 };
  switch (u.pathname) {
    case "/v3/applications": return json([{ id: Number(u.searchParams.get("ids")), job_id: 4021 }]);
    case "/v3/jobs": return json([{ id: 4021, name: "Senior Backend Engineer", requisition_id: "ENG-118",
      departments: [{ name: "Engineering" }], offices: [{ name: "Remote (EU)" }],
      hiring_team: { hiring_managers: [{ id: 31, first_name: "Maya", last_name: "Okafor", email: "maya@demo.example" }],
        recruiters: [{ id: 32, first_name: "Sam", last_name: "Lee", email: "sam@demo.example" }] } }]);
    case "/v3/users": return json([{ id: 33, first_name: "Robin", last_name: "Recruiter", primary_email_address: u.searchParams.get("email") }]);
    default: return { status: 404 };
  }
}

// ---------- local mode ----------
async function local() {
  if (!existsSync(join(ROOT, "build/entry.mjs"))) fail("build/entry.mjs is missing: run `make build` first (or `make demo`).");
  out("ats-bridge demo: an order through Greenhouse, Ashby, Teamtailor and Recruitee, end to end, all on 127.0.0.1");

  heading(1, "Start the bridge and the fakes around it");
  const hooks = await startReceiver(receiveWebhook);
  servers.push(hooks);
  // Fake Greenhouse: like the real one, it reads test_status the moment the completion PATCH lands,
  // which is why the bridge stores the result before it PATCHes.
  const gh = { key: null, interviewId: null, seen: [] };
  const greenhouse = await startReceiver(async (req) => {
    if (req.method !== "PATCH") return harvest(req);
    const user = Buffer.from((req.headers.authorization ?? "").replace(/^Basic /i, ""), "base64").toString().split(":")[0];
    try {
      const st = await edge(w, TENANT, "greenhouse", "test_status", { key: gh.key, query: `?partner_interview_id=${gh.interviewId}` });
      gh.seen.push({ path: req.path, user, answer: st });
    } catch (e) { problems.push(`fake Greenhouse could not call test_status: ${e.message}`); }
    return { status: 200 };
  });
  servers.push(greenhouse);
  const ashby = await startReceiver(() => ({ status: 200, headers: { "content-type": "application/json" }, body: { success: true } }));
  servers.push(ashby);
  // Teamtailor answers its partner-result PUTs with the JSON:API document; Recruitee its report PATCHes with 200.
  const teamtailor = await startReceiver(() => ({ status: 200, headers: { "content-type": "application/vnd.api+json" }, body: { data: {} } }));
  servers.push(teamtailor);
  const recruitee = await startReceiver(() => ({ status: 200, headers: { "content-type": "application/json" }, body: {} }));
  servers.push(recruitee);
  // RETRY_SCHEDULE short: if anything hiccups, a retry lands within the demo instead of minutes later.
  workerP = startWorker({ vars: { ASHBY_API_BASE: `${ashby.url}/api/`, RETRY_SCHEDULE: "1,2,3",
    HARVEST_API_BASE: `${greenhouse.url}/v3`, HARVEST_TOKEN_URL: `${greenhouse.url}/token`,
    TEAMTAILOR_PARTNER_API_KEY: TT_PARTNER_API_KEY, TEAMTAILOR_WEBHOOK_SECRET: TT_WEBHOOK_SECRET,
    RECRUITEE_API_BASE: `${recruitee.url}/api/`, RECRUITEE_PARTNER_CODENAME: RC_CODENAME, RECRUITEE_PARTNER_SECRET: RC_PARTNER_SECRET } });
  const w = await workerP.catch((e) => {
    const tail = e.message.trim().split("\n").slice(-12).map((l) => `     ${l}`).join("\n");
    fail(`the worker did not start:\n${tail}`);
  });
  say(`worker            ${w.url}   (build/entry.mjs under wrangler dev, fresh local state)`);
  say(`webhook receiver  ${hooks.url}/webhooks/ats   (your backend; verifies every signature)`);
  say(`fake Greenhouse   ${greenhouse.url}   (receives the completion PATCH; plays Harvest v3 at /token and /v3)`);
  say(`fake Ashby API    ${ashby.url}/api/   (ASHBY_API_BASE; receives assessment.update)`);
  say(`fake Teamtailor   ${teamtailor.url}   (receives the partner-result PUT at the order's update-url)`);
  say(`fake Recruitee    ${recruitee.url}/api/   (RECRUITEE_API_BASE; receives the report PATCHes)`);

  heading(2, `Onboard a customer: tenant "${TENANT}"`);
  const t = await call(`POST /v1/tenants {"id":"${TENANT}","webhook":{"url":"…/webhooks/ats"}}`,
    admin(w, "POST", "/v1/tenants", { id: TENANT, name: "Demo Co", webhook: { url: `${hooks.url}/webhooks/ats` } }), { brief: true });
  webhookSecret = t.webhook.secret;
  say(`webhook secret ${showKey(webhookSecret)}: your receiver verifies with it`, 5);
  const packages = [...fixture("packages.json"),
    { id: "pkg_456", name: "Frontend Engineer Assessment", description: "Technical Skills Assessment", type: "SKILLS_TEST" }];
  await call(`PUT /v1/tenants/${TENANT}/packages   (${packages.map((p) => p.id).join(", ")})`,
    admin(w, "PUT", `/v1/tenants/${TENANT}/packages`, packages), { brief: true });
  // Outbound credentials: Greenhouse's partner login (for the PATCH) and the customer's Ashby API key.
  await call(`PATCH /v1/tenants/${TENANT}   greenhouse partner credentials + Harvest v3 credentials + ashby.api_key`,
    admin(w, "PATCH", `/v1/tenants/${TENANT}`, {
      greenhouse: { partner_username: "demo-partner", partner_password: "demo-partner-password",
        harvest: { client_id: "demo-harvest-client", client_secret: "demo-harvest-secret" } },
      ashby: { api_key: "demo-customer-ashby-key" },
    }), { brief: true });
  const ghKey = await call(`POST /v1/tenants/${TENANT}/secrets {"provider":"greenhouse"}`, admin(w, "POST", `/v1/tenants/${TENANT}/secrets`, { provider: "greenhouse" }), { brief: true });
  const abKey = await call(`POST /v1/tenants/${TENANT}/secrets {"provider":"ashby"}`, admin(w, "POST", `/v1/tenants/${TENANT}/secrets`, { provider: "ashby" }), { brief: true });
  const ttKey = await call(`POST /v1/tenants/${TENANT}/secrets {"provider":"teamtailor"}`, admin(w, "POST", `/v1/tenants/${TENANT}/secrets`, { provider: "teamtailor" }), { brief: true });
  const rcKey = await call(`POST /v1/tenants/${TENANT}/secrets {"provider":"recruitee"}`, admin(w, "POST", `/v1/tenants/${TENANT}/secrets`, { provider: "recruitee" }), { brief: true });
  gh.key = ghKey.secretKey;
  say("What you hand to each ATS:");
  say(`Greenhouse  API key ${showKey(ghKey.secretKey)}`, 5);
  for (const m of ["list_tests", "send_test", "test_status", "response_error"]) say(`${m.padEnd(15)}${ghKey.baseUrl}/${m}`, 9);
  say(`Ashby       API key ${showKey(abKey.secretKey)}`, 5);
  say(`base URL       ${abKey.baseUrl}   (Ashby appends assessment.list / .start / .cancel)`, 9);
  say(`Teamtailor  key ${showKey(ttKey.secretKey)}: the customer pastes it into Teamtailor's activation form`, 5);
  say(`BASE_URL       ${ttKey.baseUrl}   (one for all customers, set once in Teamtailor's Integrations Hub)`, 9);
  say(`Recruitee   key ${showKey(rcKey.secretKey)}: the customer pastes it into Recruitee`, 5);
  say(`urls           ${rcKey.baseUrl}/tests, ${rcKey.baseUrl}/send_candidate   (registered once with Recruitee)`, 9);

  heading(3, "A Greenhouse order, played as Greenhouse would");
  const ghApi = `/t/${TENANT}/greenhouse`;
  await call(`GET ${ghApi}/list_tests`, edge(w, TENANT, "greenhouse", "list_tests", { key: gh.key }));
  const order = { ...fixture("greenhouse/send_test.json"), url: `${greenhouse.url}/integrations/testing_partners/take_home_tests/12345` };
  const sent = await call(`POST ${ghApi}/send_test   (fixtures/greenhouse/send_test.json, url → fake Greenhouse)`,
    edge(w, TENANT, "greenhouse", "send_test", { key: gh.key, body: order }));
  gh.interviewId = sent.partner_interview_id;
  await expectWebhook("record.new", gh.interviewId);
  say("The candidate finishes; your backend posts the result:");
  await call(`POST /v1/tenants/${TENANT}/assessments/${gh.interviewId}/result   (fixtures/result.completed.json)`,
    admin(w, "POST", `/v1/tenants/${TENANT}/assessments/${gh.interviewId}/result`, fixture("result.completed.json")), { brief: true });
  await expectWebhook("record.modified", gh.interviewId);
  const seen = await until("the completion PATCH at the fake Greenhouse", () => gh.seen[0]);
  say(`⇠ fake Greenhouse got PATCH ${seen.path}   (Basic auth user "${seen.user}")`, 5);
  say(`and at once called test_status → ${seen.answer.status}`, 7);
  out(indentJson(seen.answer.body, 9));
  if (seen.answer.body?.partner_status !== "complete") fail(`test_status answered "${seen.answer.body?.partner_status}", expected "complete"`);
  say('✓ Greenhouse sees "complete" the moment it is told', 7);

  heading(4, "An Ashby order, played as Ashby would");
  const abApi = `/t/${TENANT}/ashby`;
  const ab = (m, body) => edge(w, TENANT, "ashby", m, { key: abKey.secretKey, body });
  await call(`POST ${abApi}/assessment.list {}`, ab("assessment.list", {}));
  const start = fixture("ashby/assessment.start.json");
  const abId = (await call(`POST ${abApi}/assessment.start   (fixtures/ashby/assessment.start.json)`, ab("assessment.start", start))).results.assessment_id;
  await expectWebhook("record.new", abId);
  const updates = () => ashby.requests.filter((r) => r.path.endsWith("/assessment.update")).map((r) => JSON.parse(r.body)).filter((u) => u.assessment_id === abId);
  for (const [n, result, file] of [[1, { status: "IN_PROGRESS", started_at: "2026-11-01T10:00:00Z" }, ""], [2, fixture("result.completed.json"), "   (fixtures/result.completed.json)"]]) {
    say(`Your backend posts ${result.status}:`);
    await call(`POST /v1/tenants/${TENANT}/assessments/${abId}/result${file}`, admin(w, "POST", `/v1/tenants/${TENANT}/assessments/${abId}/result`, result), { brief: true });
    await expectWebhook("record.modified", abId);
    const u = (await until(`assessment.update #${n} at the fake Ashby`, () => updates().length >= n && updates()))[n - 1];
    say("⇠ fake Ashby got POST /api/assessment.update", 5);
    for (const [k, v] of Object.entries(u)) {
      const shown = k === "metadata" ? v.map((d) => `${d.label}=${d.value}`).join(", ")
        : v && typeof v === "object" ? `${v.label}: ${v.value}` : v;
      say(`${k.padEnd(23)}${shown}`, 7);
    }
  }

  heading(5, "Another Ashby order, then Ashby cancels it");
  const start2 = { ...start, application: { ...start.application, ashby_id: "app_456ghi" } };
  const ab2 = (await call(`POST ${abApi}/assessment.start   (same candidate, another application)`, ab("assessment.start", start2))).results.assessment_id;
  await expectWebhook("record.new", ab2);
  await call(`POST ${abApi}/assessment.cancel {"assessment_id":"${ab2}"}`, ab("assessment.cancel", { assessment_id: ab2 }));
  await expectWebhook("record.deleted", ab2);

  heading(6, "A Teamtailor order, played as Teamtailor would");
  // Teamtailor calls the one partner-level BASE_URL and names the customer by a provider key: the
  // activation form (the pasted tt_… key) signed with the partner API key (README "Teamtailor").
  const ttToken = teamtailorJws({ key: ttKey.secretKey }, TT_PARTNER_API_KEY);
  const tt = (op, { body, query = "", headers = {} } = {}) => fetch(`${ttKey.baseUrl}/${op}${query}`, {
    method: body === undefined ? "GET" : "POST",
    headers: { ...headers, authorization: `Bearer ${ttToken}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  }).then(wrap);
  await call("GET /p/teamtailor/validate   (the customer pasted the key; provider key: JWS with TEAMTAILOR_PARTNER_API_KEY)", tt("validate"));
  const ttConfig = await call("GET /p/teamtailor/config?job_id=5521&stage_id=88   (a recruiter sets up a trigger)", tt("config", { query: "?job_id=5521&stage_id=88" }));
  const ttTest = ttConfig.config.fields[0].options[0].id;
  const ttBody = fixture("teamtailor/webhook.json");
  const ttEvent = ttBody["partner-event"];
  const ttResultId = ttEvent["partner-result"].id;
  ttEvent["webhook-data"].test = ttTest;
  ttEvent["partner-result"]["update-url"] = `${teamtailor.url}/partner/v1/partner-results/${ttResultId}`;
  const ttId = (await call(`POST /p/teamtailor/webhook   (fixtures/teamtailor/webhook.json, test "${ttTest}", update-url → fake Teamtailor, Teamtailor-Signature)`,
    tt("webhook", { body: ttBody, headers: { "teamtailor-signature": teamtailorSignature(ttEvent.id, TT_WEBHOOK_SECRET) } }))).assessment_id;
  await expectWebhook("record.new", ttId);
  say("Your backend posts the result:");
  await call(`POST /v1/tenants/${TENANT}/assessments/${ttId}/result   (fixtures/result.completed.json)`,
    admin(w, "POST", `/v1/tenants/${TENANT}/assessments/${ttId}/result`, fixture("result.completed.json")), { brief: true });
  await expectWebhook("record.modified", ttId);
  const put = await until("the partner-result PUT at the fake Teamtailor", () => teamtailor.requests.find((r) => r.method === "PUT"));
  const attrs = JSON.parse(put.body).data.attributes;
  say(`⇠ fake Teamtailor got PUT ${put.path}   (Bearer partner API key, X-Api-Version ${put.headers["x-api-version"]})`, 5);
  say(`status ${attrs.status} · assessment.score ${attrs.assessment?.score} · duration ${attrs.assessment?.duration} s · url ${attrs.url}`, 7);

  heading(7, "A Recruitee order, played as Recruitee would");
  const rc = (op, body) => fetch(`${rcKey.baseUrl}/${op}`, {
    method: body === undefined ? "GET" : "POST",
    headers: { authorization: `Bearer ${rcKey.secretKey}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  }).then(wrap);
  const rcTests = await call("GET /p/recruitee/tests   (Bearer: the customer's rc_… key)", rc("tests"));
  const rcOrder = { ...fixture("recruitee/send_candidate.json"), test_id: rcTests[0].id, test_name: rcTests[0].name };
  const rcId = (await call(`POST /p/recruitee/send_candidate   (fixtures/recruitee/send_candidate.json, test "${rcOrder.test_id}")`, rc("send_candidate", rcOrder))).assessment_id;
  await expectWebhook("record.new", rcId);
  const reportPatches = () => recruitee.requests.filter((r) => r.method === "PATCH" && r.path === `/api/p/${RC_CODENAME}/reports/${rcOrder.report_id}`).map((r) => ({ ...r, json: JSON.parse(r.body) }));
  const sentMark = (await until("the report's \"sent\" PATCH at the fake Recruitee", () => reportPatches()[0]));
  say(`⇠ fake Recruitee got PATCH ${sentMark.path}   (RT-PARTNER-SECRET)`, 5);
  say(`status ${sentMark.json.status} · urls.cancel ${sentMark.json.urls?.cancel?.replace(/token=.*/, "token=cl_…")}   (the recruiter's cancel link)`, 7);
  say("Your backend posts the result:");
  await call(`POST /v1/tenants/${TENANT}/assessments/${rcId}/result   (fixtures/result.completed.json)`,
    admin(w, "POST", `/v1/tenants/${TENANT}/assessments/${rcId}/result`, fixture("result.completed.json")), { brief: true });
  await expectWebhook("record.modified", rcId);
  const done = await until("the report's result PATCH at the fake Recruitee", () => reportPatches()[1]);
  say(`⇠ fake Recruitee got PATCH ${done.path}`, 5);
  say(`status ${done.json.status} · score "${done.json.score}" · completed_at ${done.json.completed_at}`, 7);

  heading(8, "Summary");
  const want = { "record.new": 5, "record.modified": 5, "record.deleted": 1 };
  const count = (type) => [...received.values()].filter((h) => h.event.eventType === type).length;
  await until("every expected webhook", () => Object.entries(want).every(([type, n]) => count(type) >= n));
  for (const [type, n] of Object.entries(want)) if (count(type) !== n) fail(`expected ${n} × ${type}, received ${count(type)}`);
  const total = received.size;
  say(`${total} events received, ${total} signatures verified (${Object.entries(want).map(([t, n]) => `${t} ×${n}`).join(", ")})`);
  say("Next: `make dev` runs the worker on :8787 and `node scripts/demo.mjs receiver --secret whsec_…` receives its");
  say("webhooks (README › Quick start); `node scripts/demo.mjs --help` for playing each ATS against a deployed worker.", 9);
}

// ---------- remote mode: play the ATS against a deployed worker ----------
/** Recruitee calls the vendor's partner-level URLs with the customer's key as Bearer. */
async function recruitee(o) {
  for (const f of ["base", "key"]) if (!o[f]) fail(`recruitee mode needs --${f} (see --help)`);
  if (!URL.canParse(o.base)) fail(`--base is not a URL: ${o.base}`);
  const base = o.base.replace(/\/+$/, "");
  const tenant = /^rc_([a-z0-9][a-z0-9-]{0,62})\./.exec(o.key)?.[1];
  out(`ats-bridge demo: playing Recruitee against ${base}/p/recruitee${tenant ? ` (key of tenant "${tenant}")` : ""}`);
  out("(no worker or receiver is started here: the events go to the tenant's configured webhook)");
  if (!tenant) out('note: Recruitee keys look like "rc_<tenant>.<43 chars>"; this one does not');
  const req = (op, body) => fetch(`${base}/p/recruitee/${op}`, {
    method: body === undefined ? "GET" : "POST",
    headers: { authorization: `Bearer ${o.key}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  }).then(wrap);

  heading(1, "tests: the tests and checks a recruiter can pick");
  const list = await call("GET /p/recruitee/tests", req("tests"), { full: true });
  const sample = fixture("recruitee/send_candidate.json");
  const testId = o.test ?? list[0]?.id ?? sample.test_id;
  heading(2, `send_candidate: order "${testId}" for the fixture candidate`);
  // A fresh report per run: send_candidate is idempotent on report_id.
  const body = { ...sample, test_id: testId, test_name: list.find((t) => t.id === testId)?.name ?? sample.test_name, report_id: randomUUID() };
  say(`report_id ${body.report_id}`);
  const first = await call("POST /p/recruitee/send_candidate", req("send_candidate", body), { full: true });
  heading(3, "send_candidate again: Recruitee retrying the same report");
  const again = await call("POST /p/recruitee/send_candidate", req("send_candidate", body), { full: true });
  if (again.assessment_id !== first.assessment_id) fail(`a repeated report_id got a new assessment (${again.assessment_id} ≠ ${first.assessment_id})`);
  say("✓ same assessment, no second record.new");
  say("The bridge now PATCHes the report at RECRUITEE_API_BASE: status sent, urls.cancel = its cancel link;");
  say(`results go the same way: POST /v1/tenants/${tenant ?? "<tenant>"}/assessments/${first.assessment_id}/result`, 5);
  out("\n✓ every call answered as Recruitee expects");
}

async function remote(provider, o) {
  if (provider === "teamtailor") return teamtailor(o);
  if (provider === "recruitee") return recruitee(o);
  for (const f of ["base", "tenant", "key"]) if (!o[f]) fail(`${provider} mode needs --${f} (see --help)`);
  if (!URL.canParse(o.base)) fail(`--base is not a URL: ${o.base}`);
  const w = { url: o.base.replace(/\/+$/, "") };
  const api = `/t/${o.tenant}/${provider}`;
  const prefix = provider === "greenhouse" ? "gh_" : "ab_";
  out(`ats-bridge demo: playing ${provider === "greenhouse" ? "Greenhouse" : "Ashby"} against ${w.url}${api}`);
  out("(no worker or receiver is started here: the events go to the tenant's configured webhook)");
  if (!o.key.startsWith(prefix)) out(`note: ${provider} keys start with "${prefix}"; this one does not`);
  const req = (m, body, query) => edge(w, o.tenant, provider, m, { key: o.key, body, query });

  if (provider === "greenhouse") {
    heading(1, "list_tests: the packages a recruiter can pick");
    const list = await call(`GET ${api}/list_tests`, req("list_tests"), { full: true });
    const testId = o.test ?? list[0]?.partner_test_id ?? fixture("greenhouse/send_test.json").partner_test_id;
    heading(2, `send_test: order "${testId}" for the fixture candidate`);
    // A unique callback per run: send_test is idempotent on url, so a fixed one would replay the first order.
    const url = o.callback ?? `https://app.greenhouse.io/integrations/testing_partners/take_home_tests/demo-${Date.now()}`;
    say(`callback url ${url}`);
    const sent = await call(`POST ${api}/send_test`, req("send_test", { ...fixture("greenhouse/send_test.json"), partner_test_id: testId, url }), { full: true });
    heading(3, "test_status: what Greenhouse reads after your completion PATCH");
    const st = await call(`GET ${api}/test_status?partner_interview_id=${sent.partner_interview_id}`,
      req("test_status", undefined, `?partner_interview_id=${encodeURIComponent(sent.partner_interview_id)}`), { full: true });
    say(`partner_status "${st.partner_status}": it becomes "complete" once you post a COMPLETED result to`);
    say(`POST /v1/tenants/${o.tenant}/assessments/${sent.partner_interview_id}/result`, 5);
  } else {
    heading(1, "assessment.list: the assessments a recruiter can pick");
    const list = await call(`POST ${api}/assessment.list {}`, req("assessment.list", {}), { full: true });
    const typeId = o.test ?? list.results?.[0]?.assessment_type_id ?? fixture("ashby/assessment.start.json").assessment_type_id;
    heading(2, `assessment.start: order "${typeId}" for the fixture candidate`);
    // A unique application per run: start is idempotent per application and type while active.
    const start = fixture("ashby/assessment.start.json");
    const body = { ...start, assessment_type_id: typeId, application: { ...start.application, ashby_id: `app_demo_${Date.now()}` } };
    const id = (await call(`POST ${api}/assessment.start`, req("assessment.start", body), { full: true })).results.assessment_id;
    heading(3, "assessment.cancel: the recruiter withdraws it");
    await call(`POST ${api}/assessment.cancel {"assessment_id":"${id}"}`, req("assessment.cancel", { assessment_id: id }), { full: true });
  }
  out("\n✓ every call answered as the ATS expects");
}

/** Play Teamtailor: it knows one base URL for the vendor and sends the customer's key inside a
 *  provider-key token (README "Teamtailor"). */
async function teamtailor(o) {
  for (const f of ["base", "key"]) if (!o[f]) fail(`teamtailor mode needs --${f} (see --help)`);
  if (!URL.canParse(o.base)) fail(`--base is not a URL: ${o.base}`);
  if (!o.key.startsWith("tt_")) out(`note: teamtailor keys start with "tt_"; this one does not`);
  const apiKey = process.env.TEAMTAILOR_PARTNER_API_KEY;
  const secret = process.env.TEAMTAILOR_WEBHOOK_SECRET;
  if (!apiKey && !secret) fail("set TEAMTAILOR_PARTNER_API_KEY or TEAMTAILOR_WEBHOOK_SECRET (the deployment's values) to make the provider-key token");
  const token = apiKey ? teamtailorJws({ key: o.key }, apiKey) : teamtailorJwe({ key: o.key }, secret);
  const base = `${o.base.replace(/\/+$/, "")}/p/teamtailor`;
  out(`ats-bridge demo: playing Teamtailor against ${base}`);
  out(`provider key: a ${apiKey ? "JWS (HS256, TEAMTAILOR_PARTNER_API_KEY)" : "JWE (dir/A256GCM, TEAMTAILOR_WEBHOOK_SECRET)"} carrying the key`);
  out("(no worker or receiver is started here: the events go to the tenant's configured webhook)");
  const req = (op, { body, query = "", auth = true, headers = {} } = {}) => fetch(`${base}/${op}${query}`, {
    method: body === undefined ? "GET" : "POST",
    headers: { ...headers, ...(auth ? { authorization: `Bearer ${token}` } : {}), ...(body === undefined ? {} : { "content-type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  }).then(wrap);

  heading(1, "activation: the form the customer fills once (no key needed)");
  await call("GET /p/teamtailor/activation", req("activation", { auth: false, query: "?company_id=demo" }), { full: true });
  heading(2, "validate: Teamtailor checks the pasted key");
  await call("GET /p/teamtailor/validate", req("validate"), { full: true });
  heading(3, "config: the form a recruiter fills when setting up a trigger");
  const config = await call("GET /p/teamtailor/config?job_id=5521&stage_id=88", req("config", { query: "?job_id=5521&stage_id=88" }), { full: true });
  const testId = o.test ?? config.config?.fields?.[0]?.options?.[0]?.id ?? fixture("teamtailor/webhook.json")["partner-event"]["webhook-data"].test;
  heading(4, `webhook: the trigger orders "${testId}" for the fixture candidate`);
  // A unique partner result per run: the webhook is idempotent on partner-result.id.
  const body = fixture("teamtailor/webhook.json");
  const event = body["partner-event"];
  const rid = `demo-${Date.now()}`;
  event.id = `demo-event-${Date.now()}`;
  event["webhook-data"].test = String(testId);
  event["partner-result"].id = rid;
  event["partner-result"]["update-url"] = o["update-url"] ?? `https://api.teamtailor.com/partner/v1/partner-results/${rid}`;
  say(`update-url ${event["partner-result"]["update-url"]}`);
  const headers = secret ? { "teamtailor-signature": teamtailorSignature(event.id, secret) } : {};
  const placed = await call("POST /p/teamtailor/webhook", req("webhook", { body, headers }), { full: true });
  say(`record.new for ${placed.assessment_id} is on its way to the tenant's webhook; results you post to`);
  say(`POST /v1/tenants/{tenant}/assessments/${placed.assessment_id}/result go to the update-url as a PUT.`, 5);
  out("\n✓ every call answered as Teamtailor expects");
}

// ---------- receiver mode: your backend's webhook endpoint, for `make dev` ----------
/** One line per event (README "Webhooks you receive"), emails masked. */
function describe(event) {
  const a = event.eventData?.candidateAssessment;
  const parts = [event.eventType, event.recordId ?? ""];
  if (a) {
    const c = a.candidate ?? {};
    parts.push(`${a.provider} · ${a.status} · ${c.firstName ?? ""} ${c.lastName ?? ""} <${maskEmail(c.emails?.[0]?.email)}> · package ${a.assessmentPackage?.id ?? "?"}${a.assessmentPackage?.name ? ` "${a.assessmentPackage.name}"` : ""}`);
  }
  if (event.eventData?.result) parts.push(`result ${event.eventData.result.status}${event.eventData.result.score != null ? ` score ${event.eventData.result.score}` : ""}`);
  if (event.eventType === "ping") parts.push(event.eventData?.message ?? "");
  return parts.filter(Boolean).join("   ");
}

async function receiver(o) {
  const secrets = o.secret?.length ? o.secret : process.env.WEBHOOK_SECRET ? [process.env.WEBHOOK_SECRET] : [];
  if (!secrets.length) fail("receiver mode needs --secret whsec_… (the tenant's webhook secret, shown when it was created) or WEBHOOK_SECRET (see --help)");
  const verifiers = secrets.map((sec) => {
    try { return new Webhook(sec); } catch { return fail(`--secret is not a webhook secret (whsec_… from the tenant's creation): ${sec.slice(0, 6)}…`); }
  });
  const port = Number(o.port ?? 8788);
  if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`--port must be a port number: ${o.port}`);
  const seen = new Set();
  const server = createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const id = req.headers["webhook-id"] ?? "(no webhook-id)";
      let event = null;
      let why = "";
      for (const v of verifiers) {
        try { event = v.verify(body, req.headers); break; } catch (e) { why = e.message; }
      }
      if (!event) {
        out(`✗ ${req.method} ${req.url}   webhook-id ${id}: signature NOT verified (${why}); answered 400`);
        res.writeHead(400, { "content-type": "text/plain" }).end("invalid signature");
        return;
      }
      // Delivery is at-least-once: a retry or replay carries the same webhook-id.
      const repeat = seen.has(id);
      seen.add(id);
      out(`✓ ${describe(event)}   webhook-id ${id}${repeat ? "   (a repeat: already processed)" : ""}`);
      res.writeHead(204).end();
    });
  });
  await new Promise((resolve, reject) => server.once("error", reject).listen(port, "127.0.0.1", resolve))
    .catch((e) => fail(`cannot listen on 127.0.0.1:${port} (${e.code ?? e.message}); try another --port`));
  servers.push({ close: () => new Promise((r) => server.close(r)) });
  out(`webhook receiver listening on http://127.0.0.1:${server.address().port}/webhooks/ats (any path), verifying with ${secrets.length} secret${secrets.length > 1 ? "s" : ""}; Ctrl-C stops it`);
  return new Promise(() => {}); // until SIGINT/SIGTERM
}

// ---------- entry ----------
async function main() {
  let parsed;
  try {
    parsed = parseArgs({
      allowPositionals: true,
      options: Object.fromEntries(["base", "tenant", "key", "callback", "test", "update-url", "port"].map((k) => [k, { type: "string" }])
        .concat([["secret", { type: "string", multiple: true }], ["help", { type: "boolean", short: "h" }]])),
    });
  } catch (e) { fail(`${e.message.split(". ")[0]} (see --help)`); }
  const { values: o, positionals: [mode, ...extra] } = parsed;
  if (o.help) return out(USAGE);
  if (extra.length || (mode && !["greenhouse", "ashby", "recruitee", "teamtailor", "receiver"].includes(mode))) fail(`unknown mode "${[mode, ...extra].join(" ")}": use greenhouse, ashby, recruitee, teamtailor or receiver, or nothing for the local tour (see --help)`);
  if (!mode && (o.base || o.tenant || o.key)) fail("--base/--tenant/--key need a mode: `greenhouse`, `ashby`, `recruitee` or `teamtailor` (see --help)");
  if (mode !== "receiver" && (o.secret || o.port)) fail("--secret/--port are for the receiver mode (see --help)");
  if (mode === "receiver") return receiver(o);
  startTimer();
  return mode ? remote(mode, o) : local();
}

main().then(() => finish(), finish);
