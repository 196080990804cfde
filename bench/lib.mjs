// Shared benchmark plumbing: run a private copy of the already-built worker (build/) under
// `wrangler dev` on loopback, stop it reliably, and write results with machine details.
// The copy matters: another engineer may rebuild build/ while a benchmark runs.

import { spawn, execFileSync } from "node:child_process";
import http from "node:http";
import { closeSync, cpSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer as createNetServer } from "node:net";
import os from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function freePort() {
  return new Promise((res, rej) => {
    const s = createNetServer();
    s.on("error", rej);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}

// ---- private copy of the build + wrangler config --------------------------------------------

/** Fingerprint (names, sizes, mtimes) of a directory tree, to detect a rebuild during the copy. */
function fingerprint(dir) {
  return readdirSync(dir, { recursive: true }).sort()
    .map((f) => { const s = statSync(join(dir, f)); return `${f}:${s.size}:${s.mtimeMs}`; }).join("|");
}

/** Copy build/ into `dest`, retrying if another process rewrote it while we were copying. */
export async function copyBuild(dest, src = join(ROOT, "build")) {
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
function writeConfig(dir, mainPath, source = join(ROOT, "wrangler.toml")) {
  const out = [];
  let inBuild = false;
  for (const line of readFileSync(source, "utf8").split("\n")) {
    if (/^\s*\[/.test(line)) inBuild = /^\s*\[build\]\s*$/.test(line); // a table header
    if (!inBuild) out.push(line);
  }
  const cfg = out.join("\n").replace(/^main = .*$/m, `main = ${JSON.stringify(mainPath)}`);
  const path = join(dir, "wrangler.toml");
  writeFileSync(path, cfg);
  return path;
}

// ---- wrangler dev lifecycle -----------------------------------------------------------------

/**
 * A worker run from `dir` (which receives build/, wrangler.toml and state/). `vars` become
 * `--var NAME:VALUE`. The object exists before start() so a signal handler can always stop() it.
 * `inspector: false` runs the same local server through wrangler's dev API without the DevTools
 * inspector (bench/dev-server.mjs says why); the default is the `wrangler dev` CLI.
 * `reference: true` runs bench/reference/ (a minimal JavaScript worker) instead of build/;
 * `floor: true` runs bench/floor/ (a minimal workers-rs worker, built into bench/floor/build);
 * `build` runs another build directory and `config` another wrangler.toml (bench/ab.mjs
 * compares two); `env` adds environment variables for the wrangler process.
 */
export function createWorker(dir, vars, { inspector = true, reference = false, floor = false, build = join(ROOT, "build"), config: source, env: extraEnv = {} } = {}) {
  let child = null; // the wrangler process; leader of its own process group
  // wrangler's output goes to a file in the private directory, written by the kernel: read
  // through a pipe, every log line would cost the benchmark's own process (which also runs the
  // load and the webhook receiver) CPU while it measures.
  const logFile = join(dir, "wrangler.log");
  let stopping = null;

  async function start() {
    let config;
    if (reference) {
      const src = join(ROOT, "bench", "reference");
      config = writeConfig(dir, join(src, "worker.js"), join(src, "wrangler.toml"));
    } else if (floor) {
      const src = join(ROOT, "bench", "floor");
      await copyBuild(join(dir, "build"), join(src, "build"));
      config = writeConfig(dir, join(dir, "build", "index.js"), join(src, "wrangler.toml"));
    } else {
      await copyBuild(join(dir, "build"), build);
      config = writeConfig(dir, join(dir, "build", "entry.mjs"), source);
    }
    const port = await freePort();
    const args = ["--config", config, "--ip", "127.0.0.1", "--port", String(port), "--persist-to", join(dir, "state")];
    for (const [k, v] of Object.entries(vars)) args.push("--var", `${k}:${v}`);
    const [cmd, argv] = inspector
      ? [join(ROOT, "node_modules/.bin/wrangler"), ["dev", ...args, "--inspector-port", String(await freePort())]]
      : [process.execPath, [join(ROOT, "bench/dev-server.mjs"), ...args]];
    const out = openSync(logFile, "a");
    child = spawn(cmd, argv, {
      cwd: dir, // keeps wrangler's .wrangler/ scratch files out of the repo
      detached: true, // own process group: stop() kills workerd along with wrangler
      stdio: ["ignore", out, out],
      // WRANGLER_LOG_PATH: wrangler appends every line it prints to a debug log file, by default
      // under the user's home; here it goes to the private directory, removed with it.
      env: { ...process.env, ...extraEnv, WRANGLER_LOG_PATH: join(dir, "wrangler-debug.log"), WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false", NO_COLOR: "1", FORCE_COLOR: "0" },
    });
    closeSync(out); // the child has its own copy

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
  function stop() {
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

  /** The tail of wrangler's output, for error reports. */
  const logs = () => {
    try { return readFileSync(logFile, "utf8").slice(-4000); } catch { return ""; }
  };
  return { start, stop, logs, get pgid() { return child?.pid ?? null; } };
}

/** Ctrl-C / kill: run `cleanup` (stop the worker), then exit 128+signal. The returned object's
 *  `interrupted` turns true first, so main() can stay quiet about the errors that follow. */
export function onSignals(cleanup) {
  const state = { interrupted: false };
  for (const [sig, code] of [["SIGINT", 130], ["SIGTERM", 143]]) {
    process.once(sig, async () => {
      state.interrupted = true;
      console.error(`\n${sig}: stopping the worker`);
      await cleanup();
      process.exit(code);
    });
  }
  return state;
}

// ---- workerd memory -------------------------------------------------------------------------

/** { pid, pgid, hwmKB, rssKB } for every workerd process on the machine (Linux /proc). Callers
 *  pick theirs by process group; the others show whether something else competed for the CPUs. */
export function workerdProcesses() {
  const out = [];
  for (const pid of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      if (readFileSync(`/proc/${pid}/comm`, "utf8").trim() !== "workerd") continue;
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      // comm is in parentheses and may contain spaces; pgrp is the 3rd field after it
      const pgid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[2]);
      const status = readFileSync(`/proc/${pid}/status`, "utf8");
      const kb = (k) => Number(status.match(new RegExp(`^${k}:\\s+(\\d+) kB`, "m"))?.[1] ?? 0);
      if (/^State:\s+Z/m.test(status)) continue; // a zombie has no memory left to report
      out.push({ pid: Number(pid), pgid, hwmKB: kb("VmHWM"), rssKB: kb("VmRSS") });
    } catch {} // the process went away between readdir and read
  }
  return out;
}

/** CPU time (user + system, ms) used so far by the processes of process group `pgid`, split
 *  into workerd (the runtime running the worker) and the rest (wrangler's node process).
 *  It tells where a request's cost lands (the worker's runtime or the dev server), but it is not
 *  immune to a shared machine: contention inflates it too, so compare figures of one quiet run. */
export function groupCpuMs(pgid) {
  const out = { workerd: 0, other: 0 };
  if (!pgid) return out;
  for (const pid of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" "); // f[0] is field 3 (state)
      if (Number(f[2]) !== pgid) continue;
      const ms = ((Number(f[11]) + Number(f[12])) * 1000) / CLOCK_TICKS; // utime, stime (fields 14, 15)
      out[comm === "workerd" ? "workerd" : "other"] += ms;
    } catch {} // gone between readdir and read
  }
  return out;
}
const CLOCK_TICKS = (() => { try { return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100; } catch { return 100; } })();

// ---- requests ------------------------------------------------------------------------------

/** One HTTP request over `agent`; body is a JSON string or undefined. */
export function send(agent, base, { method, path, headers = {}, body }) {
  if (body !== undefined) headers = { ...headers, "content-type": "application/json", "content-length": Buffer.byteLength(body) };
  return new Promise((resolve, reject) => {
    const req = http.request(base + path, { method, agent, headers }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (c) => (text += c));
      res.on("end", () => resolve({ status: res.statusCode, text }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(body);
  });
}


/** A fixture of the repo's `fixtures/` folder, parsed. */
export const fixture = (name) => JSON.parse(readFileSync(join(ROOT, "fixtures", name), "utf8"));

// ---- statistics and results -----------------------------------------------------------------

/** Nearest-rank percentiles, in ms. */
export function stats(samples) {
  const s = [...samples].sort((a, b) => a - b);
  const p = (q) => s[Math.max(0, Math.ceil((q / 100) * s.length) - 1)] ?? NaN;
  const r2 = (x) => Math.round(x * 100) / 100;
  return { n: s.length, p50: r2(p(50)), p90: r2(p(90)), p99: r2(p(99)), max: r2(s[s.length - 1] ?? NaN) };
}

/** Print `rows` ({ label: { col: value } } or [[label, { col: value }]]) as an aligned table.
 *  Numbers get 2 decimals, except in the columns named in `ints` (counts). */
export function printTable(title, cols, rows, ints = ["n", "conc", "errors"]) {
  const entries = Array.isArray(rows) ? rows : Object.entries(rows);
  const cell = (c, v) => (typeof v === "number" ? v.toFixed(ints.includes(c) ? 0 : 2) : String(v ?? ""));
  const w = Math.max(title.length, ...entries.map(([k]) => k.length));
  const widths = cols.map((c) => Math.max(c.length, ...entries.map(([, r]) => cell(c, r[c]).length)) + 2);
  console.log(`\n${title.padEnd(w)}${cols.map((c, i) => c.padStart(widths[i])).join("")}`);
  for (const [name, r] of entries) {
    console.log(`${name.padEnd(w)}${cols.map((c, i) => cell(c, r[c]).padStart(widths[i])).join("")}`);
  }
}

/** Where and on what a run happened, so results from different machines are not compared blindly. */
export function runInfo() {
  const git = (...a) => { try { return execFileSync("git", ["-C", ROOT, ...a], { encoding: "utf8" }).trim(); } catch { return null; } };
  const status = git("status", "--porcelain");
  const cpus = os.cpus();
  return {
    date: new Date().toISOString(),
    commit: git("rev-parse", "HEAD"),
    dirty: status === null ? null : status.length > 0, // build/ may then differ from the commit
    machine: { cpuModel: cpus[0]?.model ?? null, cpuCount: cpus.length, platform: os.platform(),
      release: os.release(), totalMemBytes: os.totalmem(), node: process.version },
  };
}

/** Write bench/results/<prefix>-<timestamp>.json and return its path. */
export function writeResults(prefix, data) {
  const dir = join(ROOT, "bench", "results");
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${prefix}-${data.date.replace(/:/g, "-")}.json`); // no ':' in file names
  writeFileSync(file, JSON.stringify(data, null, 2) + "\n");
  return file;
}
