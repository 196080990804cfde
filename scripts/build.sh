#!/bin/sh
# Build a worker (wasm + JS shim into <crate>/build/) with worker-build, pointing it at local
# helper binaries instead of letting it download them from GitHub (see README "Toolchain");
# first the web pages into web/dist (scripts/build-web.mjs), and last the entry module
# wrangler runs, build/entry.mjs (scripts/worker-entry.mjs), with the bundled pages beside it
# (build/pages.mjs). The crate is the repo's root by default; CRATE_DIR=examples/embedded
# builds the embedding example.
set -eu
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
export PATH="$HOME/.cargo/bin:$PATH"
export WASM_BINDGEN_BIN="${WASM_BINDGEN_BIN:-$(command -v wasm-bindgen)}"
export ESBUILD_BIN="${ESBUILD_BIN:-$ROOT/node_modules/.bin/esbuild}"
export WASM_OPT_BIN="${WASM_OPT_BIN:-$ROOT/node_modules/.bin/wasm-opt}"
CRATE="$ROOT/${CRATE_DIR:-.}"
# What this build reads, hashed (scripts/build-inputs.mjs). `make dev` sets BUILD_SKIP_UNCHANGED=1:
# wrangler 4.86's dev server runs the [build] command once to find the entry point and again
# when its file watcher is ready, with nothing changed in between; that second run (and a
# `make dev` right after a `make build`) is skipped. Every other build always builds.
BUILD_TOOLCHAIN="$* $(worker-build --version 2>/dev/null || true) $("$WASM_BINDGEN_BIN" --version 2>/dev/null || true) $(rustc --version 2>/dev/null || true)"
export BUILD_TOOLCHAIN
# One build at a time (wrangler dev starts a build per changed file, overlapping): a lock
# directory holding the holder's pid. A waiting run waits, then builds (so the last change is
# always built); a lock whose holder is gone is stale and taken over.
LOCK="$ROOT/.build.lock"
while ! mkdir "$LOCK" 2>/dev/null; do
  HOLDER="$(cat "$LOCK/pid" 2>/dev/null || true)"
  if [ -n "$HOLDER" ] && ! kill -0 "$HOLDER" 2>/dev/null; then
    echo "[build] removing a stale build lock (pid $HOLDER is gone)"
    rm -rf "$LOCK"
    continue
  fi
  sleep 0.2
done
echo $$ > "$LOCK/pid"
trap 'rm -rf "$LOCK"' EXIT
trap 'exit 130' INT TERM
INPUTS="$(node "$ROOT/scripts/build-inputs.mjs" "$CRATE")"
if [ "${BUILD_SKIP_UNCHANGED:-}" = 1 ] && [ -f "$CRATE/build/index.js" ] && [ -f "$CRATE/build/entry.mjs" ] \
   && [ "$(cat "$CRATE/build/.inputs" 2>/dev/null)" = "$INPUTS" ]; then
  echo "[build] nothing changed since the last build (build/.inputs): skipped"
  exit 0
fi
(cd "$ROOT" && node scripts/build-web.mjs)
cd "$CRATE"
rm -f build/.inputs
worker-build --release "$@"
# worker-build keeps the wasm's function-name section (it runs wasm-opt with --debuginfo) for
# named stack frames; that is a sixth of the wasm (~240 KB, ~60 KB gzip) that every upload
# carries and every cold start parses. Dropped here with the same wasm-opt and worker-build's
# own feature set; a panic's message still says its file and line (README "Performance").
"$WASM_OPT_BIN" --enable-mutable-globals --enable-sign-ext --enable-nontrapping-float-to-int \
  --enable-bulk-memory --enable-multivalue --enable-reference-types --enable-exception-handling \
  --strip-debug --strip-producers build/index_bg.wasm -o build/index_bg.wasm
cp "$ROOT/web/dist/pages.mjs" build/pages.mjs
cp "$ROOT/scripts/worker-entry.mjs" build/entry.mjs
echo "$INPUTS" > build/.inputs
