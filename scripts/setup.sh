#!/usr/bin/env bash
# Install what the build and the tests need, skipping whatever is already present:
# the wasm32 target, worker-build, wasm-bindgen-cli at the exact version in Cargo.lock,
# the npm packages (wrangler/workerd, esbuild, binaryen's wasm-opt, Preact/htm, playwright-core)
# and the OS's Chromium for the browser tests. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

WORKER_BUILD_VERSION=0.8.7
say() { printf '[setup] %s\n' "$*"; }

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

if [ "$(worker-build --version 2>/dev/null | awk '{print $NF}')" != "$WORKER_BUILD_VERSION" ]; then
  say "installing worker-build $WORKER_BUILD_VERSION (a few minutes, once)"
  cargo install worker-build --version "$WORKER_BUILD_VERSION" --locked
fi

# worker-build would download wasm-bindgen from GitHub; install the matching CLI from crates.io.
WB_VERSION=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/[^0-9.]/, ""); print; exit }' Cargo.lock)
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$WB_VERSION" ]; then
  say "installing wasm-bindgen-cli $WB_VERSION (a few minutes, once)"
  # --locked can name a dependency version the registry has since yanked; fall back to a
  # fresh resolution of the same wasm-bindgen-cli version.
  cargo install wasm-bindgen-cli --version "$WB_VERSION" --locked \
    || cargo install wasm-bindgen-cli --version "$WB_VERSION"
fi

# npm packages: reinstall only when package-lock.json changed since the last install.
if [ ! -x node_modules/.bin/wrangler ] || [ ! -f node_modules/.package-lock.json ] \
   || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm packages (wrangler, workerd, esbuild, binaryen)"
  npm ci --no-audit --no-fund --loglevel=error
fi

# The browser tests drive the OS's Chromium (never a browser download). Install it when missing
# and allowed (root with apt-get); otherwise say so: tests/browser.test.mjs fails without it.
if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "installing chromium from the OS packages (browser tests, once)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    say "WARNING: /usr/bin/chromium is missing and cannot be installed here (needs root and apt-get);"
    say "         install the 'chromium' package, or tests/browser.test.mjs will fail"
  fi
fi
