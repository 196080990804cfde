// Shared integration-test harness: runs the real built worker under `wrangler dev` (workerd)
// on a free loopback port with its own state directory, plus scriptable loopback receivers
// that play the partner's webhook, Greenhouse and Ashby. Everything stays on 127.0.0.1.

import { spawn, spawnSync } from "node:child_process";
import { createCipheriv, createHash, createHmac, randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, readdirSync, writeFileSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { createServer as createNetServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { Webhook } from "standardwebhooks";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const ADMIN_TOKEN = "test-admin-token-0123456789";

export async function freePort() {
  return new Promise((res, rej) => {
    const s = createNetServer();
    s.unref();
    s.on("error", rej);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}

/** A wrangler config identical to the worker's wrangler.toml but without the [build] step: the
 *  harness runs the already-built worker (`make test` builds it once). `workerDir` is the
 *  worker's directory relative to the repo (the bridge itself, or examples/embedded). */
function testConfig(dir, workerDir = ".", vars = null) {
  const base = join(ROOT, workerDir);
  const src = readFileSync(join(base, "wrangler.toml"), "utf8");
  const noBuild = src.replace(/\[build\][^[]*/m, "");
  let cfg = noBuild
    .replace(/^main = .*$/m, `main = ${JSON.stringify(join(base, "build/entry.mjs"))}`);
  // Vars written into the config (an auxiliary worker of a session does not get `--var`).
  for (const [k, v] of Object.entries(vars ?? {})) {
    if (v === null || v === undefined) continue;
    const line = `${k} = ${JSON.stringify(String(v))}`;
    const re = new RegExp(`^${k} = .*$`, "m");
    cfg = re.test(cfg) ? cfg.replace(re, line) : cfg.replace(/^\[vars\]$/m, `[vars]\n${line}`);
  }
  const path = join(dir, "wrangler.toml");
  writeFileSync(path, cfg);
  return path;
}

/** The config of the test-only front worker (tests/front/worker.mjs): the primary worker of
 *  the session, forwarding to the bridge and able to put a message on its dead-letter queue. */
function frontConfig(dir, bridgeConfig) {
  const src = readFileSync(bridgeConfig, "utf8");
  const name = src.match(/^name = "(.*)"$/m)[1];
  const date = src.match(/^compatibility_date = "(.*)"$/m)[1];
  const dlq = src.match(/^dead_letter_queue = "(.*)"$/m)[1];
  const path = join(dir, "front.toml");
  writeFileSync(path, [
    `name = "${name}-test-front"`,
    `main = ${JSON.stringify(join(ROOT, "tests/front/worker.mjs"))}`,
    `compatibility_date = "${date}"`,
    "[[services]]",
    `binding = "BRIDGE"`,
    `service = "${name}"`,
    "[[queues.producers]]",
    `binding = "DLQ"`,
    `queue = "${dlq}"`,
    "",
  ].join("\n"));
  return path;
}

/**
 * Start the worker. `vars` become `--var NAME:VALUE` (ADMIN_TOKEN and ALLOW_INSECURE_TARGETS
 * default to test values; pass `null` to omit one). `workerDir` + `mount` run another worker
 * that embeds the bridge under a path prefix (examples/embedded, "/ats"): then `url` is the
 * bridge's root (origin + mount) and `origin` the worker's. `front: true` runs the test-only
 * front worker (tests/front/worker.mjs) as the session's primary worker in front of the bridge,
 * so a test can put a message on the dead-letter queue (`POST /__test/dead-letter`). Returns
 * { url, origin, logs(), stop(), restart() }.
 */
export async function startWorker({ vars = {}, persistTo, workerDir = ".", mount = "", front = false } = {}) {
  const dir = mkdtempSync(join(tmpdir(), "ats-bridge-test-"));
  const state = persistTo ?? join(dir, "state");
  const allVars = { ADMIN_TOKEN, ALLOW_INSECURE_TARGETS: "true", ...vars };
  const config = testConfig(dir, workerDir, front ? allVars : null);
  const configs = front ? [frontConfig(dir, config), config] : [config];
  let child = null;
  let port = 0;
  let output = "";

  // Another process may take the port between freePort() and wrangler binding it (test files
  // run in parallel, each with its own loopback servers): then try again on another port.
  async function launch() {
    for (let attempt = 1; ; attempt++) {
      try {
        return await launchOnce();
      } catch (e) {
        if (!e.portTaken || attempt >= 4) throw e;
      }
    }
  }

  async function launchOnce() {
    port = await freePort();
    output = "";
    const args = ["dev", ...configs.flatMap((c) => ["--config", c]), "--ip", "127.0.0.1", "--port", String(port),
      "--persist-to", state, "--inspector-port", String(await freePort())];
    for (const [k, v] of Object.entries(allVars)) {
      if (v !== null && v !== undefined) args.push("--var", `${k}:${v}`);
    }
    child = spawn(join(ROOT, "node_modules/.bin/wrangler"), args, {
      cwd: dir,
      detached: true, // own process group, so stop() can end workerd with it
      stdio: ["ignore", "pipe", "pipe"],
      // wrangler appends every line it prints to a debug log file (by default under the user's
      // home); it goes to the test's own directory, removed with it.
      env: { ...process.env, WRANGLER_LOG_PATH: join(dir, "wrangler-debug.log"), WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false", NO_COLOR: "1", FORCE_COLOR: "0" },
    });
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    const url = `http://127.0.0.1:${port}${mount}`;
    const deadline = Date.now() + 90_000;
    const portTaken = async () => {
      await stopChild();
      return Object.assign(new Error(`port ${port} was taken by another process`), { portTaken: true });
    };
    while (Date.now() < deadline) {
      if (/EADDRINUSE|address already in use/i.test(output)) throw await portTaken();
      if (child.exitCode !== null) throw new Error(`wrangler exited early:\n${output}`);
      try {
        const r = await fetch(`${url}/healthz`);
        const text = await r.text();
        if (r.status === 200) {
          // Only the bridge's own answer counts: a loopback fake on this port answers 200 too.
          let body = null;
          try { body = JSON.parse(text); } catch {}
          if (body?.status === "ok" && typeof body.version === "string") return url;
          throw await portTaken();
        }
      } catch (e) {
        if (e.portTaken) throw e;
      }
      await sleep(200);
    }
    await stopChild();
    throw new Error(`worker did not become healthy:\n${output}`);
  }

  async function stopChild() {
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    try { process.kill(-child.pid, "SIGTERM"); } catch {}
    const t = setTimeout(() => { try { process.kill(-child.pid, "SIGKILL"); } catch {} }, 5000);
    await exited;
    clearTimeout(t);
    // workerd may outlive wrangler briefly; make sure the whole group is gone.
    try { process.kill(-child.pid, "SIGKILL"); } catch {}
  }

  const w = { url: await launch(), state, logs: () => output };
  w.origin = w.url.slice(0, w.url.length - mount.length);
  w.stop = async () => { await stopChild(); if (!persistTo) rmSync(dir, { recursive: true, force: true }); };
  w.restart = async () => {
    await stopChild();
    w.url = await launch();
    w.origin = w.url.slice(0, w.url.length - mount.length);
    return w.url;
  };
  return w;
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// wrangler's dev proxy (never the bridge) answers this when it reloads the runtime while a
// request is in flight, e.g. just after a restart: the request never reached the worker, so
// sending it again loses and repeats nothing.
const DEV_RELOAD = "Your worker restarted mid-request";
async function devFetch(url, init) {
  for (let attempt = 1; ; attempt++) {
    const r = await fetch(url, init);
    if (r.status !== 503 || attempt >= 5) return r;
    if (!(await r.clone().text()).includes(DEV_RELOAD)) return r;
    await sleep(300);
  }
}

/** Call the admin API. Returns { status, body (parsed JSON or text), headers }. */
export async function admin(w, method, path, body, { token = ADMIN_TOKEN, raw } = {}) {
  const headers = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  const r = await devFetch(`${w.url}${path}`, {
    method, headers, body: raw ?? (body === undefined ? undefined : JSON.stringify(body)),
  });
  return wrap(r);
}

export async function wrap(r) {
  const text = await r.text();
  let body = text;
  try { body = JSON.parse(text); } catch {}
  return { status: r.status, body, headers: r.headers, text };
}

export function basic(user, pass = "") {
  return "Basic " + Buffer.from(`${user}:${pass}`).toString("base64");
}

/** Call an edge endpoint as an ATS would. */
export async function edge(w, tenant, provider, method, { key, body, httpMethod, query = "", auth } = {}) {
  const headers = {};
  if (auth !== undefined) headers.authorization = auth;
  else if (key) headers.authorization = basic(key);
  if (body !== undefined) headers["content-type"] = "application/json";
  const m = httpMethod ?? (body === undefined ? "GET" : "POST");
  const r = await devFetch(`${w.url}/t/${tenant}/${provider}/${method}${query}`, {
    method: m, headers, body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  return wrap(r);
}

/** Assert the bridge's error shape (docs/contract.md "Bad input"). */
export function assertErrorShape(assert, res, status) {
  assert.equal(res.status, status, `expected ${status}, got ${res.status}: ${res.text}`);
  assert.equal(typeof res.body, "object", `error body is JSON: ${res.text}`);
  assert.match(res.body.error?.code ?? "", /^[a-z][a-z0-9_]*$/, `snake_case code in ${res.text}`);
  assert.ok((res.body.error?.message ?? "").length > 5, `human message in ${res.text}`);
}

/**
 * A loopback HTTP server that records every request and answers from a script:
 * `respond(req, n)` returns { status, headers, body } (default 200 "ok"), "drop" to
 * destroy the connection, or "break" / "break-chunked" to send a 200 whose body breaks off:
 * 10 bytes of a declared 1,000 (or of a chunked body), then the connection is destroyed.
 * Used as the partner's webhook, fake Greenhouse and fake Ashby.
 */
export async function startReceiver(respond = () => ({ status: 200 })) {
  const requests = [];
  const waiters = [];
  let script = respond;
  const server = createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", async () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const rec = { method: req.method, path: req.url, headers: req.headers, body, at: performance.now() };
      requests.push(rec);
      for (const w of [...waiters]) w();
      let out;
      try { out = await script(rec, requests.length); } catch (e) { out = { status: 500, body: String(e) }; }
      if (out === "drop") { req.socket.destroy(); return; }
      if (out === "break" || out === "break-chunked") {
        res.writeHead(200, { "content-type": "text/plain", connection: "close", ...(out === "break" ? { "content-length": "1000" } : {}) });
        res.write("0123456789");
        setTimeout(() => req.socket.destroy(), 50);
        return;
      }
      out = out ?? { status: 200 };
      // One connection per request: a kept-alive connection that this server closes while the
      // worker reuses it would turn into a spurious network-failure attempt (a test-harness
      // race, not the behaviour under test).
      res.writeHead(out.status ?? 200, { ...(out.headers ?? { "content-type": "text/plain" }), connection: "close" });
      res.end(out.body === undefined ? "ok" : typeof out.body === "string" ? out.body : JSON.stringify(out.body));
    });
  });
  server.keepAliveTimeout = 1000;
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  const port = server.address().port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    setScript(fn) { script = fn; },
    /** Wait until `pred(requests)` holds (default: at least n requests). */
    async waitFor(n, timeoutMs = 15_000, pred) {
      const ok = () => (pred ? pred(requests) : requests.length >= n);
      const deadline = Date.now() + timeoutMs;
      while (!ok()) {
        if (Date.now() > deadline) throw new Error(`receiver: waited ${timeoutMs} ms for ${n} requests, got ${requests.length}`);
        await new Promise((r) => { waiters.push(r); setTimeout(r, 100); });
        waiters.length = 0;
      }
      return requests;
    },
    close: () => new Promise((r) => { server.closeAllConnections?.(); server.close(r); }),
  };
}

/** The worker's view of a record's events (`GET /v1/tenants/{tenant}/events?record_id=`). */
const recordEvents = (w, tenant, recordId) =>
  admin(w, "GET", `/v1/tenants/${tenant}/events?record_id=${encodeURIComponent(recordId)}`);

/**
 * Wait with `receiver.waitFor(n, timeoutMs, pred)`; when it times out, fail with what the worker
 * says of the record's events (`GET …/events?record_id=`: state, attempts, lastError, next
 * attempt) and the worker's last log lines naming the tenant, so a timeout says where the
 * delivery stopped.
 */
export async function waitForRecord(w, tenant, recordId, receiver, n, timeoutMs, pred) {
  try {
    return await receiver.waitFor(n, timeoutMs, pred);
  } catch (e) {
    const r = await recordEvents(w, tenant, recordId);
    const rows = Array.isArray(r.body?.data) ? r.body.data.map((d) =>
      `${d.eventId} ${d.eventType} ${d.state} attempts=${d.attemptCount} next=${d.nextAttemptAt} held=${d.heldReason ?? null} lastError=${d.lastError}`) : [r.text];
    const logs = w.logs().split("\n").filter((l) => l.includes(tenant)).slice(-30);
    throw new Error(`${e.message}\nevents of ${recordId}:\n  ${rows.join("\n  ")}\nworker log lines of ${tenant}:\n  ${logs.join("\n  ")}`);
  }
}

/**
 * Wait until the worker records every event of a record as `delivered` (`GET …/events?record_id=`).
 * A receiver sees a webhook before the worker has written the attempt's outcome; a test that
 * restarts the worker right after an arrival would cut that write short, and the event would be
 * sent again once its lease runs out (README "Webhooks you receive"), holding the record's later
 * events behind it.
 */
export async function untilDelivered(w, tenant, recordId, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await recordEvents(w, tenant, recordId);
    const rows = r.body?.data ?? [];
    if (r.status === 200 && rows.length > 0 && rows.every((d) => d.state === "delivered")) return rows;
    if (Date.now() > deadline) throw new Error(`events of ${recordId} not all delivered after ${timeoutMs} ms: ${r.text}`);
    await sleep(50);
  }
}

/** Verify a received webhook with the independent `standardwebhooks` library. */
export function verifyWebhook(secret, rec) {
  return new Webhook(secret).verify(rec.body, {
    "webhook-id": rec.headers["webhook-id"],
    "webhook-timestamp": rec.headers["webhook-timestamp"],
    "webhook-signature": rec.headers["webhook-signature"],
  });
}

/** Create a tenant pointing at `webhookUrl`; returns the creation answer body. */
export async function createTenant(w, id, webhookUrl, extra = {}) {
  const r = await admin(w, "POST", "/v1/tenants", { id, name: `Tenant ${id}`, webhook: { url: webhookUrl }, ...extra });
  if (r.status !== 201) throw new Error(`create tenant ${id}: ${r.status} ${r.text}`);
  return r.body;
}

export async function createKey(w, tenant, provider) {
  const r = await admin(w, "POST", `/v1/tenants/${tenant}/secrets`, { provider });
  if (r.status !== 201) throw new Error(`create key: ${r.status} ${r.text}`);
  return r.body;
}

/** Load a fixture from fixtures/, replacing "{{name}}" placeholders (whole-string values
 *  take the substitution's own JSON type; inside longer strings they are spliced in). */
export function fixture(name, subs = {}) {
  const raw = JSON.parse(readFileSync(join(ROOT, "fixtures", name), "utf8"));
  const walk = (v) => {
    if (typeof v === "string") {
      const whole = v.match(/^\{\{(\w+)\}\}$/);
      if (whole && whole[1] in subs) return subs[whole[1]];
      return v.replace(/\{\{(\w+)\}\}/g, (m, k) => (k in subs ? String(subs[k]) : m));
    }
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  return walk(raw);
}

/** Webhook payloads received so far, parsed, optionally filtered by eventType. */
export function events(rx, type) {
  return rx.requests
    .filter((r) => r.headers["webhook-id"])
    .map((r) => JSON.parse(r.body))
    .filter((e) => !type || e.eventType === type);
}

/** Teamtailor's provider key as a JWS: the activation form values (`claims`, e.g. `{key}`)
 *  signed HS256 with the partner API key (README "Teamtailor"). */
export function teamtailorJws(claims, partnerApiKey) {
  const h = Buffer.from(JSON.stringify({ alg: "HS256", typ: "JWT" })).toString("base64url");
  const p = Buffer.from(JSON.stringify(claims)).toString("base64url");
  return `${h}.${p}.${createHmac("sha256", partnerApiKey).update(`${h}.${p}`).digest("base64url")}`;
}

/** Teamtailor's provider key as a JWE (`dir`, `A256GCM`): the 32-byte key is the ASCII of the
 *  first 32 hex characters of sha256(webhook secret); the protected header is the AAD. */
export function teamtailorJwe(claims, webhookSecret) {
  const key = Buffer.from(createHash("sha256").update(webhookSecret).digest("hex").slice(0, 32), "ascii");
  const h = Buffer.from(JSON.stringify({ alg: "dir", enc: "A256GCM" })).toString("base64url");
  const iv = randomBytes(12);
  const c = createCipheriv("aes-256-gcm", key, iv);
  c.setAAD(Buffer.from(h, "ascii"));
  const ct = Buffer.concat([c.update(JSON.stringify(claims), "utf8"), c.final()]);
  return `${h}..${iv.toString("base64url")}.${ct.toString("base64url")}.${c.getAuthTag().toString("base64url")}`;
}

/** `Teamtailor-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<partner-event id>")>`. */
export function teamtailorSignature(eventId, webhookSecret, t = Math.floor(Date.now() / 1000)) {
  return `t=${t},v1=${createHmac("sha256", webhookSecret).update(`${t}.${eventId}`).digest("hex")}`;
}

/** Every row the worker's Durable Objects hold, as the `sqlite3` command-line tool dumps them
 *  (`.dump` of each `*.sqlite` under the worker's state directory): what a test reads to prove
 *  nothing of a person is left in any table or column, including ones no API shows. Null when
 *  no `sqlite3` tool is installed (the caller says the check was skipped). */
export function storageDump(w) {
  if (spawnSync("sqlite3", ["-version"]).status !== 0) return null;
  const files = [];
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith(".sqlite")) files.push(p);
    }
  };
  walk(w.state);
  return files.map((f) => {
    const r = spawnSync("sqlite3", ["-readonly", f, ".dump"], { encoding: "utf8", maxBuffer: 256 * 1024 * 1024 });
    if (r.status !== 0) throw new Error(`sqlite3 ${f}: ${r.stderr}`);
    return r.stdout;
  }).join("\n");
}
