// Issue 7 (sandbox flow): `make demo` keeps working — the tour runs end to end, every
// webhook arrives and verifies, and it exits 0.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { ROOT } from "./harness.mjs";

test("the demo plays a Greenhouse and two Ashby orders and verifies all 7 events", () => {
  const r = spawnSync(process.execPath, [join(ROOT, "scripts/demo.mjs")], { cwd: ROOT, encoding: "utf8", timeout: 120_000 });
  assert.equal(r.status, 0, `demo failed:\n${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, /7 events received, 7 signatures verified/);
  assert.match(r.stdout, /"partner_status": "complete"/);
});
