#!/usr/bin/env node
// `npm run bench [-- options]`: lambda-rapid side by side with the official aws-lambda-ric 4.x
// (native and alternative client), a minimal node:http loop and a raw Rust loop, on a Rust
// Runtime API server that times every invocation on its own side. See docs/benchmark.md.
//
//   --quick             about two minutes: fewer rounds and invocations, Managed Instances at C = 32
//   --node 22           Node major version for the candidates (20, 22, 24) or a path to a node
//                       (default: 22, and 24 for the Managed Instances scenarios)
//   --rounds N          rounds per scenario (candidates interleaved A B C, C B A, ...)
//   --only a,b          scenarios (echo-100B, echo-10KiB, echo-1MiB, object, stream, log-text,
//                       log-json, mc-io, mc-cpu, cold-start, cold-start-sdk)
//   --concurrency 8,64  Managed Instances: invocations outstanding (default 1,8,32,64,256; quick 32)
//   --candidates a,b    lambda-rapid, lambda-rapid-4x, official, official-alt, node-http,
//                       raw-rust (default: all of these), rapid-bare (diagnostic)
//   --no-install        do not install Node or the official client; skip what is missing
//   --addon FILE        the .node binary to use for everything: a build of the bench addon
//                       (benchmark/native), which also holds the product's classes
//                       (default: release builds of this checkout, made by cargo into
//                       benchmark/.cache/addon: the product addon for lambda-rapid, and the
//                       bench addon for the bench server and the raw loops)
//   --no-save           print only; do not write benchmark/results/
//   --update-readme     also put the table and chart into README.md (between bench markers)
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { candidates as allCandidates } from './lib/candidates.mjs';
import { svgChart } from './lib/chart.mjs';
import { closedLoopTrial, coldStart, trial } from './lib/measure.mjs';
import { HANDLERS, RESULTS, ROOT } from './lib/paths.mjs';
import { compileCacheDir } from '../lib/compile-cache.mjs';
import { updateReadme } from './lib/readme.mjs';
import { markdown } from './lib/report.mjs';
import { CONCURRENCY, COLD_STARTS, MANAGED_INSTANCES, SCENARIOS, closedLoopCounts } from './lib/scenarios.mjs';
import { releaseAddon, resolveNode, resolveOfficial } from './lib/setup.mjs';

const { values: opts } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    node: { type: 'string' },
    concurrency: { type: 'string' },
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
  log('bench: the native addon has no BenchServer: it is not the bench addon (benchmark/native)');
  process.exit(2);
}

// One Node per major version asked for: --node for everything, else each scenario's own
// (Managed Instances on Node 24, the rest on 22).
const nodes = new Map();
const nodeFor = (s) => {
  const spec = opts.node ?? s?.node ?? '22';
  if (!nodes.has(spec)) nodes.set(spec, resolveNode(spec, { log }));
  return nodes.get(spec);
};
const node = nodeFor(null);
const official = resolveOfficial({ install: !opts['no-install'], log });
if (official.skip) log(`bench: skipping the official client: ${official.skip}`);
const candidates = allCandidates({ official, addon: addon.product, benchAddon: addon.bench, wanted: wanted ?? [] }).filter((c) => (wanted ? wanted.includes(c.id) : !c.optional));
for (const c of candidates) if (c.skip && !c.id.startsWith('official')) log(`bench: skipping ${c.label}: ${c.skip}`);
const active = candidates.filter((c) => !c.skip);
const scenarios = SCENARIOS.filter((s) => !only || only.includes(s.id));
const managed = MANAGED_INSTANCES.filter((s) => !only || only.includes(s.id));
const colds = COLD_STARTS.filter((s) => !only || only.includes(s.id));
const levels = opts.concurrency ? opts.concurrency.split(',').map(Number) : CONCURRENCY[mode];
if (levels.some((c) => !(Number.isInteger(c) && c > 0))) {
  log(`bench: --concurrency ${opts.concurrency}: positive integers, comma-separated`);
  process.exit(2);
}
/** A Managed Instances scenario at one concurrency: its results are under `<id>@<C>`. */
const sweep = managed.flatMap((s) => levels.map((c) => ({ ...s, id: `${s.id}@${c}`, title: `${s.title}, C = ${c}`, base: s.id, concurrency: c })));

const server = new native.BenchServer();
const results = {};
const errors = [];
const counts = {};
const started = Date.now();
const loadBefore = os.loadavg()[0];
log(`bench: ${mode} run, Node ${opts.node ? node.version : `${node.version} (Managed Instances: Node 24)`} (${node.bin}), ${rounds} rounds, candidates: ${active.map((c) => c.id).join(', ')}`);

/** Round r runs the candidates forwards when r is even, backwards when odd. */
const order = (list, r) => (r % 2 === 0 ? list : [...list].reverse());
const serves = (c, s) => (!c.scenarios || c.scenarios.includes(s.base ?? s.id)) && (!s.candidates || s.candidates.includes(c.base ?? c.id));
const failed = new Set(); // "scenario/candidate" that failed once: not retried in later rounds

/**
 * Scenario `s` over `rounds` rounds, each candidate that serves it measured once a round by
 * `measure(candidate)`, in alternating order. A trial that fails is null; a candidate that failed
 * once is not retried in later rounds, and one that never succeeded is left out. `note` adds to
 * the failure's message.
 */
async function inRounds(s, measure, note = () => '') {
  const byCand = (results[s.id] = {});
  const here = active.filter((c) => serves(c, s));
  for (const c of here) byCand[c.id] = [];
  for (let r = 0; r < rounds; r++) {
    for (const c of order(here, r)) {
      const key = `${s.id}/${c.id}`;
      if (failed.has(key)) {
        byCand[c.id].push(null);
        continue;
      }
      try {
        byCand[c.id].push(await measure(c));
      } catch (e) {
        failed.add(key);
        byCand[c.id].push(null);
        errors.push(`${s.title}, ${c.label}: failed${note(c)}: ${e.message.split('\n')[0]}`);
        log(`bench: ${s.id} ${e.message}`);
      }
    }
  }
  for (const [cid, trials] of Object.entries(byCand)) {
    if (trials.every((t) => t === null)) delete byCand[cid];
  }
  log(`bench: ${s.id} done (${((Date.now() - started) / 1000).toFixed(0)} s)`);
}

for (const s of scenarios) {
  const n = s.n[mode];
  const warm = s.warm[mode];
  counts[s.id] = n;
  const streamingNote = (c) => (s.streaming && c.id.startsWith('lambda-rapid') ? ' (streaming may not be supported yet)' : '');
  await inRounds(s, (c) => trial(server, nodeFor(s).bin, c, s, { warm, n }), streamingNote);
}

for (const s of sweep) {
  const { n, warm } = closedLoopCounts(s, s.concurrency, mode);
  counts[s.id] = n;
  await inRounds(s, (c) => closedLoopTrial(server, nodeFor(s).bin, c, s, { concurrency: s.concurrency, warm, n }));
}

for (const s of colds) {
  if (s.warm) warmCompileCache(s);
  const n = s.n[mode];
  counts[s.id] = n;
  const cold = (results[s.id] = {});
  const here = active.filter((c) => serves(c, s));
  for (const c of here) cold[c.id] = [];
  for (let i = 0; i < n; i++) {
    for (const c of order(here, i)) {
      if (failed.has(`${s.id}/${c.id}`)) continue;
      try {
        cold[c.id].push(await coldStart(server, nodeFor(s).bin, c, s));
      } catch (e) {
        failed.add(`${s.id}/${c.id}`);
        errors.push(`${s.title}, ${c.label}: failed: ${e.message.split('\n')[0]}`);
      }
    }
  }
  for (const [cid, samples] of Object.entries(cold)) if (samples.length === 0) delete cold[cid];
  if (s.warm) fs.rmSync(compileCacheDir(HANDLERS), { recursive: true, force: true });
  log(`bench: ${s.id} done (${((Date.now() - started) / 1000).toFixed(0)} s)`);
}
server.stop();

/** `lambda-rapid warm <handler>` in the handlers' directory, with the scenario's Node, as an image build would. */
function warmCompileCache(s) {
  const r = spawnSync(nodeFor(s).bin, [path.join(ROOT, 'bin', 'lambda-rapid.mjs'), 'warm', s.handler], {
    cwd: HANDLERS, env: { ...process.env, LAMBDA_RAPID_NATIVE_PATH: addon.product, AWS_REGION: 'us-east-1' }, encoding: 'utf8', timeout: 120_000,
  });
  log(`bench: ${s.id}: ${(r.stderr ?? '').trim().split('\n').at(-1)}`);
  if (r.status !== 0) errors.push(`${s.title}: lambda-rapid warm failed: ${(r.stderr ?? r.error?.message ?? '').trim().split('\n').at(-1)}`);
}

const meta = {
  node: node.version,
  nodes: Object.fromEntries([...nodes].map(([spec, n]) => [spec, n.version])),
  concurrency: sweep.length > 0 ? levels : undefined,
  cpu: os.cpus()[0]?.model.trim() ?? 'unknown CPU',
  cores: os.availableParallelism?.() ?? os.cpus().length,
  mode,
  rounds,
  date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
  load: [loadBefore, os.loadavg()[0]].map((l) => l.toFixed(2)).join(' → '),
  seconds: Math.round((Date.now() - started) / 1000),
  counts,
};
const table = markdown({ meta, results, candidates, scenarios: [...scenarios, ...sweep], colds, errors });
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
