// Prints the benchmark's figures from oha's JSON results and measures the brotli size of the
// JS + WASM a public page loads. Usage: node report.mjs RESULTS_DIR PAGE.html BASE_URL
import { readFileSync } from "node:fs";
import { brotliCompressSync, constants } from "node:zlib";

const [dir, pagePath, base] = process.argv.slice(2);
const load = (name) => JSON.parse(readFileSync(`${dir}/${name}.json`, "utf8"));
const ms = (seconds) => (seconds * 1000).toFixed(2);
const figures = {};
for (const [name, label] of [["home", "home page"], ["memberships", "memberships page"], ["baseline", "static baseline"]]) {
  const r = load(name);
  const p = r.latencyPercentiles;
  figures[name] = { rps: r.summary.requestsPerSec, p50: p.p50, p95: p.p95, p99: p.p99, ok: r.summary.successRate };
  console.log(`${label.padEnd(18)} ${r.summary.requestsPerSec.toFixed(0).padStart(7)} req/s   p50 ${ms(p.p50)} ms   p95 ${ms(p.p95)} ms   p99 ${ms(p.p99)} ms   success ${(r.summary.successRate * 100).toFixed(1)}%`);
}
for (const name of ["home", "memberships"]) {
  const ratio = figures[name].rps / figures.baseline.rps;
  const p99 = figures[name].p99 * 1000;
  console.log(`${name} / baseline ratio ${ratio.toFixed(2)} (target >= 0.5: ${ratio >= 0.5 ? "met" : "NOT met"}); p99 ${p99.toFixed(2)} ms (target < 10 ms: ${p99 < 10 ? "met" : "NOT met"})`);
}

const html = readFileSync(pagePath, "utf8");
const urls = new Set();
for (const m of html.matchAll(/<script[^>]*\ssrc="([^"]+)"/g)) urls.add(m[1]);
for (const m of html.matchAll(/<link[^>]*rel="(?:modulepreload|preload)"[^>]*href="([^"]+)"/g)) urls.add(m[1]);
for (const m of html.matchAll(/import\(['"]([^'"]+\.js)['"]\)/g)) urls.add(m[1]);
let total = 0;
for (const url of urls) {
  const body = Buffer.from(await (await fetch(new URL(url, base))).arrayBuffer());
  const size = brotliCompressSync(body, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length;
  total += size;
  console.log(`  ${url}: ${body.length} B raw, ${size} B brotli`);
}
console.log(`JS + WASM loaded by a public page: ${(total / 1024).toFixed(1)} KB brotli (target <= 50 KB: ${total <= 50 * 1024 ? "met" : "NOT met"})`);
