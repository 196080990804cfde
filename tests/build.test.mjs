// `make dev` builds once. wrangler dev (4.86) runs the [build] command to find the entry point,
// then again when its file watcher is ready, with nothing changed in between; `make dev` sets
// BUILD_SKIP_UNCHANGED=1 so scripts/build.sh skips a build whose inputs (scripts/build-inputs.mjs)
// match the last one's. Played in a scratch copy of the build scripts with a stand-in
// `worker-build` that counts its runs and writes a tiny JavaScript worker, so no Rust compiles.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { appendFileSync, chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { ROOT, freePort, sleep } from "./harness.mjs";

let dir;
const runs = () => (existsSync(join(dir, "runs")) ? readFileSync(join(dir, "runs"), "utf8").trim().split("\n").filter(Boolean).length : 0);

before(() => {
  dir = mkdtempSync(join(tmpdir(), "ats-bridge-build-test-"));
  mkdirSync(join(dir, "scripts"));
  for (const f of ["build.sh", "build-inputs.mjs", "worker-entry.mjs"]) copyFileSync(join(ROOT, "scripts", f), join(dir, "scripts", f));
  // The web build is not under test here: a stand-in that writes web/dist.
  writeFileSync(join(dir, "scripts/build-web.mjs"),
    'import { mkdirSync, writeFileSync } from "node:fs";\nmkdirSync("web/dist", { recursive: true });\nwriteFileSync("web/dist/index.html", "page");\nwriteFileSync("web/dist/pages.mjs", "export default {};\\n");\n');
  mkdirSync(join(dir, "src"));
  writeFileSync(join(dir, "src/lib.rs"), "// v1\n");
  writeFileSync(join(dir, "Cargo.toml"), '[package]\nname = "scratch"\n');
  writeFileSync(join(dir, "wrangler.toml"),
    'name = "scratch"\nmain = "build/index.js"\ncompatibility_date = "2025-11-01"\n\n[build]\ncommand = "sh scripts/build.sh"\n');
  // build.sh puts $HOME/.cargo/bin first on PATH: the stand-in worker-build lives there.
  const bin = join(dir, "home/.cargo/bin");
  mkdirSync(bin, { recursive: true });
  writeFileSync(join(bin, "worker-build"), `#!/bin/sh
[ "$1" = --version ] && { echo "worker-build 0.8.7"; exit 0; }
echo "$*" >> "${join(dir, "runs")}"
mkdir -p build
printf 'export default { fetch() { return new Response("ok"); } };\\n' > build/index.js
`);
  chmodSync(join(bin, "worker-build"), 0o755);
});
after(() => rmSync(dir, { recursive: true, force: true }));

const env = (extra = {}) => ({ ...process.env, HOME: join(dir, "home"), WASM_BINDGEN_BIN: "true", WASM_OPT_BIN: "true", WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false", ...extra });
const build = (extra) => spawnSync("sh", [join(dir, "scripts/build.sh")], { cwd: dir, env: env(extra), encoding: "utf8", timeout: 60_000 });

/** The environment `make dev` gives wrangler: the NAME=value words before `npx wrangler dev`. */
function makeDevEnv() {
  const mk = readFileSync(join(ROOT, "Makefile"), "utf8");
  const recipe = mk.slice(mk.indexOf("\ndev:")).split("\n\n")[0];
  const line = recipe.split("\n").find((l) => /\bwrangler dev\b/.test(l));
  assert.ok(line, "the dev recipe runs wrangler dev");
  const words = line.trim().split(/\s+/);
  return Object.fromEntries(words.slice(0, words.indexOf("npx")).map((w) => w.split("=")));
}

test("build.sh with BUILD_SKIP_UNCHANGED=1 skips only a build whose inputs are unchanged", () => {
  rmSync(join(dir, "runs"), { force: true });
  let r = build({ BUILD_SKIP_UNCHANGED: "1" });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(runs(), 1, "no build yet: it builds");
  r = build({ BUILD_SKIP_UNCHANGED: "1" });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /nothing changed since the last build/);
  assert.equal(runs(), 1, "same inputs: skipped");
  r = build();
  assert.equal(runs(), 2, "without the variable (make build, make test, deploy) it always builds");
  appendFileSync(join(dir, "src/lib.rs"), "// v2\n");
  build({ BUILD_SKIP_UNCHANGED: "1" });
  assert.equal(runs(), 3, "a changed source builds");
  writeFileSync(join(dir, "web/dist/index.html"), "what the build wrote, changed");
  build({ BUILD_SKIP_UNCHANGED: "1" });
  assert.equal(runs(), 3, "web/dist is the build's output, not an input");
  rmSync(join(dir, "build/index.js"));
  build({ BUILD_SKIP_UNCHANGED: "1" });
  assert.equal(runs(), 4, "a missing build/index.js builds");
  rmSync(join(dir, "build/entry.mjs"));
  build({ BUILD_SKIP_UNCHANGED: "1" });
  assert.equal(runs(), 5, "a missing build/entry.mjs builds");
  // The entry module wrangler runs, with the web files beside it.
  assert.equal(readFileSync(join(dir, "build/entry.mjs"), "utf8"), readFileSync(join(ROOT, "scripts/worker-entry.mjs"), "utf8"));
  assert.equal(readFileSync(join(dir, "build/pages.mjs"), "utf8"), "export default {};\n");
});

test("make demo reuses an unchanged build, as make dev does", () => {
  // The build lines of the demo recipe, as make would run them (make -n prints, runs nothing).
  const dry = spawnSync("make", ["-n", "demo"], { cwd: ROOT, encoding: "utf8", timeout: 60_000 });
  assert.equal(dry.status, 0, dry.stderr);
  const lines = dry.stdout.split("\n").filter((l) => /scripts\/build\.sh/.test(l));
  assert.ok(lines.length > 0, `the demo builds:\n${dry.stdout}`);
  assert.ok(lines.every((l) => /\bBUILD_SKIP_UNCHANGED=1\b/.test(l)), lines.join("\n"));
  assert.doesNotMatch(dry.stdout.replace(/BUILD_SKIP_UNCHANGED=1 sh scripts\/build\.sh/g, ""), /scripts\/build\.sh/, "no second, unconditional build");
  // Played in the scratch tree: the first run builds, a second with nothing changed does not.
  rmSync(join(dir, "runs"), { force: true });
  rmSync(join(dir, "build/index.js"), { force: true });
  const run = () => lines.map((l) => spawnSync("sh", ["-c", l], { cwd: dir, env: env(), encoding: "utf8", timeout: 60_000 }));
  for (const r of run()) assert.equal(r.status, 0, r.stderr);
  assert.equal(runs(), 1, "no build yet: it builds");
  const again = run();
  for (const r of again) assert.equal(r.status, 0, r.stderr);
  assert.equal(runs(), 1, "nothing changed: the build is reused");
  assert.match(again.map((r) => r.stdout).join(""), /nothing changed since the last build/);
  appendFileSync(join(dir, "src/lib.rs"), "// demo edit\n");
  run();
  assert.equal(runs(), 2, "a changed source builds");
});

/** Run `wrangler dev` on the scratch tree until it is ready and its start-up builds are over;
 *  answers how many times worker-build ran. */
async function devBuilds(extraEnv) {
  rmSync(join(dir, "runs"), { force: true });
  rmSync(join(dir, "build"), { recursive: true, force: true });
  const args = ["dev", "--ip", "127.0.0.1", "--port", String(await freePort()), "--inspector-port", String(await freePort()),
    "--persist-to", join(dir, "state")];
  const child = spawn(join(ROOT, "node_modules/.bin/wrangler"), args, { cwd: dir, env: env(extraEnv), detached: true });
  let out = "";
  child.stdout.on("data", (d) => { out += d; });
  child.stderr.on("data", (d) => { out += d; });
  try {
    const deadline = Date.now() + 60_000;
    // Ready, and the watcher's start-up build has run (wrangler logs "… changed, restarting build").
    while (!(/Ready on/.test(out) && /restarting build/.test(out) && /\[build\] nothing changed|Running: sh scripts\/build\.sh[\s\S]*Running: sh scripts\/build\.sh/.test(out))) {
      if (child.exitCode !== null || Date.now() > deadline) throw new Error(`wrangler dev did not get ready:\n${out}`);
      await sleep(100);
    }
    await sleep(1500); // a build in flight finishes writing
    return { runs: runs(), out };
  } finally {
    const exited = new Promise((r) => (child.exitCode !== null ? r() : child.once("exit", r)));
    try { process.kill(-child.pid, "SIGTERM"); } catch {}
    const t = setTimeout(() => { try { process.kill(-child.pid, "SIGKILL"); } catch {} }, 5000);
    await exited;
    clearTimeout(t);
    try { process.kill(-child.pid, "SIGKILL"); } catch {}
  }
}

test("make dev's wrangler dev builds once at start (wrangler alone runs the build twice)", async () => {
  const devEnv = makeDevEnv();
  assert.equal(devEnv.BUILD_SKIP_UNCHANGED, "1", "make dev sets BUILD_SKIP_UNCHANGED=1");
  const once = await devBuilds(devEnv);
  assert.equal(once.runs, 1, once.out);
  assert.match(once.out, /nothing changed since the last build \(build\/\.inputs\): skipped/);
  // The cause, as seen without the variable: the second, identical build at start-up. If a
  // newer wrangler stops doing this, the variable in `make dev` is no longer needed.
  const twice = await devBuilds({});
  assert.equal(twice.runs, 2, twice.out);
});

test("builds started at once run one at a time and each one completes (the build lock)", async () => {
  // The stand-in worker-build fails if another one is running (a marker file), and is slow
  // enough that two unserialized builds would overlap.
  const bin = join(dir, "home/.cargo/bin/worker-build");
  const orig = readFileSync(bin, "utf8");
  writeFileSync(bin, orig.replace('mkdir -p build\n',
    `[ -e "${join(dir, "running")}" ] && { echo overlapping build >&2; exit 1; }\ntouch "${join(dir, "running")}"\nsleep 1\nrm -f "${join(dir, "running")}"\nmkdir -p build\n`));
  try {
    rmSync(join(dir, "runs"), { force: true });
    const one = () => new Promise((res) => {
      const c = spawn("sh", [join(dir, "scripts/build.sh")], { cwd: dir, env: env() });
      let err = "";
      c.stderr.on("data", (d) => { err += d; });
      c.on("exit", (code) => res({ code, err }));
    });
    const results = await Promise.all([one(), one(), one()]);
    for (const r of results) assert.equal(r.code, 0, r.err);
    assert.equal(runs(), 3, "every build ran, one after another");
    assert.ok(existsSync(join(dir, "build/index.js")) && existsSync(join(dir, "build/.inputs")));
    assert.ok(!existsSync(join(dir, ".build.lock")), "the lock is released");
    // A lock left by a process that is gone is taken over.
    mkdirSync(join(dir, ".build.lock"));
    writeFileSync(join(dir, ".build.lock/pid"), "999999999\n");
    const r = build();
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /stale build lock/);
    assert.equal(runs(), 4);
  } finally {
    writeFileSync(bin, orig);
  }
});

test("web builds started at once each leave a complete web/dist", async () => {
  const one = () => new Promise((res) => {
    const c = spawn("node", ["scripts/build-web.mjs"], { cwd: ROOT });
    let err = "";
    c.stderr.on("data", (d) => { err += d; });
    c.on("exit", (code) => res({ code, err }));
  });
  const results = await Promise.all([one(), one(), one(), one()]);
  for (const r of results) assert.equal(r.code, 0, r.err);
  for (const f of ["console/app.js", "console/index.html", "connect/app.js", "connect/gone.html", "cancel-link/final.html", "openapi.json"])
    assert.ok(existsSync(join(ROOT, "web/dist", f)), f);
  const { readdirSync } = await import("node:fs");
  assert.deepEqual(readdirSync(join(ROOT, "web")).filter((n) => n.startsWith(".dist-")), [], "no temporary directories left");
  // The module the worker serves them from (src/web/bundle.rs) holds every file, as built.
  const { default: pages } = await import(`${pathToFileURL(join(ROOT, "web/dist/pages.mjs"))}?${Date.now()}`);
  const built = readdirSync(join(ROOT, "web/dist"), { recursive: true })
    .filter((f) => f !== "pages.mjs" && statSync(join(ROOT, "web/dist", f)).isFile()).sort();
  assert.deepEqual(Object.keys(pages).sort(), built);
  for (const f of built) assert.equal(pages[f], readFileSync(join(ROOT, "web/dist", f), "utf8"), f);
});
