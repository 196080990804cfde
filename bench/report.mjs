// Print a `make bench` result (bench/results/*.json) as the README's "Performance" tables, so
// the README quotes a run exactly: `node bench/report.mjs [FILE]` (default: the newest result).

import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "./lib.mjs";

const dir = join(ROOT, "bench", "results");
const file = process.argv[2] ?? join(dir, readdirSync(dir).filter((f) => /^bench-.*\.json$/.test(f)).sort().at(-1));
const r = JSON.parse(readFileSync(file, "utf8"));
const f0 = (x) => (x == null ? "" : Math.round(x).toLocaleString("en-US"));
const f1 = (x) => (x == null ? "" : x.toFixed(1));
const f2 = (x) => (x == null ? "" : x.toFixed(2));

const det = r.servers.detached, cli = r.servers.cli;
console.log(`One run on ${r.date.slice(0, 10)}, ${r.machine.cpuCount} × ${r.machine.cpuModel}, Node ${r.machine.node.replace(/^v/, "")}, ` +
  `commit \`${r.commit?.slice(0, 7)}\`${r.dirty ? " (dirty tree)" : ""} (\`make bench\`, ${r.params.seconds} s per cell after a ${r.params.warmupMs / 1000} s warm-up):\n`);
console.log("| endpoint | conc | req/s | vs /healthz | p50 ms | p99 ms | CPU ms/req (workerd + node) | vs /healthz, CLI |");
console.log("|---|---|---|---|---|---|---|---|");
for (const c of det.throughput) {
  const k = cli.throughput.find((x) => x.endpoint === c.endpoint && x.conc === c.conc);
  const cpu = c.cpuMsPerReq ? `${f2(c.cpuMsPerReq.workerd)} + ${f2(c.cpuMsPerReq.other)}` : "";
  console.log(`| ${c.endpoint} | ${c.conc} | ${f0(c.rps)} | ${f2(c.vsHealthz)} | ${f1(c.p50)} | ${f1(c.p99)} | ${cpu} | ${f2(k?.vsHealthz)} |`);
}
// The three servers measured at once, the load alternating (bench/run.mjs "the bridge against the
// reference worker"); older results measured the reference and the floor afterwards.
const alt = r.versus ? ", alternating" : "";
for (const c of r.versus?.bridge.throughput ?? []) {
  const cpu = `${f2(c.cpuMsPerReq.workerd)} + ${f2(c.cpuMsPerReq.other)}`;
  console.log(`| bridge${alt}: ${c.endpoint} | ${c.conc} | ${f0(c.rps)} | ${f2(c.vsHealthz)} | ${f1(c.p50)} | ${f1(c.p99)} | ${cpu} | |`);
}
for (const c of r.reference.throughput) {
  const cpu = c.cpuMsPerReq ? `${f2(c.cpuMsPerReq.workerd)} + ${f2(c.cpuMsPerReq.other)}` : "";
  console.log(`| reference worker${alt}: ${c.endpoint} | ${c.conc} | ${f0(c.rps)} | ${f2(c.vsHealthz)} | ${f1(c.p50)} | ${f1(c.p99)} | ${cpu} | |`);
}
for (const c of r.floor?.throughput ?? []) {
  const cpu = c.cpuMsPerReq ? `${f2(c.cpuMsPerReq.workerd)} + ${f2(c.cpuMsPerReq.other)}` : "";
  console.log(`| Rust floor${alt}: ${c.endpoint} | ${c.conc} | ${f0(c.rps)} | ${f2(c.vsHealthz)} | ${f1(c.p50)} | ${f1(c.p99)} | ${cpu} | |`);
}
console.log("\n| webhook delivery | p50 ms | p90 ms | p99 ms |\n|---|---|---|---|");
const rows = [...Object.entries(det.webhookMs).map(([k, v]) => [`${k}, inspector detached`, v]),
  ...Object.entries(cli.webhookMs).filter(([k]) => k.includes("→")).map(([k, v]) => [`${k}, CLI`, v]),
  ...Object.entries(r.versus?.bridge.webhookMs ?? {}).map(([k, v]) => [`bridge${alt}: ${k}`, v]),
  ...Object.entries(r.reference.webhookMs).map(([k, v]) => [`reference worker${alt}: ${k}`, v]),
  ...Object.entries(r.floor?.webhookMs ?? {}).map(([k, v]) => [`Rust floor${alt}: ${k}`, v])];
for (const [k, v] of rows) console.log(`| ${k} | ${f1(v.p50)} | ${f1(v.p90)} | ${f1(v.p99)} |`);
if (r.vsReference) {
  console.log(`\n| bridge vs reference worker (same run${alt}) | bridge | reference | ratio | target | met |\n|---|---|---|---|---|---|`);
  for (const v of r.vsReference) {
    console.log(`| ${v.figure} | ${f1(v.bridge)} | ${f1(v.reference)} | ${f2(v.ratio)} | ${v.target} | ${v.met ? "yes" : "**no**"} |`);
  }
}
const kB = (b) => `${(b / 1000).toFixed(1)} kB`;
console.log(`\nwasm: ${kB(r.wasm.rawBytes)} raw, **${kB(r.wasm.gzipBytes)} \`gzip -9\`** (target ≤ ${kB(r.wasm.targetGzipBytes)}: ${r.wasm.withinTarget ? "met" : "**not met**"}).`);
const MB = (k) => `${Math.round(k / 1024)} MiB`;
console.log(`workerd peak memory ${MB(det.memory.maxVmHWMKB)} VmHWM during the detached run (${MB(det.memory.idleSumVmRSSKB)} after start).`);
if (det.storage) console.log(`Durable Object storage: **${f0(det.storage.bytesPerOrder)} bytes per order** after ${f0(det.storage.orders)} delivered Greenhouse orders (\`storageBytes\`).`);
if (det.fanout) {
  const one = det.fanout["1 endpoint"].toEveryEndpoint, three = det.fanout["3 endpoints"].toEveryEndpoint;
  console.log(`Fan-out: send_test → record.new at every endpoint, p50/p99 **${f1(one.p50)}/${f1(one.p99)} ms with 1 endpoint, ${f1(three.p50)}/${f1(three.p99)} ms with 3** (${f2(det.fanout.ratioP50)}× at p50; ${f0(det.fanout.orders)} sequential orders each).`);
}
console.log(`Every acknowledged order's webhook arrived: ${f0(r.orders.recordNewReceived)} of ${f0(r.orders.acknowledged)}, ${r.orders.duplicates} duplicates.`);
if (det.memory.otherWorkerdProcessesMax) console.log(`(Contended: up to ${det.memory.otherWorkerdProcessesMax} other workerd processes ran during the run.)`);
