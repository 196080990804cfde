// Issue 11 (3): check-then-await-then-write races in the tenant Durable Object. Each race is
// fired at objects that are cold (the worker restarted, so nothing is cached and the first
// request awaits a KV read) and warm, through the real worker.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import {
  startWorker, startReceiver, admin, edge, createTenant, createKey, verifyWebhook, sleep, fixture, events,
  untilDelivered,
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

/** A Greenhouse tenant: receiver, fake Greenhouse (counts PATCHes), partner credentials, key. */
async function greenhouseTenant(id) {
  const hooks = await receiver(() => ({ status: 200 }));
  const gh = await receiver(() => ({ status: 200 }));
  const t = await createTenant(w, id, hooks.url);
  await admin(w, "PATCH", `/v1/tenants/${id}`, { greenhouse: { partner_username: "u", partner_password: "p" } });
  const key = (await createKey(w, id, "greenhouse")).secretKey;
  return { id, hooks, gh, key, secret: t.webhook.secret, n: 0 };
}

async function order(ctx) {
  const n = ++ctx.n;
  const r = await edge(w, ctx.id, "greenhouse", "send_test", {
    key: ctx.key, body: { ...fixture("greenhouse/send_test.json"), url: `${ctx.gh.url}/take_home_tests/${n}` },
  });
  assert.equal(r.status, 200, r.text);
  return r.body.partner_interview_id;
}

const patches = (ctx, id) => ctx.gh.requests.filter((r) => r.method === "PATCH");
const modifiedFor = (ctx, id) => events(ctx.hooks, "record.modified").filter((e) => e.recordId === id);

async function twoCompletedAtOnce(ctx, id) {
  const post = () => admin(w, "POST", `/v1/tenants/${ctx.id}/assessments/${id}/result`, fixture("result.completed.json"));
  const answers = await Promise.all([post(), post()]);
  assert.deepEqual(answers.map((a) => a.status).sort(), [200, 409], answers.map((a) => a.text).join(" | "));
  assert.equal(answers.find((a) => a.status === 409).body.error.code, "assessment_final");
  // Give a second (wrongly accepted) result every chance to show up.
  await ctx.hooks.waitFor(0, 10_000, () => modifiedFor(ctx, id).length >= 1);
  await sleep(1500);
  assert.equal(modifiedFor(ctx, id).length, 1, "exactly one record.modified");
  const a = await admin(w, "GET", `/v1/tenants/${ctx.id}/assessments/${id}`);
  assert.equal(a.body.status, "COMPLETED");
  assert.equal(a.body.providerSync.attempts, 1);
}

test("two concurrent COMPLETED results: one accepted, one 409, one record.modified, one PATCH (cold and warm objects)", async () => {
  const tenants = await Promise.all(["race-done-1", "race-done-2", "race-done-3"].map(greenhouseTenant));
  const cold = [];
  for (const ctx of tenants) {
    cold.push(await order(ctx));
    await ctx.hooks.waitFor(1);
    // Recorded delivered before the restart, so the restart cannot cut that write short.
    await untilDelivered(w, ctx.id, cold.at(-1));
  }
  await w.restart(); // every tenant object is cold now: its first request awaits a KV read
  await Promise.all(tenants.map((ctx, i) => twoCompletedAtOnce(ctx, cold[i])));
  for (const ctx of tenants) assert.equal(patches(ctx).length, 1, `${ctx.id}: exactly one completion PATCH`);

  // Warm objects: same race on a fresh order.
  for (const ctx of tenants) {
    const id = await order(ctx);
    await ctx.hooks.waitFor(0, 10_000, () => events(ctx.hooks, "record.new").some((e) => e.recordId === id));
    await twoCompletedAtOnce(ctx, id);
    assert.equal(patches(ctx).length, 2, `${ctx.id}: one more PATCH, not two`);
  }
});

test("a PATCH touching secrets and a concurrent PUT packages both stay (cold and warm objects)", async () => {
  const ids = ["race-cfg-1", "race-cfg-2", "race-cfg-3"];
  const hooks = await receiver(() => ({ status: 200 }));
  for (const id of ids) await createTenant(w, id, hooks.url);
  const race = async (id, round) => {
    const pkgs = [{ id: `pkg-${round}`, name: `Package ${round}` }];
    const [p, u] = await Promise.all([
      admin(w, "PATCH", `/v1/tenants/${id}`, { name: `Name ${round}`, ashby: { api_key: `key-${round}` } }),
      admin(w, "PUT", `/v1/tenants/${id}/packages`, pkgs),
    ]);
    assert.equal(p.status, 200, p.text);
    assert.equal(u.status, 200, u.text);
    const t = await admin(w, "GET", `/v1/tenants/${id}`);
    assert.equal(t.body.name, `Name ${round}`);
    assert.equal(t.body.ashby.api_key_set, true);
    assert.deepEqual((await admin(w, "GET", `/v1/tenants/${id}/packages`)).body.data.map((x) => x.id), [`pkg-${round}`],
      `${id}: the PUT's packages survive the concurrent PATCH`);
  };
  await w.restart();
  await Promise.all(ids.map((id) => race(id, "cold")));
  await Promise.all(ids.map((id) => race(id, "warm")));
});

test("two concurrent webhook-secret rotations: both new secrets sign the next delivery (cold and warm objects)", async () => {
  const rx = await receiver(() => ({ status: 200 }));
  const ids = ["race-rot-1", "race-rot-2"];
  const original = {};
  for (const id of ids) original[id] = (await createTenant(w, id, `${rx.url}/${id}`)).webhook.secret;
  const rotateTwice = async (id) => {
    const [a, b] = await Promise.all([
      admin(w, "POST", `/v1/tenants/${id}/webhook/secret`),
      admin(w, "POST", `/v1/tenants/${id}/webhook/secret`),
    ]);
    assert.equal(a.status, 201, a.text);
    assert.equal(b.status, 201, b.text);
    assert.notEqual(a.body.secret, b.body.secret);
    const ping = await admin(w, "POST", `/v1/tenants/${id}/webhook/test`);
    await rx.waitFor(0, 10_000, () => rx.requests.some((r) => r.headers["webhook-id"] === ping.body.eventId));
    const req = rx.requests.find((r) => r.headers["webhook-id"] === ping.body.eventId);
    // Whichever rotation came second, the other's secret co-signs: a receiver that deployed
    // either one (or still has the original) verifies the delivery.
    for (const s of [a.body.secret, b.body.secret, original[id]]) verifyWebhook(s, req);
    return [a.body.secret, b.body.secret];
  };
  await w.restart();
  const cold = await Promise.all(ids.map(rotateTwice));
  const warm = await Promise.all(ids.map(rotateTwice));
  // The earlier rotations' secrets keep co-signing too (24 h window).
  for (const [i, id] of ids.entries()) {
    const ping = await admin(w, "POST", `/v1/tenants/${id}/webhook/test`);
    await rx.waitFor(0, 10_000, () => rx.requests.some((r) => r.headers["webhook-id"] === ping.body.eventId));
    const req = rx.requests.find((r) => r.headers["webhook-id"] === ping.body.eventId);
    for (const s of [...cold[i], ...warm[i]]) verifyWebhook(s, req);
  }
});
