// Build the web pages (README "Console and connect page") into web/dist: each page's script
// bundled with its UI library (Preact + htm) by esbuild, its stylesheet, its HTML, and the
// OpenAPI document the worker serves behind the admin token. Nothing is loaded from another
// origin at run time. Last, every one of those files goes into one JavaScript module,
// web/dist/pages.mjs (`export default { "<path>": "<text>", … }`), which scripts/build.sh puts
// beside the wasm: the worker serves the files from it (src/web/bundle.rs).
import { build } from "esbuild";
import { cpSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const web = join(root, "web");
const dist = join(web, "dist");
// Written into a fresh directory beside web/dist, then swapped in with renames, so no reader
// or concurrent build ever sees a half-written or half-deleted web/dist.
const out = join(web, `.dist-new-${process.pid}`);

rmSync(out, { recursive: true, force: true });
for (const page of ["console", "connect", "cancel-link"]) mkdirSync(join(out, page), { recursive: true });

await build({
  entryPoints: { "console/app": join(web, "console/main.js"), "connect/app": join(web, "connect/main.js") },
  outdir: out,
  bundle: true,
  minify: true,
  format: "iife",
  target: ["es2020"],
  legalComments: "none",
  logLevel: "warning",
});

for (const page of ["console", "connect"]) cpSync(join(web, "shared/style.css"), join(out, page, "app.css"));
cpSync(join(web, "console/index.html"), join(out, "console/index.html"));
cpSync(join(web, "connect/index.html"), join(out, "connect/index.html"));
cpSync(join(web, "connect/gone.html"), join(out, "connect/gone.html"));
// The page a cancel link opens in a browser (README "Recruitee"): plain HTML, no script.
for (const f of ["index.html", "done.html", "final.html", "invalid.html"]) cpSync(join(web, "cancel-link", f), join(out, "cancel-link", f));
cpSync(join(root, "openapi/openapi.json"), join(out, "openapi.json"));

// Every file above, by its path under web/dist, as text (all of them are UTF-8 text).
const bundled = {};
for (const f of readdirSync(out, { recursive: true }).sort()) {
  const path = join(out, f);
  if (statSync(path).isFile()) bundled[f.split("\\").join("/")] = readFileSync(path, "utf8");
}
writeFileSync(join(out, "pages.mjs"), `// Written by scripts/build-web.mjs: the built web files, served by the worker.\nexport default ${JSON.stringify(bundled)};\n`);

// Another web build may swap its own directory in between: move that aside too and retry.
for (let i = 0; ; i++) {
  const old = join(web, `.dist-old-${process.pid}-${i}`);
  try { renameSync(dist, old); } catch (e) { if (e.code !== "ENOENT") throw e; }
  rmSync(old, { recursive: true, force: true });
  try { renameSync(out, dist); break; } catch (e) { if (!["ENOTEMPTY", "EEXIST"].includes(e.code) || i > 20) throw e; }
}
