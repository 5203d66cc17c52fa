#!/usr/bin/env node
// Where does a candidate's time go? Runs one trial of one scenario under a profiler and prints
// a summary per invocation. For finding causes, not for the figures (profilers slow things down).
//
//   node benchmark/profile.mjs --tool cpu-prof|strace|perf|perf-stat [--candidate lambda-rapid]
//        [--scenario echo-100B] [--node 22] [-n 3000] [--env KEY=VALUE ...]
//
// cpu-prof: V8's sampling profiler (--cpu-prof), self time by function, top 30.
// strace:   system calls made during the measured window (strace -c -f), per invocation.
// perf:     perf record -g over the measured window (with --perf-basic-prof), top symbols.
// perf-stat: counters (CPU time, context switches, cycles, instructions, ...) per invocation.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { candidates as allCandidates } from './lib/candidates.mjs';
import { trial } from './lib/measure.mjs';
import { COLD_START, SCENARIOS } from './lib/scenarios.mjs';
import { releaseAddon, resolveNode, resolveOfficial } from './lib/setup.mjs';

const { values: opts } = parseArgs({
  options: {
    tool: { type: 'string', default: 'cpu-prof' },
    candidate: { type: 'string', default: 'lambda-rapid' },
    scenario: { type: 'string', default: 'echo-100B' },
    node: { type: 'string', default: '22' },
    n: { type: 'string', short: 'n', default: '3000' },
    env: { type: 'string', multiple: true, default: [] },
  },
});

const addon = releaseAddon();
process.env.LAMBDA_RAPID_NATIVE_PATH = addon.bench; // the bench server lives in the bench build
const native = (await import('../lib/native.mjs')).default;
const node = resolveNode(opts.node);
const official = resolveOfficial({ install: false });
const candidate = allCandidates({ official, addon: addon.product, benchAddon: addon.bench }).find((c) => c.id === opts.candidate);
const scenario = [...SCENARIOS, COLD_START].find((s) => s.id === opts.scenario);
if (!candidate || candidate.skip || !scenario) {
  console.error(`unknown or unavailable candidate/scenario: ${opts.candidate} ${candidate?.skip ?? ''} / ${opts.scenario}`);
  process.exit(2);
}
candidate.env = { ...candidate.env, ...Object.fromEntries(opts.env.map((kv) => kv.split(/=(.*)/s).slice(0, 2))) };
const n = Number(opts.n);
const server = new native.BenchServer();
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lambda-rapid-profile-'));

function attach(cmd, args) {
  return async () => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'inherit'] });
    await new Promise((r) => setTimeout(r, 300)); // let the tracer attach
    return async () => {
      p.kill('SIGINT');
      await new Promise((r) => p.on('exit', r));
    };
  };
}

let metrics;
if (opts.tool === 'cpu-prof') {
  metrics = await trial(server, node.bin, candidate, scenario, {
    warm: 200, n, keep: true, nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${dir}`, '--cpu-prof-interval=100'],
  });
  server.stop(); // the runtime loses its Runtime API and exits, writing the profile
  let file;
  for (let i = 0; i < 100 && !file; i++) {
    await new Promise((r) => setTimeout(r, 100));
    file = fs.readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  }
  if (!file) throw new Error('no .cpuprofile was written (did the runtime exit?)');
  await new Promise((r) => setTimeout(r, 300));
  const prof = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8'));
  const self = new Map();
  const dt = new Map();
  for (let i = 0; i < prof.samples.length; i++) dt.set(prof.samples[i], (dt.get(prof.samples[i]) ?? 0) + (prof.timeDeltas[i] ?? 0));
  for (const nd of prof.nodes) {
    const cf = nd.callFrame;
    const key = `${cf.functionName || '(anonymous)'} ${cf.url ? `${path.basename(cf.url)}:${cf.lineNumber + 1}` : ''}`;
    self.set(key, (self.get(key) ?? 0) + (dt.get(nd.id) ?? 0));
  }
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  console.log(`${candidate.id} / ${scenario.id}: profile ${path.join(dir, file)}; self time per function (whole process lifetime, µs per invocation over ${n + 200}):`);
  for (const [k, v] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 30)) {
    console.log(`${(v / (n + 200)).toFixed(1).padStart(8)} µs ${((100 * v) / total).toFixed(1).padStart(5)}%  ${k}`);
  }
} else if (opts.tool === 'strace') {
  const out = path.join(dir, 'strace.txt');
  let pid;
  metrics = await trial(server, node.bin, candidate, scenario, {
    warm: 200, n, around: async (p) => { pid = p; return attach('strace', ['-c', '-f', '-p', String(pid), '-o', out])(); },
  });
  const text = fs.readFileSync(out, 'utf8');
  console.log(`${candidate.id} / ${scenario.id}: system calls over ${n} invocations (calls per invocation in the last column)`);
  for (const line of text.split('\n')) {
    const m = /^\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?(\w+)\s*$/.exec(line);
    console.log(m ? `${line}   ${(Number(m[1]) / n).toFixed(2)}` : line);
  }
} else if (opts.tool === 'perf') {
  const out = path.join(dir, 'perf.data');
  process.env.PERF_KEEP && console.log('perf data:', out);
  metrics = await trial(server, node.bin, candidate, scenario, {
    warm: 200, n, nodeArgs: ['--perf-basic-prof', `--logfile=${path.join(dir, 'v8.log')}`], // keep V8's code log out of the task root
    around: async (pid) => attach('perf', ['record', '-F', '2999', '-g', '-p', String(pid), '-o', out])(),
  });
  const r = spawnSync('perf', ['report', '-i', out, '--stdio', '--no-children', '--sort', 'dso,sym', '--percent-limit', '0.7'], { encoding: 'utf8' });
  console.log(r.stdout.split('\n').filter((l) => /^\s+[\d.]+%/.test(l)).slice(0, 60).join('\n'));
} else if (opts.tool === 'perf-stat') {
  const out = path.join(dir, 'perf-stat.txt');
  metrics = await trial(server, node.bin, candidate, scenario, {
    warm: 200, n,
    around: async (pid) => attach('perf', ['stat', '-e', 'task-clock,context-switches,cpu-migrations,page-faults,cycles,instructions,cache-misses', '-p', String(pid), '-o', out])(),
  });
  const per = (v) => (Number(v.replace(/,/g, '')) / n).toFixed(1);
  for (const line of fs.readFileSync(out, 'utf8').split('\n')) {
    const m = /^\s*([\d,.]+)\s+(?:msec\s+)?([\w-]+)/.exec(line);
    if (m) console.log(`${m[2].padEnd(18)} ${m[1].padStart(16)}   per invocation: ${per(m[1])}`);
  }
} else {
  console.error(`unknown --tool ${opts.tool}`);
  process.exit(2);
}
console.log(`(under the profiler: ${metrics.ips.toFixed(0)} inv/s, ${metrics.cpuUs.toFixed(0)} µs CPU/inv, round trip ${metrics.rtUs.toFixed(0)} µs)`);
server.stop();
