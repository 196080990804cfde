#!/bin/sh
# Build the worker (wasm + JS shim into build/) with worker-build, pointing it at local helper
# binaries instead of letting it download them from GitHub (see README "Toolchain"); first the
# web pages and static assets into web/dist (the ASSETS directory, scripts/build-web.mjs).
set -eu
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
export WASM_BINDGEN_BIN="${WASM_BINDGEN_BIN:-$(command -v wasm-bindgen)}"
export ESBUILD_BIN="${ESBUILD_BIN:-$PWD/node_modules/.bin/esbuild}"
export WASM_OPT_BIN="${WASM_OPT_BIN:-$PWD/node_modules/.bin/wasm-opt}"
node scripts/build-web.mjs
exec worker-build --release "$@"
