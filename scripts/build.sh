#!/bin/sh
# Build a worker (wasm + JS shim into <crate>/build/) with worker-build, pointing it at local
# helper binaries instead of letting it download them from GitHub (see README "Toolchain");
# first the web pages and static assets into web/dist (the ASSETS directory,
# scripts/build-web.mjs). The crate is the repo's root by default; CRATE_DIR=examples/embedded
# builds the embedding example.
set -eu
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
export PATH="$HOME/.cargo/bin:$PATH"
export WASM_BINDGEN_BIN="${WASM_BINDGEN_BIN:-$(command -v wasm-bindgen)}"
export ESBUILD_BIN="${ESBUILD_BIN:-$ROOT/node_modules/.bin/esbuild}"
export WASM_OPT_BIN="${WASM_OPT_BIN:-$ROOT/node_modules/.bin/wasm-opt}"
(cd "$ROOT" && node scripts/build-web.mjs)
cd "$ROOT/${CRATE_DIR:-.}"
exec worker-build --release "$@"
