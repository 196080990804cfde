// Webhook delivery latency benchmark (SPEC §8 "first attempt immediately", §11 benchmark).
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

import { spawn, execFileSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { createServer as createNetServer } from "node:net";
import os from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const TOKEN = "bench";
const WARMUP = 50;
const BURST = 200;
const HEALTHZ_CALLS = 300;
const ARRIVAL_TIMEOUT_MS = 20_000;

const { values: opts } = parseArgs({ options: { n: { type: "string", default: "300" } } });
const N = Number.parseInt(opts.n, 10);
if (!(N > 0)) throw new Error(`--n must be a positive integer, got ${opts.n}`);

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function freePort() {
  return new Promise((res, rej) => {
    const s = createNetServer();
    s.on("error", rej);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}

// ---- 1. private copy of the build + wrangler config ----------------------------------------

/** Fingerprint (names, sizes, mtimes) of a directory tree, to detect a rebuild during the copy. */
function fingerprint(dir) {
  return readdirSync(dir, { recursive: true }).sort()
    .map((f) => { const s = statSync(join(dir, f)); return `${f}:${s.size}:${s.mtimeMs}`; }).join("|");
}

/** Copy build/ into `dest`, retrying if another process rewrote it while we were copying. */
async function copyBuild(dest) {
  const src = join(ROOT, "build");
  for (let i = 0; i < 10; i++) {
    const before = fingerprint(src);
    rmSync(dest, { recursive: true, force: true });
    cpSync(src, dest, { recursive: true });
    if (fingerprint(src) === before) return;
    await sleep(2000); // a rebuild is in progress; let it settle
  }
  throw new Error("build/ kept changing while being copied");
}

/** wrangler.toml without its [build] table (we run the copied build, never rebuild), with
 *  `main` pointing at the copy. */
function writeConfig(dir, mainPath) {
  const out = [];
  let inBuild = false;
  for (const line of readFileSync(join(ROOT, "wrangler.toml"), "utf8").split("\n")) {
    if (/^\s*\[/.test(line)) inBuild = /^\s*\[build\]\s*$/.test(line); // a table header
    if (!inBuild) out.push(line);
  }
  const cfg = out.join("\n").replace(/^main = .*$/m, `main = ${JSON.stringify(mainPath)}`);
  const path = join(dir, "wrangler.toml");
  writeFileSync(path, cfg);
  return path;
}

// ---- wrangler dev lifecycle -----------------------------------------------------------------

let child = null; // the wrangler process; leader of its own process group
let logs = "";
let stopping = null;
let interrupted = false; // set by the signal handler: errors after that are expected

async function startWorker(dir) {
  await copyBuild(join(dir, "build"));
  const config = writeConfig(dir, join(dir, "build", "index.js"));
  const port = await freePort();
  const args = ["dev", "--config", config, "--ip", "127.0.0.1", "--port", String(port),
    "--persist-to", join(dir, "state"), "--inspector-port", String(await freePort()),
    "--var", `ADMIN_TOKEN:${TOKEN}`, "--var", "ALLOW_INSECURE_TARGETS:true"];
  child = spawn(join(ROOT, "node_modules/.bin/wrangler"), args, {
    cwd: dir, // keeps wrangler's .wrangler/ scratch files out of the repo
    detached: true, // own process group: stopWorker() kills workerd along with wrangler
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", NO_COLOR: "1", FORCE_COLOR: "0" },
  });
  const keep = (d) => { logs = (logs + d).slice(-4000); }; // tail, for error reports
  child.stdout.on("data", keep);
  child.stderr.on("data", keep);

  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error("wrangler exited before becoming healthy");
    try {
      const r = await fetch(`${url}/healthz`);
      await r.arrayBuffer();
      if (r.status === 200) return url;
    } catch {}
    await sleep(200);
  }
  throw new Error("worker did not answer GET /healthz 200 within 90 s");
}

/** SIGTERM the whole process group, SIGKILL after 5 s; idempotent. */
function stopWorker() {
  stopping ??= (async () => {
    if (!child) return;
    const kill = (sig) => { try { process.kill(-child.pid, sig); } catch {} };
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once("exit", r));
      kill("SIGTERM");
      const t = setTimeout(() => kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(t);
    }
    kill("SIGKILL"); // workerd can outlive wrangler briefly; make sure the group is gone
  })();
  return stopping;
}

// ---- 2. webhook receiver --------------------------------------------------------------------

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

// ---- statistics -----------------------------------------------------------------------------

/** Nearest-rank percentiles, in ms. */
function stats(samples) {
  const s = [...samples].sort((a, b) => a - b);
  const p = (q) => s[Math.max(0, Math.ceil((q / 100) * s.length) - 1)];
  const r2 = (x) => Math.round(x * 100) / 100;
  return { n: s.length, p50: r2(p(50)), p90: r2(p(90)), p99: r2(p(99)), max: r2(s[s.length - 1]) };
}

function printTable(rows) {
  const cols = ["n", "p50", "p90", "p99", "max"];
  const w = Math.max(...Object.keys(rows).map((k) => k.length));
  console.log(`\n${"(ms)".padEnd(w)}  ${cols.map((c) => c.padStart(8)).join("")}`);
  for (const [name, st] of Object.entries(rows)) {
    const cells = cols.map((c) => (c === "n" ? String(st.n) : st[c].toFixed(2)).padStart(8));
    console.log(`${name.padEnd(w)}  ${cells.join("")}`);
  }
}

// ---- main -----------------------------------------------------------------------------------

const dir = mkdtempSync(join(os.tmpdir(), "ats-bridge-bench-")); // build copy, config, state

async function main() {
  let receiver = null;
  try {
    receiver = await startReceiver();
    const url = await startWorker(dir);
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
    printTable(results);
    if (duplicates) console.log(`note: ${duplicates} duplicate webhook deliveries were received`);

    const date = new Date().toISOString();
    let commit = null;
    try { commit = execFileSync("git", ["-C", ROOT, "rev-parse", "HEAD"], { encoding: "utf8" }).trim(); } catch {}
    const cpus = os.cpus();
    const out = {
      date,
      commit,
      machine: { cpuModel: cpus[0]?.model ?? null, cpuCount: cpus.length, platform: os.platform(),
        release: os.release(), totalMemBytes: os.totalmem(), node: process.version },
      params: { n: N, warmup: WARMUP, burst: BURST, healthzCalls: HEALTHZ_CALLS },
      unit: "ms",
      results,
      duplicates,
    };
    const resultsDir = join(ROOT, "bench", "results");
    mkdirSync(resultsDir, { recursive: true });
    const file = join(resultsDir, `latency-${date.replace(/:/g, "-")}.json`); // no ':' in file names
    writeFileSync(file, JSON.stringify(out, null, 2) + "\n");
    console.log(`\nwrote ${file}`);
  } catch (e) {
    if (interrupted) return;
    console.error(`benchmark failed: ${e.stack ?? e}\n--- wrangler output (tail) ---\n${logs}`);
    process.exitCode = 1;
  } finally {
    await stopWorker();
    receiver?.closeAllConnections();
    receiver?.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

// Ctrl-C / kill: still take wrangler and workerd down with us.
for (const [sig, code] of [["SIGINT", 130], ["SIGTERM", 143]]) {
  process.once(sig, async () => {
    interrupted = true;
    console.error(`\n${sig}: stopping the worker`);
    await stopWorker();
    rmSync(dir, { recursive: true, force: true });
    process.exit(code);
  });
}

await main();
