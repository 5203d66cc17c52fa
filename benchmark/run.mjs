#!/usr/bin/env node
// `npm run bench [-- options]`: lambda-rapid side by side with the official aws-lambda-ric 4.x
// (native and alternative client), a minimal node:http loop and a raw Rust loop, on a Rust
// Runtime API server that times every invocation on its own side. See docs/benchmark.md.
//
//   --quick             about a minute: fewer rounds and invocations
//   --node 22           Node major version for the candidates (20, 22, 24) or a path to a node
//   --rounds N          rounds per scenario (candidates interleaved A B C, C B A, ...)
//   --only a,b          scenarios (echo-100B, echo-10KiB, echo-1MiB, object, stream, log-text,
//                       log-json, cold-start)
//   --candidates a,b    lambda-rapid, lambda-rapid-4x, official, official-alt, node-http,
//                       raw-rust (default: all of these), rapid-bare (diagnostic)
//   --no-install        do not install Node or the official client; skip what is missing
//   --addon FILE        the lambda-rapid .node binary to use, built with `--features bench`
//                       (default: release builds of this checkout, made by cargo into
//                       benchmark/.cache/addon: the product addon for lambda-rapid, and one
//                       with the bench feature for the bench server and the raw loops)
//   --no-save           print only; do not write benchmark/results/
//   --update-readme     also put the table and chart into README.md (between bench markers)
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { candidates as allCandidates } from './lib/candidates.mjs';
import { svgChart } from './lib/chart.mjs';
import { coldStart, trial } from './lib/measure.mjs';
import { RESULTS } from './lib/paths.mjs';
import { updateReadme } from './lib/readme.mjs';
import { markdown } from './lib/report.mjs';
import { COLD_START, SCENARIOS } from './lib/scenarios.mjs';
import { releaseAddon, resolveNode, resolveOfficial } from './lib/setup.mjs';

const { values: opts } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    node: { type: 'string', default: '22' },
    rounds: { type: 'string' },
    only: { type: 'string' },
    candidates: { type: 'string' },
    'no-install': { type: 'boolean', default: false },
    addon: { type: 'string' },
    'no-save': { type: 'boolean', default: false },
    'update-readme': { type: 'boolean', default: false },
  },
});

const log = (...a) => console.error(...a);
const mode = opts.quick ? 'quick' : 'full';
const rounds = Number(opts.rounds ?? (opts.quick ? 4 : 6)); // even: each order (A..Z, Z..A) as often
const only = opts.only?.split(',');
const wanted = opts.candidates?.split(',');

let native;
let addon;
try {
  addon = releaseAddon({ given: opts.addon, log });
  process.env.LAMBDA_RAPID_NATIVE_PATH = addon.bench; // the bench server lives in the bench build
  native = (await import('../lib/native.mjs')).default;
} catch (e) {
  log(`bench: could not build or load the addon: ${e.message.split('\n')[0]}`);
  process.exit(2);
}
if (typeof native.BenchServer !== 'function') {
  log('bench: the native addon has no BenchServer: it was not built with `--features bench`');
  process.exit(2);
}

const node = resolveNode(opts.node, { log });
const official = resolveOfficial({ install: !opts['no-install'], log });
if (official.skip) log(`bench: skipping the official client: ${official.skip}`);
const candidates = allCandidates({ official, addon: addon.product, benchAddon: addon.bench }).filter((c) => (wanted ? wanted.includes(c.id) : !c.optional));
for (const c of candidates) if (c.skip && !c.id.startsWith('official')) log(`bench: skipping ${c.label}: ${c.skip}`);
const active = candidates.filter((c) => !c.skip);
const scenarios = SCENARIOS.filter((s) => !only || only.includes(s.id));
const runCold = !only || only.includes(COLD_START.id);

const server = new native.BenchServer();
const results = {};
const errors = [];
const counts = {};
const started = Date.now();
const loadBefore = os.loadavg()[0];
log(`bench: ${mode} run, Node ${node.version} (${node.bin}), ${rounds} rounds, candidates: ${active.map((c) => c.id).join(', ')}`);

/** Round r runs the candidates forwards when r is even, backwards when odd. */
const order = (list, r) => (r % 2 === 0 ? list : [...list].reverse());
const serves = (c, id) => !c.scenarios || c.scenarios.includes(id);
const failed = new Set(); // "scenario/candidate" that failed once: not retried in later rounds

for (const s of scenarios) {
  const n = s.n[mode];
  const warm = s.warm[mode];
  counts[s.id] = n;
  const byCand = (results[s.id] = {});
  const here = active.filter((c) => serves(c, s.id));
  for (const c of here) byCand[c.id] = [];
  for (let r = 0; r < rounds; r++) {
    for (const c of order(here, r)) {
      const key = `${s.id}/${c.id}`;
      if (failed.has(key)) {
        byCand[c.id].push(null);
        continue;
      }
      try {
        byCand[c.id].push(await trial(server, node.bin, c, s, { warm, n }));
      } catch (e) {
        failed.add(key);
        byCand[c.id].push(null);
        const what = s.streaming && c.id.startsWith('lambda-rapid') ? ' (streaming may not be supported yet)' : '';
        errors.push(`${s.title}, ${c.label}: failed${what}: ${e.message.split('\n')[0]}`);
        log(`bench: ${s.id} ${e.message}`);
      }
    }
  }
  for (const [cid, trials] of Object.entries(byCand)) {
    if (trials.every((t) => t === null)) delete byCand[cid];
  }
  log(`bench: ${s.id} done (${((Date.now() - started) / 1000).toFixed(0)} s)`);
}

if (runCold) {
  const n = COLD_START.n[mode];
  counts[COLD_START.id] = n;
  const cold = (results[COLD_START.id] = {});
  for (const c of active) cold[c.id] = [];
  for (let i = 0; i < n; i++) {
    for (const c of order(active, i)) {
      if (failed.has(`cold/${c.id}`)) continue;
      try {
        cold[c.id].push(await coldStart(server, node.bin, c, COLD_START));
      } catch (e) {
        failed.add(`cold/${c.id}`);
        errors.push(`cold start, ${c.label}: failed: ${e.message.split('\n')[0]}`);
      }
    }
  }
  for (const [cid, samples] of Object.entries(cold)) if (samples.length === 0) delete cold[cid];
  log(`bench: cold-start done (${((Date.now() - started) / 1000).toFixed(0)} s)`);
}
server.stop();

const meta = {
  node: node.version,
  cpu: os.cpus()[0]?.model.trim() ?? 'unknown CPU',
  cores: os.availableParallelism?.() ?? os.cpus().length,
  mode,
  rounds,
  date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
  load: [loadBefore, os.loadavg()[0]].map((l) => l.toFixed(2)).join(' → '),
  seconds: Math.round((Date.now() - started) / 1000),
  counts,
};
const table = markdown({ meta, results, candidates, scenarios, cold: results[COLD_START.id], errors });
console.log(table);

if (!opts['no-save']) {
  const base = mode === 'full' ? 'latest' : 'latest-quick';
  fs.mkdirSync(RESULTS, { recursive: true });
  fs.writeFileSync(path.join(RESULTS, `${base}.md`), `# lambda-rapid benchmark (${mode})\n\n${table}\n`);
  fs.writeFileSync(path.join(RESULTS, `${base}.json`), `${JSON.stringify({ meta, results, errors }, null, 1)}\n`);
  const svg = svgChart(results, { title: `lambda-rapid vs aws-lambda-ric ${official.version ?? '4.x'}, Node ${node.version}` });
  fs.writeFileSync(path.join(RESULTS, `${base}.svg`), `${svg}\n`);
  log(`bench: wrote benchmark/results/${base}.{md,json,svg}`);
  if (opts['update-readme']) {
    try {
      updateReadme(base);
      log('bench: README.md updated');
    } catch (e) {
      log(`bench: README.md not updated: ${e.message}`);
    }
  }
}

// A trial that failed (a wrong response, a posted error, a crash) is a broken candidate, not a
// slow one: say so with the exit status. Skipped candidates (e.g. no build tools) are not failures.
if (errors.length > 0) {
  log(`bench: ${errors.length} trial(s) failed (see "Not measured" above)`);
  process.exitCode = 1;
}
