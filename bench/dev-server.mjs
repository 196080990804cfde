// `wrangler dev` without the DevTools inspector, for the benchmark (bench/lib.mjs starts it).
//
//   node bench/dev-server.mjs --config F --ip 127.0.0.1 --port N --persist-to DIR [--var K:V ...]
//
// The same local server the CLI runs (wrangler's own dev API, `unstable_startWorker`: the proxy
// worker, workerd, local KV, Durable Objects and Queues), with one difference: the CLI always
// attaches wrangler's inspector proxy, which enables the runtime's Network domain and, for every
// subrequest event and console line, makes an HTTP call to the wrangler process that appends
// the message to a debug log file under ~/.wrangler/logs. That costs per subrequest, so it
// weighs on exactly the endpoints that call a Durable Object or a webhook, and no deployed
// worker pays it. The benchmark reports both servers (see bench/run.mjs).

//
// For measurement only (bench/ab.mjs --b-env; never in `make bench`): with
// BENCH_SKIP_WRANGLER_DEBUG_LOG=1, wrangler's logger is told it runs under its own unit tests,
// the one switch that stops it appending every printed line (each of the worker's log lines
// included) to its debug log file. That shows what the append costs wrangler's process per line.

import { parseArgs } from "node:util";

if (process.env.BENCH_SKIP_WRANGLER_DEBUG_LOG === "1") globalThis.vitest = {};
const { unstable_startWorker } = await import("wrangler");

const { values } = parseArgs({
  options: {
    config: { type: "string" },
    ip: { type: "string" },
    port: { type: "string" },
    "persist-to": { type: "string" },
    var: { type: "string", multiple: true },
  },
});

const bindings = {};
for (const v of values.var ?? []) {
  const i = v.indexOf(":");
  bindings[v.slice(0, i)] = { type: "plain_text", value: v.slice(i + 1) };
}

const worker = await unstable_startWorker({
  config: values.config,
  bindings,
  dev: {
    server: { hostname: values.ip, port: Number(values.port) },
    inspector: false,
    persist: values["persist-to"],
    watch: false,
  },
});
await worker.ready;
console.log(`ready on ${await worker.url}`);

for (const sig of ["SIGTERM", "SIGINT"]) {
  process.once(sig, async () => {
    await worker.dispose();
    process.exit(0);
  });
}
