// The whole benchmark in one run (README "Performance"; `make bench`). Not a test: it measures and
// reports.
//
//   node bench/run.mjs [--seconds 5] [--orders 100] [--burst 200]
//
// Runs a private copy of the already-built worker (build/) on loopback with a loopback partner
// webhook receiver and a loopback fake Greenhouse, twice: under wrangler's dev server with the
// DevTools inspector detached (the reference figures; bench/dev-server.mjs says why) and under
// the `wrangler dev` CLI as `make dev` starts it. For each it reports:
//   - req/s and p50/p99 latency of /healthz and the edge endpoints at 1 and 16 keep-alive
//     connections, each for --seconds after a 1 s warm-up, and req/s as a ratio to /healthz at
//     the same concurrency (so the figures mean something across machines);
//   - send_test → record.new commit-to-receipt latency: from just before send_test is sent until
//     the receiver sees the webhook arrive, for --orders sequential orders and a --burst at once;
//   - (first server only) the send_test answer latency with Greenhouse order enrichment on (a
//     tenant with Harvest v3 credentials, reading from a loopback fake Harvest) against off (the
//     same orders on a tenant without), interleaved, --enrich-orders each: the target is on ≤ 1.1 × off;
//   - peak memory (VmHWM) of the workerd processes;
//   - (first server only) fan-out: --fanout-orders sequential orders to a tenant whose events go
//     to 1 endpoint (its `webhook`) and to a tenant with 3 (its `webhook` plus 2 webhook
//     endpoints): the send_test answer and send_test → record.new at every endpoint (the last
//     arrival), and the 3-against-1 ratio of the p50s;
//   - (first server only) Durable Object storage per order: a fresh tenant's `storageBytes`
//     (`GET /v1/tenants/{t}`, the object's SQLite `databaseSize`) before and after --storage-orders
//     Greenhouse orders, each delivered to the receiver, divided by the number of orders;
// then the bridge, the reference worker (bench/reference/, JavaScript) and the Rust floor
// (bench/floor/: a workers-rs worker that answers, with and without one log line, and places the
// reference's order) on three detached servers at once, the load alternating between them round
// by round (/healthz and the order at 1 and 16 connections, sequential order → webhook latency,
// bursts), so the ratios the targets are set in do not also measure the machine's drift; and
// once: raw and gzip -9 size of the wasm that was run.
// Prints tables and writes everything to bench/results/bench-<ISO timestamp>.json.

import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import http from "node:http";
import os from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { gzipSync } from "node:zlib";
import { ROOT, createWorker, fixture, groupCpuMs, onSignals, printTable, runInfo, send, stats, workerdProcesses, writeResults } from "./lib.mjs";

const TOKEN = "bench-admin-token";
const TENANT = "bench";
const CONCURRENCY = [1, 16];
const WARMUP_MS = 1000; // per cell: opens the keep-alive connections and warms the code paths
const WARMUP_ORDERS = 20;
const ARRIVAL_TIMEOUT_MS = 30_000;
const GZIP_TARGET_BYTES = 350_000; // "≤ 350 KB gzipped", read strictly as decimal kB

const { values: opts } = parseArgs({ options: {
  seconds: { type: "string", default: "5" },
  orders: { type: "string", default: "100" },
  burst: { type: "string", default: "200" },
  "storage-orders": { type: "string", default: "1000" },
  "fanout-orders": { type: "string", default: "100" },
  "enrich-orders": { type: "string", default: "200" },
} });
const positive = (name) => {
  const v = Number(opts[name]);
  if (!(v > 0)) throw new Error(`--${name} must be a positive number, got ${opts[name]}`);
  return v;
};
const SECONDS = positive("seconds");
const ORDERS = Math.round(positive("orders"));
const BURST = Math.round(positive("burst"));
const STORAGE_ORDERS = Math.round(positive("storage-orders"));
const STORAGE_TENANT = "bench-storage";
const ENRICH_ORDERS = Math.round(positive("enrich-orders"));
const ENRICH_TENANT = "bench-harvest";
const ENRICH_TARGET = 1.1; // send_test answer with enrichment on ≤ 1.1 × off (issue #15)
const FANOUT_ORDERS = Math.round(positive("fanout-orders"));

// ---- loopback servers -----------------------------------------------------------------------

const listen = (server) => new Promise((r) => server.listen(0, "127.0.0.1", () => r(server.address().port)));

const arrivals = new Map(); // recordId of a record.new -> performance.now() of its first arrival
const waiters = new Map(); // recordId -> resolve(arrivalTime)
const webhookIds = new Set();
let duplicates = 0; // redeliveries of a webhook-id already seen (should stay 0)
let ordersAcked = 0; // orders the worker answered 200 to; each owes one record.new

/** The partner's webhook endpoint: notes when each order's record.new arrives. */
const receiver = http.createServer((req, res) => {
  const at = performance.now(); // on arrival, before the body is read
  const id = req.headers["webhook-id"];
  if (webhookIds.has(id)) duplicates++;
  webhookIds.add(id);
  let body = "";
  req.setEncoding("utf8");
  req.on("data", (c) => (body += c));
  req.on("end", () => {
    res.writeHead(200, { "content-type": "text/plain" }).end("ok");
    let event;
    try { event = JSON.parse(body); } catch { return; }
    // ats-bridge's record.new is keyed by its record id, the reference worker's by its event id
    const key = event.eventType === "record.new" ? event.recordId : event.type === "record.new" ? event.id : null;
    if (!key || arrivals.has(key)) return;
    arrivals.set(key, at);
    waiters.get(key)?.(at);
  });
});

/** Resolves with the arrival time of the record.new for `recordId` (which may already be here). */
function arrival(recordId) {
  if (arrivals.has(recordId)) return Promise.resolve(arrivals.get(recordId));
  return new Promise((res, rej) => {
    const t = setTimeout(() => rej(new Error(`record.new for ${recordId} did not arrive within ${ARRIVAL_TIMEOUT_MS} ms`)), ARRIVAL_TIMEOUT_MS);
    waiters.set(recordId, (at) => { clearTimeout(t); waiters.delete(recordId); res(at); });
  });
}

/** Wait until every acknowledged order's record.new has arrived, so a cell's deliveries do not
 *  run on into the next cell's measurement. */
async function drained() {
  const deadline = Date.now() + ARRIVAL_TIMEOUT_MS;
  while (arrivals.size < ordersAcked) {
    if (Date.now() > deadline) throw new Error(`only ${arrivals.size} of ${ordersAcked} record.new webhooks arrived`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Fan-out receiver: every endpoint of the fan-out tenants posts here; counts each record.new's
 *  arrivals and notes the time of the latest. */
const fanArrivals = new Map(); // recordId -> { count, lastAt, need, resolve }
const fanReceiver = http.createServer((req, res) => {
  const at = performance.now();
  let body = "";
  req.setEncoding("utf8");
  req.on("data", (c) => (body += c));
  req.on("end", () => {
    res.writeHead(200, { "content-type": "text/plain" }).end("ok");
    let event;
    try { event = JSON.parse(body); } catch { return; }
    if (event.eventType !== "record.new") return;
    const e = fanArrivals.get(event.recordId) ?? { count: 0, lastAt: 0 };
    e.count++;
    e.lastAt = at;
    fanArrivals.set(event.recordId, e);
    if (e.need && e.count >= e.need) e.resolve(at);
  });
});

/** One order; resolves when its record.new has reached `need` endpoints. */
async function fanOrder(agent, base, ep, need) {
  const t0 = performance.now();
  const r = await send(agent, base, ep.request());
  const responseMs = performance.now() - t0;
  if (r.status !== 200) throw new Error(`${ep.name} answered ${r.status}: ${r.text}`);
  const id = JSON.parse(r.text).partner_interview_id;
  const e = fanArrivals.get(id) ?? { count: 0, lastAt: 0 };
  fanArrivals.set(id, e);
  const at = e.count >= need ? e.lastAt : await new Promise((res, rej) => {
    const t = setTimeout(() => rej(new Error(`record.new for ${id} reached ${e.count} of ${need} endpoints within ${ARRIVAL_TIMEOUT_MS} ms`)), ARRIVAL_TIMEOUT_MS);
    Object.assign(e, { need, resolve: (x) => { clearTimeout(t); res(x); } });
  });
  return { responseMs, receiptMs: at - t0 };
}

/** Fake Greenhouse: order callback urls point here (nothing calls them unless a result is sent). */
const greenhouse = http.createServer((req, res) => { req.resume(); req.on("end", () => res.end("ok")); });

/** Fake Harvest v3 and its token endpoint (README "Order enrichment"): every read answers at
 *  once, so an enriched order's record.new goes as soon as the four reads are done. */
let harvestReads = 0;
const harvest = http.createServer((req, res) => {
  req.resume();
  req.on("end", () => {
    const u = new URL(req.url, "http://harvest");
    const out = (body) => res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(body));
    if (u.pathname === "/token") return out({ access_token: "bench-token", token_type: "bearer", expires_in: 3600 });
    harvestReads++;
    if (u.pathname === "/v3/applications") return out([{ id: Number(u.searchParams.get("ids")), job_id: 501 }]);
    if (u.pathname === "/v3/jobs") return out([{ id: 501, name: "Backend Engineer", requisition_id: "REQ-7", departments: [{ name: "Engineering" }],
      offices: [{ name: "Berlin" }], hiring_team: { hiring_managers: [{ id: 11, first_name: "H", last_name: "M", email: "h@example.com" }] } }]);
    return out([{ id: 13, first_name: "R", last_name: "S", primary_email_address: u.searchParams.get("email") }]);
  });
});

// ---- requests -------------------------------------------------------------------------------

async function adminCall(base, method, path, body) {
  const r = await send(undefined, base, { method, path, headers: { authorization: `Bearer ${TOKEN}` },
    body: body === undefined ? undefined : JSON.stringify(body) });
  if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${r.text}`);
  return JSON.parse(r.text || "null");
}

const basic = (key) => ({ authorization: "Basic " + Buffer.from(`${key}:`).toString("base64") });

let n = 0; // every order gets a fresh callback url / application id, so none is an idempotent replay

/** The edge requests under test. `order: true` marks those that create an order (and a webhook).
 *  `ctx.interviewId` (for test_status) is read per request: it is set after the first order. */
function endpoints(ctx) {
  const { ghKey, abKey, ghPort } = ctx;
  const sendTest = fixture("greenhouse/send_test.json");
  const start = fixture("ashby/assessment.start.json");
  const gh = `/t/${TENANT}/greenhouse`;
  return [
    { name: "GET /healthz", request: () => ({ method: "GET", path: "/healthz" }) },
    { name: "GH GET list_tests", request: () => ({ method: "GET", path: `${gh}/list_tests`, headers: basic(ghKey) }) },
    { name: "GH POST send_test", order: true, request: () => ({ method: "POST", path: `${gh}/send_test`, headers: basic(ghKey),
      body: JSON.stringify({ ...sendTest, url: `http://127.0.0.1:${ghPort}/take_home_tests/${++n}` }) }) },
    { name: "GH GET test_status", request: () => ({ method: "GET", headers: basic(ghKey),
      path: `${gh}/test_status?partner_interview_id=${encodeURIComponent(ctx.interviewId)}` }) },
    { name: "Ashby POST assessment.start", order: true, request: () => ({ method: "POST", path: `/t/${TENANT}/ashby/assessment.start`,
      headers: basic(abKey), body: JSON.stringify({ ...start, application: { ...start.application, ashby_id: `app_bench_${++n}` } }) }) },
  ];
}

/** `conc` connections each sending `ep` back to back: `warmupMs` unmeasured, then `seconds`. */
async function runCell(base, ep, conc, seconds, pgid, warmupMs = WARMUP_MS) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: conc });
  const latencies = [];
  let errors = 0;
  let errorSample = null;
  const loop = async (until, measure) => {
    while (performance.now() < until) {
      const t0 = performance.now();
      try {
        const r = await send(agent, base, ep.request());
        if (r.status !== 200) throw new Error(`${r.status} ${r.text.slice(0, 200)}`);
        if (ep.order) ordersAcked++;
        if (measure) latencies.push(performance.now() - t0);
      } catch (e) {
        if (measure) { errors++; errorSample ??= e.message; }
      }
    }
  };
  const run = (ms, measure) => {
    const until = performance.now() + ms;
    return Promise.all(Array.from({ length: conc }, () => loop(until, measure)));
  };
  await run(warmupMs, false);
  if (ep.order) await drained(); // the warm-up's deliveries are not counted below
  const cpu0 = groupCpuMs(pgid);
  const t0 = performance.now();
  await run(seconds * 1000, true);
  const elapsed = (performance.now() - t0) / 1000; // includes the last in-flight requests
  agent.destroy();
  if (ep.order) await drained(); // an order's CPU includes its webhook delivery
  const cpu1 = groupCpuMs(pgid);
  const done = latencies.length + errors;
  const { p50, p99 } = stats(latencies);
  return { endpoint: ep.name, conc, rps: latencies.length / elapsed, p50, p99, errors, errorSample,
    cpuMsPerReq: { workerd: (cpu1.workerd - cpu0.workerd) / done, other: (cpu1.other - cpu0.other) / done },
    raw: { latencies, elapsed, done } }; // for mergeCells; dropped before the results are written
}

/** Cells of one endpoint and concurrency measured in several rounds, as one cell: req/s over
 *  the summed measured time, percentiles over every request, CPU per request over every one. */
function mergeCells(cells) {
  const sum = (f) => cells.reduce((s, c) => s + f(c), 0);
  const done = sum((c) => c.raw.done);
  const latencies = cells.flatMap((c) => c.raw.latencies);
  const { p50, p99 } = stats(latencies);
  return { endpoint: cells[0].endpoint, conc: cells[0].conc, rounds: cells.length, rps: latencies.length / sum((c) => c.raw.elapsed),
    p50, p99, errors: sum((c) => c.errors), errorSample: cells.find((c) => c.errorSample)?.errorSample ?? null,
    cpuMsPerReq: { workerd: sum((c) => c.cpuMsPerReq.workerd * c.raw.done) / done, other: sum((c) => c.cpuMsPerReq.other * c.raw.done) / done } };
}

/** Every endpoint (the first is /healthz) at every concurrency, with its ratio to /healthz.
 *  Concurrency is the outer loop so each ratio's /healthz baseline is measured in the same
 *  stretch of the run as the endpoints it is compared with. */
async function matrix(base, eps, pgid) {
  const cells = [];
  for (const conc of CONCURRENCY) {
    for (const ep of eps) {
      const c = await runCell(base, ep, conc, SECONDS, pgid);
      cells.push(c);
      process.stdout.write(`  ${ep.name} c=${conc}: ${c.rps.toFixed(0)} req/s\n`);
    }
  }
  for (const c of cells) {
    c.vsHealthz = c.rps / cells.find((h) => h.conc === c.conc && h.endpoint === eps[0].name).rps;
    delete c.raw;
  }
  return cells;
}

function printCells(title, cells, per = `${SECONDS} s/cell`) {
  printTable(`${title} (${per}, keep-alive; CPU ms per request: workerd / wrangler's node)`,
    ["conc", "req/s", "vs healthz", "p50 ms", "p99 ms", "errors", "cpu workerd", "cpu node"],
    cells.map((c) => [c.endpoint, { conc: c.conc, "req/s": c.rps, "vs healthz": c.vsHealthz, "p50 ms": c.p50, "p99 ms": c.p99, errors: c.errors,
      "cpu workerd": c.cpuMsPerReq.workerd, "cpu node": c.cpuMsPerReq.other }]));
  for (const c of cells.filter((c) => c.errors)) console.log(`  ${c.endpoint} c=${c.conc} first error: ${c.errorSample}`);
}

/** One order; returns { responseMs, receiptMs } both measured from just before sending. */
async function timedOrder(agent, base, ep) {
  const t0 = performance.now();
  const r = await send(agent, base, ep.request());
  const responseMs = performance.now() - t0;
  if (r.status !== 200) throw new Error(`${ep.name} answered ${r.status}: ${r.text}`);
  ordersAcked++;
  const answer = JSON.parse(r.text);
  const at = await arrival(answer.partner_interview_id ?? answer.id);
  return { responseMs, receiptMs: at - t0 };
}

// ---- main -----------------------------------------------------------------------------------

// Two local servers, measured one after the other in the same run: wrangler's dev server as
// the benchmark's reference (inspector detached, see bench/dev-server.mjs) and the `wrangler dev`
// CLI as it is started by `make dev` and the tests (DevTools inspector attached). Each ratio is
// taken against /healthz on the same server.
const SERVERS = [
  { name: "wrangler dev, inspector detached", key: "detached", inspector: false },
  { name: "wrangler dev CLI, inspector attached", key: "cli", inspector: true },
];

const dirs = [];
const workers = [];
const signals = onSignals(async () => {
  for (const w of workers) await w.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

// Peak memory: VmHWM is each process's own high-water mark, so sampling only has to catch the
// processes while they are alive; the summed VmRSS is sampled and may miss short spikes.
// Other workerd processes (e.g. a concurrent `make test`) are counted: they skew every figure.
function memorySampler(worker) {
  const memory = { peakHwmKB: {}, peakSumRssKB: 0, otherWorkerdMax: 0 };
  const sample = () => {
    if (!worker.pgid) return;
    const all = workerdProcesses();
    const ours = all.filter((p) => p.pgid === worker.pgid);
    for (const p of ours) memory.peakHwmKB[p.pid] = Math.max(memory.peakHwmKB[p.pid] ?? 0, p.hwmKB);
    memory.peakSumRssKB = Math.max(memory.peakSumRssKB, ours.reduce((s, p) => s + p.rssKB, 0));
    // other benchmark servers of this run are stopped by now; anything else is contention
    memory.otherWorkerdMax = Math.max(memory.otherWorkerdMax, all.length - ours.length);
  };
  const timer = setInterval(sample, 250);
  return { memory, sample, stop: () => clearInterval(timer) };
}

/** Everything measured against one server: throughput matrix, webhook latency, memory. */
async function measure(server, hookPort, ghPort, harvestPort) {
  const dir = mkdtempSync(join(os.tmpdir(), "ats-bridge-bench-")); // build copy, config, state
  dirs.push(dir);
  const worker = createWorker(dir, { ADMIN_TOKEN: TOKEN, ALLOW_INSECURE_TARGETS: "true",
    HARVEST_API_BASE: `http://127.0.0.1:${harvestPort}/v3`, HARVEST_TOKEN_URL: `http://127.0.0.1:${harvestPort}/token` }, { inspector: server.inspector });
  workers.push(worker);
  const mem = memorySampler(worker);
  try {
    const base = await worker.start();
    const wasmSha256 = createHash("sha256").update(readFileSync(join(dir, "build", "index_bg.wasm"))).digest("hex");
    console.log(`\n== ${server.name}: ${base}`);
    // Idle footprint, before any load: under wrangler dev both workerd processes keep growing
    // with the number of requests served (even /healthz only), so the peak depends on run length.
    const idleRssKB = workerdProcesses().filter((p) => p.pgid === worker.pgid).reduce((s, p) => s + p.rssKB, 0);

    // Tenant, packages (Greenhouse fixture package + the Ashby fixture's type), keys.
    await adminCall(base, "POST", "/v1/tenants", { id: TENANT, name: "Bench", webhook: { url: `http://127.0.0.1:${hookPort}/hook` } });
    await adminCall(base, "PUT", `/v1/tenants/${TENANT}/packages`,
      [...fixture("packages.json"), { id: "pkg_456", name: "Frontend Engineer Assessment", type: "SKILLS_TEST" }]);
    const ghKey = (await adminCall(base, "POST", `/v1/tenants/${TENANT}/secrets`, { provider: "greenhouse" })).secretKey;
    const abKey = (await adminCall(base, "POST", `/v1/tenants/${TENANT}/secrets`, { provider: "ashby" })).secretKey;

    // One existing order for test_status to look up.
    const ctx = { ghKey, abKey, ghPort, interviewId: null };
    const eps = endpoints(ctx);
    const order = eps.find((e) => e.name === "GH POST send_test");
    const first = await send(undefined, base, order.request());
    if (first.status !== 200) throw new Error(`send_test answered ${first.status}: ${first.text}`);
    ordersAcked++;
    ctx.interviewId = JSON.parse(first.text).partner_interview_id;

    // 1. Throughput matrix.
    const cells = await matrix(base, eps, worker.pgid);

    // 2. Webhook commit-to-receipt: warm-up, sequential orders, then a burst.
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    for (let i = 0; i < WARMUP_ORDERS; i++) await timedOrder(agent, base, order);
    const sequential = [];
    for (let i = 0; i < ORDERS; i++) sequential.push(await timedOrder(agent, base, order));
    const burstAgent = new http.Agent({ keepAlive: true }); // unlimited sockets: BURST at once
    const burst = await Promise.all(Array.from({ length: BURST }, () => timedOrder(burstAgent, base, order)));
    burstAgent.destroy();
    agent.destroy();
    const webhook = {
      "send_test response (sequential)": stats(sequential.map((o) => o.responseMs)),
      "send_test → record.new (sequential)": stats(sequential.map((o) => o.receiptMs)),
      [`send_test response (burst ${BURST})`]: stats(burst.map((o) => o.responseMs)),
      [`send_test → record.new (burst ${BURST})`]: stats(burst.map((o) => o.receiptMs)),
    };

    // 2b. The send_test answer with order enrichment on vs off (README "Order enrichment": the
    //    answer never waits for Harvest). Interleaved, one connection each, on two tenants whose
    //    only difference is the Harvest credentials; the record.new is awaited each time, so
    //    the enrichment of one order runs while the next is answered.
    let enrichment = null;
    if (server.key === SERVERS[0].key) {
      await adminCall(base, "POST", "/v1/tenants", { id: ENRICH_TENANT, webhook: { url: `http://127.0.0.1:${hookPort}/hook` } });
      await adminCall(base, "PUT", `/v1/tenants/${ENRICH_TENANT}/packages`, fixture("packages.json"));
      await adminCall(base, "PATCH", `/v1/tenants/${ENRICH_TENANT}`, { greenhouse: { harvest: { client_id: "bench", client_secret: "bench-secret" } } });
      const key = (await adminCall(base, "POST", `/v1/tenants/${ENRICH_TENANT}/secrets`, { provider: "greenhouse" })).secretKey;
      const sendTest = fixture("greenhouse/send_test.json");
      const onEp = { name: "GH POST send_test (enrichment on)", request: () => ({ method: "POST", path: `/t/${ENRICH_TENANT}/greenhouse/send_test`,
        headers: basic(key), body: JSON.stringify({ ...sendTest, url: `http://127.0.0.1:${ghPort}/take_home_tests/${++n}`,
          candidate: { ...sendTest.candidate, greenhouse_profile_url: `https://app.greenhouse.io/people/1?application_id=${n}` } }) }) };
      const onAgent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      const offAgent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      for (let i = 0; i < WARMUP_ORDERS; i++) { await timedOrder(offAgent, base, order); await timedOrder(onAgent, base, onEp); }
      const readsBefore = harvestReads;
      const on = [], off = [];
      for (let i = 0; i < ENRICH_ORDERS; i++) {
        off.push(await timedOrder(offAgent, base, order));
        on.push(await timedOrder(onAgent, base, onEp));
      }
      onAgent.destroy();
      offAgent.destroy();
      const sOn = stats(on.map((o) => o.responseMs)), sOff = stats(off.map((o) => o.responseMs));
      enrichment = {
        orders: ENRICH_ORDERS,
        harvestReadsPerOrder: (harvestReads - readsBefore) / ENRICH_ORDERS,
        "send_test response, enrichment off": sOff,
        "send_test response, enrichment on": sOn,
        "send_test → record.new, enrichment off": stats(off.map((o) => o.receiptMs)),
        "send_test → record.new, enrichment on": stats(on.map((o) => o.receiptMs)),
        p50Ratio: sOn.p50 / sOff.p50,
        p99Ratio: sOn.p99 / sOff.p99,
        target: `on p50 ≤ ${ENRICH_TARGET} × off`,
        met: sOn.p50 <= ENRICH_TARGET * sOff.p50,
      };
      printTable(`send_test with Harvest v3 enrichment on vs off (ms, ${ENRICH_ORDERS} interleaved orders each), ${server.name}`,
        ["n", "p50", "p90", "p99", "max"], Object.fromEntries(Object.entries(enrichment).filter(([, v]) => v && typeof v === "object")));
      console.log(`send_test answer, enrichment on / off: p50 ${enrichment.p50Ratio.toFixed(3)}, p99 ${enrichment.p99Ratio.toFixed(3)} ` +
        `(target p50 ≤ ${ENRICH_TARGET}: ${enrichment.met ? "met" : "NOT met"}); ${enrichment.harvestReadsPerOrder.toFixed(2)} Harvest reads per enriched order`);
    }

    // 3. Durable Object storage per order, on a tenant of its own (its object holds only these).
    let storage = null;
    if (server.key === SERVERS[0].key) {
      await adminCall(base, "POST", "/v1/tenants", { id: STORAGE_TENANT, webhook: { url: `http://127.0.0.1:${hookPort}/hook` } });
      await adminCall(base, "PUT", `/v1/tenants/${STORAGE_TENANT}/packages`, fixture("packages.json"));
      const key = (await adminCall(base, "POST", `/v1/tenants/${STORAGE_TENANT}/secrets`, { provider: "greenhouse" })).secretKey;
      const sendTest = fixture("greenhouse/send_test.json");
      const ep = { name: "GH POST send_test (storage tenant)", request: () => ({ method: "POST", path: `/t/${STORAGE_TENANT}/greenhouse/send_test`,
        headers: basic(key), body: JSON.stringify({ ...sendTest, url: `http://127.0.0.1:${ghPort}/take_home_tests/${++n}` }) }) };
      const before = (await adminCall(base, "GET", `/v1/tenants/${STORAGE_TENANT}`)).storageBytes;
      const sagent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      for (let i = 0; i < STORAGE_ORDERS; i++) await timedOrder(sagent, base, ep);
      sagent.destroy();
      await new Promise((r) => setTimeout(r, 1000)); // the last attempt records land
      const after = (await adminCall(base, "GET", `/v1/tenants/${STORAGE_TENANT}`)).storageBytes;
      storage = { orders: STORAGE_ORDERS, bytesBefore: before, bytesAfter: after, bytesPerOrder: Math.round((after - before) / STORAGE_ORDERS),
        source: "GET /v1/tenants/{t} storageBytes (SQLite databaseSize of the tenant's Durable Object)" };
      console.log(`Durable Object storage: ${storage.bytesPerOrder} bytes per order after ${STORAGE_ORDERS} delivered Greenhouse orders ` +
        `(${before} → ${after} bytes, storageBytes = the object's SQLite databaseSize)`);
    }

    // 4. Fan-out: the same sequential orders to a tenant with 1 endpoint and to one with 3.
    let fanout = null;
    if (server.key === SERVERS[0].key) {
      fanout = { orders: FANOUT_ORDERS, source: "send_test → record.new at the last of the tenant's endpoints (one loopback receiver)" };
      const fanPort = fanReceiver.address().port;
      const sendTest = fixture("greenhouse/send_test.json");
      for (const [label, extra] of [["1 endpoint", 0], ["3 endpoints", 2]]) {
        const id = `bench-fan-${extra + 1}`;
        await adminCall(base, "POST", "/v1/tenants", { id, webhook: { url: `http://127.0.0.1:${fanPort}/webhook` } });
        for (let i = 0; i < extra; i++) await adminCall(base, "POST", `/v1/tenants/${id}/webhooks`, { url: `http://127.0.0.1:${fanPort}/endpoint-${i}` });
        const key = (await adminCall(base, "POST", `/v1/tenants/${id}/secrets`, { provider: "greenhouse" })).secretKey;
        const ep = { name: `GH POST send_test (${label})`, request: () => ({ method: "POST", path: `/t/${id}/greenhouse/send_test`,
          headers: basic(key), body: JSON.stringify({ ...sendTest, url: `http://127.0.0.1:${ghPort}/take_home_tests/${++n}` }) }) };
        const fagent = new http.Agent({ keepAlive: true, maxSockets: 1 });
        for (let i = 0; i < WARMUP_ORDERS; i++) await fanOrder(fagent, base, ep, extra + 1);
        const runs = [];
        for (let i = 0; i < FANOUT_ORDERS; i++) runs.push(await fanOrder(fagent, base, ep, extra + 1));
        fagent.destroy();
        fanout[label] = { response: stats(runs.map((o) => o.responseMs)), toEveryEndpoint: stats(runs.map((o) => o.receiptMs)) };
      }
      fanout.ratioP50 = fanout["3 endpoints"].toEveryEndpoint.p50 / fanout["1 endpoint"].toEveryEndpoint.p50;
      fanout.ratioP99 = fanout["3 endpoints"].toEveryEndpoint.p99 / fanout["1 endpoint"].toEveryEndpoint.p99;
    }

    // 5. Memory, read once more while workerd is still running.
    mem.sample();
    const peaks = Object.values(mem.memory.peakHwmKB);
    const memory = { workerdProcesses: peaks.length, maxVmHWMKB: Math.max(0, ...peaks), peakSumVmRSSKB: mem.memory.peakSumRssKB,
      idleSumVmRSSKB: idleRssKB, vmHWMKBByPid: mem.memory.peakHwmKB, otherWorkerdProcessesMax: mem.memory.otherWorkerdMax };

    // Report.
    printCells(`edge throughput, ${server.name}`, cells);
    printTable(`webhook latency (ms), ${server.name}`, ["n", "p50", "p90", "p99", "max"], webhook);
    if (fanout) {
      const rows = {};
      for (const label of ["1 endpoint", "3 endpoints"]) {
        rows[`${label}: send_test response`] = fanout[label].response;
        rows[`${label}: send_test → record.new at every endpoint`] = fanout[label].toEveryEndpoint;
      }
      printTable(`fan-out (ms), ${server.name}`, ["n", "p50", "p90", "p99", "max"], rows);
      console.log(`fan-out to 3 endpoints against 1: ${fanout.ratioP50.toFixed(2)}× at p50, ${fanout.ratioP99.toFixed(2)}× at p99 (send_test → record.new at every endpoint)`);
    }
    const MB = (k) => `${(k / 1024).toFixed(1)} MiB`;
    console.log(`workerd peak memory: ${MB(memory.maxVmHWMKB)} VmHWM (max of ${memory.workerdProcesses} processes), ` +
      `${MB(memory.peakSumVmRSSKB)} peak summed VmRSS (${MB(memory.idleSumVmRSSKB)} idle after start)`);
    if (memory.otherWorkerdProcessesMax) {
      console.log(`WARNING: up to ${memory.otherWorkerdProcessesMax} other workerd processes ran during this measurement; figures are contended`);
    }
    return { server: server.name, inspector: server.inspector, wasmSha256, throughput: cells, webhookMs: webhook, enrichment, memory, storage, fanout };
  } finally {
    mem.stop();
    await worker.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** An order endpoint's webhook latency: `ORDERS` orders one at a time (after a warm-up), then a
 *  burst of `BURST` at once, each from just before it is sent until its record.new arrives. */
async function orderLatency(base, ep) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  for (let i = 0; i < WARMUP_ORDERS; i++) await timedOrder(agent, base, ep);
  const sequential = [];
  for (let i = 0; i < ORDERS; i++) sequential.push(await timedOrder(agent, base, ep));
  const burstAgent = new http.Agent({ keepAlive: true });
  const burst = await Promise.all(Array.from({ length: BURST }, () => timedOrder(burstAgent, base, ep)));
  burstAgent.destroy();
  agent.destroy();
  return {
    "order → webhook (sequential)": stats(sequential.map((o) => o.receiptMs)),
    [`order response (burst ${BURST})`]: stats(burst.map((o) => o.responseMs)),
    [`order → webhook (burst ${BURST})`]: stats(burst.map((o) => o.receiptMs)),
  };
}

// ---- the bridge against the reference worker and the Rust floor -----------------------------
//
// The targets are ratios to the reference worker (README "Performance"). Measured one after the
// other, they would also measure how the shared machine drifted between the two stretches (a
// fifth, run to run). So the three run at once, each on its own inspector-detached server, and
// the load alternates between them in short rounds, the order rotating every round: whatever
// else the machine does weighs on all three alike.

const VS_ROUNDS = 5; // rounds per figure; the server order rotates each round
const VS_CELL_MS = 1000; // measured per server and round, after VS_WARMUP_MS
const VS_WARMUP_MS = 500;
const VS_BURSTS = 3; // bursts of BURST per server; the reported burst is the median one by p99

/** Start one server of the comparison: the bridge (a tenant with a Greenhouse key), the
 *  reference worker (bench/reference/) or the Rust floor (bench/floor/). Returns its name,
 *  worker, base URL and endpoints by role: healthz, logged (the floor's /healthz with one log
 *  line), order. */
async function contestant(kind, hookPort, ghPort) {
  const dir = mkdtempSync(join(os.tmpdir(), `ats-bridge-bench-${kind}-`));
  dirs.push(dir);
  const vars = kind === "bridge" ? { ADMIN_TOKEN: TOKEN, ALLOW_INSECURE_TARGETS: "true" }
    : { WEBHOOK_URL: `http://127.0.0.1:${hookPort}/hook`, WEBHOOK_SECRET: "bench-reference" };
  const worker = createWorker(dir, vars, { inspector: false, reference: kind === "reference", floor: kind === "floor" });
  workers.push(worker);
  const base = await worker.start();
  const healthz = { name: "GET /healthz", request: () => ({ method: "GET", path: "/healthz" }) };
  const body = JSON.stringify(fixture("greenhouse/send_test.json")); // the same payload size as send_test
  if (kind === "bridge") {
    await adminCall(base, "POST", "/v1/tenants", { id: TENANT, name: "Bench", webhook: { url: `http://127.0.0.1:${hookPort}/hook` } });
    await adminCall(base, "PUT", `/v1/tenants/${TENANT}/packages`, fixture("packages.json"));
    const ghKey = (await adminCall(base, "POST", `/v1/tenants/${TENANT}/secrets`, { provider: "greenhouse" })).secretKey;
    const order = endpoints({ ghKey, abKey: "", ghPort, interviewId: "" }).find((e) => e.name === "GH POST send_test");
    return { kind, name: "bridge", worker, base, dir, eps: { healthz, order } };
  }
  const order = { name: `${kind === "floor" ? "Rust floor" : "reference"} POST /order`, order: true, request: () => ({ method: "POST", path: "/order", body }) };
  const eps = { healthz, order };
  if (kind === "floor") eps.logged = { name: "GET /healthz, one log line", request: () => ({ method: "GET", path: "/healthz/logged" }) };
  return { kind, name: kind === "floor" ? "Rust floor" : "reference worker", worker, base, dir, eps };
}

/** `xs` rotated left by `r`. */
const rotate = (xs, r) => xs.map((_, i) => xs[(i + r) % xs.length]);

/** The comparison: /healthz (and the floor's logged /healthz) and the order at every
 *  concurrency, then sequential order → webhook latency, then bursts, each alternating between
 *  the servers round by round. Returns per server { throughput, webhookMs } in the shapes
 *  `measure` reports. */
async function versus(contestants) {
  const cells = new Map(contestants.map((c) => [c.kind, []]));
  for (const conc of CONCURRENCY) {
    for (const role of ["healthz", "logged", "order"]) {
      const rounds = new Map();
      for (let r = 0; r < VS_ROUNDS; r++) {
        for (const c of rotate(contestants, r)) {
          const ep = c.eps[role];
          if (!ep) continue;
          const cell = await runCell(c.base, ep, conc, VS_CELL_MS / 1000, c.worker.pgid, VS_WARMUP_MS);
          rounds.set(c.kind, [...(rounds.get(c.kind) ?? []), cell]);
        }
      }
      for (const [kind, list] of rounds) {
        const merged = mergeCells(list);
        cells.get(kind).push(merged);
        process.stdout.write(`  ${kind} ${merged.endpoint} c=${conc}: ${merged.rps.toFixed(0)} req/s\n`);
      }
    }
  }
  for (const list of cells.values()) {
    for (const c of list) c.vsHealthz = c.rps / list.find((h) => h.conc === c.conc && h.endpoint === "GET /healthz").rps;
  }
  // Sequential orders: a warm-up each, then ORDERS per server in VS_ROUNDS alternating slices.
  const agents = new Map(contestants.map((c) => [c.kind, new http.Agent({ keepAlive: true, maxSockets: 1 })]));
  const sequential = new Map(contestants.map((c) => [c.kind, []]));
  for (const c of contestants) for (let i = 0; i < WARMUP_ORDERS; i++) await timedOrder(agents.get(c.kind), c.base, c.eps.order);
  for (let r = 0; r < VS_ROUNDS; r++) {
    for (const c of rotate(contestants, r)) {
      for (let i = 0; i < Math.ceil(ORDERS / VS_ROUNDS); i++) sequential.get(c.kind).push(await timedOrder(agents.get(c.kind), c.base, c.eps.order));
    }
  }
  for (const a of agents.values()) a.destroy();
  // Bursts: BURST orders at once to one server, VS_BURSTS per server, alternating; the median
  // burst by webhook p99 is reported.
  const bursts = new Map(contestants.map((c) => [c.kind, []]));
  for (let r = 0; r < VS_BURSTS; r++) {
    for (const c of rotate(contestants, r)) {
      const agent = new http.Agent({ keepAlive: true });
      const burst = await Promise.all(Array.from({ length: BURST }, () => timedOrder(agent, c.base, c.eps.order)));
      agent.destroy();
      bursts.get(c.kind).push({ response: stats(burst.map((o) => o.responseMs)), receipt: stats(burst.map((o) => o.receiptMs)) });
    }
  }
  const out = {};
  for (const c of contestants) {
    const seq = sequential.get(c.kind);
    const byP99 = [...bursts.get(c.kind)].sort((a, b) => a.receipt.p99 - b.receipt.p99);
    const median = byP99[Math.floor(byP99.length / 2)];
    const label = c.kind === "bridge" ? "send_test" : "order";
    const webhookMs = {
      [`${label} → ${c.kind === "bridge" ? "record.new" : "webhook"} (sequential)`]: stats(seq.map((o) => o.receiptMs)),
      [`${label} response (burst ${BURST})`]: median.response,
      [`${label} → ${c.kind === "bridge" ? "record.new" : "webhook"} (burst ${BURST})`]: median.receipt,
    };
    out[c.kind] = { server: `${c.name}, wrangler dev, inspector detached, alternating with the others`, throughput: cells.get(c.kind), webhookMs,
      burstsWebhookP99Ms: bursts.get(c.kind).map((b) => b.receipt.p99) };
    printCells(`${c.name}, alternating`, out[c.kind].throughput, `${VS_ROUNDS} rounds of ${VS_CELL_MS / 1000} s per cell`);
    printTable(`${c.name} webhook latency (ms), alternating; burst: the median of ${VS_BURSTS} by p99 ` +
      `(p99s ${out[c.kind].burstsWebhookP99Ms.map((x) => x.toFixed(0)).join(", ")})`, ["n", "p50", "p90", "p99", "max"], webhookMs);
  }
  return out;
}

/** The performance targets (README "Performance"): the bridge against the reference worker in
 *  the same run, both on the inspector-detached server. Ratios are bridge / reference; rates
 *  must reach the target (`≥`), latencies stay under it (`≤`). The burst target is absolute. */
function versusReference(bridge, reference, floor) {
  const rate = (cells, endpoint, conc) => cells.find((c) => c.endpoint === endpoint && c.conc === conc)?.rps;
  const wh = (w, name) => w[name] ?? {};
  const rows = [];
  const ratio = (figure, b, r, target, higherIsBetter) => {
    const value = b / r;
    rows.push({ figure, bridge: b, reference: r, ratio: value, target: `${higherIsBetter ? "≥" : "≤"} ${target}`,
      met: higherIsBetter ? value >= target : value <= target });
  };
  for (const conc of CONCURRENCY) {
    const r = rate(reference.throughput, "GET /healthz", conc);
    ratio(`/healthz req/s, ${conc} conn`, rate(bridge.throughput, "GET /healthz", conc), r, 0.9, true);
    // Not targets: where the runtime puts any Rust worker, with and without one log line.
    for (const [what, endpoint] of [["Rust floor", "GET /healthz"], ["Rust floor + 1 log line", "GET /healthz, one log line"]]) {
      const f = rate(floor.throughput, endpoint, conc);
      rows.push({ figure: `${what} /healthz req/s, ${conc} conn`, bridge: f, reference: r, ratio: f / r, target: "(reported)", met: true });
    }
  }
  const top = Math.max(...CONCURRENCY);
  ratio(`order req/s (send_test vs POST /order), ${top} conn`, rate(bridge.throughput, "GH POST send_test", top),
    rate(reference.throughput, "reference POST /order", top), 0.7, true);
  // Not a target: the reference's order written in Rust (bench/floor), against the reference.
  rows.push({ figure: `Rust floor order req/s (POST /order), ${top} conn`, bridge: rate(floor.throughput, "Rust floor POST /order", top),
    reference: rate(reference.throughput, "reference POST /order", top), target: "(reported)", met: true });
  rows.at(-1).ratio = rows.at(-1).bridge / rows.at(-1).reference;
  const bSeq = wh(bridge.webhookMs, "send_test → record.new (sequential)");
  const rSeq = wh(reference.webhookMs, "order → webhook (sequential)");
  ratio("order → webhook p50, sequential (ms)", bSeq.p50, rSeq.p50, 1.5, false);
  ratio("order → webhook p99, sequential (ms)", bSeq.p99, rSeq.p99, 4, false);
  const bBurst = wh(bridge.webhookMs, `send_test → record.new (burst ${BURST})`);
  const rBurst = wh(reference.webhookMs, `order → webhook (burst ${BURST})`);
  rows.push({ figure: `burst of ${BURST} to one tenant, order → webhook p99 (ms)`, bridge: bBurst.p99, reference: rBurst.p99,
    ratio: bBurst.p99 / rBurst.p99, target: "≤ 300 ms", met: bBurst.p99 <= 300 });
  const fSeq = wh(floor.webhookMs, "order → webhook (sequential)");
  const fBurst = wh(floor.webhookMs, `order → webhook (burst ${BURST})`);
  rows.push({ figure: "Rust floor order → webhook p50, sequential (ms)", bridge: fSeq.p50, reference: rSeq.p50,
    ratio: fSeq.p50 / rSeq.p50, target: "(reported)", met: true });
  rows.push({ figure: `Rust floor burst of ${BURST}, order → webhook p99 (ms)`, bridge: fBurst.p99, reference: rBurst.p99,
    ratio: fBurst.p99 / rBurst.p99, target: "(reported)", met: true });
  const bAns = wh(bridge.webhookMs, `send_test response (burst ${BURST})`);
  const rAns = wh(reference.webhookMs, `order response (burst ${BURST})`);
  rows.push({ figure: `burst of ${BURST} to one tenant, answer p99 (ms)`, bridge: bAns.p99, reference: rAns.p99,
    ratio: bAns.p99 / rAns.p99, target: "(reported)", met: true });
  return rows;
}

async function main() {
  const wall = performance.now();
  try {
    const hookPort = await listen(receiver);
    const ghPort = await listen(greenhouse);
    await listen(fanReceiver);
    const harvestPort = await listen(harvest);
    console.log(`webhook receiver :${hookPort}, fake Greenhouse :${ghPort}, fake Harvest :${harvestPort}, ${SECONDS} s per cell`);

    // Size of the wasm that is run (copied now, so a rebuild during the run cannot change it).
    const wasmBytes = readFileSync(join(ROOT, "build", "index_bg.wasm"));
    const wasm = { rawBytes: wasmBytes.length, gzipBytes: gzipSync(wasmBytes, { level: 9 }).length,
      targetGzipBytes: GZIP_TARGET_BYTES, sha256: createHash("sha256").update(wasmBytes).digest("hex") };
    wasm.withinTarget = wasm.gzipBytes <= GZIP_TARGET_BYTES;

    const servers = {};
    for (const server of SERVERS) {
      servers[server.key] = await measure(server, hookPort, ghPort, harvestPort);
      if (servers[server.key].wasmSha256 !== wasm.sha256) {
        throw new Error("build/ was rebuilt during the benchmark: the servers ran different wasm; run it again");
      }
    }

    console.log(`\n== the bridge, the reference worker and the Rust floor at once (inspector detached), the load alternating`);
    const contestants = [];
    for (const kind of ["bridge", "reference", "floor"]) contestants.push(await contestant(kind, hookPort, ghPort));
    const vs = await versus(contestants);
    for (const c of contestants) { await c.worker.stop(); rmSync(c.dir, { recursive: true, force: true }); }
    const { reference, floor } = vs;

    // Summary: the ratios side by side, and the reference's order next to send_test.
    const summary = {};
    for (const c of servers.detached.throughput) {
      const cli = servers.cli.throughput.find((x) => x.endpoint === c.endpoint && x.conc === c.conc);
      summary[`${c.endpoint} c=${c.conc}`] = { [SERVERS[0].key]: c.vsHealthz, [SERVERS[1].key]: cli.vsHealthz };
    }
    for (const c of reference.throughput.filter((c) => c.endpoint !== "GET /healthz")) {
      summary[`${c.endpoint} c=${c.conc}`] = { detached: c.vsHealthz };
    }
    printTable("vs /healthz: detached = inspector detached, cli = wrangler dev CLI", ["detached", "cli"], summary);

    const vsReference = versusReference(vs.bridge, reference, floor);
    printTable("bridge vs reference worker (inspector detached, the three alternating in this run)", ["bridge", "reference", "ratio", "target", "met"],
      Object.fromEntries(vsReference.map((r) => [r.figure, { ...r, met: r.met ? "yes" : "NO" }])), []);
    const kB = (b) => `${(b / 1000).toFixed(1)} kB`;
    console.log(`\nwasm index_bg.wasm: ${kB(wasm.rawBytes)} raw, ${kB(wasm.gzipBytes)} gzip -9 ` +
      `(target ≤ ${kB(GZIP_TARGET_BYTES)}: ${wasm.withinTarget ? "met" : "NOT met"})`);
    console.log(`orders: ${ordersAcked} acknowledged, ${arrivals.size} record.new received, ${duplicates} duplicate deliveries`);

    const info = runInfo();
    console.log(`machine: ${info.machine.cpuCount} × ${info.machine.cpuModel}, node ${info.machine.node}, ` +
      `commit ${info.commit?.slice(0, 12)}${info.dirty ? " (dirty tree)" : ""}, ${((performance.now() - wall) / 1000).toFixed(0)} s`);
    const file = writeResults("bench", {
      ...info,
      params: { seconds: SECONDS, warmupMs: WARMUP_MS, concurrency: CONCURRENCY, orders: ORDERS, warmupOrders: WARMUP_ORDERS, burst: BURST, fanoutOrders: FANOUT_ORDERS, enrichOrders: ENRICH_ORDERS },
      fanout: servers.detached.fanout,
      servers,
      versus: { bridge: vs.bridge, rounds: VS_ROUNDS, cellMs: VS_CELL_MS, warmupMs: VS_WARMUP_MS, bursts: VS_BURSTS },
      reference,
      floor,
      vsReference,
      wasm,
      orders: { acknowledged: ordersAcked, recordNewReceived: arrivals.size, duplicates },
      wallSeconds: (performance.now() - wall) / 1000,
    });
    console.log(`wrote ${file}`);
  } catch (e) {
    if (signals.interrupted) return;
    console.error(`benchmark failed: ${e.stack ?? e}\n--- wrangler output (tail) ---\n${workers.at(-1)?.logs() ?? ""}`);
    process.exitCode = 1;
  } finally {
    for (const w of workers) await w.stop();
    receiver.closeAllConnections();
    receiver.close();
    greenhouse.closeAllConnections();
    greenhouse.close();
    harvest.closeAllConnections();
    harvest.close();
    fanReceiver.closeAllConnections();
    fanReceiver.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
}

await main();
