#!/bin/sh
# Deployability check run by `make test`: `wrangler deploy --dry-run` of the bridge and of the
# embedding example (examples/embedded), each with its own wrangler.toml. A dry run runs the
# config's [build] command (so it also leaves build/ ready for the integration tests),
# validates the config and bundles the worker; it needs no network and no Cloudflare login.
set -eu
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
export WRANGLER_SEND_METRICS=false CLOUDFLARE_CF_FETCH_ENABLED=false
for dir in . examples/embedded; do
  name=$(basename "$(cd "$ROOT/$dir" && pwd)")
  if (cd "$ROOT/$dir" && "$ROOT/node_modules/.bin/wrangler" deploy --dry-run --outdir "$out/$name") \
      > "$out/$name.log" 2>&1; then
    echo "[deploy-check] $dir: wrangler deploy --dry-run ok ($(grep -m1 'Total Upload' "$out/$name.log" || true))"
  else
    cat "$out/$name.log"
    echo "[deploy-check] $dir: wrangler deploy --dry-run FAILED" >&2
    exit 1
  fi
done
