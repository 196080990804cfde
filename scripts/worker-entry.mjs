// The worker's entry module (wrangler.toml `main`): scripts/build.sh copies it to
// build/entry.mjs, beside what worker-build wrote (index.js with the wasm) and the web files
// bundled by scripts/build-web.mjs (pages.mjs). It hands the bundled files to the Rust code
// (src/web/bundle.rs reads `globalThis.ATS_BRIDGE_PAGES`) and re-exports the worker: its fetch
// and queue handlers and the Tenant Durable Object class. Serving the pages from the worker's
// own code means no static-assets router runs in front of every request (README "Performance").
import pages from "./pages.mjs";

globalThis.ATS_BRIDGE_PAGES = pages;

export * from "./index.js";
export { default } from "./index.js";
