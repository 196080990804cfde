//! The web files bundled into the worker's JavaScript (README "Console and connect page"):
//! `scripts/build-web.mjs` writes every built file (the pages, their scripts and styles, the
//! OpenAPI document) into one module, `web/dist/pages.mjs`, as `{ "<path>": "<text>" }`;
//! `scripts/build.sh` copies it beside the wasm, and the worker's entry module
//! (`scripts/worker-entry.mjs`, copied to `build/entry.mjs`) puts that object at
//! `globalThis.ATS_BRIDGE_PAGES` when the worker loads. Serving them from the worker's own code
//! keeps the runtime's static-assets router out of every request (README "Performance").

/// The global the entry module puts the bundled files under.
pub const GLOBAL: &str = "ATS_BRIDGE_PAGES";

/// The text of one bundled file by its path under `web/dist` (`console/index.html`,
/// `connect/app.js`, `openapi.json`, …), or `None` when the build has no such file (or the
/// worker was started from `build/index.js` instead of the entry module).
pub fn file(path: &str) -> Option<String> {
    let files = js_sys::Reflect::get(&js_sys::global(), &GLOBAL.into()).ok()?;
    if !files.is_object() {
        return None;
    }
    // Only strings count: an inherited member (`constructor`, …) is never a file.
    js_sys::Reflect::get(&files, &path.into()).ok()?.as_string()
}
