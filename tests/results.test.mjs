// Issue 16: results that land right in every ATS. GET /v1/providers from the registry, result
// attachments and pre-flight warnings, idempotency keys on result writes — through the built
// worker with a loopback fake Greenhouse and a loopback receiver.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  startWorker, startReceiver, admin, edge, createTenant, createKey, assertErrorShape, fixture,
  events, waitForRecord, untilDelivered, ROOT, ADMIN_TOKEN,
} from "./harness.mjs";

let w;
const closers = [];
async function receiver(fn) {
  const r = await startReceiver(fn);
  closers.push(r);
  return r;
}

before(async () => { w = await startWorker(); });
after(async () => { await Promise.all([w?.stop(), ...closers.map((c) => c.close())]); });

/** A tenant with a receiver, a fake Greenhouse (answers 200 to the completion PATCH) and one
 *  Greenhouse order; returns the assessment id, the receiver and the fake. */
async function greenhouseOrder(id) {
  const hooks = await receiver(() => ({ status: 200 }));
  const gh = await receiver(() => ({ status: 200 }));
  await createTenant(w, id, hooks.url);
  await admin(w, "PUT", `/v1/tenants/${id}/packages`, fixture("packages.json"));
  await admin(w, "PATCH", `/v1/tenants/${id}`, { greenhouse: { partner_username: "gh-partner", partner_password: "gh-secret" } });
  const key = (await createKey(w, id, "greenhouse")).secretKey;
  const body = { ...fixture("greenhouse/send_test.json"), url: `${gh.url}/integrations/testing_partners/take_home_tests/1` };
  const r = await edge(w, id, "greenhouse", "send_test", { key, body });
  assert.equal(r.status, 200, r.text);
  await hooks.waitFor(1, 15_000, (rs) => events(hooks, "record.new").length === 1);
  return { assessment: r.body.partner_interview_id, hooks, gh, key };
}

test("GET /v1/providers: every registered ATS with its surface, result fields, limits and status mapping", async () => {
  assertErrorShape(assert, await admin(w, "GET", "/v1/providers", undefined, { token: null }), 401);
  assertErrorShape(assert, await admin(w, "POST", "/v1/providers", {}), 405);
  const r = await admin(w, "GET", "/v1/providers");
  assert.equal(r.status, 200, r.text);
  const byName = Object.fromEntries(r.body.providers.map((p) => [p.name, p]));
  for (const name of ["greenhouse", "ashby", "recruitee"]) assert.ok(byName[name], `${name} listed`);

  const gh = byName.greenhouse;
  assert.equal(gh.surface.kind, "tenant_scoped");
  assert.equal(gh.surface.baseUrl, `${w.url}/t/{tenant}/greenhouse`);
  const send = gh.surface.urls.find((u) => u.kind === "order");
  assert.deepEqual(send, { label: "Send test URL", kind: "order", method: "POST", url: `${w.url}/t/{tenant}/greenhouse/send_test` });
  assert.equal(gh.surface.key.prefix, "gh_");
  assert.deepEqual(gh.credentials.map((c) => c.field).sort(), ["greenhouse.harvest", "greenhouse.partner_password", "greenhouse.partner_username"]);
  assert.deepEqual(gh.credentials.find((c) => c.field === "greenhouse.harvest"), { field: "greenhouse.harvest", secret: true, parts: ["client_id", "client_secret", "user_id"] });
  assert.equal(gh.limits.attachments, 0);
  assert.equal(gh.limits.score, "number");
  assert.equal(gh.limits.finalResultChangeable, false);
  assert.equal(gh.statusMapping.COMPLETED, "complete");
  assert.deepEqual(gh.resultFields.find((f) => f.field === "result_url"), { field: "result_url", shownAs: "partner_profile_url" });
  assert.equal(gh.resultFields.find((f) => f.field === "reason"), undefined, "Greenhouse does not show a reason");

  const rc = byName.recruitee;
  assert.equal(rc.surface.kind, "partner_level");
  assert.equal(rc.surface.baseUrl, `${w.url}/p/recruitee`);
  assert.ok(rc.surface.urls.every((u) => u.url.startsWith(`${w.url}/p/recruitee/`)), JSON.stringify(rc.surface.urls));
  assert.equal(rc.limits.score, "text");
  assert.equal(rc.statusMapping.CANCELLED, "canceled");

  // The README table is the same facts (the unit test renders it from this answer; here the
  // served answer's rows are found in the README as they are).
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const section = readme.slice(readme.indexOf("<!-- recruiter-sees:start -->"), readme.indexOf("<!-- recruiter-sees:end -->"));
  for (const p of r.body.providers) {
    for (const f of p.resultFields) {
      assert.ok(section.includes(`| ${p.title} | \`${f.field}\` | ${f.shownAs} |`), `${p.name} ${f.field} in README`);
    }
  }
});

test("result answer carries pre-flight warnings for what Greenhouse drops; attachments are validated", async () => {
  const { assessment, hooks } = await greenhouseOrder("res-warn");
  const post = (body) => admin(w, "POST", `/v1/tenants/res-warn/assessments/${assessment}/result`, body);

  // Bad attachments: 422 naming the field, nothing stored or emitted.
  for (const [body, field] of [
    [{ status: "IN_PROGRESS", attachments: [{ url: "http://vendor.example/r.pdf" }] }, "attachments[0].url"],
    [{ status: "IN_PROGRESS", attachments: Array(6).fill({ url: "https://vendor.example/r.pdf" }) }, "attachments"],
    [{ status: "IN_PROGRESS", attachments: [{ url: "https://vendor.example/r.pdf", size: 3 }] }, "attachments[0].size"],
  ]) {
    const r = await post(body);
    assertErrorShape(assert, r, 422);
    assert.match(r.body.error.message, new RegExp(field.replace(/[[\]]/g, "\\$&")), r.text);
  }
  assert.equal(events(hooks, "record.modified").length, 0);

  // Nothing Greenhouse cannot show: no warnings.
  const plain = await post({ status: "IN_PROGRESS", started_at: "2026-11-01T10:00:00Z" });
  assert.equal(plain.status, 200, plain.text);
  assert.deepEqual(plain.body.warnings, []);

  // A reason and attachments: Greenhouse shows neither.
  const r = await post({
    status: "IN_PROGRESS", reason: "proctoring paused",
    attachments: [{ url: "https://vendor.example/r.pdf", description: "Report" }],
  });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.warnings.length, 2, JSON.stringify(r.body.warnings));
  assert.ok(r.body.warnings.some((m) => m.includes("`attachments`") && m.includes("Greenhouse")), JSON.stringify(r.body.warnings));
  assert.ok(r.body.warnings.some((m) => m.includes("`reason`")), JSON.stringify(r.body.warnings));
  // The result is stored as sent (the vendor's record keeps the attachments).
  assert.equal(r.body.result.attachments[0].url, "https://vendor.example/r.pdf");
});

test("nested metadata: accepted, flattened for Greenhouse (flat labels) with a warning saying how; too deep is 422", async () => {
  const { assessment, gh, key } = await greenhouseOrder("res-nested");
  const url = `/v1/tenants/res-nested/assessments/${assessment}/result`;
  const providers = (await admin(w, "GET", "/v1/providers")).body.providers;
  assert.equal(providers.find((p) => p.name === "greenhouse").limits.metadataLevels, 0);

  const tooDeep = await admin(w, "POST", url, { status: "IN_PROGRESS", metadata: { a: { b: { c: { d: { e: 1 } } } } } });
  assertErrorShape(assert, tooDeep, 422);
  assert.match(tooDeep.body.error.message, /metadata\.a\.b\.c\.d/);

  const r = await admin(w, "POST", url, {
    status: "COMPLETED", score: 87, result_url: "https://vendor.example/r/1",
    metadata: { Plagiarism: false, sections: { algorithms: 80, design: { score: 3 } }, tags: ["senior", "backend"] },
  });
  assert.equal(r.status, 200, r.text);
  const w1 = r.body.warnings.find((m) => m.includes("`metadata.sections`"));
  assert.ok(w1 && w1.includes("Greenhouse") && w1.includes("`sections.algorithms, sections.design.score`"), JSON.stringify(r.body.warnings));
  assert.ok(r.body.warnings.some((m) => m.includes("`metadata.tags`") && m.includes("`tags.0, tags.1`")), JSON.stringify(r.body.warnings));
  assert.equal(r.body.warnings.length, 2, JSON.stringify(r.body.warnings));
  // The vendor's record keeps the metadata as sent; Greenhouse gets flat labels.
  assert.deepEqual(r.body.result.metadata.sections, { algorithms: 80, design: { score: 3 } });
  // Greenhouse's PATCH has no body: Greenhouse then reads test_status, which carries them.
  await gh.waitFor(1, 15_000, (rs) => rs.some((q) => q.method === "PATCH"));
  const status = await edge(w, "res-nested", "greenhouse", "test_status", { key, httpMethod: "GET", query: `?partner_interview_id=${encodeURIComponent(assessment)}` });
  assert.equal(status.status, 200, status.text);
  const meta = status.body.metadata;
  assert.equal(meta["sections.algorithms"], 80);
  assert.equal(meta["sections.design.score"], 3);
  assert.equal(meta["tags.1"], "backend");
  assert.equal(meta.Plagiarism, false);
  for (const v of Object.values(meta)) assert.notEqual(typeof v, "object", "every Greenhouse label holds a plain value");
});

test("a score Greenhouse shows as sent (its facts say `number`) draws no warning", async () => {
  const r = await admin(w, "GET", "/v1/providers");
  const numberScored = r.body.providers.filter((p) => p.limits.score === "number").map((p) => p.name);
  assert.ok(numberScored.includes("greenhouse"));
  const { assessment } = await greenhouseOrder("res-score");
  const res = await admin(w, "POST", `/v1/tenants/res-score/assessments/${assessment}/result`, { status: "IN_PROGRESS", score: 12, max_score: 15 });
  assert.equal(res.status, 200, res.text);
  assert.deepEqual(res.body.warnings, []);
  // What no ATS can read right: a max_score of 0 or less, a completion before the start. Refused
  // before anything is stored, naming the field; the stored result stays as it was.
  const url = `/v1/tenants/res-score/assessments/${assessment}/result`;
  for (const [body, field] of [
    [{ status: "IN_PROGRESS", score: 1, max_score: 0 }, "max_score"],
    [{ status: "IN_PROGRESS", score: -1, max_score: -10 }, "max_score"],
    [{ status: "IN_PROGRESS", started_at: "2026-11-01T10:00:00Z", completed_at: "2026-11-01T09:00:00Z" }, "completed_at"],
  ]) {
    const bad = await admin(w, "POST", url, body);
    assertErrorShape(assert, bad, 422);
    assert.ok(bad.body.error.message.startsWith(`\`${field}\``), bad.text);
  }
  const stored = await admin(w, "GET", `/v1/tenants/res-score/assessments/${assessment}`);
  assert.equal(stored.body.result.max_score, 15, stored.text);
});

test("Idempotency-Key: a repeat answers the first answer and sends nothing again; another body is 409", async () => {
  const { assessment, hooks, gh } = await greenhouseOrder("res-idem");
  const url = `${w.url}/v1/tenants/res-idem/assessments/${assessment}/result`;
  const send = (body, key, raw) => fetch(url, {
    method: "POST",
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json", ...(key ? { "idempotency-key": key } : {}) },
    body: raw ?? JSON.stringify(body),
  }).then(async (r) => ({ status: r.status, text: await r.text(), headers: r.headers }));
  const done = { ...fixture("result.completed.json"), reason: "n/a" };

  const first = await send(done, "key-1");
  assert.equal(first.status, 200, first.text);
  await hooks.waitFor(1, 15_000, () => events(hooks, "record.modified").length === 1);
  await gh.waitFor(1, 15_000, (rs) => rs.some((r) => r.method === "PATCH"));

  // Same key, same body (other whitespace): the first answer, byte for byte; nothing emitted
  // or sent again (a plain repeat would be 409 assessment_final).
  const again = await send(undefined, "key-1", JSON.stringify(done, null, 2));
  assert.equal(again.status, 200, again.text);
  assert.equal(again.text, first.text);
  assert.equal(again.headers.get("idempotent-replayed"), "true");
  assert.ok(JSON.parse(again.text).warnings.some((m) => m.includes("`reason`")));

  // Same key, another body: 409 idempotency_key_reused.
  const reused = await send({ ...done, score: 1 }, "key-1");
  assert.equal(reused.status, 409, reused.text);
  assert.equal(JSON.parse(reused.text).error.code, "idempotency_key_reused");

  // Without the key the repeat is judged on its own: the result is final.
  const plain = await send(done);
  assert.equal(plain.status, 409, plain.text);
  assert.equal(JSON.parse(plain.text).error.code, "assessment_final");

  // A malformed key (a control character in it) is refused before anything happens.
  const bad = await send(done, "a\tb");
  assert.equal(bad.status, 400, bad.text);
  assert.equal(JSON.parse(bad.text).error.code, "invalid_idempotency_key");

  // Give stray deliveries a moment, then count: one record.modified, one completion PATCH.
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal(events(hooks, "record.modified").length, 1);
  assert.equal(gh.requests.filter((r) => r.method === "PATCH").length, 1);
});

test("Idempotency-Key: a key belongs to one assessment; the same key on another assessment is a new request", async () => {
  const { assessment, hooks, gh, key } = await greenhouseOrder("res-idem-scope");
  const body = { ...fixture("greenhouse/send_test.json"), url: `${gh.url}/integrations/testing_partners/take_home_tests/2` };
  const second = await edge(w, "res-idem-scope", "greenhouse", "send_test", { key, body });
  assert.equal(second.status, 200, second.text);
  const other = second.body.partner_interview_id;
  assert.notEqual(other, assessment);
  const post = (id) => fetch(`${w.url}/v1/tenants/res-idem-scope/assessments/${id}/result`, {
    method: "POST",
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json", "idempotency-key": "result-1" },
    body: JSON.stringify({ status: "STARTED" }),
  }).then(async (r) => ({ status: r.status, text: await r.text(), replayed: r.headers.get("idempotent-replayed") }));
  const a = await post(assessment);
  const b = await post(other);
  assert.equal(a.status, 200, a.text);
  assert.equal(b.status, 200, b.text);
  assert.equal(b.replayed, null, "not a replay of the other assessment's answer");
  await hooks.waitFor(0, 15_000, () => events(hooks, "record.modified").length === 2);
  assert.deepEqual(events(hooks, "record.modified").map((e) => e.recordId).sort(), [assessment, other].sort());
  // And on its own assessment the key still replays.
  const again = await post(other);
  assert.equal(again.replayed, "true");
  assert.equal(again.text, b.text);
});

test("Idempotency-Key: identical requests racing on a cold and on a warm object are processed once", async () => {
  const ctxs = await Promise.all(["res-idem-cold", "res-idem-warm"].map(greenhouseOrder));
  const race = async (tenant, assessment, key, body, n = 4) => {
    const answers = await Promise.all(Array.from({ length: n }, () => fetch(`${w.url}/v1/tenants/${tenant}/assessments/${assessment}/result`, {
      method: "POST", headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json", "idempotency-key": key }, body,
    }).then(async (r) => ({ status: r.status, text: await r.text(), replayed: r.headers.get("idempotent-replayed") }))));
    for (const a of answers) {
      assert.equal(a.status, 200, a.text);
      assert.equal(a.text, answers[0].text, "every repeat gets the first answer");
    }
    assert.equal(answers.filter((a) => a.replayed === "true").length, n - 1, "one processed, the others replayed");
  };
  const done = JSON.stringify(fixture("result.completed.json"));
  // Cold: the worker restarts, so each object's first request awaits a KV read. First every
  // record.new is recorded delivered: a restart must not cut that write short (the event would
  // go again after its lease, and hold the record.modified behind it past this test's waits).
  for (const [tenant, c] of [["res-idem-cold", ctxs[0]], ["res-idem-warm", ctxs[1]]]) await untilDelivered(w, tenant, c.assessment);
  await w.restart();
  await race("res-idem-cold", ctxs[0].assessment, "cold-1", done);
  // Warm: a progress result (which may be sent many times) raced with one key, then a final one.
  await race("res-idem-warm", ctxs[1].assessment, "warm-1", JSON.stringify({ status: "IN_PROGRESS", started_at: "2026-11-01T10:00:00Z" }), 6);
  await race("res-idem-warm", ctxs[1].assessment, "warm-2", done);
  const [cold, warm] = ctxs;
  await waitForRecord(w, "res-idem-cold", cold.assessment, cold.hooks, 1, 15_000, () => events(cold.hooks, "record.modified").length >= 1);
  await waitForRecord(w, "res-idem-warm", warm.assessment, warm.hooks, 1, 15_000, () => events(warm.hooks, "record.modified").length >= 2);
  await cold.gh.waitFor(1, 15_000, (rs) => rs.some((r) => r.method === "PATCH"));
  await warm.gh.waitFor(1, 15_000, (rs) => rs.some((r) => r.method === "PATCH"));
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal(events(cold.hooks, "record.modified").length, 1, "cold: four racing repeats, one event");
  assert.equal(cold.gh.requests.filter((r) => r.method === "PATCH").length, 1, "cold: one completion PATCH");
  assert.equal(events(warm.hooks, "record.modified").length, 2, "warm: one event per key");
  assert.equal(warm.gh.requests.filter((r) => r.method === "PATCH").length, 1, "warm: one completion PATCH");
});

test("Idempotency-Key: erasing the assessment forgets its kept answers (no personal data replayed)", async () => {
  const { assessment } = await greenhouseOrder("res-idem-erase");
  const url = `${w.url}/v1/tenants/res-idem-erase/assessments/${assessment}/result`;
  const body = JSON.stringify({ status: "IN_PROGRESS" });
  const send = () => fetch(url, { method: "POST", headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json", "idempotency-key": "erase-1" }, body })
    .then(async (r) => ({ status: r.status, text: await r.text(), replayed: r.headers.get("idempotent-replayed") }));
  const first = await send();
  assert.equal(first.status, 200, first.text);
  const email = JSON.parse(first.text).candidate.emails[0].email;
  assert.ok(first.text.includes(email));
  assert.equal((await send()).replayed, "true");
  const er = await admin(w, "POST", "/v1/tenants/res-idem-erase/erasure", { assessment_id: assessment });
  assert.equal(er.status, 200, er.text);
  const after = await send();
  assert.equal(after.status, 200, after.text);
  assert.equal(after.replayed, null, "judged afresh, not replayed");
  assert.ok(!after.text.includes(email), "the erased email does not come back");
});
