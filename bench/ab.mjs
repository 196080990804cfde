// Compare two builds of the worker by CPU per request, measured side by side (README
// "Performance"): both run at once on the inspector-detached dev server, and the load
// alternates between them in short rounds, so whatever else the machine is doing weighs on
// both alike. The figure is CPU ms per request of each server's processes (workerd and
// wrangler's node), read from /proc; an order's includes its webhook delivery.
//
//   node bench/ab.mjs --a DIR --b DIR [--rounds 10] [--requests 200] [--conc 8] [--latency]
//
// --latency also measures, in the same alternating rounds, send_test → webhook latency: one
// order at a time, from just before it is sent until the receiver has the record.new (p50/p99
// per build, --requests / 4 orders per round).
//
// DIR is a build directory (what scripts/build.sh writes to build/; copy it aside before
// building the other variant). --a-config / --b-config FILE run that build with another
// wrangler.toml (default: the repo's), e.g. to compare a deployment setting; --a-env / --b-env
// K=V (repeatable) give that server's wrangler process an environment variable, e.g.
// `--a build --b build --b-env BENCH_SKIP_WRANGLER_DEBUG_LOG=1` (bench/dev-server.mjs). Used to find what a change saves; `make bench` stays the
// benchmark of record.

import http from "node:http";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { createWorker, fixture, groupCpuMs, onSignals, printTable, send, sleep, stats } from "./lib.mjs";

const { values } = parseArgs({ options: {
  a: { type: "string" }, b: { type: "string" }, "a-config": { type: "string" }, "b-config": { type: "string" },
  "a-env": { type: "string", multiple: true }, "b-env": { type: "string", multiple: true },
  rounds: { type: "string", default: "10" }, requests: { type: "string", default: "200" }, conc: { type: "string", default: "8" },
  latency: { type: "boolean", default: false },
} });
if (!values.a || !values.b) {
  console.error("usage: node bench/ab.mjs --a BUILD_DIR --b BUILD_DIR [--a-config FILE] [--b-config FILE] [--a-env K=V] [--b-env K=V] [--rounds N] [--requests N] [--conc N] [--latency]");
  process.exit(2);
}
const ROUNDS = Number(values.rounds), REQUESTS = Number(values.requests), CONC = Number(values.conc);
const TOKEN = "ab-admin-token";
const TENANT = "ab";

let deliveries = 0;
let arrived = null; // resolves the one order in flight in --latency mode
const receiver = http.createServer((req, res) => {
  req.resume();
  req.on("end", () => { deliveries++; const t = performance.now(); res.end("ok"); arrived?.(t); });
});
const fake = http.createServer((req, res) => { req.resume(); req.on("end", () => res.end("ok")); });
const listen = (s) => new Promise((r) => s.listen(0, "127.0.0.1", () => r(s.address().port)));

async function admin(base, method, path, body) {
  const r = await send(undefined, base, { method, path, headers: { authorization: `Bearer ${TOKEN}` }, body: body === undefined ? undefined : JSON.stringify(body) });
  if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${r.text}`);
  return JSON.parse(r.text || "null");
}

const dirs = [], workers = [];
onSignals(async () => { for (const w of workers) await w.stop(); for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

async function start(build, config, hookPort, env = {}) {
  const dir = mkdtempSync(join(os.tmpdir(), "ats-bridge-ab-"));
  dirs.push(dir);
  const worker = createWorker(dir, { ADMIN_TOKEN: TOKEN, ALLOW_INSECURE_TARGETS: "true" }, { inspector: false, build: resolve(build), config: config && resolve(config), env });
  workers.push(worker);
  const base = await worker.start();
  await admin(base, "POST", "/v1/tenants", { id: TENANT, webhook: { url: `http://127.0.0.1:${hookPort}/hook` } });
  await admin(base, "PUT", `/v1/tenants/${TENANT}/packages`, fixture("packages.json"));
  const key = (await admin(base, "POST", `/v1/tenants/${TENANT}/secrets`, { provider: "greenhouse" })).secretKey;
  return { worker, base, key };
}

let n = 0;
function endpoints(s, ghPort) {
  const sendTest = fixture("greenhouse/send_test.json");
  const auth = { authorization: "Basic " + Buffer.from(`${s.key}:`).toString("base64") };
  return {
    "GET /healthz": () => ({ method: "GET", path: "/healthz" }),
    "GH GET list_tests": () => ({ method: "GET", path: `/t/${TENANT}/greenhouse/list_tests`, headers: auth }),
    "GH POST send_test": () => ({ method: "POST", path: `/t/${TENANT}/greenhouse/send_test`, headers: auth,
      body: JSON.stringify({ ...sendTest, url: `http://127.0.0.1:${ghPort}/take_home_tests/${++n}` }) }),
  };
}

/** REQUESTS requests at CONC connections; returns the server's CPU ms spent meanwhile. */
async function burst(s, make) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONC });
  const before = deliveries;
  const cpu0 = groupCpuMs(s.worker.pgid);
  let left = REQUESTS, orders = 0;
  await Promise.all(Array.from({ length: CONC }, async () => {
    while (left-- > 0) {
      const req = make();
      const r = await send(agent, s.base, req);
      if (r.status !== 200) throw new Error(`${req.method} ${req.path}: ${r.status} ${r.text.slice(0, 200)}`);
      if (req.body) orders++;
    }
  }));
  agent.destroy();
  for (let i = 0; i < 200 && deliveries - before < orders; i++) await sleep(10); // deliveries land
  const cpu1 = groupCpuMs(s.worker.pgid);
  return { workerd: cpu1.workerd - cpu0.workerd, other: cpu1.other - cpu0.other };
}

/** `n` orders one at a time; returns each one's send → webhook arrival latency (ms). */
async function sequential(s, make, n) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const out = [];
  for (let i = 0; i < n; i++) {
    const arrival = new Promise((r) => { arrived = r; });
    const t0 = performance.now();
    const r = await send(agent, s.base, make());
    if (r.status !== 200) throw new Error(`order: ${r.status} ${r.text.slice(0, 200)}`);
    out.push((await arrival) - t0);
    arrived = null;
  }
  agent.destroy();
  return out;
}

try {
  const hookPort = await listen(receiver);
  const ghPort = await listen(fake);
  const envOf = (list = []) => Object.fromEntries(list.map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]));
  const a = await start(values.a, values["a-config"], hookPort, envOf(values["a-env"]));
  const b = await start(values.b, values["b-config"], hookPort, envOf(values["b-env"]));
  const rows = {};
  for (const name of Object.keys(endpoints(a, ghPort))) {
    const ea = endpoints(a, ghPort)[name], eb = endpoints(b, ghPort)[name];
    await burst(a, ea); await burst(b, eb); // warm-up
    const tot = { a: { workerd: 0, other: 0 }, b: { workerd: 0, other: 0 } };
    for (let r = 0; r < ROUNDS; r++) {
      const [first, second] = r % 2 ? [["b", b, eb], ["a", a, ea]] : [["a", a, ea], ["b", b, eb]];
      for (const [k, s, e] of [first, second]) {
        const c = await burst(s, e);
        tot[k].workerd += c.workerd; tot[k].other += c.other;
      }
    }
    const per = (t) => (t.workerd + t.other) / (ROUNDS * REQUESTS);
    rows[name] = { "a workerd": tot.a.workerd / (ROUNDS * REQUESTS), "a node": tot.a.other / (ROUNDS * REQUESTS),
      "b workerd": tot.b.workerd / (ROUNDS * REQUESTS), "b node": tot.b.other / (ROUNDS * REQUESTS), "b / a": per(tot.b) / per(tot.a) };
    process.stdout.write(`  ${name}: done\n`);
  }
  printTable(`CPU ms per request, a = ${values.a}, b = ${values.b} (${ROUNDS} alternating rounds of ${REQUESTS} at ${CONC} connections)`,
    ["a workerd", "a node", "b workerd", "b node", "b / a"], rows);
  if (values.latency) {
    const ea = endpoints(a, ghPort)["GH POST send_test"], eb = endpoints(b, ghPort)["GH POST send_test"];
    const per = Math.max(1, Math.round(REQUESTS / 4));
    await sequential(a, ea, 20); await sequential(b, eb, 20); // warm-up
    const lat = { a: [], b: [] };
    for (let r = 0; r < ROUNDS; r++) {
      for (const [k, s, e] of r % 2 ? [["b", b, eb], ["a", a, ea]] : [["a", a, ea], ["b", b, eb]]) lat[k].push(...(await sequential(s, e, per)));
    }
    const sa = stats(lat.a), sb = stats(lat.b);
    printTable(`send_test → record.new latency (ms), one order at a time, ${ROUNDS} alternating rounds of ${per}`, ["p50", "p99", "b / a p50"],
      { a: { p50: sa.p50, p99: sa.p99, "b / a p50": 1 }, b: { p50: sb.p50, p99: sb.p99, "b / a p50": sb.p50 / sa.p50 } });
  }
} finally {
  for (const w of workers) await w.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  receiver.closeAllConnections(); receiver.close(); fake.closeAllConnections(); fake.close();
}
