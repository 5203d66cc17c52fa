// Cost of one console record inside a real runtime, ours against the official clients.
//
//   node benchmark/logging-micro.mjs [--records 20000] [--only ours-node20,ric3-node20,...]
//                                    [--sink devnull|pipe] [--repeat 3]
//
// Each runtime serves one invocation per scenario; the handler writes `records` records in a
// loop (after a warm-up) and reports the mean ns per console call, timed inside the function,
// so process start-up and the Runtime API round trip are not counted. Each cell is the median
// of `repeat` fresh processes (the machine is shared: single runs vary by ±30%). The first row is the
// first console.log of the process (during init), where stdout gets set up.
//
// Sink: by default stdout and the telemetry fd are /dev/null, so the numbers are the CPU cost
// of a record, write(2) included. With `--sink pipe` they are pipes read by this (Node)
// process: then the reader's speed shows too, and unevenly — the official clients' stdout is a
// stream that queues what the pipe cannot take and writes it after the timed loop, while our
// stdout records (and everybody's telemetry frames) are written before the call returns.
// Official clients: RIC3_DIR / RIC4_DIR / NODE24 / RIC3_LAUNCH (benchmark/lib/peers.mjs).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawn } from 'node:child_process';
import { startRuntimeApi } from '../__test__/helpers/runtime-api.mjs';
import { lambdaEnv } from '../__test__/helpers/spawn-runtime.mjs';
import { peerRuntimes } from './lib/peers.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? dflt : process.argv[i + 1];
};
const RECORDS = Number(arg('records', 20000));
const SINK = arg('sink', 'devnull');
const REPEAT = Number(arg('repeat', 3));
const OURS = arg('ours', path.join(ROOT, 'index.mjs'));

const RUNTIMES = peerRuntimes(OURS);

// name -> [env, call expression]; `i` is the loop counter, `obj` a small nested object.
const SCENARIOS = {
  'text string+%d': [{}, "console.log('processed item %d', i)"],
  'text object': [{}, "console.info('event', obj)"],
  'json string': [{ AWS_LAMBDA_LOG_FORMAT: 'JSON' }, "console.log('processed item')"],
  'json object alone': [{ AWS_LAMBDA_LOG_FORMAT: 'JSON' }, 'console.log(obj)'],
  'json error alone': [{ AWS_LAMBDA_LOG_FORMAT: 'JSON' }, 'console.error(err)'],
  'filtered (level WARN)': [{ AWS_LAMBDA_LOG_LEVEL: 'WARN' }, "console.debug('not written', obj)"],
  'telemetry text': [{ _LAMBDA_TELEMETRY_LOG_FD: '3' }, "console.log('processed item %d', i)"],
  'telemetry json': [{ _LAMBDA_TELEMETRY_LOG_FD: '3', AWS_LAMBDA_LOG_FORMAT: 'JSON' }, 'console.log(obj)'],
};

function writeHandlers(dir) {
  const cases = Object.entries(SCENARIOS).map(([name, [, call]]) =>
    `  ${JSON.stringify(name)}: (i) => { ${call}; },`).join('\n');
  fs.writeFileSync(path.join(dir, 'bench.mjs'), `
const t = process.hrtime.bigint();
console.log('first record of the process');
const firstNs = Number(process.hrtime.bigint() - t);
const obj = { id: 'a1b2c3', user: { name: 'n', roles: ['r1', 'r2'] }, count: 42, ok: true };
const err = new Error('boom');
const cases = {
${cases}
};
export const handler = async ({ scenario, records }) => {
  const one = cases[scenario];
  for (let i = 0; i < records / 10; i++) one(i);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < records; i++) one(i);
  const ns = Number(process.hrtime.bigint() - t0) / records;
  return { ns, firstNs };
};
`);
}

async function measure(runtime, scenario, taskRoot) {
  const [env] = SCENARIOS[scenario];
  const api = await startRuntimeApi();
  const telemetry = env._LAMBDA_TELEMETRY_LOG_FD !== undefined;
  const sink = SINK === 'pipe' ? 'pipe' : fs.openSync('/dev/null', 'w');
  const child = spawn(runtime.node, runtime.args, {
    cwd: taskRoot,
    env: lambdaEnv({ endpoint: api.endpoint, handler: 'bench.handler', taskRoot, env: { AWS_EXECUTION_ENV: runtime.exec, ...env } }),
    stdio: telemetry ? ['ignore', sink, 'pipe', sink] : ['ignore', sink, 'pipe'],
  });
  if (sink !== 'pipe') fs.closeSync(sink);
  let stderr = '';
  for (const s of [child.stdio[1], child.stdio[3]]) s?.on('data', () => {});
  child.stderr.on('data', (c) => { stderr += c; });
  const exited = new Promise((r) => child.on('close', r));
  try {
    const r = await Promise.race([api.invoke({ scenario, records: RECORDS }), exited.then(() => null)]);
    if (!r || r.kind !== 'response') throw new Error(`${scenario}: no response\n${stderr}`);
    return JSON.parse(r.entry.body);
  } finally {
    child.kill('SIGKILL');
    await exited;
    await api.close();
  }
}

const only = arg('only', Object.keys(RUNTIMES).join(',')).split(',');
const runtimes = only.filter((n) => {
  const missing = RUNTIMES[n]?.need.find((p) => !fs.existsSync(p));
  if (missing) console.log(`skip ${n}: ${missing} not found`);
  return RUNTIMES[n] && !missing;
});
const taskRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'logging-micro-'));
writeHandlers(taskRoot);
console.log(`ns per console call (mean of ${RECORDS}, after ${RECORDS / 10} warm-up, median of ${REPEAT} processes); stdout/telemetry: ${SINK === 'pipe' ? 'a pipe read by the benchmark' : '/dev/null'}`);
const width = 24;
console.log('scenario'.padEnd(width) + runtimes.map((n) => n.padStart(13)).join(''));
try {
  let firstRow = null;
  for (const scenario of Object.keys(SCENARIOS)) {
    const cells = [];
    const first = [];
    for (const name of runtimes) {
      try {
        const runs = [];
        for (let i = 0; i < REPEAT; i++) runs.push(await measure(RUNTIMES[name], scenario, taskRoot));
        const median = (key) => runs.map((r) => r[key]).sort((a, b) => a - b)[Math.floor(runs.length / 2)];
        cells.push(median('ns').toFixed(0).padStart(13));
        first.push(median('firstNs').toFixed(0).padStart(13));
      } catch (e) {
        cells.push('error'.padStart(13));
        first.push('error'.padStart(13));
        console.error(String(e.message).slice(0, 500));
      }
    }
    if (!firstRow) {
      firstRow = first;
      console.log('first record (init)'.padEnd(width) + firstRow.join(''));
    }
    console.log(scenario.padEnd(width) + cells.join(''));
  }
} finally {
  fs.rmSync(taskRoot, { recursive: true, force: true });
}
