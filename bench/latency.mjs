// Webhook delivery latency benchmark (docs/contract.md "Delivery": the first attempt right after
// the commit; README "Performance").
// Not a test: it asserts nothing about the numbers, it measures and reports them.
//
//   node bench/latency.mjs [--n 300]
//
// Runs a private copy of the already-built worker (build/) under `wrangler dev` on loopback,
// points a tenant's webhook at a loopback receiver, and measures:
//   - GET /healthz response time (baseline),
//   - POST /v1/tenants/bench/webhook/test response time,
//   - commit-to-receipt: from just before the ping POST is sent until the receiver sees the
//     webhook request arrive, for sequential pings and for a concurrent burst.
// Prints a table and writes the figures to bench/results/latency-<ISO timestamp>.json.

import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import os from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { createWorker, onSignals, printTable, runInfo, stats, writeResults } from "./lib.mjs";

const TOKEN = "bench";
const WARMUP = 50;
const BURST = 200;
const HEALTHZ_CALLS = 300;
const ARRIVAL_TIMEOUT_MS = 20_000;

const { values: opts } = parseArgs({ options: { n: { type: "string", default: "300" } } });
const N = Number.parseInt(opts.n, 10);
if (!(N > 0)) throw new Error(`--n must be a positive integer, got ${opts.n}`);

// ---- 2. webhook receiver (step 1, the worker, is in lib.mjs) ------------------------------

const arrivals = new Map(); // webhook-id -> performance.now() of the first arrival
const waiters = new Map(); // webhook-id -> resolve(arrivalTime)
let duplicates = 0; // retries/redeliveries of an id already seen (should stay 0)

function startReceiver() {
  const server = createServer((req, res) => {
    const at = performance.now(); // on arrival, before the body is read
    const id = req.headers["webhook-id"];
    if (id) {
      if (arrivals.has(id)) duplicates++;
      else {
        arrivals.set(id, at);
        waiters.get(id)?.(at);
      }
    }
    req.resume(); // drain the body
    req.on("end", () => { res.writeHead(200, { "content-type": "text/plain" }); res.end("ok"); });
  });
  return new Promise((r) => server.listen(0, "127.0.0.1", () => r(server)));
}

/** Resolves with the arrival time of webhook `id` (which may already have arrived). */
function arrival(id) {
  if (arrivals.has(id)) return Promise.resolve(arrivals.get(id));
  return new Promise((res, rej) => {
    const t = setTimeout(() => rej(new Error(`webhook ${id} did not arrive within ${ARRIVAL_TIMEOUT_MS} ms`)), ARRIVAL_TIMEOUT_MS);
    waiters.set(id, (at) => { clearTimeout(t); waiters.delete(id); res(at); });
  });
}

// ---- requests -------------------------------------------------------------------------------

async function call(url, method, path, body) {
  const headers = { authorization: `Bearer ${TOKEN}` };
  if (body !== undefined) headers["content-type"] = "application/json";
  const r = await fetch(url + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await r.text();
  return { status: r.status, text };
}

/** One ping: returns { eventId, t0, responseMs } where t0 is taken just before sending. */
async function ping(url) {
  const t0 = performance.now();
  const r = await call(url, "POST", "/v1/tenants/bench/webhook/test");
  const responseMs = performance.now() - t0;
  if (r.status !== 202) throw new Error(`webhook/test answered ${r.status}: ${r.text}`);
  const { eventId } = JSON.parse(r.text);
  if (!eventId) throw new Error(`webhook/test answered without eventId: ${r.text}`);
  return { eventId, t0, responseMs };
}

// ---- main -----------------------------------------------------------------------------------

const dir = mkdtempSync(join(os.tmpdir(), "ats-bridge-bench-")); // build copy, config, state
const worker = createWorker(dir, { ADMIN_TOKEN: TOKEN, ALLOW_INSECURE_TARGETS: "true" });
// Ctrl-C / kill: still take wrangler and workerd down with us.
const signals = onSignals(async () => {
  await worker.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function main() {
  let receiver = null;
  try {
    receiver = await startReceiver();
    const url = await worker.start();
    console.log(`worker ${url}, receiver http://127.0.0.1:${receiver.address().port}/hook`);

    // 3. tenant whose webhook is the receiver
    const t = await call(url, "POST", "/v1/tenants",
      { id: "bench", webhook: { url: `http://127.0.0.1:${receiver.address().port}/hook` } });
    if (t.status !== 201) throw new Error(`create tenant: ${t.status} ${t.text}`);

    // 6. baseline: GET /healthz, sequential (after a short warm-up of its own)
    for (let i = 0; i < WARMUP; i++) await call(url, "GET", "/healthz");
    const healthz = [];
    for (let i = 0; i < HEALTHZ_CALLS; i++) {
      const t0 = performance.now();
      const r = await call(url, "GET", "/healthz");
      healthz.push(performance.now() - t0);
      if (r.status !== 200) throw new Error(`healthz answered ${r.status}`);
    }

    // 4. warm-up, then N sequential pings, each waiting for its webhook before the next
    for (let i = 0; i < WARMUP; i++) { const p = await ping(url); await arrival(p.eventId); }
    const pingResponse = [];
    const sequential = [];
    for (let i = 0; i < N; i++) {
      const p = await ping(url);
      pingResponse.push(p.responseMs);
      sequential.push((await arrival(p.eventId)) - p.t0);
    }

    // 5. burst: BURST pings at once; each latency is measured from its own send time
    const burst = await Promise.all(Array.from({ length: BURST }, async () => {
      const p = await ping(url);
      return (await arrival(p.eventId)) - p.t0;
    }));

    // 7. report
    const results = {
      "healthz response": stats(healthz),
      "ping response": stats(pingResponse),
      "ping commit-to-receipt (sequential)": stats(sequential),
      "ping commit-to-receipt (burst)": stats(burst),
    };
    printTable("(ms)", ["n", "p50", "p90", "p99", "max"], results);
    if (duplicates) console.log(`note: ${duplicates} duplicate webhook deliveries were received`);

    const file = writeResults("latency", {
      ...runInfo(),
      params: { n: N, warmup: WARMUP, burst: BURST, healthzCalls: HEALTHZ_CALLS },
      unit: "ms",
      results,
      duplicates,
    });
    console.log(`\nwrote ${file}`);
  } catch (e) {
    if (signals.interrupted) return;
    console.error(`benchmark failed: ${e.stack ?? e}\n--- wrangler output (tail) ---\n${worker.logs()}`);
    process.exitCode = 1;
  } finally {
    await worker.stop();
    receiver?.closeAllConnections();
    receiver?.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
