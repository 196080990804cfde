// Issue 7 (sandbox flow): `make demo` keeps working — the tour runs end to end through every
// registered ATS, every webhook arrives and verifies, and it exits 0. And the receiver mode the
// README's quick start uses with `make dev` verifies and prints what a worker sends.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { createHmac } from "node:crypto";
import { join } from "node:path";
import { ROOT, startWorker, admin, createTenant, createKey, edge, fixture, sleep } from "./harness.mjs";

test("the demo plays Greenhouse, Ashby, Teamtailor and Recruitee orders and verifies all 11 events", () => {
  const r = spawnSync(process.execPath, [join(ROOT, "scripts/demo.mjs")], { cwd: ROOT, encoding: "utf8", timeout: 180_000 });
  assert.equal(r.status, 0, `demo failed:\n${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, /11 events received, 11 signatures verified \(record\.new ×5, record\.modified ×5, record\.deleted ×1\)/);
  // Greenhouse: the completion PATCH, and test_status already complete (with Harvest enrichment).
  assert.match(r.stdout, /"partner_status": "complete"/);
  assert.match(r.stdout, /enrichment complete, from Harvest v3/);
  // Ashby: the results as assessment.update, and the cancel.
  assert.match(r.stdout, /fake Ashby got POST \/api\/assessment\.update/);
  assert.match(r.stdout, /webhook record\.deleted/);
  // Every ATS's order arrives as a verified record.new from that ATS.
  for (const p of ["greenhouse", "ashby", "teamtailor", "recruitee"]) {
    assert.match(r.stdout, new RegExp(`status +\\S+ +\\(from ${p}\\)`), `a ${p} order`);
  }
  // Teamtailor: the partner-result PUT at the order's update-url, completed with the scaled score.
  assert.match(r.stdout, /fake Teamtailor got PUT \/partner\/v1\/partner-results\/\S+ .*X-Api-Version 20180828/);
  assert.match(r.stdout, /status completed · assessment\.score 88 · duration 3600 s · url https:\/\/vendor\.example\/r\/1/);
  // Recruitee: the report marked sent with its cancel link, then completed with the score as text.
  assert.match(r.stdout, /fake Recruitee got PATCH \/api\/p\/demo-vendor\/reports\/[0-9a-f-]{36}/);
  assert.match(r.stdout, /status sent · urls\.cancel http:\/\/127\.0\.0\.1:\d+\/p\/recruitee\/cancel\?token=cl_…/);
  assert.match(r.stdout, /status completed · score "87\.5\/100" · completed_at 2026-11-01T11:00:00/);
  // Candidates' emails are never printed whole.
  assert.doesNotMatch(r.stdout, /maja\.lind@example\.com|mira\.novak@example\.org/);
});

/** Start `demo.mjs receiver` on a free port; resolves to { url, lines(), stop() }. */
async function startDemoReceiver(args) {
  const p = spawn(process.execPath, [join(ROOT, "scripts/demo.mjs"), "receiver", "--port", "0", ...args], { cwd: ROOT });
  let out = "";
  p.stdout.on("data", (d) => { out += d; });
  p.stderr.on("data", (d) => { out += d; });
  const deadline = Date.now() + 10_000;
  let m;
  while (!(m = /listening on (http:\/\/127\.0\.0\.1:\d+)\/webhooks\/ats/.exec(out))) {
    if (p.exitCode !== null || Date.now() > deadline) { p.kill(); throw new Error(`receiver did not start:\n${out}`); }
    await sleep(25);
  }
  return {
    url: m[1],
    lines: () => out.split("\n"),
    async waitFor(re) {
      const until = Date.now() + 15_000;
      while (!out.split("\n").some((l) => re.test(l))) {
        if (Date.now() > until) throw new Error(`no line matching ${re} in:\n${out}`);
        await sleep(25);
      }
      return out.split("\n").find((l) => re.test(l));
    },
    stop: () => new Promise((r) => { if (p.exitCode !== null) return r(p.exitCode); p.once("exit", r); p.kill("SIGINT"); }),
  };
}

test("demo.mjs receiver: verifies and prints each webhook a local worker sends, refuses a forged one", async () => {
  const w = await startWorker({ vars: { RETRY_SCHEDULE: "1" } });
  let rcv;
  try {
    // As in the README's quick start: create the tenant, start the receiver with its secret.
    const t = await createTenant(w, "rcv", "http://127.0.0.1:9/not-yet");
    rcv = await startDemoReceiver(["--secret", t.webhook.secret]);
    assert.equal((await admin(w, "PATCH", "/v1/tenants/rcv", { webhook: { url: `${rcv.url}/webhooks/ats` } })).status, 200);
    assert.equal((await admin(w, "POST", "/v1/tenants/rcv/webhook/test")).status, 202);
    assert.match(await rcv.waitFor(/^✓ ping/), /webhook-id evt_/);

    await admin(w, "PUT", "/v1/tenants/rcv/packages", fixture("packages.json"));
    const key = (await createKey(w, "rcv", "greenhouse")).secretKey;
    const order = await edge(w, "rcv", "greenhouse", "send_test", { key, body: { ...fixture("greenhouse/send_test.json"), url: "https://app.greenhouse.io/x/rcv-1" } });
    assert.equal(order.status, 200, order.text);
    const line = await rcv.waitFor(/^✓ record\.new/);
    assert.ok(line.includes(order.body.partner_interview_id), line);
    assert.match(line, /greenhouse · NOT_SPECIFIED · John Doe <j\*\*\*@example\.com>/, "the email masked");
    assert.match(line, /package pkg_9f3aK21 "Backend take-home"/, "the package by id and name");

    // A forged event (signed with another secret) is refused with 400 and printed as such.
    const body = JSON.stringify({ eventType: "record.new", recordId: "ats_ass_forged" });
    const ts = Math.floor(Date.now() / 1000);
    const sig = createHmac("sha256", Buffer.from("not-the-secret")).update(`msg_forged.${ts}.${body}`).digest("base64");
    const forged = await fetch(`${rcv.url}/webhooks/ats`, { method: "POST", body,
      headers: { "content-type": "application/json", "webhook-id": "msg_forged", "webhook-timestamp": String(ts), "webhook-signature": `v1,${sig}` } });
    assert.equal(forged.status, 400);
    assert.match(await rcv.waitFor(/^✗/), /webhook-id msg_forged: signature NOT verified/);
    assert.ok(!rcv.lines().some((l) => l.startsWith("✓") && l.includes("ats_ass_forged")));
  } finally {
    await rcv?.stop();
    await w.stop();
  }
});

test("demo.mjs receiver without a secret says what it needs and exits non-zero", () => {
  const r = spawnSync(process.execPath, [join(ROOT, "scripts/demo.mjs"), "receiver"], { cwd: ROOT, encoding: "utf8", timeout: 20_000, env: { ...process.env, WEBHOOK_SECRET: "" } });
  assert.notEqual(r.status, 0);
  assert.match(r.stdout, /receiver mode needs --secret whsec_…/);
});
