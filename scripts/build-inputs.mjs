// One SHA-256 over everything a build of the worker reads (scripts/build.sh): the Rust sources
// and manifests of the workspace and of the crate being built, the web pages' sources (not
// web/dist, which the build writes), the OpenAPI document, the build scripts, the npm lockfile
// and the toolchain's versions (passed in BUILD_TOOLCHAIN). scripts/build.sh stores it next to
// the build as `build/.inputs`; with BUILD_SKIP_UNCHANGED=1 (`make dev`) a build whose inputs
// match it is skipped. Usage: node scripts/build-inputs.mjs [CRATE_DIR]
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative, resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const crate = resolve(root, process.argv[2] ?? ".");
// Directories the build writes, or that hold nothing it reads.
const SKIP = new Set(["target", "build", "dist", "node_modules", ".wrangler"]);

function files(path, out) {
  if (!existsSync(path)) return out;
  if (statSync(path).isFile()) return out.push(path), out;
  for (const e of readdirSync(path, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    if (!SKIP.has(e.name)) files(join(path, e.name), out);
  }
  return out;
}

const inputs = [
  "Cargo.toml", "Cargo.lock", "src", "web", "openapi", "package-lock.json",
  "scripts/build.sh", "scripts/build-web.mjs", "scripts/build-inputs.mjs", "scripts/worker-entry.mjs",
].map((p) => join(root, p));
if (crate !== root) inputs.push(join(crate, "Cargo.toml"), join(crate, "src"));

const hash = createHash("sha256");
hash.update(`toolchain\0${process.env.BUILD_TOOLCHAIN ?? ""}\0crate\0${relative(root, crate)}\0`);
for (const f of [...new Set(inputs.flatMap((p) => files(p, [])))]) {
  hash.update(`${relative(root, f)}\0`);
  hash.update(readFileSync(f));
  hash.update("\0");
}
console.log(hash.digest("hex"));
