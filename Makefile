# ats-bridge: the two commands are `make dev` (run locally) and `make test` (every test).
# Both install what is missing and skip what is already there (see scripts/setup.sh).

SHELL := /bin/bash
export WRANGLER_SEND_METRICS := false
# The local server would otherwise fetch the `Request.cf` placeholder from workers.cloudflare.com
# at every start; the worker does not read it, and everything local stays on 127.0.0.1.
export CLOUDFLARE_CF_FETCH_ENABLED := false
export PATH := $(HOME)/.cargo/bin:$(PATH)
# The port `make dev` listens on: `make dev PORT=8789` when 8787 is taken. Only the command line
# sets it (`:=` here is not overridden by a PORT in the environment).
PORT := 8787

.PHONY: setup build dev test lint bench demo clean

setup:
	@bash scripts/setup.sh

build: setup
	@sh scripts/build.sh

## Run the worker on http://127.0.0.1:$(PORT) (8787 unless PORT is given) with local KV, Durable Objects and Queues
## persisted under .wrangler/state; secrets come from .dev.vars (created from the example).
## wrangler builds on start ([build] in wrangler.toml) and again whenever src/ changes;
## BUILD_SKIP_UNCHANGED=1 makes scripts/build.sh skip a build whose inputs are unchanged
## (wrangler 4.86 runs the build a second time at start, when its file watcher is ready).
dev: setup
	@[[ "$(PORT)" =~ ^[0-9]+$$ ]] && (( $(PORT) > 0 && $(PORT) < 65536 )) || { echo "PORT must be a port number (1-65535), got '$(PORT)'"; exit 2; }
	@test -f .dev.vars || { cp .dev.vars.example .dev.vars; echo "created .dev.vars from .dev.vars.example"; }
	BUILD_SKIP_UNCHANGED=1 npx wrangler dev --ip 127.0.0.1 --port $(PORT) --persist-to .wrangler/state

## Style (rustfmt, clippy -D warnings for the wasm workers and the host lib + tests), host unit
## tests, a `wrangler deploy --dry-run` of the bridge and of examples/embedded (which also
## builds both), then the integration suite against the built workers under wrangler dev.
test: setup lint
	cargo test --lib --locked
	@sh scripts/deploy-check.sh
	node --test --test-concurrency=1 tests/*.test.mjs

lint: setup
	cargo fmt --check
	cargo clippy --locked --workspace --target wasm32-unknown-unknown -- -D warnings
	cargo clippy --locked --lib --tests -- -D warnings

## Benchmark (not a test; README "Performance"): edge throughput and latency as a ratio to
## /healthz, webhook
## delivery latency, gzipped wasm size and workerd peak memory, in one run of bench/run.mjs
## (~1.5 min). Results go to bench/results/. Quicker: `node bench/run.mjs --seconds 2`.
bench: setup
	@sh scripts/build.sh
	@CRATE_DIR=bench/floor sh scripts/build.sh
	node bench/run.mjs

clean:
	rm -rf build target .wrangler node_modules

## A five-minute tour: a local worker, a verifying receiver, fake Greenhouse (with Harvest v3),
## Ashby, Teamtailor and Recruitee, and a full order through each ATS. `node scripts/demo.mjs
## --help` for playing a deployed worker, and for the receiver mode to use with `make dev`.
## Like `make dev`, it reuses the last build when its inputs are unchanged (BUILD_SKIP_UNCHANGED=1).
demo: setup
	@BUILD_SKIP_UNCHANGED=1 sh scripts/build.sh
	node scripts/demo.mjs
